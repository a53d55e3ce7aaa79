/**
 * Client benchmark: what one Kubernetes request costs the operator's process, in CPU and wall
 * time, through `KubernetesLive` and through a bare `node:https` request on a keep-alive agent
 * (the floor: TLS, the socket, JSON). On a fresh plain control plane, `BENCH_REQUESTS` (default
 * 1,000) sequential requests of each kind after 100 to warm up: ConfigMap creates (a 1.5 KB
 * `data` entry, about the size of the server's configuration) and GETs of them. Counts the TLS
 * connections each client opened (a keep-alive pool should open one). Then the floor of a delete:
 * `BENCH_DELETES` (default 200) deletes of each kind the operator deletes — a ClusterIP Service (an
 * adapter's), a headless Service, a ConfigMap —, each object created just before (not timed), bare
 * node:https: the wall time is the API server's. Writes bench/reports/client.md. Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes } from "@dittofs-operator/core"
import { Console, Effect } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import https from "node:https"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import { machine, summarize } from "./Measure.ts"

const requests = Number(process.env.BENCH_REQUESTS ?? 1000)
const deletes = Number(process.env.BENCH_DELETES ?? 200)
const warmUp = 100

/** TLS connections opened by any agent of this process. */
let connections = 0
const createConnection = https.Agent.prototype.createConnection
https.Agent.prototype.createConnection = function(this: https.Agent, ...args: Parameters<typeof createConnection>) {
  connections++
  return createConnection.apply(this, args)
}

const cpuMillis = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

const configMap = (name: string) => ({
  apiVersion: "v1" as const,
  kind: "ConfigMap" as const,
  metadata: { name, namespace: "default", labels: { "app.kubernetes.io/name": "dittofs", "app.kubernetes.io/instance": name } },
  data: { "config.yaml": "x".repeat(1500) }
})

interface Row {
  readonly client: string
  readonly request: string
  readonly cpuMillis: number
  readonly wallMillis: number
  readonly connections: number
}

/** Runs `one(i)` for the warm-up, then `requests` times measured. */
const timed = (client: string, request: string, one: (i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    for (let i = 0; i < warmUp; i++) yield* one(-1 - i)
    const connectionsBefore = connections
    const cpu = cpuMillis()
    const wall = performance.now()
    for (let i = 0; i < requests; i++) yield* one(i)
    const row: Row = {
      client,
      request,
      cpuMillis: (cpuMillis() - cpu) / requests,
      wallMillis: (performance.now() - wall) / requests,
      connections: connections - connectionsBefore
    }
    yield* Console.log(`${client} ${request}: ${row.cpuMillis.toFixed(3)} ms CPU, ${row.wallMillis.toFixed(3)} ms wall, ${row.connections} new connections`)
    return row
  })

const program = Effect.gen(function*() {
  const binaries = yield* locate
  const loadAtStart = loadavg().map((load) => load.toFixed(1)).join(", ")
  const plane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles })
  const kubernetes = yield* Effect.provide(Effect.service(Kubernetes.Kubernetes), KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath }))
  const name = (prefix: string, i: number) => `${prefix}-${i < 0 ? `warm${-i}` : i}`

  const agent = new https.Agent({ keepAlive: true, ca: readFileSync(plane.caFile) })
  const collection = new URL(`${plane.server}/api/v1/namespaces/default/configmaps`)
  const bare = (method: "GET" | "POST" | "DELETE", url: URL, body?: string) =>
    Effect.promise(() =>
      new Promise<unknown>((resolve, reject) => {
        const headers: Record<string, string> = { authorization: `Bearer ${plane.token}`, accept: "application/json" }
        if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) })
        const request = https.request(url, { method, agent, headers }, (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))))
          response.on("error", reject)
        })
        request.on("error", reject)
        request.end(body)
      })
    )

  const rows = [
    yield* timed("KubernetesLive", "create", (i) => kubernetes.create(Kubernetes.Resources.ConfigMap, configMap(name("live", i)))),
    yield* timed("KubernetesLive", "get", (i) => kubernetes.get(Kubernetes.Resources.ConfigMap, "default", name("live", i))),
    yield* timed("bare node:https", "create", (i) => bare("POST", collection, JSON.stringify(configMap(name("bare", i))))),
    yield* timed("bare node:https", "get", (i) => bare("GET", new URL(`${collection.href}/${name("bare", i)}`)))
  ]

  /** Creates `deletes` objects one by one, each deleted at once; the deletes' wall times. */
  const deleteTimes = (plural: string, make: (name: string) => object) =>
    Effect.gen(function*() {
      const collection = new URL(`${plane.server}/api/v1/namespaces/default/${plural}`)
      const times: Array<number> = []
      for (let i = -warmUp / 10; i < deletes; i++) {
        const name = `delete-${plural}-${i < 0 ? `warm${-i}` : i}`
        yield* bare("POST", collection, JSON.stringify(make(name)))
        const started = performance.now()
        yield* bare("DELETE", new URL(`${collection.href}/${name}`))
        if (i >= 0) times.push(performance.now() - started)
      }
      return summarize(times)
    })
  const service = (clusterIP: "None" | undefined) => (name: string) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: { ...(clusterIP === undefined ? {} : { clusterIP }), selector: { app: "dittofs" }, ports: [{ name: "adapter-nfs", port: 12049 }] }
  })
  const deleteRows = [
    ["Service (ClusterIP)", yield* deleteTimes("services", service(undefined))],
    ["Service (headless)", yield* deleteTimes("services", service("None"))],
    ["ConfigMap", yield* deleteTimes("configmaps", configMap)]
  ] as const
  agent.destroy()

  const report = [
    "# Client benchmark",
    "",
    `Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${machine()}; load average ${loadAtStart} at start (1, 5, 15 min).`,
    `Binaries: ${basename(binaries.dir)}. Command: \`BENCH_REQUESTS=${requests} BENCH_DELETES=${deletes} node bench/client.ts\`.`,
    "",
    `What one request to the API server costs the operator's process: ${requests.toLocaleString("en-US")} sequential requests of`,
    `each kind after ${warmUp} to warm up, on a fresh plain control plane on the same machine: ConfigMap creates (1.5 KB of data) and`,
    "GETs of them. CPU is this process's (user + system, the kernel's work for its sockets included); wall time includes",
    "the API server's. `bare node:https` is the floor: a keep-alive agent, the body parsed with `JSON.parse`, nothing else.",
    "`KubernetesLive` adds the Schema encode and decode of the object, the error classification, the timeout and the span.",
    "",
    "| client | request | CPU per request (ms) | wall per request (ms) | new TLS connections |",
    "|---|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.client} | ${r.request} | ${r.cpuMillis.toFixed(3)} | ${r.wallMillis.toFixed(3)} | ${r.connections} |`),
    "",
    "## The floor of a delete",
    "",
    `${deletes} sequential deletes of each kind, bare node:https, each object created just before (not timed): the wall`,
    "time from the request to the API server's answer, almost all of it the API server's and etcd's. A ClusterIP Service's",
    "delete also releases its cluster IP (the `IPAddress` object the allocator keeps for it).",
    "",
    "| object deleted | wall p50 (ms) | mean (ms) | p99 (ms) |",
    "|---|---:|---:|---:|",
    ...deleteRows.map(([what, times]) => `| ${what} | ${times.p50.toFixed(1)} | ${times.mean.toFixed(1)} | ${times.p99.toFixed(1)} |`),
    ""
  ].join("\n")
  writeFileSync(fileURLToPath(new URL("reports/client.md", import.meta.url)), report)
  yield* Console.log("Wrote bench/reports/client.md")
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
