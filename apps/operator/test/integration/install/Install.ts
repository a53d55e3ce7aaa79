/**
 * The operator as it is installed, for the install suites: its bundle built and run as a separate
 * `node` process with no `node_modules` in reach, the built `kubectl` and `helm` against a local
 * control plane, a ServiceAccount's token minted through a TokenRequest, and the apiserver's audit
 * log of what that ServiceAccount asked for.
 *
 * Contract:
 * - `isolatedBundle` bundles the operator into a fresh temporary folder (removed with the scope)
 *   and checks that no `node_modules` folder exists there or in any parent, so running the file
 *   from there proves it needs nothing but Node.
 * - `startBundle` runs `node <bundle> run ...` as a child of this process (it dies with it, and is
 *   stopped with SIGTERM when the scope closes); its log is `<dir>/<name>.log`.
 * - `kubectl`/`helm` fail with the command's output when it exits non-zero.
 * - `serviceAccountKubeconfig` writes a kubeconfig holding nothing but a token of the
 *   ServiceAccount (TokenRequest, one hour) and the apiserver's CA.
 * - `auditLog` reads the audit log (`ControlPlane.start({ auditServiceAccounts: true })`, or
 *   `auditServiceDeletes`), one entry per request (the last stage of each audit ID, with its
 *   timestamps); `auditEntries` keeps one user's.
 */
import { K8s, type Kubernetes } from "@dittofs-operator/core"
import { Data, Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import * as ChildProcesses from "../../../../../scripts/launch/ChildProcesses.ts"
import type { ControlPlane } from "../../../../../scripts/launch/ControlPlane.ts"
import { readText, writeText } from "../../../../../scripts/launch/Files.ts"
import * as LoopbackHttp from "../../../../../scripts/launch/LoopbackHttp.ts"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import { bundle, type BundleResult, nodeFlags } from "../../../scripts/bundle.ts"
import { helm as runHelm } from "../../../scripts/render-manifests.ts"

/** A step of an install suite failed (a command, a file, an API call). */
export class InstallError extends Data.TaggedError("InstallError")<{ readonly message: string }> {}

/** The folders from `dir` up to `/`. */
const ancestors = (dir: string): ReadonlyArray<string> => {
  const parent = dirname(dir)
  return parent === dir ? [dir] : [dir, ...ancestors(parent)]
}

/** The bundle in a fresh folder that no `node_modules` can be resolved from. */
export const isolatedBundle = Effect.gen(function*() {
  const dir = yield* RunDir.make("dittofs-operator-bundle-")
  const reachable = ancestors(dir).map((folder) => join(folder, "node_modules")).filter((folder) => existsSync(folder))
  if (reachable.length > 0) {
    return yield* new InstallError({ message: `node_modules reachable from ${dir}: ${reachable.join(", ")}` })
  }
  const built: BundleResult = yield* Effect.tryPromise({
    try: () => bundle({ outDir: dir }),
    catch: (cause) => new InstallError({ message: `bundling failed: ${String(cause)}` })
  })
  return built
})

export interface BundleRun {
  readonly bundle: string
  /** Folder of the log (`<name>.log`) and pid file. */
  readonly dir: string
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}

/** `node <flags> <bundle> <args>` (the image's flags), with no KUBECONFIG inherited; stopped when the scope closes. */
export const startBundle = (run: BundleRun) =>
  ChildProcesses.spawnScoped({
    name: run.name,
    command: process.execPath,
    args: [...nodeFlags, run.bundle, ...run.args],
    dir: run.dir,
    cwd: dirname(run.bundle),
    dropEnv: (name) => name === "KUBECONFIG" || name === "NODE_OPTIONS" || name.startsWith("VITEST") || name === "NODE_PATH",
    ...(run.env === undefined ? {} : { env: run.env })
  })

export interface CommandResult {
  readonly stdout: string
  readonly stderr: string
}

const command = (file: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.tryPromise({
    try: () => promisify(execFile)(file, [...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }),
    catch: (cause) => {
      const failed = cause as { stdout?: string; stderr?: string; message?: string }
      return new InstallError({
        message: `${file} ${args.join(" ")}: ${failed.message ?? String(cause)}\n${failed.stdout ?? ""}${failed.stderr ?? ""}`
      })
    }
  })

/** The built kubectl against the plane, as its admin. */
export const kubectl = (kubectlPath: string, plane: ControlPlane, args: ReadonlyArray<string>): Effect.Effect<CommandResult, InstallError> =>
  command(kubectlPath, ["--kubeconfig", plane.kubeconfigPath, ...args])

/** The built helm against the plane, as its admin. */
export const helm = (helmPath: string, plane: ControlPlane, args: ReadonlyArray<string>): Effect.Effect<CommandResult, InstallError> =>
  Effect.tryPromise({
    try: () => runHelm(helmPath, ["--kubeconfig", plane.kubeconfigPath, ...args]),
    catch: (cause) => new InstallError({ message: String(cause) })
  })

const TokenRequestStatus = Schema.fromJsonString(Schema.Struct({ status: Schema.Struct({ token: Schema.String }) }))

/** A kubeconfig with only a fresh token of `namespace/serviceAccount`, written to `file`. */
export const serviceAccountKubeconfig = (plane: ControlPlane, namespace: string, serviceAccount: string, file: string) =>
  Effect.gen(function*() {
    const ca = yield* readText(plane.caFile)
    const response = yield* LoopbackHttp.request({
      url: `${plane.server}/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      method: "POST",
      bearerToken: plane.token,
      ca,
      body: {
        contentType: "application/json",
        text: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } })
      }
    })
    if (response.status !== 201) {
      return yield* new InstallError({ message: `TokenRequest for ${namespace}/${serviceAccount}: HTTP ${response.status}: ${response.text.slice(0, 500)}` })
    }
    const { status } = yield* Schema.decodeEffect(TokenRequestStatus)(response.text).pipe(
      Effect.mapError((error) => new InstallError({ message: `TokenRequest answer: ${error.message}` }))
    )
    yield* writeText(file, JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: plane.server, "certificate-authority": plane.caFile } }],
      users: [{ name: serviceAccount, user: { token: status.token } }],
      contexts: [{ name: serviceAccount, context: { cluster: "local", user: serviceAccount, namespace } }],
      "current-context": serviceAccount
    }, null, 2))
    return file
  })

const AuditEvent = Schema.Struct({
  auditID: Schema.String,
  stage: Schema.String,
  verb: Schema.String,
  user: Schema.Struct({ username: Schema.String }),
  objectRef: Schema.optionalKey(Schema.Struct({
    resource: Schema.optionalKey(Schema.String),
    subresource: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    name: Schema.optionalKey(Schema.String),
    apiGroup: Schema.optionalKey(Schema.String)
  })),
  responseStatus: Schema.optionalKey(Schema.Struct({ code: Schema.optionalKey(Schema.Int) })),
  requestURI: Schema.String,
  requestReceivedTimestamp: Schema.String,
  stageTimestamp: Schema.String
})
const decodeAuditLine = Schema.decodeUnknownOption(Schema.fromJsonString(AuditEvent))

/** One request of the audit log. */
export interface AuditEntry {
  readonly username: string
  readonly verb: string
  readonly apiGroup: string
  /** `resource` or `resource/subresource`. */
  readonly resource: string
  readonly namespace: string
  readonly name: string
  readonly code: number
  readonly uri: string
  /** The last stage logged (`ResponseComplete` once the answer is sent). */
  readonly stage: string
  /** When the apiserver received the request, and reached `stage` (RFC 3339, microseconds). */
  readonly received: string
  readonly staged: string
}

/** The requests of `username` in the audit log, in order (the last stage of each). */
export const auditEntries = (auditLogPath: string, username: string): Effect.Effect<ReadonlyArray<AuditEntry>, InstallError> =>
  Effect.map(auditLog(auditLogPath), (entries) => entries.filter((entry) => entry.username === username))

/** Every request in the audit log, in order (the last stage of each). */
export const auditLog = (auditLogPath: string): Effect.Effect<ReadonlyArray<AuditEntry>, InstallError> =>
  Effect.tryPromise({
    try: () => readFile(auditLogPath, "utf8"),
    catch: (cause) => new InstallError({ message: `read ${auditLogPath}: ${String(cause)}` })
  }).pipe(Effect.map((text) => {
    const byId = new Map<string, AuditEntry>()
    for (const line of text.split("\n")) {
      const decoded = decodeAuditLine(line)
      if (decoded._tag === "None") continue
      const event = decoded.value
      const ref = event.objectRef
      byId.set(event.auditID, {
        username: event.user.username,
        verb: event.verb,
        apiGroup: ref?.apiGroup ?? "",
        resource: ref?.subresource === undefined ? ref?.resource ?? "" : `${ref.resource ?? ""}/${ref.subresource}`,
        namespace: ref?.namespace ?? "",
        name: ref?.name ?? "",
        code: event.responseStatus?.code ?? 0,
        uri: event.requestURI,
        stage: event.stage,
        received: event.requestReceivedTimestamp,
        staged: event.stageTimestamp
      })
    }
    return [...byId.values()]
  }))

/** A rule of a (Cluster)Role, as rendered. */
export interface PolicyRule {
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
  readonly resourceNames?: ReadonlyArray<string>
}

/** `group resource verb` for every grant of the rules (resource may be `resource/subresource`). */
export const grants = (rules: ReadonlyArray<PolicyRule>): ReadonlySet<string> =>
  new Set(rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => grantKey(group, resource, verb))))
  ))

export const grantKey = (group: string, resource: string, verb: string): string => `${group === "" ? "core" : group} ${resource} ${verb}`

/** A Deployment, which the operator never touches (to show a write outside its rules is refused). */
export const DeploymentResource: Kubernetes.Resource<K8s.AnyObject> = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
  statusSubresource: true,
  schema: K8s.AnyObject
}
