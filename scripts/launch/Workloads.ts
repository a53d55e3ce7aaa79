/**
 * The workloads part of the local control plane: what turns a StatefulSet's pods into Running,
 * Ready pods without a kubelet or a container runtime ("Kubernetes WithOut Kubelet").
 *
 * Contract of `start(options)` (needs a `Scope`; `ControlPlane.start({ workloads: true })` calls
 * it once the apiserver is ready and the controller manager runs the `statefulset` controller):
 * - Starts `kube-scheduler` with `<dir>/kube-scheduler.yaml`: the default profile without the
 *   volume plugins, so a pod whose PersistentVolumeClaims stay Pending (there is no provisioner)
 *   is still bound to a Node. And `kwok --manage-all-nodes` with the stages of
 *   `scripts/launch/kwok/*.yaml` (project files: nothing is downloaded at run time), pod IPs from
 *   `10.244.0.0/16`, node IP 127.0.0.1, `KWOK_WORKDIR=<dir>/kwok` and no inherited `KWOK_*` variable, so a
 *   developer's `~/.kwok/kwok.yaml` is never read. Both run under `setpriv --pdeathsig SIGKILL`,
 *   log to `<dir>/<name>.log` and are terminated when the scope closes.
 * - Registers the Node `kwok-node-0` (annotation `kwok.x-k8s.io/node: fake`, label `type: kwok`,
 *   32 CPUs, 256 GiB, 110 pods) and removes the `node.kubernetes.io/not-ready` taint the
 *   apiserver's admission (TaintNodesByCondition) adds on create: no node-lifecycle controller
 *   runs to remove it once the Node is Ready, so this plays that controller's one relevant part.
 * - Returns once the Node is Ready (kwok's node-initialize stage ran) and the scheduler's
 *   `/readyz` answers 200 (its informers synced), within `readyTimeout`. A child that exits
 *   meanwhile fails it at once with its log tail, and so does the time-out.
 * - Then: a pod bound to the Node is Running and Ready at once (stage pod-ready); a deleted pod
 *   is removed at once (pod-delete; without it a pod on a Node stays Terminating forever); a
 *   Job's pod completes (pod-complete).
 */
import { Duration, Effect, Ref, Schedule, Schema } from "effect"
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Binaries } from "./Binaries.ts"
import * as ChildProcesses from "./ChildProcesses.ts"
import type { ApiServerAccess } from "./ControlPlane.ts"
import { readText, writeText } from "./Files.ts"
import { freePorts } from "./FreePorts.ts"
import { describeCause, LaunchError } from "./LaunchError.ts"
import * as LoopbackHttp from "./LoopbackHttp.ts"

export interface WorkloadsOptions {
  readonly binaries: Binaries
  /** The control plane's run dir. */
  readonly dir: string
  /** Admin kubeconfig of the control plane. */
  readonly kubeconfigPath: string
  readonly api: ApiServerAccess
  readonly readyTimeout: Duration.Duration
}

export interface Workloads {
  /** The simulated Nodes pods are scheduled to. */
  readonly nodes: ReadonlyArray<string>
}

/** The stages kwok plays (`--config`), one file per stage. */
export const kwokStageDir = fileURLToPath(new URL("./kwok/", import.meta.url))

export const nodeName = "kwok-node-0"

/** Pod IPs; apart from the Service range (10.0.0.0/16) so the two are never confused. */
const podCidr = "10.244.0.0/16"

/**
 * The default plugins of kube-scheduler v1.36 that look at volumes. VolumeBinding alone would keep
 * a pod with an unbound claim Pending ("pod has unbound immediate PersistentVolumeClaims"); the
 * others read PersistentVolumes, CSI nodes and attach limits that a simulated Node does not have.
 */
const volumePlugins = ["VolumeBinding", "VolumeRestrictions", "VolumeZone", "NodeVolumeLimits"]

/** JSON is YAML. `kubescheduler.config.k8s.io/v1`, verified against kube-scheduler v1.36. */
const schedulerConfigOf = (kubeconfigPath: string): string =>
  JSON.stringify(
    {
      apiVersion: "kubescheduler.config.k8s.io/v1",
      kind: "KubeSchedulerConfiguration",
      clientConnection: { kubeconfig: kubeconfigPath },
      leaderElection: { leaderElect: false },
      profiles: [{
        schedulerName: "default-scheduler",
        plugins: { multiPoint: { disabled: volumePlugins.map((name) => ({ name })) } }
      }]
    },
    null,
    2
  )

const nodeOf = (name: string) => {
  const resources = { cpu: "32", memory: "256Gi", pods: "110" }
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64"
      }
    },
    // A Node's status may be set on create (a kubelet registers that way); kwok keeps these.
    status: { capacity: resources, allocatable: resources }
  }
}

const NodeView = Schema.fromJsonString(Schema.Struct({
  spec: Schema.optionalKey(Schema.Struct({
    taints: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({ key: Schema.String }))))
  })),
  status: Schema.optionalKey(Schema.Struct({
    conditions: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({ type: Schema.String, status: Schema.String }))))
  }))
}))
const decodeNode = (step: string, text: string) =>
  Schema.decodeEffect(NodeView)(text).pipe(
    Effect.mapError((error) => new LaunchError({ step, message: error.message }))
  )

const expectStatus = (step: string, expected: number, response: LoopbackHttp.LoopbackResponse) =>
  response.status === expected
    ? Effect.succeed(response.text)
    : Effect.fail(new LaunchError({ step, message: `HTTP ${response.status}: ${response.text.slice(0, 1000)}` }))

const stageFiles: Effect.Effect<ReadonlyArray<string>, LaunchError> = Effect.tryPromise({
  try: () => readdir(kwokStageDir),
  catch: (cause) => new LaunchError({ step: `list ${kwokStageDir}`, message: describeCause(cause) })
}).pipe(
  Effect.map((names) => names.filter((name) => name.endsWith(".yaml")).sort().map((name) => join(kwokStageDir, name))),
  Effect.filterOrFail(
    (files) => files.length > 0,
    () => new LaunchError({ step: `list ${kwokStageDir}`, message: "no kwok stages (*.yaml)" })
  )
)

/** Creates the Node, then removes the taint the apiserver added on create. */
const registerNode = Effect.fn("Workloads.registerNode")(function*(api: ApiServerAccess, name: string) {
  const step = `register Node ${name}`
  yield* LoopbackHttp.request({
    url: `${api.server}/api/v1/nodes`,
    method: "POST",
    bearerToken: api.token,
    ca: api.ca,
    body: { contentType: "application/json", text: JSON.stringify(nodeOf(name)) }
  }).pipe(Effect.flatMap((response) => expectStatus(step, 201, response)))
  const patched = yield* LoopbackHttp.request({
    url: `${api.server}/api/v1/nodes/${name}`,
    method: "PATCH",
    bearerToken: api.token,
    ca: api.ca,
    body: { contentType: "application/merge-patch+json", text: JSON.stringify({ spec: { taints: null } }) }
  }).pipe(Effect.flatMap((response) => expectStatus(step, 200, response)), Effect.flatMap((text) => decodeNode(step, text)))
  const taints = patched.spec?.taints ?? []
  if (taints.length > 0) {
    return yield* new LaunchError({ step, message: `taints left after the patch: ${taints.map((t) => t.key).join(", ")}` })
  }
})

const nodeReady = (api: ApiServerAccess, name: string) =>
  LoopbackHttp.request({ url: `${api.server}/api/v1/nodes/${name}`, bearerToken: api.token, ca: api.ca }).pipe(
    Effect.flatMap((response) => expectStatus(`GET Node ${name}`, 200, response)),
    Effect.flatMap((text) => decodeNode(`GET Node ${name}`, text)),
    Effect.flatMap((node) =>
      (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
        ? Effect.void
        : Effect.fail(new LaunchError({ step: `wait for Node ${name}`, message: "not Ready yet (kwok has not initialized it)" }))
    )
  )

/** `/readyz` of the scheduler, over TLS verified against its self-signed certificate. */
const schedulerReady = (port: number, certFile: string) =>
  readText(certFile).pipe( // written by the scheduler once it starts serving
    Effect.flatMap((ca) => LoopbackHttp.request({ url: `https://127.0.0.1:${port}/readyz`, ca, timeout: "2 seconds" })),
    Effect.flatMap((response) => expectStatus("GET kube-scheduler /readyz", 200, response)),
    Effect.asVoid
  )

/** Retries `probe` until it succeeds; after `timeout`, fails with the last failure. */
const awaitProbe = (what: string, probe: Effect.Effect<void, LaunchError>, timeout: Duration.Duration) =>
  Effect.gen(function*() {
    const last = yield* Ref.make("no probe answered yet")
    return yield* probe.pipe(
      Effect.tapError((error) => Ref.set(last, `${error.step}: ${error.message}`)),
      Effect.retry(Schedule.spaced("100 millis")),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.flatMap(Ref.get(last), (message) =>
            Effect.fail(new LaunchError({ step: `wait for ${what}`, message: `not ready within ${Duration.format(timeout)} (last probe: ${message})` })))
      })
    )
  })

export const start = Effect.fn("Workloads.start")(function*(options: WorkloadsOptions) {
  const { binaries, dir, kubeconfigPath, api, readyTimeout } = options
  const ports = yield* freePorts(["scheduler"])
  const schedulerConfig = join(dir, "kube-scheduler.yaml")
  const schedulerCertDir = join(dir, "kube-scheduler-certs")
  yield* writeText(schedulerConfig, schedulerConfigOf(kubeconfigPath))
  const stages = yield* stageFiles

  const scheduler = yield* ChildProcesses.spawnScoped({
    name: "kube-scheduler",
    command: binaries.kubeScheduler,
    dir,
    args: [
      `--config=${schedulerConfig}`,
      `--secure-port=${ports.scheduler}`,
      "--bind-address=127.0.0.1",
      `--cert-dir=${schedulerCertDir}`
    ]
  })
  const kwok = yield* ChildProcesses.spawnScoped({
    name: "kwok",
    command: binaries.kwok,
    dir,
    env: { KWOK_WORKDIR: join(dir, "kwok") },
    dropEnv: (name) => name.startsWith("KWOK_"),
    args: [
      `--kubeconfig=${kubeconfigPath}`,
      "--manage-all-nodes=true",
      `--cidr=${podCidr}`,
      // The Node's InternalIP and its pods' hostIP: the simulated node is this machine.
      "--node-ip=127.0.0.1",
      ...stages.map((file) => `--config=${file}`)
    ]
  })
  yield* registerNode(api, nodeName)

  const ready = Effect.all([
    awaitProbe(`Node ${nodeName}`, nodeReady(api, nodeName), readyTimeout),
    awaitProbe("kube-scheduler", schedulerReady(ports.scheduler, join(schedulerCertDir, "kube-scheduler.crt")), readyTimeout)
  ], { concurrency: "unbounded", discard: true })
  yield* Effect.raceFirst(
    ready.pipe(
      Effect.catch((error) =>
        Effect.flatMap(Effect.all([ChildProcesses.logTail(kwok, 20), ChildProcesses.logTail(scheduler, 20)]), ([kwokTail, schedulerTail]) =>
          Effect.fail(
            new LaunchError({
              step: error.step,
              message: `${error.message}; last lines of ${kwok.logFile}:\n${kwokTail}\nlast lines of ${scheduler.logFile}:\n${schedulerTail}`
            })
          ))
      )
    ),
    Effect.raceFirst(
      ChildProcesses.failWhenExited(scheduler, "wait for kube-scheduler"),
      ChildProcesses.failWhenExited(kwok, "wait for kwok")
    )
  )
  const workloads: Workloads = { nodes: [nodeName] }
  return workloads
})
