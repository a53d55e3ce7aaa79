/**
 * `DittoFsLive`: the core's `DittoFs` service over HTTP (`effect/http`), against a real DittoFS
 * control plane (contract doc §1).
 *
 * Contract:
 * - Every call has a time-out (`timeout`, default 10 s) → `Timeout`.
 * - Errors are classified once, here, by HTTP status only (`reasonOfStatus`): a problem+json body
 *   and a text/plain body with the same status give the same reason; the body's `detail` (else
 *   `title`) or its text only goes into the message. Transport failures (refused, reset, DNS) are
 *   `Unreachable`; a 2xx body that does not decode is `BadResponse` (for the adapter list: a body
 *   that is not an array, via `Adapter.decodeList`).
 * - Tokens and passwords never appear in an error message or a log line: messages carry the
 *   operation (`POST /api/v1/auth/login`) and what the server said.
 * - `layer` needs an `HttpClient`; `layerNode` brings effect's node:http client (the stack
 *   `KubernetesLive` uses too) with keep-alive agents: a poll reuses the connection of the last
 *   one instead of opening (and, over TLS, negotiating) a new one every interval.
 */
import { Adapter, DittoFs } from "@dittofs-operator/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"

export interface DittoFsLiveOptions {
  /** Time-out of each call, connection included; default 10 s. */
  readonly timeout?: Duration.Input
}

const maxMessageBody = 300

const Problem = Schema.fromJsonString(Schema.Struct({
  title: Schema.optionalKey(Schema.String),
  detail: Schema.optionalKey(Schema.String)
}))
const decodeProblem = Schema.decodeUnknownOption(Problem)

/** What the server said in an error body: problem+json `detail`/`title`, else the text. */
export const describeErrorBody = (text: string): string => {
  const problem = decodeProblem(text)
  const said = Option.isSome(problem)
    ? problem.value.detail ?? problem.value.title ?? text.trim()
    : text.trim()
  return said.length > maxMessageBody ? `${said.slice(0, maxMessageBody)}…` : said
}

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const inner: unknown = cause.cause
    return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message
  }
  return String(cause)
}

/** A failure of the exchange itself (no status, or a body that could not be read). */
const ofRequestFailure = (operation: string) => (error: HttpClientError.HttpClientError): DittoFs.DittoFsError => {
  const reason = error.reason
  switch (reason._tag) {
    case "TransportError":
      return new DittoFs.DittoFsError({
        reason: "Unreachable",
        operation,
        message: describeCause(reason.cause ?? reason.description ?? "transport error")
      })
    case "InvalidUrlError":
    case "EncodeError":
      return new DittoFs.DittoFsError({ reason: "BadRequest", operation, message: reason.description ?? describeCause(reason.cause) })
    default:
      return new DittoFs.DittoFsError({ reason: "BadResponse", operation, message: reason.description ?? describeCause(reason.cause) })
  }
}

const readText = (response: HttpClientResponse.HttpClientResponse, operation: string) =>
  response.text.pipe(Effect.mapError(ofRequestFailure(operation)))

/** A non-2xx answer: the reason comes from the status alone. */
const ofStatus = (response: HttpClientResponse.HttpClientResponse, operation: string) =>
  response.text.pipe(
    Effect.orElseSucceed(() => "(body unreadable)"),
    Effect.flatMap((text) =>
      Effect.fail(
        new DittoFs.DittoFsError({
          reason: DittoFs.reasonOfStatus(response.status),
          operation,
          message: `HTTP ${response.status}${text.trim() === "" ? "" : `: ${describeErrorBody(text)}`}`
        })
      )
    )
  )

/** Decodes a 2xx JSON body (the decoder's message names the path and the expected type, not the value). */
const decodeBody = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, operation: string) => {
  const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(schema))
  return (text: string) =>
    decode(text).pipe(
      Effect.mapError((error) => new DittoFs.DittoFsError({ reason: "BadResponse", operation, message: error.message }))
    )
}

/** Removes the secrets a request carried from an error message (a server may echo them). */
const redact = (secrets: ReadonlyArray<string>) => (error: DittoFs.DittoFsError): DittoFs.DittoFsError => {
  const message = secrets.filter((secret) => secret !== "").reduce(
    (text, secret) => text.replaceAll(secret, "[redacted]"),
    error.message
  )
  return message === error.message ? error : new DittoFs.DittoFsError({ reason: error.reason, operation: error.operation, message })
}

export const make = Effect.fn("DittoFsLive.make")(function*(options: DittoFsLiveOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const timeout = Duration.fromInputUnsafe(options.timeout ?? "10 seconds")

  /**
   * Sends one request; a 2xx response goes to `onSuccess`, anything else is classified. `secrets`
   * (tokens, passwords the request carries) are scrubbed from any error message.
   */
  const send = <A>(
    operation: string,
    request: HttpClientRequest.HttpClientRequest,
    secrets: ReadonlyArray<Redacted.Redacted<string>>,
    onSuccess: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, DittoFs.DittoFsError>
  ): Effect.Effect<A, DittoFs.DittoFsError> =>
    client.execute(request).pipe(
      Effect.mapError(ofRequestFailure(operation)),
      Effect.flatMap((response) =>
        response.status >= 200 && response.status < 300 ? onSuccess(response) : ofStatus(response, operation)
      ),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.fail(
            new DittoFs.DittoFsError({ reason: "Timeout", operation, message: `no answer within ${Duration.format(timeout)}` })
          )
      }),
      Effect.mapError(redact(secrets.map((secret) => Redacted.value(secret))))
    )

  const url = (baseUrl: string, path: string) => `${baseUrl.replace(/\/+$/, "")}${path}`

  const login = Effect.fn("DittoFsLive.login")(function*(baseUrl: string, credentials: DittoFs.Credentials) {
    const operation = "POST /api/v1/auth/login"
    const request = HttpClientRequest.post(url(baseUrl, "/api/v1/auth/login")).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyJsonUnsafe({ username: credentials.username, password: Redacted.value(credentials.password) })
    )
    return yield* send(operation, request, [credentials.password], (response) =>
      Effect.flatMap(readText(response, operation), decodeBody(DittoFs.Token, operation)))
  })

  const refresh = Effect.fn("DittoFsLive.refresh")(function*(baseUrl: string, refreshToken: DittoFs.Secret) {
    const operation = "POST /api/v1/auth/refresh"
    const request = HttpClientRequest.post(url(baseUrl, "/api/v1/auth/refresh")).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyJsonUnsafe({ refresh_token: Redacted.value(refreshToken) })
    )
    return yield* send(operation, request, [refreshToken], (response) =>
      Effect.flatMap(readText(response, operation), decodeBody(DittoFs.Token, operation)))
  })

  const createUser = Effect.fn("DittoFsLive.createUser")(function*(
    baseUrl: string,
    accessToken: DittoFs.Secret,
    user: DittoFs.NewUser
  ) {
    const operation = "POST /api/v1/users"
    const request = HttpClientRequest.post(url(baseUrl, "/api/v1/users")).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bearerToken(accessToken),
      HttpClientRequest.bodyJsonUnsafe({ username: user.username, password: Redacted.value(user.password), role: user.role })
    )
    return yield* send(operation, request, [accessToken, user.password], (response) =>
      Effect.flatMap(readText(response, operation), decodeBody(DittoFs.User, operation)))
  })

  const deleteUser = Effect.fn("DittoFsLive.deleteUser")(function*(baseUrl: string, accessToken: DittoFs.Secret, username: string) {
    const path = `/api/v1/users/${encodeURIComponent(username)}`
    const operation = `DELETE ${path}`
    const request = HttpClientRequest.delete(url(baseUrl, path)).pipe(HttpClientRequest.bearerToken(accessToken))
    return yield* send(operation, request, [accessToken], () => Effect.void)
  })

  const listAdapters = Effect.fn("DittoFsLive.listAdapters")(function*(baseUrl: string, accessToken: DittoFs.Secret) {
    const operation = "GET /api/v1/adapters"
    const request = HttpClientRequest.get(url(baseUrl, "/api/v1/adapters")).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bearerToken(accessToken)
    )
    return yield* send(operation, request, [accessToken], (response) =>
      readText(response, operation).pipe(
        Effect.flatMap(decodeBody(Schema.Unknown, operation)),
        Effect.flatMap((body) =>
          Effect.fromResult(Adapter.decodeList(body)).pipe(
            Effect.mapError((malformed) => new DittoFs.DittoFsError({ reason: "BadResponse", operation, message: malformed.reason }))
          )
        )
      ))
  })

  const updateAdapter = Effect.fn("DittoFsLive.updateAdapter")(function*(
    baseUrl: string,
    accessToken: DittoFs.Secret,
    type: string,
    change: DittoFs.AdapterChange
  ) {
    const path = `/api/v1/adapters/${encodeURIComponent(type)}`
    const operation = `PUT ${path}`
    const request = HttpClientRequest.put(url(baseUrl, path)).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bearerToken(accessToken),
      HttpClientRequest.bodyJsonUnsafe({
        ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
        ...(change.port === undefined ? {} : { port: change.port })
      })
    )
    return yield* send(operation, request, [accessToken], (response) =>
      Effect.flatMap(readText(response, operation), decodeBody(Adapter.Adapter, operation)))
  })

  const health = Effect.fn("DittoFsLive.health")(function*(baseUrl: string) {
    const operation = "GET /health"
    return yield* send(operation, HttpClientRequest.get(url(baseUrl, "/health")), [], () => Effect.void)
  })

  return DittoFs.DittoFs.of({ health, login, refresh, createUser, deleteUser, listAdapters, updateAdapter })
})

/** The live `DittoFs`; needs an `HttpClient`. */
export const layer = (options: DittoFsLiveOptions = {}): Layer.Layer<DittoFs.DittoFs, never, HttpClient.HttpClient> =>
  Layer.effect(DittoFs.DittoFs, make(options))

/** The live `DittoFs` on effect's node:http client, connections kept alive between polls. */
export const layerNode = (options: DittoFsLiveOptions = {}): Layer.Layer<DittoFs.DittoFs> =>
  layer(options).pipe(
    Layer.provide(NodeHttpClient.layerNodeHttpNoAgent),
    // an idle connection is closed after 30 s, before DittoFS's own idle timeout (60 s) could
    // close it under a poll that reuses it
    Layer.provide(NodeHttpClient.layerAgentOptions({ keepAlive: true, timeout: 30_000 }))
  )
