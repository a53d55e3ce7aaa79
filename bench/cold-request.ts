/**
 * Cold-request benchmark: what node itself spends sending one HTTP request when the code last ran
 * a while ago, as the operator's write after a poll does (once per polling interval, or once per
 * adapter stop), against the same request sent in a loop. No operator code is involved: it is the
 * floor under "poll → first write" for any Node process on the machine.
 *
 * A local server in a child process (so its work does not share this event loop) stamps when the
 * first bytes of each request arrive. The client sends a DELETE with a JSON body and a bearer token of a service
 * account's size on a keep-alive agent, as `HttpExchange` does, and measures from just before
 * `http.request` to: the call and `end()` returning (the synchronous part), the request's
 * `finish` (node's callback once the write is done), and the server's arrival stamp. A control times a piece of pure
 * JavaScript (a Service object through `JSON.stringify` and `JSON.parse`) the same ways.
 *
 * Cases (after the same warm-up of `BENCH_WARMUP` requests, default 500, so the code is optimised
 * either way): back to back; after a pause of `BENCH_PAUSE_MS` (default 2000) asleep; after the
 * same pause spinning on the CPU (the core kept busy, no other work of this process). Each case
 * sends `BENCH_SAMPLES` requests (default 15; back to back: 300). Writes
 * `bench/reports/cold-request.md`. Asserts nothing.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as http from "node:http"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { machine } from "./Measure.ts"

const pauseMillis = Number(process.env.BENCH_PAUSE_MS ?? 2000)
const samples = Number(process.env.BENCH_SAMPLES ?? 15)
const warmup = Number(process.env.BENCH_WARMUP ?? 500)
const reportFile = fileURLToPath(new URL("reports/cold-request.md", import.meta.url))

/**
 * The server: plain TCP, stamping a request's arrival on its first bytes, before any HTTP parsing
 * (so that the stamp carries as little of this server's own cold path as possible), and answering
 * once the whole request (headers and `content-length` bytes of body) is in.
 */
const serverProgram = `
const net = require("node:net")
const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  let buffered = Buffer.alloc(0)
  let arrived = 0
  socket.on("data", (chunk) => {
    if (buffered.length === 0) arrived = Number(process.hrtime.bigint()) / 1e6
    buffered = Buffer.concat([buffered, chunk])
    const headerEnd = buffered.indexOf("\\r\\n\\r\\n")
    if (headerEnd < 0) return
    const length = Number(/content-length: *(\\d+)/i.exec(buffered.subarray(0, headerEnd).toString())?.[1] ?? 0)
    if (buffered.length < headerEnd + 4 + length) return
    buffered = buffered.subarray(headerEnd + 4 + length)
    const body = JSON.stringify({ arrived })
    socket.write("HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body)
  })
})
server.listen(0, "127.0.0.1", () => console.log(server.address().port))
`

const startServer = () =>
  new Promise<{ readonly port: number; readonly stop: () => void }>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", serverProgram], { stdio: ["ignore", "pipe", "inherit"] })
    child.once("error", reject)
    child.stdout.once("data", (chunk: Buffer) => resolve({ port: Number(chunk.toString().trim()), stop: () => child.kill() }))
  })

/** Milliseconds on the monotonic clock, which every process of the machine shares (a wall-clock step between two processes' starts does not move it). */
const now = () => Number(process.hrtime.bigint()) / 1e6

interface Sample {
  /** `http.request` and `end()` returned. */
  readonly sync: number
  /** The request's `finish`: node's callback once its bytes are written. */
  readonly flushed: number
  /** The server stamped its arrival. */
  readonly arrived: number
  /** The control: a Service object through JSON.stringify and JSON.parse. */
  readonly control: number
}

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: "s-1-nfs",
    namespace: "default",
    labels: { "app.kubernetes.io/name": "dittofs", "app.kubernetes.io/instance": "s-1", "dittofs.io/adapter-service": "true" },
    ownerReferences: [{ apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", name: "s-1", uid: "0b9d8f2e-1111-2222-3333-444455556666", controller: true }]
  },
  spec: { type: "ClusterIP", selector: { "app.kubernetes.io/instance": "s-1" }, ports: [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP" }] }
}

/** The control, in ms: the Service through JSON and back (the copy is checked, so the work is used). */
const controlMillis = (): number => {
  const start = now()
  const copy = JSON.parse(JSON.stringify(service)) as typeof service
  const millis = now() - start
  if (copy.metadata.name !== service.metadata.name) throw new Error("the JSON round trip changed the Service")
  return millis
}

const sendOne = (port: number, agent: http.Agent): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const control = controlMillis()
    const body = JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "0b9d8f2e-1111-2222-3333-444455556666" } })
    const start = now()
    let flushed = 0
    const request = http.request(`http://127.0.0.1:${port}/api/v1/namespaces/default/services/s-1-nfs`, {
      method: "DELETE",
      agent,
      headers: {
        accept: "application/json",
        authorization: `Bearer ${"x".repeat(900)}`,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body))
      }
    }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => {
        const { arrived } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { readonly arrived: number }
        resolve({ sync, flushed, arrived: arrived - start, control })
      })
    })
    request.on("error", reject)
    request.on("finish", () => {
      flushed = now() - start
    })
    request.end(body)
    const sync = now() - start
  })

const pause = (how: "none" | "sleep" | "spin") => {
  if (how === "none") return Promise.resolve()
  if (how === "sleep") return new Promise<void>((resolve) => setTimeout(resolve, pauseMillis))
  const until = performance.now() + pauseMillis
  while (performance.now() < until) {
    // the core stays busy and this process runs nothing else
  }
  return new Promise<void>((resolve) => setImmediate(resolve))
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1] ?? Number.NaN
}

const run = async () => {
  const server = await startServer()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    for (let i = 0; i < warmup; i++) await sendOne(server.port, agent)
    const cases = [
      { name: "back to back", how: "none" as const, count: 300 },
      { name: `after ${pauseMillis} ms asleep`, how: "sleep" as const, count: samples },
      { name: `after ${pauseMillis} ms spinning`, how: "spin" as const, count: samples }
    ]
    const rows: Array<string> = []
    for (const { count, how, name } of cases) {
      const taken: Array<Sample> = []
      for (let i = 0; i < count; i++) {
        await pause(how)
        taken.push(await sendOne(server.port, agent))
      }
      const µs = (pick: (sample: Sample) => number) => (median(taken.map(pick)) * 1000).toFixed(0)
      rows.push(`| ${name} | ${count} | ${µs((s) => s.sync)} | ${µs((s) => s.flushed)} | ${µs((s) => s.arrived)} | ${µs((s) => s.control)} |`)
      console.log(rows.at(-1))
    }
    const report = [
      "# Cold-request benchmark",
      "",
      `Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${machine()}; load average at start ${loadavg().map((l) => l.toFixed(1)).join(", ")}.`,
      "Reproduce: `node bench/cold-request.ts` (`BENCH_PAUSE_MS`, `BENCH_SAMPLES`, `BENCH_WARMUP`).",
      "",
      `One HTTP DELETE (JSON body, a 900-byte bearer token, keep-alive agent, as \`HttpExchange\` sends) to a local server in another process (plain TCP, stamping a request's first bytes before any parsing), after ${warmup} warm-up requests; medians in µs from just before \`http.request\`:`,
      "",
      "| case | requests | `request` + `end()` returned | `finish` (the write's callback) | arrived at the server | control: a Service through JSON (µs) |",
      "|---|---:|---:|---:|---:|---:|",
      ...rows,
      ""
    ].join("\n")
    writeFileSync(reportFile, report)
    console.log(`report: ${reportFile}`)
  } finally {
    agent.destroy()
    server.stop()
  }
}

await run()
