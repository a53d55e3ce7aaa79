/**
 * What the benchmarks that run the operator (the bundle) against many DittoServers share:
 * - `standIn`: one local HTTP server playing DittoFS for every server, each under its own path
 *   prefix (`dittofs.io/api-url: http://127.0.0.1:<port>/s/<i>`), speaking login, refresh, users,
 *   adapters and health; it counts calls and times its own handling of them, and lets an adapter be
 *   stopped or started per server;
 * - `applyServers`: N DittoServers (and their admin Secrets) in one namespace;
 * - `spawnOperator`: the bundle as a child process with its `/metrics` on a free loopback port,
 *   killed when the scope closes; the time its DittoServers were listed and watched. It starts as
 *   the image starts it: from a startup snapshot of the bundle's script form made beforehand with
 *   the same flags (the image's build does the same), unless `BENCH_SNAPSHOT=0` (or the bundle has
 *   no script form next to it): then `node <bundle>`;
 * - `adapterServices`: the adapter Services as a list-then-watch (one request, so the benchmark's
 *   own reads do not swamp the apiserver's counters), with the time each one appeared or went;
 * - the apiserver's and the operator's Prometheus metrics (`apiserverMetrics`, `operatorMetrics`),
 *   parsed into samples, and `/proc` readings of a process (`memoryOf`, `cpuOf`).
 */
import { Kubernetes, Naming } from "@dittofs-operator/core"
import { Effect, Stream } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { nodeFlags, runtimeEnv, snapshotBuildArgs, snapshotEntryName, snapshotName, snapshotRunArgs } from "../apps/operator/scripts/bundle.ts"
import type * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import { freePorts } from "../scripts/launch/FreePorts.ts"
import * as LoopbackHttp from "../scripts/launch/LoopbackHttp.ts"
import * as Sample from "../scripts/launch/Sample.ts"

// ---------------------------------------------------------------------------------------------
// /proc

/** VmRSS and VmHWM of a process, in MiB. */
/**
 * The `node` arguments of the operator: the image's (`nodeFlags`) unless `BENCH_NODE_ARGS` replaces
 * them (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, another V8 flag, or empty to measure without).
 */
export const operatorNodeArgs = (): ReadonlyArray<string> =>
  (process.env.BENCH_NODE_ARGS ?? nodeFlags.join(" ")).split(" ").filter((arg) => arg !== "")

export const memoryOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) / 1024
  return { rss: field("VmRSS"), hwm: field("VmHWM") }
}

/** CPU seconds (user + system) a process has used. */
export const cpuOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

// ---------------------------------------------------------------------------------------------
// The DittoFS stand-in

export interface StandInAdapter {
  readonly type: string
  readonly port: number
}

/** An adapter as DittoFS reports it. */
const reported = (adapter: StandInAdapter, running: boolean) => ({ type: adapter.type, enabled: running, running, port: adapter.port })

/**
 * Server `i` and the DittoFS path of a request to the stand-in: `/s/<i>/api/v1/...`, or, sent
 * through it as an HTTP proxy, `http://s-<i>-api.<namespace>.svc.cluster.local:<port>/api/v1/...`
 * (the reference Go operator always dials that in-cluster name: `spawnReference`).
 */
const route = (url: string): { readonly id: string; readonly path: string } => {
  if (url.startsWith("http://")) {
    const target = new URL(url)
    return { id: /^s-(\d+)-api\./.exec(target.hostname)?.[1] ?? "", path: target.pathname }
  }
  const match = /^\/s\/(\d+)(\/.*)$/.exec(url)
  return { id: match?.[1] ?? "", path: match?.[2] ?? "" }
}

/**
 * One HTTP server playing DittoFS for every server: `/s/<i>/api/v1/...`. Every server runs
 * `adapters` (default: `nfs`) until `setRunning` says otherwise.
 */
export const standIn = (adapters: ReadonlyArray<StandInAdapter> = [{ type: "nfs", port: 12049 }]) => {
  const calls = new Map<string, number>()
  const stopped = new Map<string, Set<string>>()
  const answered = new Map<string, number>()
  const changeSeen = new Map<string, number>()
  let handlingMillis = 0
  const allRunning = JSON.stringify(adapters.map((adapter) => reported(adapter, true)))
  const token = JSON.stringify({ access_token: "access", refresh_token: "refresh", token_type: "Bearer", expires_in: 86_400 })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on("end", () => {
      const start = performance.now()
      const { id, path } = route(req.url ?? "")
      const call = `${req.method} ${path.replace(/\/users\/.*/, "/users/:name")}`
      calls.set(call, (calls.get(call) ?? 0) + 1)
      const json = (status: number, body: string) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(body)
        handlingMillis += performance.now() - start
      }
      if (path === "/api/v1/auth/login" || path === "/api/v1/auth/refresh") return json(200, token)
      if (path === "/api/v1/users" && req.method === "POST") return json(201, JSON.stringify({ username: "k8s-operator", role: "operator" }))
      if (path.startsWith("/api/v1/users/")) return json(204, "")
      if (path === "/health") return json(200, "{}")
      if (path === "/api/v1/adapters") {
        const off = stopped.get(id)
        json(200, off === undefined || off.size === 0 ? allRunning : JSON.stringify(adapters.map((adapter) => reported(adapter, !off.has(adapter.type)))))
        const now = performance.now()
        answered.set(id, now)
        if (!changeSeen.has(id)) changeSeen.set(id, now)
        return
      }
      json(404, "{}")
    })
  })
  // DittoFS's API server keeps an idle connection 60 s (its `idle_timeout` default); node's
  // default of 5 s would make every poll at a 10 s interval open a new one
  server.keepAliveTimeout = 60_000
  return Effect.acquireRelease(
    Effect.callback<{ readonly port: number }>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ port: (server.address() as AddressInfo).port })))
    }),
    () =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  ).pipe(Effect.map(({ port }) => ({
    port,
    /** The API URL of server `i`. */
    apiUrl: (i: number) => `http://127.0.0.1:${port}/s/${i}`,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    calls: () => new Map(calls),
    /** Milliseconds spent handling calls, from the request's end to the response written. */
    handlingMillis: () => handlingMillis,
    /** Server `i`'s adapter `type` stops (or runs again). */
    setRunning: (i: number, type: string, running: boolean) => {
      const off = stopped.get(String(i)) ?? new Set<string>()
      if (running) off.delete(type)
      else off.add(type)
      stopped.set(String(i), off)
      changeSeen.delete(String(i))
    },
    /** The first answer of server `i`'s adapters since its last `setRunning` (`performance.now()`). */
    changeSeenAt: (i: number) => changeSeen.get(String(i)),
    /** When server `i`'s adapters were last answered (`performance.now()`). */
    lastAnswered: (i: number) => answered.get(String(i))
  })))
}

export type StandIn = Effect.Success<ReturnType<typeof standIn>>

// ---------------------------------------------------------------------------------------------
// DittoServers

export const serverName = (i: number) => `s-${i}`

/** N DittoServers `s-<i>` in `namespace`, each pointed at the stand-in's prefix `i`. */
export const applyServers = (options: {
  readonly dfs: StandIn
  readonly servers: number
  readonly namespace: string
  readonly pollingInterval: string
}) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    Effect.forEach(Array.from({ length: options.servers }, (_, i) => i), (i) =>
      Effect.gen(function*() {
        const sample = {
          name: serverName(i),
          namespace: options.namespace,
          apiUrl: options.dfs.apiUrl(i),
          adminPassword: "admin",
          pollingInterval: options.pollingInterval
        }
        yield* kubernetes.create(Kubernetes.Resources.Secret, Sample.adminSecret(sample))
        yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* Sample.dittoServer(sample))
      }), { concurrency: 16, discard: true })
  )

// ---------------------------------------------------------------------------------------------
// The operator process

/**
 * The operator process's environment besides `PATH`: the image's (`runtimeEnv`), unless
 * `BENCH_OPERATOR_ENV` replaces it (`NAME=value` separated by spaces; empty: none).
 */
export const operatorEnv = (): Readonly<Record<string, string>> =>
  process.env.BENCH_OPERATOR_ENV === undefined
    ? runtimeEnv
    : Object.fromEntries(process.env.BENCH_OPERATOR_ENV.split(" ").filter((pair) => pair.includes("=")).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))

/** The startup snapshot of each bundle and node arguments, made once per benchmark process. */
const snapshots = new Map<string, string>()

/** The bundle's script form for a startup snapshot, unless `BENCH_SNAPSHOT=0` or the bundle has none next to it. */
const snapshotEntryOf = (bundleFile: string): string | undefined => {
  const entry = join(dirname(bundleFile), snapshotEntryName)
  return process.env.BENCH_SNAPSHOT === "0" || !existsSync(entry) ? undefined : entry
}

/**
 * How `node` starts the bundle: from the image's startup snapshot (made on first use, as the
 * image's build makes it: `snapshotBuildArgs` with these node arguments), or, without a script
 * form (`snapshotEntryOf`), from the bundle itself.
 */
export const startArgs = (bundleFile: string, nodeArgs: ReadonlyArray<string>): ReadonlyArray<string> => {
  const entry = snapshotEntryOf(bundleFile)
  if (entry === undefined) return [...nodeArgs, bundleFile]
  const key = [bundleFile, ...nodeArgs].join(" ")
  let blob = snapshots.get(key)
  if (blob === undefined) {
    blob = join(mkdtempSync(join(tmpdir(), "dittofs-snapshot-")), snapshotName)
    execFileSync(process.execPath, snapshotBuildArgs(entry, blob, nodeArgs), { env: { PATH: process.env.PATH ?? "" }, stdio: "ignore" })
    snapshots.set(key, blob)
  }
  return snapshotRunArgs(blob, nodeArgs)
}

/** How `startArgs` starts the bundle, for a report: `run` and then `args`, and the environment (`operatorEnv`). */
export const describeStart = (bundleFile: string, nodeArgs: ReadonlyArray<string>, args = ""): string => {
  const env = Object.entries(operatorEnv()).map(([name, value]) => `${name}=${value}`).join(" ")
  const prefix = env === "" ? "" : `${env} `
  return snapshotEntryOf(bundleFile) === undefined
    ? `\`${prefix}node ${[...nodeArgs, "<bundle>"].join(" ")} run${args}\``
    : `\`${prefix}node ${snapshotRunArgs("<blob>", nodeArgs).join(" ")} run${args}\`, from the startup snapshot the image ships (made beforehand from the bundle's script form by \`--build-snapshot\` with the same flags; \`BENCH_SNAPSHOT=0\`: from the bundle)`
}

/**
 * Spawns `node <nodeArgs> <bundle> run` against the plane (from the image's startup snapshot: `startArgs`), JSON logs, `/metrics` and the health
 * endpoints on free loopback ports, plus `args`. Killed (SIGKILL) when the scope closes.
 */
export const spawnOperator = (options: {
  readonly bundleFile: string
  readonly plane: ControlPlane.ControlPlane
  readonly nodeArgs: ReadonlyArray<string>
  readonly args?: ReadonlyArray<string>
}) =>
  Effect.gen(function*() {
    const ports = yield* freePorts(["metrics", "health"])
    // made before the clock starts, as the image's build makes it before any pod starts
    const start = startArgs(options.bundleFile, options.nodeArgs)
    return yield* spawnWatched(process.execPath, [
      ...start,
      "run",
      "--kubeconfig",
      options.plane.kubeconfigPath,
      "--log-format",
      "json",
      "--metrics-address",
      `127.0.0.1:${ports.metrics}`,
      "--health-address",
      `127.0.0.1:${ports.health}`,
      ...(options.args ?? [])
    ], operatorEnv(), "listed; watching", ports.metrics)
  })

/**
 * Spawns the reference Go operator (`binary`, built from its module elsewhere: nothing of it is
 * part of this project) against the plane: webhooks, metrics and probes off, JSON logs. It dials
 * each server's DittoFS at its in-cluster Service name, so its DittoFS calls go through
 * `HTTP_PROXY`, the stand-in (which routes them by host name); the loopback apiserver is not
 * proxied. Watching: its controller's "Starting workers" log line.
 */
export const spawnReference = (options: {
  readonly binary: string
  readonly plane: ControlPlane.ControlPlane
  readonly proxyPort: number
}) =>
  spawnWatched(options.binary, [
    `--kubeconfig=${options.plane.kubeconfigPath}`,
    "--enable-webhooks=false",
    "--metrics-bind-address=0",
    "--health-probe-bind-address=0",
    "--zap-devel=false"
  ], { HTTP_PROXY: `http://127.0.0.1:${options.proxyPort}`, NO_PROXY: "127.0.0.1,localhost" }, "Starting workers", 0)

const spawnWatched = (command: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>>, watching: string, metricsPort: number) =>
  Effect.gen(function*() {
    const started = performance.now()
    const child = spawn(command, args, {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const pid = child.pid ?? 0
    const exited = new Promise<number>((resolve) => child.on("exit", () => resolve(performance.now())))
    yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
    let watchAt = Number.NaN
    let output = ""
    // logs on either stream (controller-runtime's go to stderr)
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => {
        if (Number.isNaN(watchAt) && chunk.includes(watching)) watchAt = performance.now()
        if (output.length < 100_000) output += chunk
      })
    }
    return {
      pid,
      started,
      metricsPort,
      /** When the operator logged that it lists and watches (NaN until then). */
      watchAt: () => watchAt,
      output: () => output,
      /** SIGTERM; resolves with the milliseconds until it exited. */
      terminate: Effect.gen(function*() {
        const signalled = performance.now()
        child.kill("SIGTERM")
        return (yield* Effect.promise(() => exited)) - signalled
      })
    }
  })

export type OperatorProcess = Effect.Success<ReturnType<typeof spawnOperator>>

// ---------------------------------------------------------------------------------------------
// The adapter Services, as a watch

/**
 * The adapter Services of `namespace` kept up to date by one list-then-watch (restarted from the
 * last version when the server closes it). `waitFor(predicate)` returns once the set of names
 * satisfies it; `changedAt(name)` is when that Service was last added or deleted.
 */
export const adapterServices = (namespace: string) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const selector = { labelSelector: { [Naming.labels.adapterService]: "true" } }
    const names = new Set<string>()
    const changedAt = new Map<string, number>()
    const listed = yield* kubernetes.listWithVersion(Kubernetes.Resources.Service, namespace, selector)
    for (const service of listed.items) names.add(service.metadata.name ?? "")
    let version = listed.resourceVersion
    const follow = Effect.gen(function*() {
      for (;;) {
        yield* kubernetes.watch(Kubernetes.Resources.Service, namespace, { ...selector, resourceVersion: version }).pipe(
          Stream.runForEach((event) =>
            Effect.sync(() => {
              if (event._tag === "Bookmark") {
                version = event.resourceVersion
                return
              }
              const name = event.object.metadata.name ?? ""
              version = event.object.metadata.resourceVersion ?? version
              if (event._tag === "Deleted") {
                if (names.delete(name)) changedAt.set(name, performance.now())
              } else if (!names.has(name)) {
                names.add(name)
                changedAt.set(name, performance.now())
              }
            })
          )
        )
      }
    })
    let ended = false
    yield* Effect.forkScoped(follow.pipe(Effect.ensuring(Effect.sync(() => ended = true))))
    return {
      count: () => names.size,
      has: (name: string) => names.has(name),
      changedAt: (name: string) => changedAt.get(name),
      /** Polls the watched set every 50 ms until `done`; fails after `timeoutMillis`. */
      waitFor: (done: (names: ReadonlySet<string>) => boolean, timeoutMillis: number, describe: () => string) =>
        Effect.gen(function*() {
          const until = performance.now() + timeoutMillis
          while (!done(names)) {
            if (ended) return yield* Effect.die(new Error("the Service watch ended"))
            if (performance.now() > until) return yield* Effect.die(new Error(`timed out: ${describe()}`))
            yield* Effect.sleep("50 millis")
          }
          return performance.now()
        })
    }
  })

/** Its Service's name of server `i`'s adapter `type`. */
export const adapterServiceName = (i: number, type: string) => `${serverName(i)}-adapter-${type}`

// ---------------------------------------------------------------------------------------------
// Prometheus metrics

export interface MetricSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** The samples of a Prometheus text exposition (comments skipped). */
export const parseMetrics = (text: string): ReadonlyArray<MetricSample> => {
  const samples: Array<MetricSample> = []
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const match = /^([A-Za-z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line)
    if (match === null) continue
    const labels = Object.fromEntries([...(match[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? "", m[2] ?? ""]))
    samples.push({ name: match[1] ?? "", labels, value: Number(match[4]) })
  }
  return samples
}

/** The samples named `name`, summed by the key `by` makes of their labels. */
export const sumBy = (
  samples: ReadonlyArray<MetricSample>,
  name: string,
  by: (labels: Readonly<Record<string, string>>) => string | undefined
): Map<string, number> => {
  const totals = new Map<string, number>()
  for (const sample of samples) {
    if (sample.name !== name) continue
    const key = by(sample.labels)
    if (key === undefined) continue
    totals.set(key, (totals.get(key) ?? 0) + sample.value)
  }
  return totals
}

/** `after − before`, key by key, leaving out what did not grow. */
export const difference = (after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>) =>
  new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)] as const).filter(([, value]) => value > 0))

export const total = (map: ReadonlyMap<string, number>) => [...map.values()].reduce((a, b) => a + b, 0)

/** The kube-apiserver's `/metrics`, with the admin token. */
export const apiserverMetrics = (plane: ControlPlane.ControlPlane) =>
  LoopbackHttp.request({ url: `${plane.server}/metrics`, bearerToken: plane.token, ca: readFileSync(plane.caFile, "utf8"), timeout: "30 seconds" }).pipe(
    Effect.map((response) => parseMetrics(response.text)),
    Effect.orDie
  )

/** The operator's `/metrics`. */
export const operatorMetrics = (operator: OperatorProcess) =>
  LoopbackHttp.request({ url: `http://127.0.0.1:${operator.metricsPort}/metrics`, timeout: "30 seconds" }).pipe(
    Effect.map((response) => parseMetrics(response.text)),
    Effect.orDie
  )

/** The operator's writes so far (its `rest_client_requests_total` of the verbs that write). */
export const operatorWrites = (operator: OperatorProcess) =>
  Effect.map(operatorMetrics(operator), (samples) =>
    total(sumBy(samples, "rest_client_requests_total", (labels) => (/^(create|update|patch|delete)$/.test(labels["verb"] ?? "") ? "writes" : undefined))))

/**
 * Waits until the operator has written nothing for `quietSeconds` (Events are written in the
 * background, so they may trail the objects they announce); the time of its last write seen.
 */
export const writesSettled = (operator: OperatorProcess, quietSeconds = 3, timeoutMillis = 600_000) =>
  Effect.gen(function*() {
    const start = performance.now()
    let last = yield* operatorWrites(operator)
    let lastChange = performance.now()
    while (performance.now() - lastChange < quietSeconds * 1000 && performance.now() - start < timeoutMillis) {
      yield* Effect.sleep("500 millis")
      const now = yield* operatorWrites(operator)
      if (now !== last) {
        last = now
        lastChange = performance.now()
      }
    }
    return lastChange
  })

/** The resources the operator touches. */
export const operatorResources = ["dittoservers", "services", "secrets", "configmaps", "networkpolicies", "statefulsets", "pods", "events"]

/** `verb resource[/subresource]` of an apiserver sample, for the operator's resources only. */
export const verbResource = (labels: Readonly<Record<string, string>>) =>
  operatorResources.includes(labels["resource"] ?? "")
    ? `${labels["verb"]} ${labels["resource"]}${labels["subresource"] ? `/${labels["subresource"]}` : ""}`
    : undefined

/** `apiserver_request_total` by verb and resource, for the resources the operator touches. */
export const requestTotals = (samples: ReadonlyArray<MetricSample>) => sumBy(samples, "apiserver_request_total", verbResource)

/** Reads (GET, LIST, WATCH) and writes (the other verbs) of a by-verb-and-resource map. */
export const readsAndWrites = (requests: ReadonlyMap<string, number>) => {
  let reads = 0
  let writes = 0
  for (const [key, n] of requests) {
    if (/^(GET|LIST|WATCH)\b/.test(key)) reads += n
    else writes += n
  }
  return { reads, writes }
}
