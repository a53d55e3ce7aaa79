/**
 * `DittoFsLive` against a tiny local HTTP stub, for the faults a real `dfs` cannot be made to
 * produce: malformed 2xx bodies, the same status with a problem+json or a text/plain body, slow
 * answers, a refused connection, a server that echoes secrets. The real server's behaviour is
 * covered by the contract suite (`test/integration/DittoFsLive.contract.test.ts`).
 *
 * The first path segment of the base URL selects the stub's scenario: `${origin}/<scenario>`.
 */
import { DittoFs } from "@dittofs-operator/core"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as DittoFsLive from "../../src/live/DittoFsLive.ts"

const accessToken = "stub-access-token-0123456789"
const password = "stub-password-0123456789"

const validAdapter = { id: "a1", type: "nfs", enabled: true, running: true, port: 12049 }
const problem = (status: number, title: string, detail: string) =>
  JSON.stringify({ type: "about:blank", title, status, detail })

type Reply = readonly [status: number, contentType: string, body: string]

/** The stub's answer for a scenario, a request line and a request body. */
const reply = (scenario: string, request: string, body: string, authorization: string): Reply | "hang" => {
  const authorized = authorization === `Bearer ${accessToken}`
  switch (scenario) {
    case "adapters-object":
      return [200, "application/json", "{}"]
    case "adapters-null":
      return [200, "application/json", "null"]
    case "adapters-text":
      return [200, "text/plain; charset=utf-8", "all adapters are fine\n"]
    case "conflict-problem":
      return [409, "application/problem+json", problem(409, "Conflict", "User already exists")]
    case "conflict-text":
      return [409, "text/plain; charset=utf-8", "User already exists\n"]
    case "forbidden-problem":
      return [403, "application/problem+json", problem(403, "Forbidden", "Admin access required")]
    case "forbidden-text":
      return [403, "text/plain; charset=utf-8", "Admin access required\n"]
    case "invalid":
      return [422, "application/problem+json", problem(422, "Unprocessable Entity", "port out of range")]
    case "server-error":
      return [500, "text/plain", ""]
    case "unavailable":
      return [503, "application/problem+json", JSON.stringify({ title: "Service Unavailable" })]
    case "slow":
      return "hang"
    case "echo-secrets":
      return [401, "text/plain", `rejected ${authorization} with body ${body}\n`]
    case "token-wrong-shape":
      // expires_in holds a token: an error message quoting the offending value would leak it
      return [200, "application/json", JSON.stringify({ access_token: accessToken, refresh_token: accessToken, expires_in: accessToken })]
    case "well-behaved":
      if (request === "POST /api/v1/auth/login") {
        const credentials: unknown = JSON.parse(body)
        return typeof credentials === "object" && credentials !== null && "password" in credentials &&
            credentials.password === password
          ? [200, "application/json", JSON.stringify({ access_token: accessToken, refresh_token: "r1", expires_in: 900 })]
          : [401, "application/problem+json", problem(401, "Unauthorized", "Invalid username or password")]
      }
      if (!authorized) return [401, "text/plain; charset=utf-8", "Authorization header required\n"]
      if (request === "GET /api/v1/adapters") {
        return [200, "application/json", JSON.stringify([validAdapter, { ...validAdapter, type: "smb", port: 0 }])]
      }
      if (request === "PUT /api/v1/adapters/nfs") {
        const change: { readonly enabled?: boolean; readonly port?: number } = JSON.parse(body)
        const enabled = change.enabled ?? true
        return [200, "application/json", JSON.stringify({ ...validAdapter, ...change, running: enabled })]
      }
      if (request === "DELETE /api/v1/users/k8s-operator") return [204, "text/plain", ""]
      return [404, "text/plain; charset=utf-8", "404 page not found\n"]
    default:
      return [404, "text/plain; charset=utf-8", "404 page not found\n"]
  }
}

const handle = (request: IncomingMessage, response: ServerResponse) => {
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    const [, scenario = "", ...rest] = (request.url ?? "/").split("/")
    const answer = reply(scenario, `${request.method} /${rest.join("/")}`, Buffer.concat(chunks).toString("utf8"), request.headers.authorization ?? "")
    if (answer === "hang") return // the client's time-out must end the call
    const [status, contentType, body] = answer
    response.writeHead(status, { "content-type": contentType }).end(body)
  })
}

class Stub extends Context.Service<Stub, { readonly origin: string; readonly closedOrigin: string }>()("test/Stub") {}

const listen = Effect.callback<Server>((resume) => {
  const server = createServer(handle).listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
})
const close = (server: Server) => Effect.sync(() => {
  server.closeAllConnections()
  server.close()
})
const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const stubLayer = Layer.effect(
  Stub,
  Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(listen, close)
    // A port that was just free and is closed again: connections to it are refused.
    const closed = yield* listen
    const closedOrigin = originOf(closed)
    yield* close(closed)
    return Stub.of({ origin: originOf(server), closedOrigin })
  })
)

const failure = <A>(effect: Effect.Effect<A, DittoFs.DittoFsError>) => Effect.flip(effect)

const assertNoSecret = (error: DittoFs.DittoFsError) => {
  for (const secret of [accessToken, password]) {
    assert.notInclude(error.message, secret)
    assert.notInclude(String(error), secret)
  }
}

layer(
  Layer.mergeAll(
    stubLayer,
    DittoFsLive.layer({ timeout: "300 millis" })
  ),
  { excludeTestServices: true }
)("DittoFsLive against a stub server", (it) => {
  const url = (scenario: string) => Effect.map(Stub, (stub) => `${stub.origin}/${scenario}`)

  it.effect("a body that is not an array ({}, null, text) is BadResponse", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      for (const scenario of ["adapters-object", "adapters-null", "adapters-text"]) {
        const error = yield* failure(dittofs.listAdapters(yield* url(scenario), Redacted.make(accessToken)))
        assert.strictEqual(error.reason, "BadResponse", scenario)
        assert.strictEqual(error.operation, "GET /api/v1/adapters")
        assertNoSecret(error)
      }
    }))

  it.effect("a valid list decodes; an invalid entry is rejected, not fatal", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const list = yield* dittofs.listAdapters(yield* url("well-behaved"), Redacted.make(accessToken))
      assert.deepStrictEqual(list.adapters, [validAdapter])
      assert.deepStrictEqual(list.rejected.map((rejected) => rejected.index), [1])
    }))

  it.effect("the same status classifies the same with a problem+json or a text body", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const user = { username: "k8s-operator", password: Redacted.make(password), role: "operator" } as const
      const outcomes = yield* Effect.forEach(
        ["conflict-problem", "conflict-text", "forbidden-problem", "forbidden-text"],
        (scenario) => Effect.flatMap(url(scenario), (baseUrl) => failure(dittofs.createUser(baseUrl, Redacted.make(accessToken), user)))
      )
      assert.deepStrictEqual(outcomes.map((error) => error.reason), ["Conflict", "Conflict", "Forbidden", "Forbidden"])
      assert.deepStrictEqual(outcomes.map((error) => error.message), [
        "HTTP 409: User already exists",
        "HTTP 409: User already exists",
        "HTTP 403: Admin access required",
        "HTTP 403: Admin access required"
      ])
      outcomes.forEach(assertNoSecret)
    }))

  it.effect("422 is BadRequest; 500 with an empty body and 503 are ServerError", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const reasons = yield* Effect.forEach(["invalid", "server-error", "unavailable"], (scenario) =>
        Effect.flatMap(url(scenario), (baseUrl) =>
          Effect.map(failure(dittofs.updateAdapter(baseUrl, Redacted.make(accessToken), "nfs", { port: 70000 })), (error) => [error.reason, error.message])))
      assert.deepStrictEqual(reasons, [
        ["BadRequest", "HTTP 422: port out of range"],
        ["ServerError", "HTTP 500"],
        ["ServerError", "HTTP 503: Service Unavailable"]
      ])
    }))

  it.effect("a server that does not answer in time is Timeout", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const error = yield* failure(dittofs.listAdapters(yield* url("slow"), Redacted.make(accessToken)))
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.message, "no answer within 300ms")
    }))

  it.effect("a refused connection is Unreachable", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const stub = yield* Stub
      const error = yield* failure(dittofs.health(stub.closedOrigin))
      assert.strictEqual(error.reason, "Unreachable")
      assert.include(error.message, "ECONNREFUSED")
    }))

  it.effect("a base URL node cannot send to is BadRequest, not a defect", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      for (const baseUrl of ["not a url", "ftp://127.0.0.1:1"]) {
        const error = yield* failure(dittofs.listAdapters(baseUrl, Redacted.make(accessToken)))
        assert.strictEqual(error.reason, "BadRequest", baseUrl)
        assert.strictEqual(error.operation, "GET /api/v1/adapters")
        assertNoSecret(error)
      }
    }))

  it.effect("a 2xx token body of the wrong shape is BadResponse, without quoting the token", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const error = yield* failure(dittofs.login(yield* url("token-wrong-shape"), { username: "admin", password: Redacted.make(password) }))
      assert.strictEqual(error.reason, "BadResponse")
      assertNoSecret(error)
    }))

  it.effect("secrets a server echoes back never reach the error message", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const baseUrl = yield* url("echo-secrets")
      const errors = [
        yield* failure(dittofs.listAdapters(baseUrl, Redacted.make(accessToken))),
        yield* failure(dittofs.login(baseUrl, { username: "admin", password: Redacted.make(password) })),
        yield* failure(dittofs.createUser(baseUrl, Redacted.make(accessToken), { username: "u", password: Redacted.make(password), role: "user" }))
      ]
      assert.deepStrictEqual(errors.map((error) => error.reason), ["Unauthorized", "Unauthorized", "Unauthorized"])
      errors.forEach(assertNoSecret)
      assert.include(errors[0]?.message ?? "", "Bearer [redacted]")
    }))

  it.effect("login, update and delete round-trip against a well-behaved server", () =>
    Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const baseUrl = yield* url("well-behaved")
      const token = yield* dittofs.login(baseUrl, { username: "admin", password: Redacted.make(password) })
      assert.strictEqual(Redacted.value(token.access_token), accessToken)
      const stopped = yield* dittofs.updateAdapter(baseUrl, token.access_token, "nfs", { enabled: false })
      assert.deepStrictEqual([stopped.enabled, stopped.running, stopped.port], [false, false, 12049])
      const moved = yield* dittofs.updateAdapter(baseUrl, token.access_token, "nfs", { port: 2049 })
      assert.deepStrictEqual([moved.enabled, moved.port], [true, 2049])
      yield* dittofs.deleteUser(baseUrl, token.access_token, "k8s-operator")
      const unknown = yield* failure(dittofs.updateAdapter(baseUrl, token.access_token, "webdav", { enabled: true }))
      assert.strictEqual(unknown.reason, "NotFound")
      const unauthorized = yield* failure(dittofs.listAdapters(baseUrl, Redacted.make("some-other-token")))
      assert.deepStrictEqual([unauthorized.reason, unauthorized.message], ["Unauthorized", "HTTP 401: Authorization header required"])
    }))
})
