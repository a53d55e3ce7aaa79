/**
 * One HTTP request and its whole response, straight on node:http(s) and a keep-alive agent: the
 * transport of both live layers' plain requests (`KubernetesLive`'s calls, `DittoFsLive`'s).
 *
 * Contract:
 * - Succeeds with the status and the body (UTF-8 text) once the response has ended, whatever the
 *   status: classifying it is the caller's.
 * - Fails with `ExchangeFailed`: `Invalid` when node refuses the request as given (a malformed
 *   URL, a protocol other than http and https, a header it cannot send), `Transport` when it
 *   cannot be sent or its response not read to the end (refused, reset, TLS, DNS); with node's
 *   error either way.
 * - Interruption (a caller's time-out) aborts the request.
 * - `https:` URLs go through the agent's `https` pool, the rest through its `http` pool.
 *
 * Why not effect's HTTP client for these: it costs about 0.7 ms more CPU per create and 0.4–0.8 ms
 * per GET (an upload fiber and a race with it; `bench/reports/client.md`), and it aborted some
 * requests once done, before their socket was back in the pool, so that one request in a few
 * hundred on a quiet machine, one in a dozen under load, paid a new connection (and TLS
 * handshake) on both sides. Streaming responses (watches) still go through it.
 */
import { Data, Effect } from "effect"
import * as http from "node:http"
import type { IncomingMessage } from "node:http"
import * as https from "node:https"

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

export interface Request {
  readonly method: Method
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string | undefined
}

export interface Response {
  readonly status: number
  readonly body: string
}

/** The connection pools requests go through (effect's `NodeHttpClient.makeAgent` makes one). */
export interface Agents {
  readonly http: http.Agent
  readonly https: https.Agent
}

/** The request was refused as given (`Invalid`), or could not be sent or its response read (`Transport`). */
export class ExchangeFailed extends Data.TaggedError("ExchangeFailed")<{
  readonly reason: "Invalid" | "Transport"
  readonly cause: Error
}> {}

const asError = (thrown: unknown): Error => (thrown instanceof Error ? thrown : new Error(String(thrown)))

/**
 * An error's message, followed by those of the errors it wraps (node's request error wraps the
 * socket error that caused it): what both live layers put in their error messages.
 */
export const describeError = (thrown: unknown): string => {
  if (!(thrown instanceof Error)) return String(thrown)
  return thrown.cause === undefined ? thrown.message : `${thrown.message}: ${describeError(thrown.cause)}`
}

/**
 * Sends `request` (with a `content-length` when it has a body: node sends a DELETE's body without
 * one otherwise, and the server then reads it as the start of the connection's next request).
 */
export const exchange = (agents: Agents, request: Request): Effect.Effect<Response, ExchangeFailed> =>
  Effect.callback<Response, ExchangeFailed>((resume, signal) => {
    // The request's listeners outlive the exchange (a keep-alive socket keeps the request it
    // served reachable): once settled they let go of the fiber, and so of the response body its
    // exit holds (a LIST's can be megabytes).
    let settle: typeof resume | undefined = resume
    const settled = (result: Effect.Effect<Response, ExchangeFailed>) => {
      const pending = settle
      settle = undefined
      pending?.(result)
    }
    const failed = (cause: Error) => settled(Effect.fail(new ExchangeFailed({ reason: "Transport", cause })))
    const headers = request.body === undefined
      ? request.headers
      : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) }
    const options = { method: request.method, headers, signal }
    const received = (response: IncomingMessage) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => settled(Effect.succeed({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })))
      response.on("error", failed)
    }
    try {
      const sent = request.url.startsWith("https:")
        ? https.request(request.url, { ...options, agent: agents.https }, received)
        : http.request(request.url, { ...options, agent: agents.http }, received)
      sent.on("error", failed)
      sent.end(request.body)
    } catch (thrown) {
      // node checks the URL, the protocol and the headers before it sends anything
      settled(Effect.fail(new ExchangeFailed({ reason: "Invalid", cause: asError(thrown) })))
    }
  })
