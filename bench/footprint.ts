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
 * - a stop: the poll that saw an adapter stop → its Service deleted (`BENCH_STOPS`, default 5, the
 *   apiserver polled every 2 ms for the Service), and SIGTERM → exit once the writes of the stops' passes are done.
 * The DittoFS stand-in (`bench/OperatorRun.ts`, shared with `bench/scale.ts`) is one local HTTP server speaking login, refresh, users, adapters and health
 * for every server, each under its own path prefix (`dittofs.io/api-url: http://127.0.0.1:<port>/s/<i>`).
 * `BENCH_BUNDLE=<file>` measures another build (e.g. an older commit's `pnpm bundle`); `BENCH_LABEL`
 * names it in the report (`BENCH_NODE_ARGS` replaces the image's `node` flags, e.g. to add `--cpu-prof`), which goes to `bench/reports/footprint-<label>.md` (default `footprint.md`).
 * Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes } from "@dittofs-operator/core"
import { Clock, Console, Effect, Exit, Scope } from "effect"
import { writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { isolatedBundle } from "../apps/operator/test/integration/install/Install.ts"
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
  standIn,
  writesSettled
} from "./OperatorRun.ts"

const sizes = (process.env.BENCH_SERVERS ?? "1,200").split(",").map(Number)
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60)
const stops = Number(process.env.BENCH_STOPS ?? 5)
const label = process.env.BENCH_LABEL
const nodeArgs = operatorNodeArgs()
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
  readonly stopToDelete: ReadonlyArray<number>
  readonly sigtermMillis: number
}

const runOne = (bundleFile: string, servers: number, plane: ControlPlane.ControlPlane) =>
  Effect.gen(function*() {
    const dfs = yield* standIn()
    const kubernetes = yield* Kubernetes.Kubernetes
    yield* applyServers({ dfs, servers, namespace, pollingInterval })
    yield* Console.log(`${servers} DittoServers applied`)
    const services = yield* adapterServices(namespace)

    const operator = yield* spawnOperator({ bundleFile, plane, nodeArgs, ...(shutdownLog ? { args: ["--log-level", "debug"] } : {}) })
    const { pid, started } = operator

    // converged: every server's adapter Service exists
    yield* services.waitFor((names) => names.size >= servers, 1_200_000, () => `not converged: ${services.count()}/${servers}\n${operator.output().slice(-3000)}`)
    const convergeMillis = performance.now() - started
    const convergeCpuSeconds = cpuOf(pid)
    yield* Console.log(`${servers}: watching after ${(operator.watchAt() - started).toFixed(0)} ms, converged after ${convergeMillis.toFixed(0)} ms`)

    // idle: once the writes that trail convergence (background Events) are done, and 12 s more
    yield* writesSettled(operator)
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

    // the poll that saw a stop → the Service deleted
    const stopToDelete: Array<number> = []
    for (let k = 0; k < Math.min(stops, servers); k++) {
      const i = k
      dfs.setRunning(i, "nfs", false)
      const before = dfs.lastAnswered(i) ?? 0
      for (;;) {
        const gone = yield* Effect.result(kubernetes.get(Kubernetes.Resources.Service, namespace, adapterServiceName(i, "nfs")))
        if (gone._tag === "Failure") {
          const polled = dfs.lastAnswered(i) ?? 0
          if (polled > before) stopToDelete.push(performance.now() - polled)
          break
        }
        yield* Effect.sleep("2 millis")
      }
    }

    // SIGTERM once the stops' passes are done: with a pass in flight the operator finishes it
    // first, by design, and the number would be that pass's remaining writes
    yield* writesSettled(operator, 1)
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
      stopToDelete,
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
      const plane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles })
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
    `Binaries: ${basename(binaries.dir)}. Program: ${process.env.BENCH_BUNDLE === undefined ? "the bundle (`pnpm bundle`)" : basename(bundleFile)}, run as ${describeStart(bundleFile, nodeArgs)}.`,
    `Reproduce: \`pnpm bench:footprint\` (or \`node bench/footprint.ts\`; \`BENCH_SERVERS=1,200,1000\`, \`BENCH_IDLE_SECONDS\`, \`BENCH_STOPS\`, \`BENCH_BUNDLE\`, \`BENCH_LABEL\`, \`BENCH_NODE_ARGS\`, \`BENCH_SHUTDOWN_LOG\`).`,
    "",
    `Each size on a fresh plain control plane; DittoServers in \`${namespace}\`, polling interval ${pollingInterval}, one running adapter each, DittoFS`,
    "a local stand-in (one HTTP server, a path prefix per server). Idle: after convergence, the last write that trails it and 12 s more,",
    `over ${idleSeconds} s, scaled to a minute.`,
    "",
    "| servers | spawn → watching (ms) | spawn → converged (ms) | CPU to converge (s) | RSS idle mean (MiB) | RSS idle max (MiB) | peak RSS (MiB) | API requests / idle min | DittoFS calls / idle min | poll saw stop → Service deleted (ms, mean) | SIGTERM → exit (ms) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map((r) => {
      const requests = [...r.idleRequests.values()].reduce((a, b) => a + b, 0)
      return `| ${r.servers} | ${f0(r.watchMillis)} | ${f0(r.convergeMillis)} | ${f1(r.convergeCpuSeconds)} | ${f1(r.rssMean)} | ${f1(r.rssMax)} | ${f1(r.hwm)} | ${perMinute(requests)} | ${perMinute(r.idleDittoFs)} | ${r.stopToDelete.length === 0 ? "–" : f1(summarize(r.stopToDelete).mean)} (n=${r.stopToDelete.length}) | ${f0(r.sigtermMillis)} |`
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
