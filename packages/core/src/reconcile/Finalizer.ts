/**
 * The DittoServer's finalizer (`dittofs.dittofs.com/finalizer`): set on the first pass, and on
 * deletion it removes the operator's account for this server from DittoFS before letting go.
 *
 * Contract:
 * - `Finalizer.ensure` adds the finalizer once (an update with resourceVersion) and returns the
 *   object as written; an object already carrying it is returned as is, without a request; a
 *   stale view (a conflict) is re-read and handled the same way.
 * - `finalize`, for a DittoServer marked for deletion that carries the finalizer: the status
 *   says `Deleting`; when the operator ever provisioned its account (the credentials Secret
 *   exists), it logs in as the admin and deletes the account the Secret names (this server's
 *   own: other servers' accounts on the same DittoFS are left alone; already gone counts as done). A
 *   failure is retried every `cleanupRetry` until `cleanupTimeout` after the deletion mark; then
 *   a Warning Event `CleanupTimeout` says what could not be done and the finalizer goes anyway —
 *   deletion is never blocked for ever. Removing the finalizer re-reads the object on a conflict
 *   (the Deleting status write moved its resourceVersion), so it never fails on a stale version.
 * - The garbage collector removes the owned objects once the DittoServer is gone; nothing else is
 *   deleted here.
 */
import { Clock, Duration, Effect, Option } from "effect"
import type * as DittoServer from "../domain/DittoServer.ts"
import { referenceTo } from "../domain/Kubernetes.ts"
import * as ObjectRef from "../domain/ObjectRef.ts"
import * as Credentials from "../plan/Credentials.ts"
import { DittoFs, type DittoFsError } from "../services/DittoFs.ts"
import { Events } from "../services/Events.ts"
import { Kubernetes, type KubernetesError, Resources } from "../services/Kubernetes.ts"
import { type Action, awaitChange, requeue } from "./Action.ts"
import { type AuthFailure, readAdminCredentials } from "./Auth.ts"

/** The operator's finalizer on a DittoServer. */
export const name = "dittofs.dittofs.com/finalizer"

/** How long deletion waits for the account cleanup at most (the reference's 60 s). */
export const cleanupTimeout = Duration.seconds(60)

/** How soon a failed cleanup is tried again. */
export const cleanupRetry = Duration.seconds(5)

/** Whether the server carries the operator's finalizer. */
export const has = (server: DittoServer.DittoServer): boolean =>
  (server.metadata.finalizers ?? []).includes(name)

/**
 * Adds the finalizer once (an update with the resourceVersion, retried over a fresh read on a
 * conflict) and returns the server as written.
 */
export const ensure = Effect.fn("ensureFinalizer")(function*(server: DittoServer.DittoServer) {
  const kubernetes = yield* Kubernetes
  const withFinalizer = (current: DittoServer.DittoServer) =>
    has(current) ? Effect.succeed(current) : kubernetes.update(Resources.DittoServer, {
      ...current,
      metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), name] }
    })
  const ref = ObjectRef.of(server.metadata)
  return yield* withFinalizer(server).pipe(
    Effect.catchIf((error) => error.reason === "Conflict", () =>
      Effect.flatMap(kubernetes.get(Resources.DittoServer, ref.namespace, ref.name), withFinalizer))
  )
})

/** Why the account could not be deleted, for the Event. */
type CleanupFailure = DittoFsError | KubernetesError | AuthFailure

const describeFailure = (failure: CleanupFailure): string => `${failure.reason}: ${failure.message}`

const removeFinalizer = (server: DittoServer.DittoServer) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    const without = (current: DittoServer.DittoServer) => ({
      ...current,
      metadata: { ...current.metadata, finalizers: (current.metadata.finalizers ?? []).filter((entry) => entry !== name) }
    })
    const ref = ObjectRef.of(server.metadata)
    yield* kubernetes.update(Resources.DittoServer, without(server)).pipe(
      Effect.catchIf((error) => error.reason === "Conflict", () =>
        kubernetes.get(Resources.DittoServer, ref.namespace, ref.name).pipe(
          // already let go of (another writer): nothing to do
          Effect.filterOrElse((current) => !has(current), (current) => kubernetes.update(Resources.DittoServer, without(current)))
        )),
      Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeed(server))
    )
  })

/** Deletes the operator's account as the admin; `None` when there is nothing to delete. */
const deleteOperatorAccount = (server: DittoServer.DittoServer, baseUrl: string) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    const dittofs = yield* DittoFs
    const ref = ObjectRef.of(server.metadata)
    const credentials = yield* kubernetes.get(Resources.Secret, ref.namespace, Credentials.secretName(ref.name)).pipe(
      Effect.asSome,
      Effect.catchIf((error: KubernetesError) => error.reason === "NotFound", () => Effect.succeedNone)
    )
    if (Option.isNone(credentials)) return Option.none<string>()
    const username = Credentials.fromSecret(credentials.value)?.username ?? Credentials.accountName(ref)
    const admin = yield* readAdminCredentials(server)
    const token = yield* dittofs.login(baseUrl, admin)
    yield* dittofs.deleteUser(baseUrl, token.access_token, username).pipe(
      Effect.catchIf((error) => error.reason === "NotFound", () => Effect.void)
    )
    return Option.some(username)
  })

/**
 * The deletion pass: removes the operator's DittoFS account as the admin, retrying every 5 s; after
 * 60 s it gives up with a `CleanupTimeout` Event. Then the finalizer goes, so deletion is never
 * blocked for ever.
 */
export const finalize = Effect.fn("finalize")(function*(
  server: DittoServer.DittoServer,
  baseUrl: string
): Effect.fn.Return<Action, never, Kubernetes | DittoFs | Events> {
  if (!has(server)) return awaitChange
  const events = yield* Events
  const regarding = referenceTo(server)
  const cleanup = yield* Effect.result(deleteOperatorAccount(server, baseUrl))
  if (cleanup._tag === "Failure") {
    const now = yield* Clock.currentTimeMillis
    const markedAt = new Date(server.metadata.deletionTimestamp ?? "").getTime()
    const waited = Number.isFinite(markedAt) ? Duration.millis(Math.max(0, now - markedAt)) : cleanupTimeout
    if (Duration.isLessThan(waited, cleanupTimeout)) {
      yield* Effect.logWarning("could not delete the DittoFS operator account yet; retrying").pipe(
        Effect.annotateLogs({ server: ObjectRef.keyOf(server), reason: describeFailure(cleanup.failure) })
      )
      return requeue(Duration.min(cleanupRetry, Duration.subtract(cleanupTimeout, waited)))
    }
    yield* events.emit(regarding, {
      type: "Warning",
      reason: "CleanupTimeout",
      message: `Gave up deleting DittoFS account ${Credentials.accountName(ObjectRef.of(server.metadata))} after ${Duration.format(cleanupTimeout)}: ${describeFailure(cleanup.failure)}`
    })
  } else if (Option.isSome(cleanup.success)) {
    yield* events.emit(regarding, {
      type: "Normal",
      reason: "OperatorAccountDeleted",
      message: `Deleted DittoFS account ${cleanup.success.value}`
    })
  }
  const removed = yield* Effect.result(removeFinalizer(server))
  if (removed._tag === "Failure") {
    yield* Effect.logWarning("could not remove the finalizer; retrying").pipe(
      Effect.annotateLogs({ server: ObjectRef.keyOf(server), reason: removed.failure.reason })
    )
    return requeue(cleanupRetry)
  }
  return awaitChange
})
