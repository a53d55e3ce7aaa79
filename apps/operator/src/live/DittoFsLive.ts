/**
 * `DittoFsLive`: the core's `DittoFs` service over HTTP (`HttpExchange`, the transport
 * `KubernetesLive` uses too), against a real DittoFS control plane (contract doc §1).
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
 * - A base URL node cannot send to (malformed, not http or https) is `BadRequest`.
 * - `layer` keeps one pool of keep-alive connections for its lifetime (closing the layer destroys
 *   them): a poll reuses the connection of the last one instead of opening (and, over TLS,
 *   negotiating) a new one every interval. An idle connection is closed after 30 s, before
 *   DittoFS's own idle timeout (60 s) could close it under a poll that reuses it.
 */
import { Adapter, DittoFs } from "@dittofs-operator/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as HttpExchange from "./HttpExchange.ts"

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

/** A failure of the exchange itself (no status, or a body that could not be read). */
const ofExchangeFailure = (operation: string) => (failed: HttpExchange.ExchangeFailed): DittoFs.DittoFsError =>
  new DittoFs.DittoFsError({
    reason: failed.reason === "Invalid" ? "BadRequest" : "Unreachable",
    operation,
    message: HttpExchange.describeError(failed.cause)
  })

/** A non-2xx answer: the reason comes from the status alone. */
const ofStatus = (response: HttpExchange.Response, operation: string) =>
  new DittoFs.DittoFsError({
    reason: DittoFs.reasonOfStatus(response.status),
    operation,
    message: `HTTP ${response.status}${response.body.trim() === "" ? "" : `: ${describeErrorBody(response.body)}`}`
  })

/**
 * The decoder of a 2xx JSON body of `schema` (its message names the path and the expected type,
 * not the value): made once per Schema, here, not per call, so that each answer is decoded by a
 * parser built once.
 */
const bodyDecoder = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(schema))
  return (text: string, operation: string) =>
    decode(text).pipe(
      Effect.mapError((error) => new DittoFs.DittoFsError({ reason: "BadResponse", operation, message: error.message }))
    )
}

const decodeToken = bodyDecoder(DittoFs.Token)
const decodeUser = bodyDecoder(DittoFs.User)
const decodeAdapter = bodyDecoder(Adapter.Adapter)
const decodeJson = bodyDecoder(Schema.Unknown)

/** Removes the secrets a request carried from an error message (a server may echo them). */
const redact = (secrets: ReadonlyArray<string>) => (error: DittoFs.DittoFsError): DittoFs.DittoFsError => {
  const message = secrets.filter((secret) => secret !== "").reduce(
    (text, secret) => text.replaceAll(secret, "[redacted]"),
    error.message
  )
  return message === error.message ? error : new DittoFs.DittoFsError({ reason: error.reason, operation: error.operation, message })
}

/** A request to send: its method, path (under the base URL), bearer token and JSON body. */
interface Call {
  readonly method: HttpExchange.Method
  readonly path: string
  readonly bearer?: DittoFs.Secret
  readonly json?: unknown
}

export const make = Effect.fn("DittoFsLive.make")(function*(options: DittoFsLiveOptions = {}) {
  const agents = yield* NodeHttpClient.makeAgent({ keepAlive: true, timeout: 30_000 })
  const timeout = Duration.fromInputUnsafe(options.timeout ?? "10 seconds")

  /**
   * Sends one request; a 2xx body goes to `onSuccess`, anything else is classified. `secrets`
   * (tokens, passwords the request carries) are scrubbed from any error message.
   */
  const send = <A>(
    baseUrl: string,
    call: Call,
    secrets: ReadonlyArray<Redacted.Redacted<string>>,
    onSuccess: (body: string, operation: string) => Effect.Effect<A, DittoFs.DittoFsError>
  ): Effect.Effect<A, DittoFs.DittoFsError> => {
    const operation = `${call.method} ${call.path}`
    const body = call.json === undefined ? undefined : JSON.stringify(call.json)
    return HttpExchange.exchange(agents, {
      method: call.method,
      url: `${baseUrl.replace(/\/+$/, "")}${call.path}`,
      headers: {
        accept: "application/json",
        ...(call.bearer === undefined ? {} : { authorization: `Bearer ${Redacted.value(call.bearer)}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" })
      },
      body
    }).pipe(
      Effect.mapError(ofExchangeFailure(operation)),
      Effect.flatMap((response) =>
        response.status >= 200 && response.status < 300 ? onSuccess(response.body, operation) : Effect.fail(ofStatus(response, operation))
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
  }

  const login = Effect.fn("DittoFsLive.login")(function*(baseUrl: string, credentials: DittoFs.Credentials) {
    const call = { method: "POST", path: "/api/v1/auth/login", json: { username: credentials.username, password: Redacted.value(credentials.password) } } as const
    return yield* send(baseUrl, call, [credentials.password], decodeToken)
  })

  const refresh = Effect.fn("DittoFsLive.refresh")(function*(baseUrl: string, refreshToken: DittoFs.Secret) {
    const call = { method: "POST", path: "/api/v1/auth/refresh", json: { refresh_token: Redacted.value(refreshToken) } } as const
    return yield* send(baseUrl, call, [refreshToken], decodeToken)
  })

  const createUser = Effect.fn("DittoFsLive.createUser")(function*(
    baseUrl: string,
    accessToken: DittoFs.Secret,
    user: DittoFs.NewUser
  ) {
    const json = { username: user.username, password: Redacted.value(user.password), role: user.role }
    return yield* send(baseUrl, { method: "POST", path: "/api/v1/users", bearer: accessToken, json }, [accessToken, user.password], decodeUser)
  })

  const deleteUser = Effect.fn("DittoFsLive.deleteUser")(function*(baseUrl: string, accessToken: DittoFs.Secret, username: string) {
    const call = { method: "DELETE", path: `/api/v1/users/${encodeURIComponent(username)}`, bearer: accessToken } as const
    return yield* send(baseUrl, call, [accessToken], () => Effect.void)
  })

  const listAdapters = Effect.fn("DittoFsLive.listAdapters")(function*(baseUrl: string, accessToken: DittoFs.Secret) {
    return yield* send(baseUrl, { method: "GET", path: "/api/v1/adapters", bearer: accessToken }, [accessToken], (body, operation) =>
      decodeJson(body, operation).pipe(
        Effect.flatMap((list) =>
          Effect.fromResult(Adapter.decodeList(list)).pipe(
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
    const json = {
      ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
      ...(change.port === undefined ? {} : { port: change.port })
    }
    const call = { method: "PUT", path: `/api/v1/adapters/${encodeURIComponent(type)}`, bearer: accessToken, json } as const
    return yield* send(baseUrl, call, [accessToken], decodeAdapter)
  })

  const health = Effect.fn("DittoFsLive.health")(function*(baseUrl: string) {
    return yield* send(baseUrl, { method: "GET", path: "/health" }, [], () => Effect.void)
  })

  return DittoFs.DittoFs.of({ health, login, refresh, createUser, deleteUser, listAdapters, updateAdapter })
})

/** The live `DittoFs`, its connections kept alive between polls for as long as the layer lives. */
export const layer = (options: DittoFsLiveOptions = {}): Layer.Layer<DittoFs.DittoFs> => Layer.effect(DittoFs.DittoFs, make(options))
