/**
 * `ensureSession(server, baseUrl)`: a DittoFS session for the operator, provisioning its
 * least-privilege account with the admin credentials when needed (contract doc §1, §3, §4).
 *
 * Contract:
 * - The account is the server's own (`k8s-operator.<namespace>.<name>`, `Credentials.accountName`)
 *   with role `operator`; its password and tokens live in the `<server>-operator-credentials`
 *   Secret, owned by the DittoServer. Stored credentials of another name (the reference
 *   operator's shared `k8s-operator`) are used as they are while DittoFS accepts them.
 * - Tokens are used until 80 % of their lifetime, then refreshed; a failed refresh falls back to
 *   a login with the stored password, a rejected login to re-provisioning (an existing account is
 *   replaced: its password is unknown). Nothing is refreshed on a pass that does not need it.
 * - DittoFS unreachable (or timing out, or 5xx) is `Unreachable`: nothing is written, the caller
 *   backs off. A refusal that retrying cannot fix (wrong admin password, missing admin Secret) is
 *   `Failed`, with a reason for the status condition.
 * - The Secret is written only when its content changes; tokens and passwords never appear in
 *   logs, errors or Events. A Secret of that name the DittoServer does not control is neither read
 *   nor written: `Failed` (`CredentialsSecretNotOwned`).
 */
import { Clock, Data, Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import type * as DittoServer from "../domain/DittoServer.ts"
import { referenceTo, secretText } from "../domain/Kubernetes.ts"
import { mapsEqual } from "../plan/Annotations.ts"
import * as Credentials from "../plan/Credentials.ts"
import { workloadNames } from "../plan/Naming.ts"
import { identityOf, isControlledBy } from "../plan/Ownership.ts"
import { type Credentials as DittoFsCredentials, DittoFs, type DittoFsError, isTransient, type Token } from "../services/DittoFs.ts"
import { Events } from "../services/Events.ts"
import { Kubernetes, type KubernetesError, Resources } from "../services/Kubernetes.ts"
import type { DittoFsSession } from "./AdapterExposure.ts"

/**
 * The session phase's outcome: a session and when its token is due for a refresh, or why there is
 * none.
 */
export type Outcome =
  | {
    readonly _tag: "Authenticated"
    readonly session: DittoFsSession
    /** Epoch milliseconds at which the token is due for a refresh. */
    readonly refreshAt: number
  }
  | { readonly _tag: "Unreachable"; readonly error: DittoFsError }
  | { readonly _tag: "Failed"; readonly reason: string; readonly message: string }

/** Where the admin credentials of a DittoServer are read from. */
export const adminSecretRef = (server: DittoServer.DittoServer): { readonly name: string; readonly passwordKey: string; readonly usernameKey?: string } => {
  const ref = server.spec.identity?.admin?.passwordSecretRef
  return ref === undefined
    ? { name: workloadNames(server.metadata.name).adminCredentials, passwordKey: "password", usernameKey: "username" }
    : { name: ref.name, passwordKey: ref.key }
}

/**
 * The DittoFS admin's credentials, from the Secret `adminSecretRef` names (its `username` key,
 * else the spec's admin username); a missing Secret or key is an `AuthFailure`.
 */
export const readAdminCredentials = Effect.fn("readAdminCredentials")(function*(server: DittoServer.DittoServer) {
  const kubernetes = yield* Kubernetes
  const ref = adminSecretRef(server)
  const adminSecret = yield* kubernetes.get(Resources.Secret, identityOf(server).namespace, ref.name).pipe(
    Effect.catchIf((error: KubernetesError) => error.reason === "NotFound", () =>
      Effect.fail(new AuthFailure({ reason: "AdminCredentialsMissing", message: `admin credentials Secret ${ref.name} not found` })))
  )
  const password = secretText(adminSecret, ref.passwordKey)
  if (password === undefined) {
    return yield* new AuthFailure({ reason: "AdminCredentialsMissing", message: `Secret ${ref.name} has no key ${ref.passwordKey}` })
  }
  const username = (ref.usernameKey === undefined ? undefined : secretText(adminSecret, ref.usernameKey))
    ?? server.spec.identity?.admin?.username ?? "admin"
  return { username, password: Redacted.make(password) } satisfies DittoFsCredentials
})

/** How soon a refresh that could not reach DittoFS is tried again while the token lasts. */
const retryRefreshAfterMillis = 30_000

const randomPassword = Effect.sync(() => Redacted.make(randomBytes(24).toString("base64url")))

/** A refusal that retrying will not fix: the condition says what to repair. */
export class AuthFailure extends Data.TaggedError("AuthFailure")<{ readonly reason: string; readonly message: string }> {}

/**
 * The session phase: reads or provisions the operator's DittoFS account, logs in or refreshes its
 * tokens when due, and keeps them in the operator credentials Secret.
 */
export const ensureSession = Effect.fn("ensureSession")(function*(server: DittoServer.DittoServer, baseUrl: string) {
  const kubernetes = yield* Kubernetes
  const dittofs = yield* DittoFs
  const events = yield* Events
  const identity = identityOf(server)
  const regarding = referenceTo(server)
  const now = yield* Clock.currentTimeMillis

  const observed = Option.getOrUndefined(
    yield* kubernetes.get(Resources.Secret, identity.namespace, Credentials.secretName(identity.name)).pipe(
      Effect.asSome,
      Effect.catchIf((error: KubernetesError) => error.reason === "NotFound", () => Effect.succeedNone)
    )
  )
  if (observed !== undefined && !isControlledBy(observed.metadata, identity)) {
    // someone else's Secret under our name: neither read its credentials nor write over it
    return {
      _tag: "Failed",
      reason: "CredentialsSecretNotOwned",
      message: `Secret ${observed.metadata.name} exists and is not controlled by this DittoServer`
    } satisfies Outcome
  }
  const stored = observed === undefined ? undefined : Credentials.fromSecret(observed)

  const save = (credentials: Credentials.Stored) => {
    const desired = Credentials.toSecret(identity, credentials, observed)
    if (observed === undefined) return Effect.asVoid(kubernetes.create(Resources.Secret, desired))
    if (mapsEqual(observed.data, desired.data)) return Effect.void
    return Effect.asVoid(kubernetes.update(Resources.Secret, desired))
  }

  const withToken = (credentials: Credentials.Stored, token: Token): Credentials.Stored => ({
    username: credentials.username,
    password: credentials.password,
    accessToken: token.access_token,
    refreshToken: token.refresh_token,
    serverUrl: baseUrl,
    issuedAt: now,
    expiresAt: now + token.expires_in * 1000
  })

  const authenticated = (credentials: Credentials.Stored, token: Token) =>
    Effect.as(save(withToken(credentials, token)), {
      _tag: "Authenticated",
      session: { baseUrl, accessToken: token.access_token },
      refreshAt: Credentials.refreshDueAt(now, now + token.expires_in * 1000)
    } satisfies Outcome)

  const provision = Effect.gen(function*() {
    const admin = yield* dittofs.login(baseUrl, yield* readAdminCredentials(server))
    const account = { username: Credentials.accountName(identity), password: yield* randomPassword, role: "operator" as const }
    yield* dittofs.createUser(baseUrl, admin.access_token, account).pipe(
      Effect.catchIf((error: DittoFsError) => error.reason === "Conflict", () =>
        dittofs.deleteUser(baseUrl, admin.access_token, account.username).pipe(
          Effect.andThen(dittofs.createUser(baseUrl, admin.access_token, account))
        ))
    )
    const token = yield* dittofs.login(baseUrl, account)
    const outcome = yield* authenticated(account, token)
    yield* events.emit(regarding, {
      type: "Normal",
      reason: "AuthProvisioned",
      message: `Provisioned DittoFS operator account ${account.username}`
    })
    return outcome
  })

  const login = (credentials: Credentials.Stored) =>
    dittofs.login(baseUrl, credentials).pipe(
      Effect.flatMap((token) => authenticated(credentials, token)),
      Effect.catchIf((error) => error._tag === "DittoFsError" && error.reason === "Unauthorized", () => provision)
    )

  /** A token that has not expired yet is used while its refresh cannot reach DittoFS. */
  const stillValid = (credentials: Credentials.Stored): Option.Option<Outcome> =>
    credentials.accessToken !== undefined && credentials.expiresAt !== undefined && credentials.expiresAt > now
      ? Option.some({
        _tag: "Authenticated",
        session: { baseUrl, accessToken: credentials.accessToken },
        refreshAt: Math.min(credentials.expiresAt, now + retryRefreshAfterMillis)
      })
      : Option.none()

  const step = Credentials.nextStep(stored, baseUrl, now)
  const attempt: Effect.Effect<Outcome, DittoFsError | KubernetesError | AuthFailure, Kubernetes> = (() => {
    switch (step._tag) {
      case "Use":
        return Effect.succeed({
          _tag: "Authenticated",
          session: { baseUrl, accessToken: step.accessToken },
          refreshAt: step.refreshAt
        } satisfies Outcome)
      case "Refresh":
        return dittofs.refresh(baseUrl, step.refreshToken).pipe(
          Effect.flatMap((token) => authenticated(step.credentials, token)),
          Effect.catchIf((error) => error._tag === "DittoFsError" && !isTransient(error), () => login(step.credentials)),
          Effect.catchTag("DittoFsError", (error) =>
            Effect.fromOption(stillValid(step.credentials)).pipe(Effect.mapError(() => error)))
        )
      case "Login":
        return login(step.credentials)
      case "Provision":
        return provision
    }
  })()

  return yield* attempt.pipe(
    Effect.catchTags({
      DittoFsError: (error) =>
        Effect.succeed<Outcome>(
          isTransient(error)
            ? { _tag: "Unreachable", error }
            : { _tag: "Failed", reason: "AuthenticationFailed", message: `${error.operation}: ${error.reason}: ${error.message}` }
        ),
      AuthFailure: (error) => Effect.succeed<Outcome>({ _tag: "Failed", reason: error.reason, message: error.message })
    })
  )
})


/**
 * Drops the stored tokens (keeping the account's password) after DittoFS refused them, so the
 * next pass logs in again instead of using them until their recorded expiry.
 */
export const forgetTokens = Effect.fn("forgetTokens")(function*(server: DittoServer.DittoServer) {
  const kubernetes = yield* Kubernetes
  const identity = identityOf(server)
  const secret = yield* kubernetes.get(Resources.Secret, identity.namespace, Credentials.secretName(identity.name))
  const stored = Credentials.fromSecret(secret)
  if (stored === undefined || stored.accessToken === undefined) return
  yield* kubernetes.update(
    Resources.Secret,
    Credentials.toSecret(identity, { username: stored.username, password: stored.password }, secret)
  )
})
