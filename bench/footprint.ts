/**
 * Footprint benchmark: what the operator (the bundle) costs while it runs N DittoServers.
 * For each N of `BENCH_SERVERS` (default `1,200`; `1,200,1000` for the full run), on a fresh plain
 * control plane with a DittoFS stand-in:
 * - start-up: spawn → the DittoServers are listed and watched (the operator's `listed; watching`
 *   log line), and spawn → every server converged (its adapter Service exists);
 * - idle: over `BENCH_IDLE_SECONDS` (default 60) after convergence, the kube-apiserver requests by
 *   verb and resource from its own `/metrics` (`apiserver_request_total`, the resources the operator
 *   touches), the DittoFS calls (counted by the stand-in), and the resident memory (VmRSS, sampled
 *   every second: mean and max; VmHWM: the peak since start);
 * - a stop (`BENCH_STOPS`, default 5; each server runs the adapter again before the next stop): the
 *   poll that saw an adapter stop → the apiserver received the Service's DELETE, the DELETE itself
 *   (both from the apiserver's audit log), and → a watch saw the Service gone; then SIGTERM → exit
 *   once the writes of the stops' passes are done.
 * The DittoFS stand-in (`bench/OperatorRun.ts`, shared with `bench/scale.ts`) is one local HTTP server speaking login, refresh, users, adapters and health
 * for every server, each under its own path prefix (`dittofs.io/api-url: http://127.0.0.1:<port>/s/<i>`).
 * `BENCH_BUNDLE=<file>` measures another build (e.g. an older commit's `pnpm bundle`); `BENCH_LABEL`
 * names it in the report (`BENCH_NODE_ARGS` replaces the image's `node` flags, e.g. to add `--cpu-prof`), which goes to `bench/reports/footprint-<label>.md` (default `footprint.md`).
 * `BENCH_REFERENCE=<binary>` measures the reference Go operator the same way (`spawnReference`: its
 * DittoFS calls through the stand-in as an HTTP proxy; the benchmark marks its StatefulSets ready,
 * as a kubelet would, since it polls DittoFS only then). Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes } from "@dittofs-operator/core"
import { Clock, Console, Effect, Exit, Scope } from "effect"
import { writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { auditLog, isolatedBundle } from "../apps/operator/test/integration/install/Install.ts"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import { machine, summarize } from "./Measure.ts"
import {
  adapterServiceName,
  adapterServices,
  apiserverMetrics,
  applyServers,
  cpuOf,
  describeStart,
  difference,
  memoryOf,
  operatorNodeArgs,
  requestTotals,
  spawnOperator,
  spawnReference,
  standIn,
  type OperatorProcess,
  writesSettled
} from "./OperatorRun.ts"

const sizes = (process.env.BENCH_SERVERS ?? "1,200").split(",").map(Number)
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60)
const stops = Number(process.env.BENCH_STOPS ?? 5)
const label = process.env.BENCH_LABEL
const nodeArgs = operatorNodeArgs()
/** `BENCH_REFERENCE=<binary>`: measure the reference Go operator instead (`spawnReference`). */
const reference = process.env.BENCH_REFERENCE
/** `BENCH_SHUTDOWN_LOG=1`: after SIGTERM, print the operator's log lines from the signal on, in ms after it (with `--log-level debug`). */
const shutdownLog = process.env.BENCH_SHUTDOWN_LOG === "1"
const reportFile = fileURLToPath(new URL(`reports/${label === undefined ? "footprint" : `footprint-${label}`}.md`, import.meta.url))
const pollingInterval = "10s"
const namespace = "default"

interface Result {
  readonly servers: number
  readonly watchMillis: number
  readonly convergeMillis: number
  readonly convergeCpuSeconds: number
  readonly rssMean: number
  readonly rssMax: number
  readonly hwm: number
  readonly idleRequests: Map<string, number>
  readonly idleDittoFs: number
  readonly stopTimes: ReadonlyArray<StopTimes>
  readonly sigtermMillis: number
}

/** One stop, in ms: from the poll that saw it to the apiserver receiving the DELETE, the DELETE, and to the watch seeing it gone. */
interface StopTimes {
  readonly toDeleteReceived: number
  readonly deleteServed: number
  readonly toGone: number
}

/** An audit timestamp (RFC 3339, microseconds) in epoch milliseconds. */
const auditMillis = (timestamp: string): number => {
  const fraction = /\.(\d+)Z$/.exec(timestamp)?.[1] ?? "0"
  return Date.parse(`${timestamp.slice(0, 19)}Z`) + Number(`0.${fraction}`) * 1000
}

/** The completed DELETEs of Service `namespace/name` in the apiserver's audit log, in order: received and completed, epoch ms. */
const serviceDeletions = (auditLogPath: string, namespace: string, name: string) =>
  Effect.map(auditLog(auditLogPath), (entries) =>
    entries
      .filter((entry) =>
        entry.verb === "delete" && entry.stage === "ResponseComplete" && entry.resource === "services" && entry.namespace === namespace && entry.name === name
      )
      .map((entry) => ({ received: auditMillis(entry.received), completed: auditMillis(entry.staged) })))

/**
 * The wall clock (what the apiserver's audit timestamps read) minus `performance.timeOrigin +
 * performance.now()`, measured at the instant `Date.now()` ticks: the two drift apart while a
 * machine's clock is slewed, so each stop measures it again.
 */
const wallClockOffset = (): number => {
  const start = Date.now()
  let now = start
  while (now === start) now = Date.now()
  return now - (performance.timeOrigin + performance.now())
}

/**
 * The reference operator talks to DittoFS only once its StatefulSet has a ready replica, which a
 * plane without kubelets never reports: every StatefulSet of `namespace` is marked ready (its
 * status: one replica, ready and available), as a kubelet would make it.
 */
const statefulSetsReady = (namespace: string, servers: number) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    // until all are: then it stops asking, so that the idle minute counts the operator's requests only
    for (let ready = 0; ready < servers;) {
      yield* Effect.sleep("200 millis")
      ready = 0
      for (const statefulSet of yield* kubernetes.list(Kubernetes.Resources.StatefulSet, namespace)) {
        if ((statefulSet.status?.readyReplicas ?? 0) >= 1) {
          ready++
          continue
        }
        const status = { ...statefulSet.status, replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1 }
        yield* Effect.ignore(kubernetes.updateStatus(Kubernetes.Resources.StatefulSet, { ...statefulSet, status }))
      }
    }
  })

/**
 * Once the operator's writes trailing a change are done (`writesSettled`, from its metrics); the
 * reference operator, which serves none here and writes its credentials on every pass, is given 5 s.
 */
const settled = (operator: OperatorProcess, quietSeconds?: number) =>
  reference === undefined ? Effect.asVoid(writesSettled(operator, quietSeconds)) : Effect.sleep("5 seconds")

const runOne = (bundleFile: string, servers: number, plane: ControlPlane.ControlPlane) =>
  Effect.gen(function*() {
    const dfs = yield* standIn()
    yield* applyServers({ dfs, servers, namespace, pollingInterval })
    yield* Console.log(`${servers} DittoServers applied`)
    const services = yield* adapterServices(namespace)

    if (reference !== undefined) yield* Effect.forkScoped(statefulSetsReady(namespace, servers))
    const operator = reference === undefined
      ? yield* spawnOperator({ bundleFile, plane, nodeArgs, ...(shutdownLog ? { args: ["--log-level", "debug"] } : {}) })
      : yield* spawnReference({ binary: reference, plane, proxyPort: dfs.port })
    const { pid, started } = operator

    // converged: every server's adapter Service exists
    yield* services.waitFor((names) => names.size >= servers, 1_200_000, () => `not converged: ${services.count()}/${servers}\n${operator.output().slice(-3000)}`)
    const convergeMillis = performance.now() - started
    const convergeCpuSeconds = cpuOf(pid)
    yield* Console.log(`${servers}: watching after ${(operator.watchAt() - started).toFixed(0)} ms, converged after ${convergeMillis.toFixed(0)} ms`)

    // idle: once the writes that trail convergence (background Events) are done, and 12 s more
    yield* settled(operator)
    yield* Effect.sleep("12 seconds")
    const before = requestTotals(yield* apiserverMetrics(plane))
    const dfsBefore = dfs.total()
    const rss: Array<number> = []
    for (let s = 0; s < idleSeconds; s++) {
      yield* Effect.sleep("1 second")
      rss.push(memoryOf(pid).rss)
    }
    const idleRequests = difference(requestTotals(yield* apiserverMetrics(plane)), before)
    const idleDittoFs = dfs.total() - dfsBefore
    const hwm = memoryOf(pid).hwm
    yield* Console.log(`${servers}: RSS ${summarize(rss).mean.toFixed(1)} MiB, idle requests ${[...idleRequests].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`)

    // the poll that saw a stop → the Service's DELETE at the apiserver (its audit log) → deleted
    // (seen by the watch); the server runs the adapter again after each, so one server can stop
    // any number of times
    const stopTimes: Array<StopTimes> = []
    const auditLogPath = plane.auditLogPath ?? ""
    for (let k = 0; k < stops; k++) {
      const i = k % servers
      const name = adapterServiceName(i, "nfs")
      const deletionsBefore = (yield* serviceDeletions(auditLogPath, namespace, name)).length
      dfs.setRunning(i, "nfs", false)
      yield* services.waitFor((names) => !names.has(name), 60_000, () => `${name} not deleted`)
      const offset = wallClockOffset()
      const polled = dfs.changeSeenAt(i)
      const gone = services.changedAt(name)
      // the audit entry is written once the DELETE completes, which may be after the watch saw it
      let deletion = (yield* serviceDeletions(auditLogPath, namespace, name))[deletionsBefore]
      for (let wait = 0; deletion === undefined && wait < 100; wait++) {
        yield* Effect.sleep("20 millis")
        deletion = (yield* serviceDeletions(auditLogPath, namespace, name))[deletionsBefore]
      }
      if (polled !== undefined && gone !== undefined && deletion !== undefined) {
        const polledAt = performance.timeOrigin + polled + offset
        stopTimes.push({ toDeleteReceived: deletion.received - polledAt, deleteServed: deletion.completed - deletion.received, toGone: gone - polled })
      } else {
        yield* Console.log(`${name}: stop not measured (poll ${polled}, gone ${gone}, audited ${deletion !== undefined})`)
      }
      dfs.setRunning(i, "nfs", true)
      yield* services.waitFor((names) => names.has(name), 60_000, () => `${name} not created again`)
    }

    // SIGTERM once the stops' passes are done: with a pass in flight the operator finishes it
    // first, by design, and the number would be that pass's remaining writes
    yield* settled(operator, 1)
    // wall-clock time, as the operator's log timestamps are (BENCH_SHUTDOWN_LOG compares them)
    const signalledAt = Date.now()
    const sigtermMillis = yield* operator.terminate
    if (shutdownLog) {
      for (const line of operator.output().split("\n")) {
        const at = Date.parse(/"timestamp":"([^"]+)"/.exec(line)?.[1] ?? "")
        if (at >= signalledAt - 1) yield* Console.log(`+${at - signalledAt} ms ${line.slice(0, 240)}`)
      }
    }
    return {
      servers,
      watchMillis: operator.watchAt() - started,
      convergeMillis,
      convergeCpuSeconds,
      rssMean: summarize(rss).mean,
      rssMax: Math.max(...rss),
      hwm,
      idleRequests,
      idleDittoFs,
      stopTimes,
      sigtermMillis
    } satisfies Result
  }).pipe(Effect.provide(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath })), Effect.scoped)

const program = Effect.gen(function*() {
  const loadAtStart = loadavg().map((load) => load.toFixed(1)).join(", ")
  const binaries = yield* locate
  const bundleFile = process.env.BENCH_BUNDLE ?? (yield* isolatedBundle).file
  const results: Array<Result> = []
  for (const servers of sizes) {
    const scope = yield* Scope.make()
    const result = yield* Effect.gen(function*() {
      const plane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles, auditServiceDeletes: true })
      return yield* runOne(bundleFile, servers, plane)
    }).pipe(Scope.provide(scope))
    yield* Scope.close(scope, Exit.void)
    results.push(result)
  }
  const now = yield* Clock.currentTimeMillis
  const f0 = (n: number) => n.toFixed(0)
  const f1 = (n: number) => n.toFixed(1)
  const perMinute = (n: number) => f0((n * 60) / idleSeconds)
  const report = [
    `# Footprint benchmark${label === undefined ? "" : ` (${label})`}`,
    "",
    `Date: ${new Date(now).toISOString().slice(0, 10)}. Machine: ${machine()}; load average at start ${loadAtStart} (1, 5, 15 min).`,
    reference === undefined
      ? `Binaries: ${basename(binaries.dir)}. Program: ${process.env.BENCH_BUNDLE === undefined ? "the bundle (`pnpm bundle`)" : basename(bundleFile)}, run as ${describeStart(bundleFile, nodeArgs)}.`
      : `Binaries: ${basename(binaries.dir)}. Program: the reference Go operator (\`BENCH_REFERENCE=${basename(reference)}\`, built from its module elsewhere), its DittoFS calls through the stand-in as an HTTP proxy, its StatefulSets marked ready by the benchmark.`,
    `Reproduce: \`pnpm bench:footprint\` (or \`node bench/footprint.ts\`; \`BENCH_SERVERS=1,200,1000\`, \`BENCH_IDLE_SECONDS\`, \`BENCH_STOPS\`, \`BENCH_BUNDLE\`, \`BENCH_LABEL\`, \`BENCH_NODE_ARGS\`, \`BENCH_SHUTDOWN_LOG\`, \`BENCH_REFERENCE\`).`,
    "",
    `Each size on a fresh plain control plane; DittoServers in \`${namespace}\`, polling interval ${pollingInterval}, one running adapter each, DittoFS`,
    "a local stand-in (one HTTP server, a path prefix per server). Idle: after convergence, the last write that trails it and 12 s more,",
    `over ${idleSeconds} s, scaled to a minute.`,
    "",
    "| servers | spawn → watching (ms) | spawn → converged (ms) | CPU to converge (s) | RSS idle mean (MiB) | RSS idle max (MiB) | peak RSS (MiB) | API requests / idle min | DittoFS calls / idle min | SIGTERM → exit (ms) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map((r) => {
      const requests = [...r.idleRequests.values()].reduce((a, b) => a + b, 0)
      return `| ${r.servers} | ${f0(r.watchMillis)} | ${f0(r.convergeMillis)} | ${f1(r.convergeCpuSeconds)} | ${f1(r.rssMean)} | ${f1(r.rssMax)} | ${f1(r.hwm)} | ${perMinute(requests)} | ${perMinute(r.idleDittoFs)} | ${f0(r.sigtermMillis)} |`
    }),
    "",
    `An adapter stopped ${stops} times (the servers in turn; each runs it again before the next stop), in ms, mean (min–max): from the poll`,
    "that saw it stop (the stand-in's answer) to the apiserver receiving the Service's DELETE (the operator's share: the poll's answer read,",
    "the pass, the request sent), the DELETE itself (received → response complete, the apiserver's audit log), and to a watch seeing",
    "the Service gone.",
    "",
    "| servers | poll → DELETE received | DELETE received → completed | poll → deletion seen by a watch |",
    "|---:|---:|---:|---:|",
    ...results.map((r) => {
      const stat = (values: ReadonlyArray<number>) =>
        values.length === 0 ? "–" : `${f1(summarize(values).mean)} (${f1(Math.min(...values))}–${f1(Math.max(...values))})`
      return `| ${r.servers} | ${stat(r.stopTimes.map((t) => t.toDeleteReceived))} | ${stat(r.stopTimes.map((t) => t.deleteServed))} | ${stat(r.stopTimes.map((t) => t.toGone))} (n=${r.stopTimes.length}) |`
    }),
    "",
    "API requests per idle minute by verb and resource (kube-apiserver's `apiserver_request_total`):",
    "",
    ...results.map((r) =>
      `- ${r.servers} server(s): ${[...r.idleRequests].map(([key, n]) => `${key} ${perMinute(n)}`).join(", ") || "none"}`
    ),
    ""
  ].join("\n")
  writeFileSync(reportFile, report)
  yield* Console.log(report)
})

NodeRuntime.runMain(Effect.scoped(program))
