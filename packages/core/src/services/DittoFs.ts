/**
 * The DittoFS REST control plane, as the operator uses it: health, login, refresh, user
 * provisioning and the adapter list (contract doc §1).
 *
 * Contract:
 * - Every failure is a `DittoFsError` classified once, by HTTP status only (the server sends
 *   both text/plain and problem+json bodies): 400/413/422 `BadRequest`, 401 `Unauthorized`,
 *   403 `Forbidden`, 404 `NotFound`, 409 `Conflict`, 5xx `ServerError`, socket errors
 *   `Unreachable`, time-outs `Timeout`, an undecodable 2xx `BadResponse`.
 * - `listAdapters` returns the decoded list (invalid entries rejected with reasons); a body that
 *   is not an array is `BadResponse`, so the caller changes nothing.
 * - Tokens and passwords are `Redacted` from the moment they are decoded or read until the HTTP
 *   request is built: they never appear in an error message, a log line or an Event.
 */
import { Context, type Effect, type Redacted, Schema } from "effect"
import type * as Adapter from "../domain/Adapter.ts"

/**
 * Why a DittoFS call failed, classified once at the boundary: also the metric label and the Event
 * reason.
 */
export const ErrorReason = Schema.Literals([
  "Unreachable",
  "Timeout",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "Conflict",
  "BadRequest",
  "ServerError",
  "BadResponse"
])
/** A decoded {@link ErrorReason}. */
export type ErrorReason = typeof ErrorReason.Type

/** A failed DittoFS call: its reason, a message (secrets never included) and the operation. */
export class DittoFsError extends Schema.TaggedError<DittoFsError>()("DittoFsError", {
  reason: ErrorReason,
  message: Schema.String,
  /** e.g. `POST /api/v1/auth/login` */
  operation: Schema.String
}) {}

/** Transient reasons: worth a retry with backoff; the others need a different request. */
export const isTransient = (error: DittoFsError): boolean =>
  error.reason === "Unreachable" || error.reason === "Timeout" || error.reason === "ServerError"

/** The reason of an HTTP status answered by DittoFS. */
export const reasonOfStatus = (status: number): ErrorReason => {
  switch (status) {
    case 401:
      return "Unauthorized"
    case 403:
      return "Forbidden"
    case 404:
      return "NotFound"
    case 409:
      return "Conflict"
    default:
      return status >= 500 ? "ServerError" : "BadRequest"
  }
}

/** A token or a password: shown as `<redacted>` everywhere but in the request that carries it. */
export type Secret = Redacted.Redacted<string>

const SecretString = Schema.RedactedFromValue(Schema.String)

/** Schema of the tokens DittoFS answers on login and refresh (secrets `Redacted`). */
export const Token = Schema.Struct({
  access_token: SecretString,
  refresh_token: SecretString,
  token_type: Schema.optionalKey(Schema.String),
  expires_in: Schema.Int,
  expires_at: Schema.optionalKey(Schema.String)
})
/** Decoded tokens ({@link Token}). */
export type Token = typeof Token.Type

/** The roles of a DittoFS account. */
export const UserRole = Schema.Literals(["user", "admin", "operator"])
/** A decoded {@link UserRole}. */
export type UserRole = typeof UserRole.Type

/** Schema of a DittoFS account as the API answers it. */
export const User = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  username: Schema.String,
  role: Schema.String,
  enabled: Schema.optionalKey(Schema.Boolean)
})
/** A decoded {@link User}. */
export type User = typeof User.Type

/** A username and its password. */
export interface Credentials {
  readonly username: string
  readonly password: Secret
}

/** An account to create: credentials and a role. */
export interface NewUser extends Credentials {
  readonly role: UserRole
}

/** A change of an adapter through the admin API: enable or disable it, or move its port. */
export interface AdapterChange {
  readonly enabled?: boolean
  readonly port?: number
}

/** The DittoFS REST API, as far as the operator uses it. */
export interface Api {
  /** `GET /health`: whether the server answers. */
  readonly health: (baseUrl: string) => Effect.Effect<void, DittoFsError>
  /** Logs in; the tokens of the account. */
  readonly login: (baseUrl: string, credentials: Credentials) => Effect.Effect<Token, DittoFsError>
  /** Exchanges a refresh token for new tokens. */
  readonly refresh: (baseUrl: string, refreshToken: Secret) => Effect.Effect<Token, DittoFsError>
  /** Creates an account (admin only). */
  readonly createUser: (baseUrl: string, accessToken: Secret, user: NewUser) => Effect.Effect<User, DittoFsError>
  /** Deletes an account (admin only); `NotFound` when there is none. */
  readonly deleteUser: (baseUrl: string, accessToken: Secret, username: string) => Effect.Effect<void, DittoFsError>
  /** `GET /api/v1/adapters`, decoded: the adapters and the rejected entries. */
  readonly listAdapters: (baseUrl: string, accessToken: Secret) => Effect.Effect<Adapter.List, DittoFsError>
  /** Admin only: start, stop or move an adapter (used by people and tests, not by reconciles). */
  readonly updateAdapter: (
    baseUrl: string,
    accessToken: Secret,
    type: string,
    change: AdapterChange
  ) => Effect.Effect<Adapter.Adapter, DittoFsError>
}

/** The DittoFS service: the live layer speaks HTTP, `DittoFsMemory` keeps servers in memory. */
export class DittoFs extends Context.Service<DittoFs, Api>()("@dittofs-operator/core/DittoFs") {}
