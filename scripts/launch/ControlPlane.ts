/**
 * A real Kubernetes control plane on 127.0.0.1 for integration tests and local runs: etcd,
 * kube-apiserver and kube-controller-manager (garbage collector + namespace controller only) and,
 * with `workloads: true`, what runs a workload's pod lifecycle (see `Workloads.ts`).
 *
 * Contract of `start(options)` (needs a `Scope`):
 * - Every child runs under `setpriv --pdeathsig SIGKILL` (it dies with the launching process, even
 *   on SIGKILL) and is terminated (SIGTERM, then SIGKILL) when the scope closes. Pids and logs are
 *   `<dir>/<name>.{pid,log}`; `<dir>` is removed on close unless `KEEP_RUN_DIR=1`.
 * - Ports are free ports of 127.0.0.1, so runs never collide.
 * - It returns once `/readyz` answers 200 with the admin token, namespace `default` exists
 *   (`readyTimeout`, default 60 s; a failure carries the tail of the apiserver log), every CRD of
 *   `crdFiles` is Established, and the controller manager was started.
 * - Plain (the default): there are no nodes, pods are never scheduled, a StatefulSet is an object.
 * - `workloads: true`: the controller manager also runs the `statefulset` controller, and
 *   kube-scheduler, kwok and one simulated Node (`nodes`) make a StatefulSet's pods Running and
 *   Ready, a deleted pod go at once; it returns once the Node is Ready and the scheduler is ready.
 *   PersistentVolumeClaims stay Pending (no provisioner) and do not hold pods back.
 * - `deployments: true` (with `workloads`) also runs the deployment and replicaset controllers, so a
 *   Deployment gets Running, Ready pods on the simulated Node (pod admission, Pod Security
 *   included, applies to them as to any pod).
 * - `auditServiceAccounts: true` writes the apiserver's audit log (`auditLogPath`, JSON lines) of
 *   every request a service account makes, at level Metadata (user, verb, resource,
 *   subresource, namespace, response code), written before the response is sent; other users'
 *   requests are not logged. `auditServiceDeletes: true` logs every Service deletion there too,
 *   whoever asks (with its `requestReceivedTimestamp` and `stageTimestamp`, in microseconds).
 * - `admissionPlugins` enables admission plugins on top of the apiserver's defaults (e.g.
 *   `OwnerReferencesPermissionEnforcement`).
 * - Service accounts: the apiserver signs service-account tokens (`--service-account-*`), so a
 *   TokenRequest (`POST .../serviceaccounts/<name>/token`) mints a token that authenticates as
 *   `system:serviceaccount:<namespace>:<name>` and is authorized by RBAC like in any cluster.
 * - The admin token (group `system:masters`) and the kubeconfig are written to `<dir>`; the CA of
 *   the kubeconfig is the apiserver's self-signed `apiserver.crt`.
 */
import { Duration, Effect, Ref, Schedule, Schema } from "effect"
import { generateKeyPair, randomBytes } from "node:crypto"
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { type Binaries, locate } from "./Binaries.ts"
import * as ChildProcesses from "./ChildProcesses.ts"
import { readText, writeText } from "./Files.ts"
import { freePorts } from "./FreePorts.ts"
import { describeCause, LaunchError } from "./LaunchError.ts"
import * as LoopbackHttp from "./LoopbackHttp.ts"
import * as RunDir from "./RunDir.ts"
import * as Workloads from "./Workloads.ts"

export interface ControlPlaneOptions {
  /** CRD manifests (YAML, one or more `---`-separated documents each), applied before the controller manager starts. */
  readonly crdFiles?: ReadonlyArray<string>
  /** Defaults to `Binaries.locate` (which builds missing binaries). */
  readonly binaries?: Binaries
  readonly readyTimeout?: Duration.Input
  /** Run the pod lifecycle of StatefulSets (statefulset controller, kube-scheduler, kwok, one Node). */
  readonly workloads?: boolean
  /** With `workloads`: also run Deployments (deployment and replicaset controllers). */
  readonly deployments?: boolean
  /** Audit-log the requests of service accounts to `auditLogPath`. */
  readonly auditServiceAccounts?: boolean
  /** Audit-log every Service deletion to `auditLogPath` (any user: the benchmarks time them). */
  readonly auditServiceDeletes?: boolean
  /** Admission plugins to enable besides the apiserver's defaults. */
  readonly admissionPlugins?: ReadonlyArray<string>
}

export interface ControlPlane {
  readonly kubeconfigPath: string
  /** `https://127.0.0.1:<port>` */
  readonly server: string
  /** Bearer token of `admin` (group `system:masters`). Secret: never log it. */
  readonly token: string
  /** PEM file the apiserver's serving certificate chains to. */
  readonly caFile: string
  /** The run dir: logs, pid files, certificates, etcd data. */
  readonly dir: string
  /** The simulated Nodes pods run on; none unless `workloads`. */
  readonly nodes: ReadonlyArray<string>
  /** The audit log (JSON lines), with `auditServiceAccounts` or `auditServiceDeletes`. */
  readonly auditLogPath?: string
  /**
   * Kills the kube-apiserver with SIGKILL (no graceful shutdown: every watch is cut) and returns
   * once it has exited; etcd and its data stay. For fault tests.
   */
  readonly killApiServer: Effect.Effect<void>
  /** Starts the kube-apiserver again, same flags, port and etcd, and waits until it is ready. */
  readonly startApiServer: Effect.Effect<void, LaunchError>
}

/** The operator's CRD folder; the DittoServer CRD is `dittoservers.yaml`. */
export const crdDir = fileURLToPath(new URL("../../apps/operator/deploy/crd/", import.meta.url))

/** The `*.yaml` files of `crdDir` (none when the folder does not exist yet). */
export const defaultCrdFiles: Effect.Effect<ReadonlyArray<string>, LaunchError> = Effect.tryPromise({
  try: () => readdir(crdDir).catch((error: NodeJS.ErrnoException) => error.code === "ENOENT" ? [] : Promise.reject(error)),
  catch: (cause) => new LaunchError({ step: `list ${crdDir}`, message: describeCause(cause) })
}).pipe(
  Effect.map((names) => names.filter((name) => name.endsWith(".yaml")).sort().map((name) => join(crdDir, name)))
)

const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

const serviceAccountKeyPair = Effect.tryPromise({
  try: () =>
    promisify(generateKeyPair)("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" }
    }),
  catch: (cause) => new LaunchError({ step: "generate the service-account key", message: describeCause(cause) })
})

/** An audit policy logging the Metadata of the requests `rules` select; nothing else. JSON is YAML. */
const auditPolicy = (rules: ReadonlyArray<object>): string =>
  JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: ["RequestReceived"], rules: [...rules, { level: "None" }] }, null, 2)

/** Every request of a service account. */
const serviceAccountRequests = { level: "Metadata", userGroups: ["system:serviceaccounts"] }

/** Every Service deletion, whoever asks. */
const serviceDeletes = { level: "Metadata", verbs: ["delete"], resources: [{ group: "", resources: ["services"] }] }

/** A kubeconfig is YAML, and JSON is YAML: no YAML library needed. */
const kubeconfigOf = (server: string, caFile: string, token: string): string =>
  JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "dittofs-operator-test", cluster: { server, "certificate-authority": caFile } }],
      users: [{ name: "admin", user: { token } }],
      contexts: [{ name: "dittofs-operator-test", context: { cluster: "dittofs-operator-test", user: "admin" } }],
      "current-context": "dittofs-operator-test"
    },
    null,
    2
  )

const CustomResourceDefinition = Schema.fromJsonString(Schema.Struct({
  metadata: Schema.Struct({ name: Schema.String }),
  status: Schema.optionalKey(Schema.Struct({
    conditions: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({ type: Schema.String, status: Schema.String }))))
  }))
}))
const decodeCustomResourceDefinition = Schema.decodeUnknownEffect(CustomResourceDefinition)

/** The YAML documents of a manifest file that hold more than comments and blank lines. */
const yamlDocuments = (text: string): ReadonlyArray<string> =>
  text.split(/^---[ \t]*$/m).filter((document) =>
    document.split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("#"))
  )

/** How the launchers talk to the apiserver: URL, admin token, CA (PEM text). */
export interface ApiServerAccess {
  readonly server: string
  readonly token: string
  readonly ca: string
}

const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

const createCrd = Effect.fn("ControlPlane.createCrd")(function*(api: ApiServerAccess, file: string, document: string) {
  const response = yield* LoopbackHttp.request({
    url: `${api.server}${crdPath}`,
    method: "POST",
    bearerToken: api.token,
    ca: api.ca,
    body: { contentType: "application/yaml", text: document }
  })
  if (response.status !== 201) {
    return yield* new LaunchError({
      step: `apply ${file}`,
      message: `kube-apiserver answered ${response.status}: ${response.text.slice(0, 2000)}`
    })
  }
  const crd = yield* decodeCustomResourceDefinition(response.text).pipe(
    Effect.mapError((error) => new LaunchError({ step: `apply ${file}`, message: error.message }))
  )
  return crd.metadata.name
})

const awaitEstablished = Effect.fn("ControlPlane.awaitEstablished")(function*(api: ApiServerAccess, name: string) {
  const established = LoopbackHttp.request({ url: `${api.server}${crdPath}/${name}`, bearerToken: api.token, ca: api.ca })
    .pipe(
      Effect.flatMap((response) => decodeCustomResourceDefinition(response.text)),
      Effect.mapError((error) => new LaunchError({ step: `read CRD ${name}`, message: error.message })),
      Effect.flatMap((crd) =>
        (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True")
          ? Effect.void
          : Effect.fail(new LaunchError({ step: `wait for CRD ${name}`, message: "not Established yet" }))
      )
    )
  yield* established.pipe(
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutOrElse({
      duration: "30 seconds",
      orElse: () =>
        Effect.fail(new LaunchError({ step: `wait for CRD ${name}`, message: "not Established within 30 s" }))
    })
  )
})

const applyCrdFile = Effect.fn("ControlPlane.applyCrdFile")(function*(api: ApiServerAccess, file: string) {
  const documents = yamlDocuments(yield* readText(file))
  const names = yield* Effect.forEach(documents, (document) => createCrd(api, file, document))
  yield* Effect.forEach(names, (name) => awaitEstablished(api, name), { concurrency: "unbounded" })
})

const awaitApiServerReady = Effect.fn("ControlPlane.awaitApiServerReady")(function*(
  server: string,
  token: string,
  caFile: string,
  timeout: Duration.Duration
) {
  const lastFailure = yield* Ref.make("no probe answered yet")
  const expectOk = (path: string, ca: string) =>
    LoopbackHttp.request({ url: `${server}${path}`, bearerToken: token, ca, timeout: "2 seconds" }).pipe(
      Effect.flatMap((response) =>
        response.status === 200
          ? Effect.void
          : Effect.fail(
            new LaunchError({ step: `GET ${path}`, message: `HTTP ${response.status}: ${response.text.slice(0, 500)}` })
          )
      )
    )
  const probe = Effect.gen(function*() {
    const ca = yield* readText(caFile) // written by the apiserver once it starts serving
    yield* expectOk("/readyz", ca)
    yield* expectOk("/api/v1/namespaces/default", ca)
    return ca
  }).pipe(Effect.tapError((error) => Ref.set(lastFailure, `${error.step}: ${error.message}`)))
  return yield* probe.pipe(
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.flatMap(Ref.get(lastFailure), (last) =>
          Effect.fail(
            new LaunchError({ step: "wait for kube-apiserver", message: `not ready within ${Duration.format(timeout)} (last probe: ${last})` })
          ))
    })
  )
})

export const start = Effect.fn("ControlPlane.start")(function*(options: ControlPlaneOptions = {}) {
  const binaries = options.binaries ?? (yield* locate)
  const readyTimeout = Duration.fromInputUnsafe(options.readyTimeout ?? "60 seconds")
  const dir = yield* RunDir.make("dittofs-operator-")
  const token = randomBytes(32).toString("hex")
  const certDir = join(dir, "certs")
  const caFile = join(certDir, "apiserver.crt")
  const tokenFile = join(dir, "tokens.csv")
  const kubeconfigPath = join(dir, "kubeconfig")
  const keys = yield* serviceAccountKeyPair
  yield* writeText(tokenFile, `${token},admin,admin,"system:masters"\n`)
  yield* writeText(join(dir, "service-account.key"), keys.privateKey)
  yield* writeText(join(dir, "service-account.pub"), keys.publicKey)
  const auditRules = [
    ...(options.auditServiceAccounts === true ? [serviceAccountRequests] : []),
    ...(options.auditServiceDeletes === true ? [serviceDeletes] : [])
  ]
  const auditLogPath = auditRules.length > 0 ? join(dir, "audit.log") : undefined
  if (auditLogPath !== undefined) yield* writeText(join(dir, "audit-policy.yaml"), auditPolicy(auditRules))

  const ports = yield* freePorts(["etcdClient", "etcdPeer", "apiServer"])
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`
  const etcdPeerUrl = `http://127.0.0.1:${ports.etcdPeer}`
  const server = `https://127.0.0.1:${ports.apiServer}`

  const etcd = yield* ChildProcesses.spawnScoped({
    name: "etcd",
    command: binaries.etcd,
    dir,
    args: [
      "--name=default",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      "--unsafe-no-fsync=true"
    ]
  })
  const apiServerSpec: ChildProcesses.ChildSpec = {
    name: "kube-apiserver",
    command: binaries.kubeApiserver,
    dir,
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${ports.apiServer}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--token-auth-file=${tokenFile}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.0.0.0/16",
      `--service-account-issuer=${serviceAccountIssuer}`,
      `--service-account-key-file=${join(dir, "service-account.pub")}`,
      `--service-account-signing-key-file=${join(dir, "service-account.key")}`,
      "--disable-admission-plugins=ServiceAccount",
      ...(options.admissionPlugins === undefined || options.admissionPlugins.length === 0
        ? []
        : [`--enable-admission-plugins=${options.admissionPlugins.join(",")}`]),
      ...(auditLogPath === undefined ? [] : [
        `--audit-policy-file=${join(dir, "audit-policy.yaml")}`,
        `--audit-log-path=${auditLogPath}`,
        "--audit-log-format=json",
        "--audit-log-mode=blocking"
      ]),
      "--allow-privileged=true"
    ]
  }
  // held in a Ref, so a fault test can kill it and start it again; the plane's scope stops the current one
  const apiServerRef = yield* Ref.make(yield* ChildProcesses.spawn(apiServerSpec))
  yield* Effect.addFinalizer(() => Effect.flatMap(Ref.get(apiServerRef), (child) => ChildProcesses.terminate(child)))
  const apiServer = yield* Ref.get(apiServerRef)
  const ca = yield* Effect.raceFirst(
    awaitApiServerReady(server, token, caFile, readyTimeout).pipe(
      Effect.catch((error) =>
        Effect.flatMap(ChildProcesses.logTail(apiServer), (tail) =>
          Effect.fail(
            new LaunchError({
              step: error.step,
              message: `${error.message}; last lines of ${apiServer.logFile}:\n${tail}`
            })
          ))
      )
    ),
    Effect.raceFirst(
      ChildProcesses.failWhenExited(apiServer, "wait for kube-apiserver"),
      ChildProcesses.failWhenExited(etcd, "wait for kube-apiserver")
    )
  )

  const api: ApiServerAccess = { server, token, ca }
  yield* Effect.forEach(options.crdFiles ?? [], (file) => applyCrdFile(api, file))
  yield* writeText(kubeconfigPath, kubeconfigOf(server, caFile, token))

  yield* ChildProcesses.spawnScoped({
    name: "kube-controller-manager",
    command: binaries.kubeControllerManager,
    dir,
    args: [
      `--kubeconfig=${kubeconfigPath}`,
      // statefulset needs nothing more: pods are not admitted with service-account tokens
      // (admission plugin ServiceAccount is off), so no token controller; PVCs are created by
      // the statefulset controller itself and may stay Pending (no persistentvolume-binder).
      `--controllers=${
        [
          "garbagecollector",
          "namespace",
          ...(options.workloads === true ? ["statefulset"] : []),
          ...(options.workloads === true && options.deployments === true ? ["deployment", "replicaset"] : [])
        ].join(",")
      }`,
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      "--secure-port=0"
    ]
  })
  const workloads = options.workloads === true
    ? yield* Workloads.start({ binaries, dir, kubeconfigPath, api, readyTimeout })
    : { nodes: [] }
  const killApiServer = Effect.gen(function*() {
    const current = yield* Ref.get(apiServerRef)
    yield* current.signal("SIGKILL")
    yield* current.exited
  })
  const startApiServer = Effect.gen(function*() {
    if (!(yield* (yield* Ref.get(apiServerRef)).hasExited)) return
    const restarted = yield* ChildProcesses.spawn(apiServerSpec)
    yield* Ref.set(apiServerRef, restarted)
    yield* Effect.raceFirst(
      awaitApiServerReady(server, token, caFile, readyTimeout),
      ChildProcesses.failWhenExited(restarted, "restart kube-apiserver")
    )
  })
  const controlPlane: ControlPlane = {
    kubeconfigPath,
    server,
    token,
    caFile,
    dir,
    nodes: workloads.nodes,
    killApiServer,
    startApiServer,
    ...(auditLogPath === undefined ? {} : { auditLogPath })
  }
  return controlPlane
})
