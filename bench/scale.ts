/**
 * Scale benchmark: the operator (the bundle) with N DittoServers × 2 adapters (`nfs`, `smb`) on a
 * real kube-apiserver, DittoFS played by the stand-in of `bench/OperatorRun.ts`. For each N of
 * `BENCH_SERVERS` (default `20,200,1000`) and each `--concurrency` of `BENCH_CONCURRENCY` (default
 * `4`), on a fresh plain control plane:
 * - cold convergence: spawn → every server's two adapter Services exist (seen through a watch);
 *   the operator's CPU seconds and RSS at that point;
 * - idle: over `BENCH_IDLE_SECONDS` (default 60), after convergence, the last trailing write and 12 s more, kube-apiserver
 *   requests (reads: GET, LIST, WATCH; writes: the rest) from its `apiserver_request_total`, DittoFS
 *   calls, RSS (sampled every second), CPU seconds;
 * - a toggle: `smb` stops on every server at once → every `smb` Service deleted; then it runs again
 *   → every one created (the polling interval, 10 s, bounds the wait);
 * - where the time goes in each phase: the operator's own metrics (reconciles and their time, time
 *   in the work queue, Kubernetes requests, DittoFS poll time), the apiserver's
 *   `apiserver_request_duration_seconds` (the operator's resources, WATCH left out) and the
 *   stand-in's own handling time.
 * Writes bench/reports/scale.md (`BENCH_LABEL`: scale-<label>.md). Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Clock, Console, Effect, Exit, Scope } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { basename, join } from "node:path"
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
  type MetricSample,
  operatorMetrics,
  type OperatorProcess,
  writesSettled,
  readsAndWrites,
  requestTotals,
  spawnOperator,
  standIn,
  type StandIn,
  sumBy,
  total,
  verbResource
} from "./OperatorRun.ts"

const sizes = (process.env.BENCH_SERVERS ?? "20,200,1000").split(",").map(Number)
const concurrencies = (process.env.BENCH_CONCURRENCY ?? "4").split(",").map(Number)
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60)
const label = process.env.BENCH_LABEL
const nodeArgs = operatorNodeArgs()
const reportFile = fileURLToPath(new URL(`reports/${label === undefined ? "scale" : `scale-${label}`}.md`, import.meta.url))
const pollingInterval = "10s"
const namespace = "default"
const adapters = [{ type: "nfs", port: 12049 }, { type: "smb", port: 12445 }]
const toggled = "smb"
/** Give up on a phase after this long. */
const phaseTimeoutMillis = 1_800_000

// ---------------------------------------------------------------------------------------------
// Where the time goes: a snapshot of every counter, and the difference of two

interface Snapshot {
  readonly at: number
  readonly cpu: number
  /** CPU seconds so far of the control plane's processes and of this process (the stand-in, the Service watch). */
  readonly others: Others
  readonly apiserver: ReadonlyArray<MetricSample>
  readonly operator: ReadonlyArray<MetricSample>
  readonly dfsCalls: number
  readonly dfsHandlingMillis: number
}

/** The machine's other CPU consumers during a run: the control plane's processes and the benchmark itself. */
interface Others {
  readonly etcd: number
  readonly apiserver: number
  readonly controllerManager: number
  readonly bench: number
}

const cpuOfProcess = (plane: ControlPlane.ControlPlane, name: string) => {
  const pid = Number(readFileSync(join(plane.dir, `${name}.pid`), "utf8").trim())
  return cpuOf(pid)
}

const othersNow = (plane: ControlPlane.ControlPlane): Others => {
  const usage = process.cpuUsage()
  return {
    etcd: cpuOfProcess(plane, "etcd"),
    apiserver: cpuOfProcess(plane, "kube-apiserver"),
    controllerManager: cpuOfProcess(plane, "kube-controller-manager"),
    bench: (usage.user + usage.system) / 1e6
  }
}

const snapshot = (plane: ControlPlane.ControlPlane, operator: OperatorProcess, dfs: StandIn) =>
  Effect.gen(function*() {
    const at = performance.now()
    const cpu = cpuOf(operator.pid)
    const others = othersNow(plane)
    const [apiserver, operatorSamples] = yield* Effect.all([apiserverMetrics(plane), operatorMetrics(operator)], { concurrency: 2 })
    return { at, cpu, others, apiserver, operator: operatorSamples, dfsCalls: dfs.total(), dfsHandlingMillis: dfs.handlingMillis() } satisfies Snapshot
  })

const all = () => "all"
const nonWatch = (labels: Readonly<Record<string, string>>) => {
  const key = verbResource(labels)
  return key === undefined || key.startsWith("WATCH") ? undefined : /^(GET|LIST)\b/.test(key) ? "read" : "write"
}

/** What happened between two snapshots. */
interface Phase {
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly others: Others
  readonly reconciles: number
  readonly reconcileSeconds: number
  readonly queueSeconds: number
  readonly clientRequests: Map<string, number>
  readonly apiRequests: Map<string, number>
  readonly apiSeconds: { readonly read: number; readonly write: number }
  readonly apiCount: { readonly read: number; readonly write: number }
  readonly polls: number
  readonly pollSeconds: number
  readonly dfsCalls: number
  readonly dfsHandlingSeconds: number
}

const phase = (before: Snapshot, after: Snapshot): Phase => {
  const op = (name: string, by: (labels: Readonly<Record<string, string>>) => string | undefined = all) =>
    difference(sumBy(after.operator, name, by), sumBy(before.operator, name, by))
  const api = (name: string) => difference(sumBy(after.apiserver, name, nonWatch), sumBy(before.apiserver, name, nonWatch))
  const apiSum = api("apiserver_request_duration_seconds_sum")
  const apiCount = api("apiserver_request_duration_seconds_count")
  return {
    wallSeconds: (after.at - before.at) / 1000,
    cpuSeconds: after.cpu - before.cpu,
    others: {
      etcd: after.others.etcd - before.others.etcd,
      apiserver: after.others.apiserver - before.others.apiserver,
      controllerManager: after.others.controllerManager - before.others.controllerManager,
      bench: after.others.bench - before.others.bench
    },
    reconciles: total(op("controller_runtime_reconcile_time_seconds_count")),
    reconcileSeconds: total(op("controller_runtime_reconcile_time_seconds_sum")),
    queueSeconds: total(op("workqueue_queue_duration_seconds_sum")),
    // by verb; a refused request as `verb → code` (a 409 is a write refused as stale)
    clientRequests: op("rest_client_requests_total", (labels) =>
      /^2/.test(labels["code"] ?? "") ? labels["verb"] ?? "?" : `${labels["verb"] ?? "?"} → ${labels["code"] ?? "?"}`),
    apiRequests: difference(requestTotals(after.apiserver), requestTotals(before.apiserver)),
    apiSeconds: { read: apiSum.get("read") ?? 0, write: apiSum.get("write") ?? 0 },
    apiCount: { read: apiCount.get("read") ?? 0, write: apiCount.get("write") ?? 0 },
    polls: total(op("dittofs_adapter_poll_duration_seconds_count")),
    pollSeconds: total(op("dittofs_adapter_poll_duration_seconds_sum")),
    dfsCalls: after.dfsCalls - before.dfsCalls,
    dfsHandlingSeconds: (after.dfsHandlingMillis - before.dfsHandlingMillis) / 1000
  }
}

/** The operator's metrics before it ran: nothing. */
const zero = (at: number, dfs: StandIn, apiserver: ReadonlyArray<MetricSample>, others: Others): Snapshot => ({
  at,
  cpu: 0,
  others,
  apiserver,
  operator: [],
  dfsCalls: dfs.total(),
  dfsHandlingMillis: dfs.handlingMillis()
})

// ---------------------------------------------------------------------------------------------
// One run

interface Result {
  readonly servers: number
  readonly concurrency: number
  readonly applyMillis: number
  readonly watchMillis: number
  readonly convergeMillis: number
  readonly halfMillis: number
  readonly convergeRss: number
  readonly idleRssMean: number
  readonly idleRssMax: number
  readonly hwm: number
  readonly converge: Phase
  readonly idle: Phase
  readonly stopAllMillis: number
  readonly stopLatency: ReadonlyArray<number>
  readonly stop: Phase
  readonly startAllMillis: number
  readonly startLatency: ReadonlyArray<number>
  readonly start: Phase
  readonly sigtermMillis: number
}

const runOne = (bundleFile: string, servers: number, concurrency: number, plane: ControlPlane.ControlPlane) =>
  Effect.gen(function*() {
    const dfs = yield* standIn(adapters)
    const applyStart = performance.now()
    yield* applyServers({ dfs, servers, namespace, pollingInterval })
    const applyMillis = performance.now() - applyStart
    yield* Console.log(`${servers} DittoServers applied in ${applyMillis.toFixed(0)} ms`)
    const services = yield* adapterServices(namespace)
    const expected = servers * adapters.length

    const apiserverBefore = yield* apiserverMetrics(plane)
    const othersBefore = othersNow(plane)
    const operator = yield* spawnOperator({ bundleFile, plane, nodeArgs, args: ["--concurrency", String(concurrency)] })
    const { pid, started } = operator
    const spawned = zero(started, dfs, apiserverBefore, othersBefore)

    // cold convergence: every adapter Service exists
    const describe = () => `${services.count()}/${expected} adapter Services\n${operator.output().slice(-3000)}`
    const halfAt = yield* services.waitFor((names) => names.size >= expected / 2, phaseTimeoutMillis, describe)
    yield* services.waitFor((names) => names.size >= expected, phaseTimeoutMillis, describe)
    const converged = yield* snapshot(plane, operator, dfs)
    const convergeRss = memoryOf(pid).rss
    yield* Console.log(`${servers} (concurrency ${concurrency}): converged after ${(converged.at - started).toFixed(0)} ms, ${converged.cpu.toFixed(1)} CPU s, RSS ${convergeRss.toFixed(1)} MiB`)

    // idle: once the writes that trail convergence (background Events) are done, and 12 s more
    const settledAt = yield* writesSettled(operator)
    yield* Console.log(`${servers}: writes settled ${((settledAt - converged.at) / 1000).toFixed(1)} s after convergence`)
    yield* Effect.sleep("12 seconds")
    const idleStart = yield* snapshot(plane, operator, dfs)
    const rss: Array<number> = []
    for (let s = 0; s < idleSeconds; s++) {
      yield* Effect.sleep("1 second")
      rss.push(memoryOf(pid).rss)
    }
    const idleEnd = yield* snapshot(plane, operator, dfs)
    const idle = phase(idleStart, idleEnd)
    yield* Console.log(`${servers}: idle RSS ${summarize(rss).mean.toFixed(1)} MiB, API requests ${[...idle.apiRequests].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`)

    // toggle: smb stops on every server, then runs again
    const toggle = (running: boolean) =>
      Effect.gen(function*() {
        const before = yield* snapshot(plane, operator, dfs)
        const changed = performance.now()
        for (let i = 0; i < servers; i++) dfs.setRunning(i, toggled, running)
        const names = Array.from({ length: servers }, (_, i) => adapterServiceName(i, toggled))
        const done = yield* services.waitFor(
          (present) => names.every((name) => present.has(name) === running),
          phaseTimeoutMillis,
          () => `${names.filter((name) => services.has(name) === running).length}/${servers} ${toggled} Services ${running ? "created" : "deleted"}`
        )
        const after = yield* snapshot(plane, operator, dfs)
        const latency = names.flatMap((name, i) => {
          const seen = dfs.changeSeenAt(i)
          const at = services.changedAt(name)
          return seen === undefined || at === undefined ? [] : [at - seen]
        })
        yield* Console.log(`${servers}: ${toggled} ${running ? "started" : "stopped"} on every server → every Service matches after ${(done - changed).toFixed(0)} ms`)
        return { allMillis: done - changed, latency, phase: phase(before, after) }
      })
    const stopped = yield* toggle(false)
    const restarted = yield* toggle(true)
    const hwm = memoryOf(pid).hwm

    const sigtermMillis = yield* operator.terminate
    return {
      servers,
      concurrency,
      applyMillis,
      watchMillis: operator.watchAt() - started,
      convergeMillis: converged.at - started,
      halfMillis: halfAt - started,
      convergeRss,
      idleRssMean: summarize(rss).mean,
      idleRssMax: Math.max(...rss),
      hwm,
      converge: phase(spawned, converged),
      idle,
      stopAllMillis: stopped.allMillis,
      stopLatency: stopped.latency,
      stop: stopped.phase,
      startAllMillis: restarted.allMillis,
      startLatency: restarted.latency,
      start: restarted.phase,
      sigtermMillis
    } satisfies Result
  }).pipe(Effect.provide(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath })), Effect.scoped)

// ---------------------------------------------------------------------------------------------
// The report

const f0 = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–"
const f1 = (n: number) => Number.isFinite(n) ? n.toFixed(1) : "–"
const f2 = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "–"
const perMinute = (n: number) => f0((n * 60) / idleSeconds)
const byKey = (map: ReadonlyMap<string, number>) => [...map].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${key} ${f0(n)}`).join(", ") || "none"

/** Growth of a measure from the smallest to the largest size, against the growth of N. */
const growth = (results: ReadonlyArray<Result>, measure: (r: Result) => number) => {
  const first = results[0]
  const last = results.at(-1)
  if (first === undefined || last === undefined || first === last) return "–"
  const ratio = measure(last) / measure(first)
  const exponent = Math.log(ratio) / Math.log(last.servers / first.servers)
  return `×${f1(ratio)} (exponent ${f2(exponent)})`
}

const breakdownRows = (name: string, r: Result, p: Phase) => {
  const workerShare = p.reconcileSeconds / (r.concurrency * p.wallSeconds)
  return `| ${r.servers} | ${r.concurrency} | ${name} | ${f1(p.wallSeconds)} | ${f1(p.cpuSeconds)} | ${f1(p.others.apiserver)} / ${f1(p.others.etcd)} / ${f1(p.others.controllerManager)} / ${f1(p.others.bench)} | ${f0(p.reconciles)} | ${f1(p.reconcileSeconds)} (${f0(workerShare * 100)} %) | ${f1(p.queueSeconds)} | ${f0(total(p.clientRequests))} | ${f0(p.apiCount.read)} / ${f1(p.apiSeconds.read)} | ${f0(p.apiCount.write)} / ${f1(p.apiSeconds.write)} | ${f0(p.polls)} / ${f1(p.pollSeconds)} | ${f0(p.dfsCalls)} / ${f2(p.dfsHandlingSeconds)} |`
}

const program = Effect.gen(function*() {
  const loadAtStart = loadavg().map((load) => load.toFixed(1)).join(", ")
  const binaries = yield* locate
  const bundleFile = process.env.BENCH_BUNDLE ?? (yield* isolatedBundle).file
  const results: Array<Result> = []
  for (const servers of sizes) {
    for (const concurrency of concurrencies) {
      const scope = yield* Scope.make()
      const result = yield* Effect.gen(function*() {
        const plane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles })
        return yield* runOne(bundleFile, servers, concurrency, plane)
      }).pipe(Scope.provide(scope))
      yield* Scope.close(scope, Exit.void)
      results.push(result)
      // written after every run, so a run cut short keeps the sizes before it
      yield* writeReport(results, loadAtStart, binaries, bundleFile)
    }
  }
  yield* Console.log(readFileSync(reportFile, "utf8"))
})

const writeReport = (results: ReadonlyArray<Result>, loadAtStart: string, binaries: { readonly dir: string }, bundleFile: string) =>
  Effect.gen(function*() {
    const loadAtEnd = loadavg().map((load) => load.toFixed(1)).join(", ")
    const now = yield* Clock.currentTimeMillis
    const sameConcurrency = results.filter((r) => r.concurrency === concurrencies[0])
    const report = [
      `# Scale benchmark${label === undefined ? "" : ` (${label})`}`,
      "",
      `Date: ${new Date(now).toISOString().slice(0, 10)}. Machine: ${machine()}; load average ${loadAtStart} at start, ${loadAtEnd} after the last run (1, 5, 15 min).`,
      `Binaries: ${basename(binaries.dir)}. Program: ${process.env.BENCH_BUNDLE === undefined ? "the bundle (`pnpm bundle`)" : basename(bundleFile)}, run as ${describeStart(bundleFile, nodeArgs, " --concurrency <c>")}.`,
      `Command: \`${[
        `BENCH_SERVERS=${sizes.join(",")}`,
        `BENCH_CONCURRENCY=${concurrencies.join(",")}`,
        `BENCH_IDLE_SECONDS=${idleSeconds}`,
        "pnpm bench:scale"
      ].join(" ")}\` (or \`node bench/scale.ts\`; also \`BENCH_BUNDLE\`, \`BENCH_LABEL\`, \`BENCH_NODE_ARGS\`).`,
      "",
      `Each run on a fresh plain control plane (etcd, kube-apiserver, garbage collector; no nodes); N DittoServers in \`${namespace}\`,`,
      `polling interval ${pollingInterval}, two running adapters each (${adapters.map((a) => a.type).join(", ")}), so 2N adapter Services; DittoFS a local`,
      "stand-in (one HTTP server, a path prefix per server). Converged: every adapter Service exists (seen by a watch).",
      `Idle: after convergence, the last write that trails it (background Events) and 12 s more, over ${idleSeconds} s, scaled to a minute. Toggle: \`${toggled}\` stopped on every server at`,
      "once, until every one of its Services is deleted; then started again, until every one exists.",
      "",
      "## Results",
      "",
      "| servers | concurrency | apply N servers (s) | spawn → watching (ms) | spawn → half the Services (s) | cold convergence (s) | CPU to converge (s) | RSS converged (MiB) | RSS idle mean / max (MiB) | peak RSS (MiB) | idle CPU (s / min) | API reads / idle min | API writes / idle min | DittoFS calls / idle min | stop on all → every Service deleted (s) | start on all → every Service created (s) | first poll that saw it → Service (ms, p50 / p99) | SIGTERM → exit (ms) |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...results.map((r) => {
        const rw = readsAndWrites(r.idle.apiRequests)
        const latency = summarize([...r.stopLatency, ...r.startLatency])
        return `| ${r.servers} | ${r.concurrency} | ${f1(r.applyMillis / 1000)} | ${f0(r.watchMillis)} | ${f1(r.halfMillis / 1000)} | ${f1(r.convergeMillis / 1000)} | ${f1(r.converge.cpuSeconds)} | ${f1(r.convergeRss)} | ${f1(r.idleRssMean)} / ${f1(r.idleRssMax)} | ${f1(r.hwm)} | ${f2((r.idle.cpuSeconds * 60) / idleSeconds)} | ${perMinute(rw.reads)} | ${perMinute(rw.writes)} | ${perMinute(r.idle.dfsCalls)} | ${f1(r.stopAllMillis / 1000)} | ${f1(r.startAllMillis / 1000)} | ${f0(latency.p50)} / ${f0(latency.p99)} | ${f0(r.sigtermMillis)} |`
      }),
      "",
      "API requests per idle minute by verb and resource (kube-apiserver's `apiserver_request_total`, the operator's resources):",
      "",
      ...results.map((r) => `- ${r.servers} servers, concurrency ${r.concurrency}: ${[...r.idle.apiRequests].map(([key, n]) => `${key} ${perMinute(n)}`).join(", ") || "none"}`),
      "",
      `## Growth from ${sameConcurrency[0]?.servers ?? "–"} to ${sameConcurrency.at(-1)?.servers ?? "–"} servers (concurrency ${concurrencies[0]})`,
      "",
      "Ratio of the largest to the smallest size, and the exponent k of N^k (1: linear; below 1: better than linear).",
      "",
      "| measure | growth |",
      "|---|---|",
      `| servers | ×${f1((sameConcurrency.at(-1)?.servers ?? Number.NaN) / (sameConcurrency[0]?.servers ?? Number.NaN))} |`,
      `| cold convergence | ${growth(sameConcurrency, (r) => r.convergeMillis)} |`,
      `| CPU to converge | ${growth(sameConcurrency, (r) => r.converge.cpuSeconds)} |`,
      `| RSS idle mean | ${growth(sameConcurrency, (r) => r.idleRssMean)} |`,
      `| peak RSS | ${growth(sameConcurrency, (r) => r.hwm)} |`,
      `| idle CPU | ${growth(sameConcurrency, (r) => r.idle.cpuSeconds)} |`,
      `| DittoFS calls / idle min | ${growth(sameConcurrency, (r) => r.idle.dfsCalls)} |`,
      `| Kubernetes requests to converge (operator) | ${growth(sameConcurrency, (r) => total(r.converge.clientRequests))} |`,
      `| stop on all → every Service deleted | ${growth(sameConcurrency, (r) => r.stopAllMillis)} |`,
      "",
      "## Where the time goes",
      "",
      "Per phase: wall time; the operator's CPU seconds; the other CPU seconds spent meanwhile (kube-apiserver,",
      "etcd, kube-controller-manager with its garbage collector, and this benchmark: the stand-in and its Service",
      "watch; with the operator's, they add up to what the machine spent); its reconciles and their summed time",
      "(`controller_runtime_reconcile_time_seconds`; in brackets that sum over concurrency × wall time, the",
      "share of the workers' capacity in use: near 100 % the workers are the bottleneck); the summed time keys",
      "waited in the work queue (`workqueue_queue_duration_seconds`); its Kubernetes requests",
      "(`rest_client_requests_total`); the apiserver's requests and their summed duration for the operator's",
      "resources (`apiserver_request_duration_seconds`, WATCH left out; it counts every client, the",
      "garbage collector's reads included); DittoFS polls and their summed duration as the operator saw them",
      "(`dittofs_adapter_poll_duration_seconds`); the stand-in's calls and its own summed handling time.",
      "",
      "| servers | concurrency | phase | wall (s) | operator CPU (s) | apiserver / etcd / controller-manager / bench CPU (s) | reconciles | reconcile time (s, worker share) | queue wait (s) | operator → Kubernetes requests | apiserver reads (n / s) | apiserver writes (n / s) | DittoFS polls (n / s, operator) | DittoFS calls (n / s, stand-in) |",
      "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...results.flatMap((r) => [
        breakdownRows("cold convergence", r, r.converge),
        breakdownRows(`idle ${idleSeconds} s`, r, r.idle),
        breakdownRows(`${toggled} stopped on all`, r, r.stop),
        breakdownRows(`${toggled} started on all`, r, r.start)
      ]),
      "",
      "The operator's Kubernetes requests by verb, per phase (a refused one as `verb → code`: `update → 409` is a write refused as stale):",
      "",
      ...results.flatMap((r) => [
        `- ${r.servers} servers, concurrency ${r.concurrency}: converge ${byKey(r.converge.clientRequests)}; idle ${byKey(r.idle.clientRequests)}; stop ${byKey(r.stop.clientRequests)}; start ${byKey(r.start.clientRequests)}`
      ]),
      "",
      "The apiserver's requests to converge, by verb and resource (`apiserver_request_total`, every client's, WATCH left out), per server:",
      "",
      ...results.map((r) =>
        `- ${r.servers} servers, concurrency ${r.concurrency}: ${
          [...r.converge.apiRequests].filter(([key]) => !key.startsWith("WATCH")).sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${f1(n / r.servers)}`).join(", ")
        }`
      ),
      ""
    ].join("\n")
    writeFileSync(reportFile, report)
  })

NodeRuntime.runMain(Effect.scoped(program))
