/**
 * One HTTP(S) request to a process launched on this machine (kube-apiserver, `dfs`).
 *
 * Contract: only `127.0.0.1` URLs are accepted (anything else fails before a socket is opened);
 * HTTPS is verified against the given CA; every request has a time-out (default 5 s) and is
 * aborted when interrupted. Any status is a success (the caller decides); socket errors and
 * time-outs are `LaunchError`s whose message names the method and URL but never the token.
 */
import { Duration, Effect } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { describeCause, LaunchError } from "./LaunchError.ts"

export interface LoopbackRequest {
  readonly url: string
  readonly method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly bearerToken?: string
  /** PEM bundle the server certificate must chain to (HTTPS only). */
  readonly ca?: string
  readonly body?: { readonly contentType: string; readonly text: string }
  readonly timeout?: Duration.Input
}

export interface LoopbackResponse {
  readonly status: number
  readonly contentType: string
  readonly text: string
}

const send = (url: URL, request: LoopbackRequest, method: string) =>
  Effect.callback<LoopbackResponse, LaunchError>((resume, signal) => {
    const headers: Record<string, string> = { accept: "application/json" }
    if (request.bearerToken !== undefined) headers.authorization = `Bearer ${request.bearerToken}`
    if (request.body !== undefined) headers["content-type"] = request.body.contentType
    const options = { method, headers, signal, ...(request.ca === undefined ? {} : { ca: request.ca }) }
    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("error", (cause) =>
        resume(Effect.fail(new LaunchError({ step: `${method} ${url}`, message: describeCause(cause) }))))
      response.on("end", () =>
        resume(Effect.succeed({
          status: response.statusCode ?? 0,
          contentType: response.headers["content-type"] ?? "",
          text: Buffer.concat(chunks).toString("utf8")
        })))
    }
    const outgoing = url.protocol === "https:"
      ? https.request(url, options, onResponse)
      : http.request(url, options, onResponse)
    outgoing.on("error", (cause) =>
      resume(Effect.fail(new LaunchError({ step: `${method} ${url}`, message: describeCause(cause) }))))
    outgoing.end(request.body?.text)
  })

export const request = (request: LoopbackRequest): Effect.Effect<LoopbackResponse, LaunchError> => {
  const method = request.method ?? "GET"
  const url = URL.parse(request.url)
  if (url === null || url.hostname !== "127.0.0.1" || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return Effect.fail(
      new LaunchError({ step: `${method} ${request.url}`, message: "only http(s)://127.0.0.1 URLs are allowed" })
    )
  }
  const timeout = Duration.fromInputUnsafe(request.timeout ?? "5 seconds")
  return send(url, request, method).pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.fail(
          new LaunchError({ step: `${method} ${url}`, message: `no response within ${Duration.format(timeout)}` })
        )
    })
  )
}
