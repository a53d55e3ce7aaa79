/**
 * `HttpExchange` against a local node:http server: the answer whatever its status, a body sent
 * with its length (a DELETE's included), requests node refuses as `Invalid`, a refused connection
 * as `Transport`, a time-out that aborts the request (the server sees it closed), and how an
 * error is described with the errors it wraps.
 */
import { assert, describe, it } from "@effect/vitest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Deferred, Effect } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as HttpExchange from "../../src/live/HttpExchange.ts"

/** A server that answers `/hang` never, and anything else with what it received; `closed` resolves when a hanging request is aborted. */
const server = Effect.gen(function*() {
  const closed = yield* Deferred.make<void>()
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      if (request.url === "/hang") {
        response.on("close", () => Deferred.doneUnsafe(closed, Effect.void))
        return
      }
      const received = {
        method: request.method,
        length: request.headers["content-length"] ?? null,
        type: request.headers["content-type"] ?? null,
        body: Buffer.concat(chunks).toString("utf8")
      }
      response.writeHead(request.url === "/missing" ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify(received))
    })
  }
  const listening = yield* Effect.acquireRelease(
    Effect.callback<ReturnType<typeof createServer>>((resume) => {
      const created = createServer(handle).listen(0, "127.0.0.1", () => resume(Effect.succeed(created)))
    }),
    (running) => Effect.sync(() => {
      running.closeAllConnections()
      running.close()
    })
  )
  return { origin: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, closed: Deferred.await(closed) }
})

const agents = NodeHttpClient.makeAgent({ keepAlive: true })

describe("HttpExchange", () => {
  it.effect("answers with the status and the body, whatever the status, and sends a body with its length", () =>
    Effect.gen(function*() {
      const { origin } = yield* server
      const pools = yield* agents
      const missing = yield* HttpExchange.exchange(pools, { method: "GET", url: `${origin}/missing`, headers: {} })
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(JSON.parse(missing.body), { method: "GET", length: null, type: null, body: "" })
      const body = JSON.stringify({ propagationPolicy: "Background", note: "é" })
      const deleted = yield* HttpExchange.exchange(pools, {
        method: "DELETE",
        url: `${origin}/object`,
        headers: { "content-type": "application/json" },
        body
      })
      assert.strictEqual(deleted.status, 200)
      assert.deepStrictEqual(JSON.parse(deleted.body), {
        method: "DELETE",
        length: String(Buffer.byteLength(body)),
        type: "application/json",
        body
      })
    }).pipe(Effect.scoped))

  it.effect("a request node refuses is Invalid; a refused connection is Transport", () =>
    Effect.gen(function*() {
      const pools = yield* agents
      for (const url of ["not a url", "ftp://127.0.0.1:1/x"]) {
        const failed = yield* Effect.flip(HttpExchange.exchange(pools, { method: "GET", url, headers: {} }))
        assert.strictEqual(failed.reason, "Invalid", url)
      }
      const refused = yield* Effect.flip(HttpExchange.exchange(pools, { method: "GET", url: "http://127.0.0.1:1/", headers: {} }))
      assert.strictEqual(refused.reason, "Transport")
      assert.include(refused.cause.message, "ECONNREFUSED")
    }).pipe(Effect.scoped))

  it.live("a time-out aborts the request: the server sees it closed", () =>
    Effect.gen(function*() {
      const { closed, origin } = yield* server
      const pools = yield* agents
      const answer = yield* HttpExchange.exchange(pools, { method: "GET", url: `${origin}/hang`, headers: {} }).pipe(
        Effect.timeoutOption("100 millis")
      )
      assert.strictEqual(answer._tag, "None")
      yield* closed.pipe(Effect.timeout("5 seconds"))
    }).pipe(Effect.scoped))

  it("describes an error with every error it wraps, in order, and anything else as text", () => {
    const socket = new Error("connect ECONNREFUSED 127.0.0.1:1", { cause: new Error("socket closed", { cause: "errno 111" }) })
    assert.strictEqual(HttpExchange.describeError(new Error("request failed", { cause: socket })), "request failed: connect ECONNREFUSED 127.0.0.1:1: socket closed: errno 111")
    assert.strictEqual(HttpExchange.describeError(new Error("alone")), "alone")
    assert.strictEqual(HttpExchange.describeError(42), "42")
  })
})
