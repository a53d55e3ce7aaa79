/**
 * The operator's DittoFS credentials, kept in the `<server>-operator-credentials` Secret, and the
 * decision of what to do with them on a pass.
 *
 * Contract (total, pure):
 * - `fromSecret` reads the Secret's base64 data; missing or undecodable keys read as absent; the
 *   password and the tokens are `Redacted` from there on, revealed only by `secretData`.
 * - `toSecret` writes username, password, tokens, server URL and the token's issue and expiry
 *   times (so a restarted operator knows when to refresh), owned by the DittoServer.
 * - `accountName`: one DittoFS account per DittoServer, `k8s-operator.<namespace>.<name>`, so
 *   servers sharing one DittoFS never replace, invalidate or delete each other's account; at most
 *   255 chars (DittoFS's limit), a longer one cut and suffixed with a hash of the whole.
 * - `nextStep`: no password → `Provision`; a password but no usable token, or tokens issued for
 *   another server URL → `Login`; a token past 80 % of its lifetime → `Refresh`; otherwise `Use`
 *   with the time the next refresh is due. Tokens are refreshed on that schedule, not per pass.
 */
import { Redacted } from "effect"
import { createHash } from "node:crypto"
import { type Secret, secretText } from "../domain/Kubernetes.ts"
import type * as ObjectRef from "../domain/ObjectRef.ts"
import { labels, labelValue, workloadNames } from "./Naming.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"

/** The prefix of the operator's DittoFS accounts (the reference operator's one shared account name). */
export const accountPrefix = "k8s-operator"

/** DittoFS stores usernames in a column of 255 characters. */
const maxUsernameLength = 255

/**
 * The DittoFS account the operator provisions and acts as for one DittoServer:
 * `k8s-operator.<namespace>.<name>`. A namespace has no dot, so the name reads back unambiguously.
 * One account per server: several servers pointed at one DittoFS (a shared control plane, a
 * migration) each keep their own password and tokens, and deleting one removes only its account.
 */
export const accountName = (server: ObjectRef.ObjectRef): string => {
  const full = `${accountPrefix}.${server.namespace}.${server.name}`
  if (full.length <= maxUsernameLength) return full
  const hash = createHash("sha256").update(full, "utf8").digest("hex").slice(0, 8)
  return `${full.slice(0, maxUsernameLength - hash.length - 1)}-${hash}`
}

/** The keys of the operator's credentials Secret. */
export const keys = {
  username: "username",
  password: "password",
  accessToken: "access-token",
  refreshToken: "refresh-token",
  serverUrl: "server-url",
  issuedAt: "issued-at",
  expiresAt: "expires-at"
} as const

/** The name of a server's operator credentials Secret: `<server>-operator-credentials`. */
export const secretName = (server: string): string => workloadNames(server).operatorCredentials

/**
 * The operator's credentials as stored: username and password, and the tokens with the server URL
 * they were issued for and their issue and expiry times.
 */
export interface Stored {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly accessToken?: Redacted.Redacted<string>
  readonly refreshToken?: Redacted.Redacted<string>
  readonly serverUrl?: string
  /** Epoch milliseconds. */
  readonly issuedAt?: number
  readonly expiresAt?: number
}

const encodeBase64 = (value: string): string => Buffer.from(value, "utf8").toString("base64")

const parseTime = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const millis = new Date(value).getTime()
  return Number.isFinite(millis) ? millis : undefined
}

/**
 * Reads the credentials from the Secret's data; `undefined` without a username or password. Missing
 * or undecodable keys read as absent; secrets stay `Redacted`.
 */
export const fromSecret = (secret: Secret): Stored | undefined => {
  const read = (key: string) => {
    const decoded = secretText(secret, key)
    return decoded === "" ? undefined : decoded
  }
  const redacted = (key: string) => {
    const value = read(key)
    return value === undefined ? undefined : Redacted.make(value)
  }
  const username = read(keys.username)
  const password = redacted(keys.password)
  if (username === undefined || password === undefined) return undefined
  const accessToken = redacted(keys.accessToken)
  const refreshToken = redacted(keys.refreshToken)
  const serverUrl = read(keys.serverUrl)
  const issuedAt = parseTime(read(keys.issuedAt))
  const expiresAt = parseTime(read(keys.expiresAt))
  return {
    username,
    password,
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(serverUrl === undefined ? {} : { serverUrl }),
    ...(issuedAt === undefined ? {} : { issuedAt }),
    ...(expiresAt === undefined ? {} : { expiresAt })
  }
}

const isoTime = (millis: number): string => new Date(millis).toISOString()

/** The Secret's data (base64) for the credentials: the only place the secrets are revealed. */
export const secretData = (credentials: Stored): Record<string, string> => {
  const reveal = (secret: Redacted.Redacted<string> | undefined) => secret === undefined ? undefined : Redacted.value(secret)
  const entries: Array<readonly [string, string | undefined]> = [
    [keys.username, credentials.username],
    [keys.password, Redacted.value(credentials.password)],
    [keys.accessToken, reveal(credentials.accessToken)],
    [keys.refreshToken, reveal(credentials.refreshToken)],
    [keys.serverUrl, credentials.serverUrl],
    [keys.issuedAt, credentials.issuedAt === undefined ? undefined : isoTime(credentials.issuedAt)],
    [keys.expiresAt, credentials.expiresAt === undefined ? undefined : isoTime(credentials.expiresAt)]
  ]
  return Object.fromEntries(
    entries.flatMap(([key, value]) => (value === undefined ? [] : [[key, encodeBase64(value)] as const]))
  )
}

/** The credentials Secret, owned by the server, laid over the observed one when there is one. */
export const toSecret = (server: ServerIdentity, credentials: Stored, observed?: Secret): Secret => ({
  ...observed,
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    ...observed?.metadata,
    name: secretName(server.name),
    namespace: server.namespace,
    labels: { ...observed?.metadata.labels, [labels.app]: "dittofs-server", [labels.instance]: labelValue(server.name) },
    ownerReferences: [controllerReference(server)]
  },
  type: "Opaque",
  data: secretData(credentials)
})

/**
 * What a pass does about the session: provision an account, log in, refresh the tokens, or use them
 * until the refresh is due.
 */
export type AuthStep =
  | { readonly _tag: "Provision" }
  | { readonly _tag: "Login"; readonly credentials: Stored }
  | { readonly _tag: "Refresh"; readonly credentials: Stored; readonly refreshToken: Redacted.Redacted<string> }
  | {
    readonly _tag: "Use"
    readonly credentials: Stored
    readonly accessToken: Redacted.Redacted<string>
    /** Epoch milliseconds at which the token reaches 80 % of its lifetime. */
    readonly refreshAt: number
  }

/** The point in a token's life at which it is refreshed (the reference's 80 %). */
export const refreshFraction = 0.8

/**
 * When a token issued at `issuedAt` and expiring at `expiresAt` is due for a refresh ({@link
 * refreshFraction} of its lifetime).
 */
export const refreshDueAt = (issuedAt: number, expiresAt: number): number =>
  issuedAt + Math.floor((expiresAt - issuedAt) * refreshFraction)

/**
 * Decides the session step from the stored credentials, the server URL and the time: no
 * credentials, provision; no usable token or another URL, log in; past the refresh point, refresh;
 * otherwise use.
 */
export const nextStep = (credentials: Stored | undefined, serverUrl: string, now: number): AuthStep => {
  if (credentials === undefined) return { _tag: "Provision" }
  const { accessToken, expiresAt, issuedAt, refreshToken } = credentials
  if (
    accessToken === undefined || issuedAt === undefined || expiresAt === undefined
    || credentials.serverUrl !== serverUrl || expiresAt <= now
  ) {
    return refreshToken !== undefined && credentials.serverUrl === serverUrl
      ? { _tag: "Refresh", credentials, refreshToken }
      : { _tag: "Login", credentials }
  }
  const refreshAt = refreshDueAt(issuedAt, expiresAt)
  if (now >= refreshAt) {
    return refreshToken === undefined ? { _tag: "Login", credentials } : { _tag: "Refresh", credentials, refreshToken }
  }
  return { _tag: "Use", credentials, accessToken, refreshAt }
}
