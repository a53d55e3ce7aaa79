/**
 * The shards of a mutation run: one folder each, run and recorded on its own, so a run on a
 * 2-core machine can be done a folder at a time and a change re-tests only its folder's shard.
 */
export interface Shard {
  readonly name: string
  /** The folder, as the report's file paths start. */
  readonly folder: string
  /** Stryker's `mutate` pattern. */
  readonly mutate: string
}

const shard = (name: string, folder: string): Shard => ({ name, folder, mutate: `${folder}**/*.ts` })

export const shards: ReadonlyArray<Shard> = [
  shard("plan", "packages/core/src/plan/"),
  shard("reconcile", "packages/core/src/reconcile/"),
  shard("runtime", "apps/operator/src/runtime/"),
  shard("domain", "packages/core/src/domain/"),
  shard("services", "packages/core/src/services/")
]

/** The shard of that name; a name that is none is an error that lists them. */
export const shardNamed = (name: string): Shard => {
  const found = shards.find((candidate) => candidate.name === name)
  if (found === undefined) {
    throw new Error(`unknown mutation shard "${name}": one of ${shards.map((s) => s.name).join(", ")}`)
  }
  return found
}
