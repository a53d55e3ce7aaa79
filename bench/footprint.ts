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
 *   apiserver polled every 2 ms for the Service), and SIGTERM → exit.
 * The DittoFS stand-in is one local HTTP server speaking login, refresh, users, adapters and health
 * for every server, each under its own path prefix (`dittofs.io/api-url: http://127.0.0.1:<port>/s/<i>`).
 * `BENCH_BUNDLE=<file>` measures another build (e.g. an older commit's `pnpm bundle`); `BENCH_LABEL`
 * names it in the report (`BENCH_NODE_ARGS` replaces the image's `node` flags, e.g. to add `--cpu-prof`), which goes to `bench/reports/footprint-<label>.md` (default `footprint.md`).
 * Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes } from "@dittofs-operator/core"
import { Clock, Console, Effect, Exit, Scope } from "effect"
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { request } from "node:https"
import type { AddressInfo } from "node:net"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { nodeFlags } from "../apps/operator/scripts/bundle.ts"
import { isolatedBundle } from "../apps/operator/test/integration/install/Install.ts"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import * as Sample from "../scripts/launch/Sample.ts"
import { machine, summarize } from "./Measure.ts"

const sizes = (process.env.BENCH_SERVERS ?? "1,200").split(",").map(Number)
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60)
const stops = Number(process.env.BENCH_STOPS ?? 5)
const label = process.env.BENCH_LABEL
/**
 * The `node` arguments of the operator: the image's (`nodeFlags`) unless `BENCH_NODE_ARGS` replaces
 * them (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, another V8 flag, or empty to measure without).
 */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? nodeFlags.join(" ")).split(" ").filter((arg) => arg !== "")
const reportFile = fileURLToPath(new URL(`reports/${label === undefined ? "footprint" : `footprint-${label}`}.md`, import.meta.url))
const pollingInterval = "10s"
const namespace = "default"

/** VmRSS and VmHWM of a process, in MiB. */
const memoryOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) / 1024
  return { rss: field("VmRSS"), hwm: field("VmHWM") }
}

/** CPU seconds (user + system) a process has used. */
const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** One HTTP server playing DittoFS for every server: `/s/<i>/api/v1/...`. */
const standIn = () => {
  const calls = new Map<string, number>()
  const adapters = new Map<string, ReadonlyArray<unknown>>()
  const answered = new Map<string, number>()
  const running = [{ type: "nfs", enabled: true, running: true, port: 12049 }]
  const token = JSON.stringify({ access_token: "access", refresh_token: "refresh", token_type: "Bearer", expires_in: 86_400 })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on("end", () => {
      const match = /^\/s\/(\d+)(\/.*)$/.exec(req.url ?? "")
      const id = match?.[1] ?? ""
      const path = match?.[2] ?? ""
      const call = `${req.method} ${path.replace(/\/users\/.*/, "/users/:name")}`
      calls.set(call, (calls.get(call) ?? 0) + 1)
      const json = (status: number, body: string) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(body)
      }
      if (path === "/api/v1/auth/login" || path === "/api/v1/auth/refresh") return json(200, token)
      if (path === "/api/v1/users" && req.method === "POST") return json(201, JSON.stringify({ username: "k8s-operator", role: "operator" }))
      if (path.startsWith("/api/v1/users/")) return json(204, "")
      if (path === "/health") return json(200, "{}")
      if (path === "/api/v1/adapters") {
        json(200, JSON.stringify(adapters.get(id) ?? running))
        answered.set(id, performance.now())
        return
      }
      json(404, "{}")
    })
  })
  return Effect.acquireRelease(
    Effect.callback<{ readonly port: number }>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ port: (server.address() as AddressInfo).port })))
    }),
    () => Effect.sync(() => {
      server.closeAllConnections()
      server.close()
    })
  ).pipe(Effect.map(({ port }) => ({
    port,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    calls: () => new Map(calls),
    stop: (id: number) => adapters.set(String(id), []),
    lastAnswered: (id: number) => answered.get(String(id))
  })))
}

/** `apiserver_request_total` summed by verb and resource, for the resources the operator touches. */
const requestTotals = (plane: ControlPlane.ControlPlane) =>
  Effect.promise(() =>
    new Promise<Map<string, number>>((resolve, reject) => {
      const req = request(`${plane.server}/metrics`, {
        ca: readFileSync(plane.caFile),
        headers: { authorization: `Bearer ${plane.token}` }
      }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => body += chunk)
        res.on("end", () => {
          const totals = new Map<string, number>()
          for (const line of body.split("\n")) {
            if (!line.startsWith("apiserver_request_total{")) continue
            const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
            const resource = labels["resource"] ?? ""
            if (!["dittoservers", "services", "secrets", "configmaps", "networkpolicies", "statefulsets", "pods", "events"].includes(resource)) continue
            const key = `${labels["verb"]} ${resource}${labels["subresource"] ? `/${labels["subresource"]}` : ""}`
            totals.set(key, (totals.get(key) ?? 0) + Number(line.split(" ").at(-1)))
          }
          resolve(totals)
        })
      })
      req.on("error", reject)
      req.end()
    })
  )

const difference = (after: Map<string, number>, before: Map<string, number>) =>
  new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)] as const).filter(([, value]) => value > 0))

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
    const apiUrl = (i: number) => `http://127.0.0.1:${dfs.port}/s/${i}`
    const name = (i: number) => `s-${i}`
    const kubernetes = yield* Kubernetes.Kubernetes
    yield* Effect.forEach(Array.from({ length: servers }, (_, i) => i), (i) =>
      Effect.gen(function*() {
        const options = { name: name(i), namespace, apiUrl: apiUrl(i), adminPassword: "admin", pollingInterval }
        yield* kubernetes.create(Kubernetes.Resources.Secret, Sample.adminSecret(options))
        yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* Sample.dittoServer(options))
      }), { concurrency: 16, discard: true })
    yield* Console.log(`${servers} DittoServers applied`)

    const started = performance.now()
    const child = spawn(process.execPath, [...nodeArgs, bundleFile, "run", "--kubeconfig", plane.kubeconfigPath, "--log-format", "json"], {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const pid = child.pid ?? 0
    const exited = new Promise<number>((resolve) => child.on("exit", () => resolve(performance.now())))
    yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
    let watchAt = Number.NaN
    let output = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      if (Number.isNaN(watchAt) && chunk.includes("listed; watching")) watchAt = performance.now()
      if (output.length < 100_000) output += chunk
    })
    child.stderr.on("data", () => {})

    // converged: every server's adapter Service exists
    const adapterServices = kubernetes.list(Kubernetes.Resources.Service, namespace, { labelSelector: { "dittofs.io/adapter-service": "true" } })
    for (;;) {
      const count = (yield* adapterServices).length
      if (count >= servers) break
      if (performance.now() - started > 1_200_000) return yield* Effect.die(new Error(`not converged: ${count}/${servers}\n${output.slice(-3000)}`))
      yield* Effect.sleep(servers > 50 ? "200 millis" : "10 millis")
    }
    const convergeMillis = performance.now() - started
    const convergeCpuSeconds = cpuOf(pid)
    yield* Console.log(`${servers}: watching after ${(watchAt - started).toFixed(0)} ms, converged after ${convergeMillis.toFixed(0)} ms`)

    // idle: let the first cycles' stragglers pass, then count
    yield* Effect.sleep("12 seconds")
    const before = yield* requestTotals(plane)
    const dfsBefore = dfs.total()
    const rss: Array<number> = []
    for (let s = 0; s < idleSeconds; s++) {
      yield* Effect.sleep("1 second")
      rss.push(memoryOf(pid).rss)
    }
    const idleRequests = difference(yield* requestTotals(plane), before)
    const idleDittoFs = dfs.total() - dfsBefore
    const hwm = memoryOf(pid).hwm
    yield* Console.log(`${servers}: RSS ${summarize(rss).mean.toFixed(1)} MiB, idle requests ${[...idleRequests].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`)

    // the poll that saw a stop → the Service deleted
    const stopToDelete: Array<number> = []
    for (let k = 0; k < Math.min(stops, servers); k++) {
      const i = k
      dfs.stop(i)
      const before = dfs.lastAnswered(i) ?? 0
      for (;;) {
        const gone = yield* Effect.result(kubernetes.get(Kubernetes.Resources.Service, namespace, `${name(i)}-adapter-nfs`))
        if (gone._tag === "Failure") {
          const polled = dfs.lastAnswered(i) ?? 0
          if (polled > before) stopToDelete.push(performance.now() - polled)
          break
        }
        yield* Effect.sleep("2 millis")
      }
    }

    const signalled = performance.now()
    child.kill("SIGTERM")
    const sigtermMillis = (yield* Effect.promise(() => exited)) - signalled
    return {
      servers,
      watchMillis: watchAt - started,
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
    `Binaries: ${basename(binaries.dir)}. Program: ${process.env.BENCH_BUNDLE === undefined ? "the bundle (`pnpm bundle`)" : basename(bundleFile)}, run as \`node ${[...nodeArgs, "<bundle>"].join(" ")} run\`.`,
    `Reproduce: \`pnpm bench:footprint\` (or \`node bench/footprint.ts\`; \`BENCH_SERVERS=1,200,1000\`, \`BENCH_IDLE_SECONDS\`, \`BENCH_STOPS\`, \`BENCH_BUNDLE\`, \`BENCH_LABEL\`, \`BENCH_NODE_ARGS\`).`,
    "",
    `Each size on a fresh plain control plane; DittoServers in \`${namespace}\`, polling interval ${pollingInterval}, one running adapter each, DittoFS`,
    "a local stand-in (one HTTP server, a path prefix per server). Idle: after convergence and 12 s more,",
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
