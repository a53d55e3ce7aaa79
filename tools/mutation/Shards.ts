/**
 * The shards of a mutation run: a few files each, run and recorded on their own, so a 2-core
 * machine can do a shard at a time (a shard's results are kept only when it ends) and a change
 * re-tests only its shards. The report adds the shards up per folder.
 */
export interface Shard {
  readonly name: string
  /** The folder, as the report's file paths start. */
  readonly folder: string
  /** The files of the folder it mutates (file names without `.ts`); empty: the whole folder. */
  readonly files: ReadonlyArray<string>
}

/** The folders the report scores, by the name it shows. */
export const folders = [
  ["plan", "packages/core/src/plan/"],
  ["reconcile", "packages/core/src/reconcile/"],
  ["runtime", "apps/operator/src/runtime/"],
  ["domain", "packages/core/src/domain/"],
  ["services", "packages/core/src/services/"]
] as const

const folderOf = (name: (typeof folders)[number][0]): string => folders.find(([label]) => label === name)?.[1] ?? ""

export const shards: ReadonlyArray<Shard> = [
  {
    name: "plan-adapters",
    folder: folderOf("plan"),
    files: ["ActiveAdapters", "AdapterExposure", "AdapterServices", "Annotations", "Change", "ContainerPorts", "Naming", "NetworkPolicies"]
  },
  { name: "plan-state", folder: folderOf("plan"), files: ["Credentials", "ManagedRestarts", "OwnedFields", "Ownership", "Status"] },
  {
    name: "plan-workload",
    folder: folderOf("plan"),
    files: ["BaselineNetworkPolicy", "ConfigFile", "ServerConfigMap", "ServerPod", "ServerSecrets", "ServerServices", "ServerStatefulSet", "Workload"]
  },
  { name: "reconcile-session", folder: folderOf("reconcile"), files: ["Action", "Auth", "Finalizer", "InvalidSpec", "PassError", "Phase"] },
  { name: "reconcile-pass", folder: folderOf("reconcile"), files: ["AdapterExposure", "Apply", "DittoServer", "Workload"] },
  { name: "runtime", folder: folderOf("runtime"), files: [] },
  { name: "domain", folder: folderOf("domain"), files: [] },
  { name: "services", folder: folderOf("services"), files: [] }
]

/** Stryker's `mutate` patterns of a shard. */
export const mutatePatterns = (shard: Shard): Array<string> =>
  shard.files.length === 0 ? [`${shard.folder}**/*.ts`] : shard.files.map((file) => `${shard.folder}${file}.ts`)

/** The shard of that name; a name that is none is an error that lists them. */
export const shardNamed = (name: string): Shard => {
  const found = shards.find((candidate) => candidate.name === name)
  if (found === undefined) {
    throw new Error(`unknown mutation shard "${name}": one of ${shards.map((s) => s.name).join(", ")}`)
  }
  return found
}
