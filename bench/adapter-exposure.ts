/**
 * Adapter-exposure benchmark, end to end: its own control plane (etcd + kube-apiserver + garbage
 * collector) and its own `dfs` (scripts/launch), the sample DittoServer at a 2 s polling interval,
 * and the operator in-process with a counting wrapper around its Kubernetes service. Measures:
 * - latency of adapter stop → its Service deleted, and start → Service created, over
 *   `BENCH_TOGGLES` (default 20) toggles of `smb` through the DittoFS API, each after a random
 *   pause within one polling interval (so the change falls at a random point of the cycle); the
 *   Service change is seen through a watch on the apiserver;
 * - API writes per idle poll cycle (`BENCH_IDLE_CYCLES`, default 10) and per adapter change, by
 *   verb and kind, from the wrapper and cross-checked with the apiserver's `apiserver_request_total`.
 * Writes bench/reports/adapter-exposure.md; stops everything it started. Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes, Naming } from "@dittofs-operator/core"
import { Clock, Console, Duration, Effect, Fiber, Layer, Option, Random, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"
import {
  adapterPolls,
  awaitExposed,
  awaitPolls,
  countsSince,
  freshNamespace,
  runOperator,
  setAdapterEnabled,
  writeCounter
} from "../apps/operator/test/integration/e2e/harness.ts"
import * as DittoFsLive from "../apps/operator/src/live/DittoFsLive.ts"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import * as DittoFsServer from "../scripts/launch/DittoFsServer.ts"
import * as LoopbackHttp from "../scripts/launch/LoopbackHttp.ts"
import * as Sample from "../scripts/launch/Sample.ts"
import { machine } from "./Measure.ts"

const toggles = Number(process.env.BENCH_TOGGLES ?? 20)
const idleCycles = Number(process.env.BENCH_IDLE_CYCLES ?? 10)
const pollingInterval = Duration.seconds(2)
const reportFile = fileURLToPath(new URL("reports/adapter-exposure.md", import.meta.url))

// ---------------------------------------------------------------------------------------------
// Statistics and tables

interface Summary {
  readonly n: number
  readonly min: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** Nearest-rank percentile. */
const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN

const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length
  }
}

const ms = (value: number) => value.toFixed(0)

const latencyRow = (name: string, s: Summary) =>
  `| ${name} | ${s.n} | ${ms(s.min)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(s.mean)} |`

const countRows = (counts: ReadonlyMap<string, number>, per: number) =>
  [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `| ${key} | ${n} | ${(n / per).toFixed(2)} |`)

// ---------------------------------------------------------------------------------------------
// The apiserver's own count of requests

interface ApiServerAccess {
  readonly server: string
  readonly token: string
  readonly ca: string
}

const writeVerbs = new Set(["POST", "PUT", "PATCH", "DELETE", "APPLY"])
const ourResources = new Set(["services", "networkpolicies", "statefulsets", "secrets", "dittoservers", "events"])

/** `apiserver_request_total` for writes to the kinds the operator touches, by `<VERB> <resource>[/<subresource>]`. */
const apiServerWrites = (api: ApiServerAccess) =>
  LoopbackHttp.request({ url: `${api.server}/metrics`, bearerToken: api.token, ca: api.ca, timeout: "10 seconds" }).pipe(
    Effect.map((response): ReadonlyMap<string, number> => {
      const counts = new Map<string, number>()
      for (const line of response.text.split("\n")) {
        if (!line.startsWith("apiserver_request_total{")) continue
        const labels = new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1] ?? "", match[2] ?? ""] as const))
        const verb = labels.get("verb") ?? ""
        const resource = labels.get("resource") ?? ""
        if (!writeVerbs.has(verb) || !ourResources.has(resource)) continue
        const subresource = labels.get("subresource") ?? ""
        const key = `${verb} ${resource}${subresource === "" ? "" : `/${subresource}`}`
        counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)))
      }
      return counts
    })
  )

// ---------------------------------------------------------------------------------------------
// One toggle: change the adapter, see the Service event through a watch

const serviceEvent = (namespace: string, name: string, tag: "Added" | "Deleted", resourceVersion: string) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.watch(Kubernetes.Resources.Service, namespace, {
      resourceVersion,
      labelSelector: { [Naming.labels.adapterService]: "true", [Naming.labels.instance]: "nas" }
    }).pipe(
      Stream.filter((event) => event._tag !== "Bookmark" && event._tag === tag && event.object.metadata.name === name),
      Stream.runHead
    )
  ).pipe(
    Effect.map((seen) => Option.map(seen, () => performance.now())),
    Effect.flatMap(Effect.fromOption),
    Effect.timeout("30 seconds")
  )

/** Milliseconds from the dfs change (its answer) to the watch event of the Service. */
const toggle = (dfs: DittoFsServer.DittoFsServer, namespace: string, enabled: boolean) =>
  Effect.gen(function*() {
    const { resourceVersion } = yield* Kubernetes.Kubernetes.use((kubernetes) =>
      kubernetes.listWithVersion(Kubernetes.Resources.Service, namespace, { labelSelector: { [Naming.labels.instance]: "nas" } }))
    const watcher = yield* Effect.forkChild(serviceEvent(namespace, "nas-adapter-smb", enabled ? "Added" : "Deleted", resourceVersion))
    yield* setAdapterEnabled(dfs, "smb", enabled)
    const changed = performance.now()
    const seen = yield* Fiber.join(watcher)
    return seen - changed
  })

// ---------------------------------------------------------------------------------------------

const program = Effect.gen(function*() {
  const binaries = yield* locate
  yield* Console.log("adapter-exposure bench: starting the control plane and dfs …")
  const controlPlane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles })
  const dfs = yield* DittoFsServer.start({ binaries })
  const api: ApiServerAccess = {
    server: controlPlane.server,
    token: controlPlane.token,
    ca: yield* Effect.promise(() => readFile(controlPlane.caFile, "utf8"))
  }
  const clients = Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath: controlPlane.kubeconfigPath }), DittoFsLive.layer())

  return yield* Effect.gen(function*() {
    const namespace = yield* freshNamespace("bench")
    const counter = yield* writeCounter
    yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "2s" })
    yield* runOperator({ kubeconfigPath: controlPlane.kubeconfigPath, namespace, wrap: counter.wrap, logLevel: "Error" })
    const server = { namespace, name: "nas" }
    yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")
    yield* awaitPolls(dfs, yield* adapterPolls(dfs), 3, "30 seconds")

    // Idle cycles.
    yield* Console.log(`idle: ${idleCycles} polling cycles …`)
    const idleStart = { writes: yield* counter.snapshot, api: yield* apiServerWrites(api), polls: yield* adapterPolls(dfs) }
    const idleEndPolls = yield* awaitPolls(dfs, idleStart.polls, idleCycles, Duration.times(pollingInterval, idleCycles * 3))
    const idleWrites = countsSince(idleStart.writes, yield* counter.snapshot)
    const idleApiWrites = countsSince(idleStart.api, yield* apiServerWrites(api))
    const cycles = idleEndPolls - idleStart.polls

    // Toggles.
    const stops: Array<number> = []
    const starts: Array<number> = []
    const statefulSetWrites: Array<number> = []
    const changeStart = { writes: yield* counter.snapshot, api: yield* apiServerWrites(api) }
    for (let i = 0; i < toggles; i++) {
      for (const enabled of [false, true]) {
        yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(0, Duration.toMillis(pollingInterval))))
        const before = yield* counter.snapshot
        const latency = yield* toggle(dfs, namespace, enabled)
        yield* awaitExposed(server, enabled ? ["nfs", "smb"] : ["nfs"], "10 seconds")
        if (enabled) starts.push(latency)
        else stops.push(latency)
        yield* Effect.sleep(Duration.millis(200))
        statefulSetWrites.push(countsSince(before, yield* counter.snapshot).get("update StatefulSet") ?? 0)
      }
      yield* Console.log(`toggle ${i + 1}/${toggles}: stop → deleted ${ms(stops.at(-1) ?? 0)} ms, start → created ${ms(starts.at(-1) ?? 0)} ms`)
    }
    // Let the passes that follow the last change run before counting.
    yield* awaitPolls(dfs, yield* adapterPolls(dfs), 2, "20 seconds")
    const changes = toggles * 2
    const changeWrites = countsSince(changeStart.writes, yield* counter.snapshot)
    const changeApiWrites = countsSince(changeStart.api, yield* apiServerWrites(api))

    const now = yield* Clock.currentTimeMillis
    const stopSummary = summarize(stops)
    const startSummary = summarize(starts)
    const stsWrites = summarize(statefulSetWrites)
    const report = [
      "# Adapter-exposure benchmark (end to end)",
      "",
      `Date: ${new Date(now).toISOString().slice(0, 10)}. Machine: ${machine()}.`,
      `Binaries: ${basename(binaries.dir)} (kube-apiserver, etcd, dfs). Polling interval 2 s; ${toggles} stop/start toggles of \`smb\`; ${cycles} idle cycles.`,
      "Reproduce: `pnpm bench` (or `node bench/adapter-exposure.ts`); `BENCH_TOGGLES` and `BENCH_IDLE_CYCLES` set the counts.",
      "",
      "Setup: a fresh control plane (etcd + kube-apiserver + garbage collector) and a real `dfs` v0.29.0 on 127.0.0.1 (scripts/launch),",
      "the sample DittoServer `nas` (NodePort adapter Services) pointed at that dfs, and the operator in the benchmark's process",
      "(`DittoServerController` + Event recorder + live DittoFS client, on the live Kubernetes service wrapped to count writes).",
      "Each change is made through the DittoFS API (`PUT /api/v1/adapters/smb {\"enabled\": …}`) after a random pause of 0–2 s,",
      "so it lands at a random point of the polling cycle; the latency runs from dfs's answer to the Service's watch event",
      "(`Deleted` / `Added`) from the apiserver. Expect it uniform over one polling interval plus the pass itself.",
      "",
      "## Latency (ms)",
      "",
      "| transition | n | min | p50 | p99 | max | mean |",
      "|---|---:|---:|---:|---:|---:|---:|",
      latencyRow("adapter stop → Service deleted", stopSummary),
      latencyRow("adapter start → Service created", startSummary),
      "",
      "Percentiles are nearest-rank: with fewer than 100 samples p99 is the maximum.",
      "",
      `## API writes per idle poll cycle (${cycles} cycles)`,
      "",
      "| write (operator's Kubernetes service) | total | per cycle |",
      "|---|---:|---:|",
      ...(idleWrites.size === 0 ? ["| (none) | 0 | 0.00 |"] : countRows(idleWrites, cycles)),
      "",
      "Cross-check, apiserver `apiserver_request_total` (writes to services, networkpolicies, statefulsets, secrets, dittoservers, events):",
      "",
      "| verb resource | total | per cycle |",
      "|---|---:|---:|",
      ...(idleApiWrites.size === 0 ? ["| (none) | 0 | 0.00 |"] : countRows(idleApiWrites, cycles)),
      "",
      `## API writes per adapter change (${changes} changes: ${toggles} stops, ${toggles} starts)`,
      "",
      "| write (operator's Kubernetes service; `→ reason` = refused) | total | per change |",
      "|---|---:|---:|",
      ...countRows(changeWrites, changes),
      "",
      `StatefulSet updates per change, counted per change: min ${stsWrites.min}, max ${stsWrites.max} (target: exactly 1).`,
      "Events are aggregated by the recorder: the first occurrence of a (reason, message) is a create, a repeat a PUT of its",
      "count. A `→ reason` row counts writes the apiserver refused (they are included in the row above it).",
      "",
      "Cross-check, apiserver `apiserver_request_total`:",
      "",
      "| verb resource | total | per change |",
      "|---|---:|---:|",
      ...countRows(changeApiWrites, changes),
      ""
    ].join("\n")
    writeFileSync(reportFile, report)
    yield* Console.log(report)
  }).pipe(Effect.scoped, Effect.provide(clients))
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
