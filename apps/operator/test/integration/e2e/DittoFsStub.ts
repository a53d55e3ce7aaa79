/**
 * A stand-in DittoFS control plane on 127.0.0.1 (node:http), for the one fault a real dfs cannot
 * produce: a malformed adapter list. It speaks just enough of the API for the operator
 * (contract doc §1): `GET /health`, `POST /api/v1/auth/login` (any password for the operator's account,
 * the configured one for `admin`), `POST /api/v1/auth/refresh`, `POST /api/v1/users` (201),
 * `DELETE /api/v1/users/{name}` (204) and `GET /api/v1/adapters` (bearer token required), whose
 * answer the test sets at any time. Everything else is a 404.
 *
 * Contract: `start` needs a `Scope`; the server is closed (connections dropped) with it. Every
 * `GET /api/v1/adapters` is recorded with the label of the answer it got.
 */
import { Data, Effect } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** What `GET /api/v1/adapters` answers (200): a JSON value, or a raw body with a content type. */
export type AdaptersAnswer =
  | { readonly _tag: "Json"; readonly label: string; readonly body: unknown }
  | { readonly _tag: "Raw"; readonly label: string; readonly contentType: string; readonly body: string }

export interface DittoFsStub {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  readonly adminPassword: string
  readonly answerAdapters: (answer: AdaptersAnswer) => Effect.Effect<void>
  /** The label of the answer of every adapter list served, in order. */
  readonly adapterRequests: Effect.Effect<ReadonlyArray<string>>
}

const send = (response: ServerResponse, status: number, contentType: string, body: string) => {
  response.writeHead(status, { "content-type": contentType })
  response.end(body)
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  send(response, status, "application/json", JSON.stringify(body))

const problem = (response: ServerResponse, status: number, title: string, detail: string) =>
  send(response, status, "application/problem+json", JSON.stringify({ type: "about:blank", title, status, detail }))

/** Reads a JSON request body; an unparsable one is answered 400 here. */
const readBody = (request: IncomingMessage, response: ServerResponse, then: (body: unknown) => void) => {
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8")
    let body: unknown
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch (error) {
      return problem(response, 400, "Bad Request", `invalid JSON body: ${error instanceof Error ? error.message : String(error)}`)
    }
    then(body)
  })
}

const field = (body: unknown, key: string): string | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const value: unknown = Object.getOwnPropertyDescriptor(body, key)?.value
  return typeof value === "string" ? value : undefined
}

/** The stub could not listen. */
export class DittoFsStubError extends Data.TaggedError("DittoFsStubError")<{ readonly message: string }> {}

export const start = (options: { readonly adminPassword: string; readonly adapters: AdaptersAnswer }) =>
  Effect.gen(function*() {
    let answer = options.adapters
    const served: Array<string> = []
    let issued = 0
    const token = (username: string) => {
      issued += 1
      return {
        access_token: `stub-access-${username}-${issued}`,
        refresh_token: `stub-refresh-${username}-${issued}`,
        token_type: "Bearer",
        expires_in: 900
      }
    }
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      const path = (request.url ?? "/").split("?")[0] ?? "/"
      const route = `${request.method ?? "GET"} ${path}`
      if (route === "GET /health") return json(response, 200, { status: "healthy", data: { service: "dittofs-stub" } })
      if (route === "POST /api/v1/auth/login") {
        return readBody(request, response, (body) => {
          const username = field(body, "username")
          const password = field(body, "password")
          if (username === undefined || password === undefined) return problem(response, 400, "Bad Request", "username and password required")
          if (username === "admin" && password !== options.adminPassword) return send(response, 401, "text/plain", "Invalid credentials\n")
          return json(response, 200, token(username))
        })
      }
      if (route === "POST /api/v1/auth/refresh") {
        return readBody(request, response, (body) => {
          const refresh = field(body, "refresh_token") ?? ""
          return refresh.startsWith("stub-refresh-")
            ? json(response, 200, token(refresh.replace(/^stub-refresh-(.*)-\d+$/, "$1")))
            : send(response, 401, "text/plain", "Invalid or expired token\n")
        })
      }
      const bearer = request.headers.authorization?.startsWith("Bearer stub-access-") === true
      if (!bearer) return send(response, 401, "text/plain", "Authorization header required\n")
      if (route === "POST /api/v1/users") {
        return readBody(request, response, (body) =>
          json(response, 201, { id: "stub-user", username: field(body, "username") ?? "", role: field(body, "role") ?? "user", enabled: true }))
      }
      if (request.method === "DELETE" && path.startsWith("/api/v1/users/")) return send(response, 204, "text/plain", "")
      if (route === "GET /api/v1/adapters") {
        served.push(answer.label)
        return answer._tag === "Json"
          ? json(response, 200, answer.body)
          : send(response, 200, answer.contentType, answer.body)
      }
      return send(response, 404, "text/plain", "404 page not found\n")
    }
    const server = yield* Effect.acquireRelease(
      Effect.callback<Server, DittoFsStubError>((resume) => {
        const listening = createServer(handle)
        listening.once("error", (error) => resume(Effect.fail(new DittoFsStubError({ message: `listen: ${error.message}` }))))
        listening.listen(0, "127.0.0.1", () => resume(Effect.succeed(listening)))
      }),
      (listening) =>
        Effect.callback<void>((resume) => {
          listening.closeAllConnections()
          listening.close(() => resume(Effect.void))
        })
    )
    const { port } = server.address() as AddressInfo
    const stub: DittoFsStub = {
      baseUrl: `http://127.0.0.1:${port}`,
      adminPassword: options.adminPassword,
      answerAdapters: (next) => Effect.sync(() => void (answer = next)),
      adapterRequests: Effect.sync(() => [...served])
    }
    return stub
  })
