/**
 * One pass over a DittoServer: is its DittoFS API answering, is the operator authenticated, are
 * its adapters exposed — then the status, written only when it changed.
 *
 * Contract:
 * - Polling is gated on the DittoFS health endpoint answering (not on a ready replica: a control
 *   plane without nodes has none, and an API that answers is the real precondition).
 * - DittoFS unreachable, at health, auth or poll time: the conditions say so, nothing else is
 *   changed, and the pass fails with `DittoFsUnavailable` so the controller backs off.
 * - A permanent auth failure (wrong admin password, missing admin Secret) is a False
 *   `Authenticated` condition and a slow retry, not a hot loop.
 * - A poll refused with 401 drops the stored tokens and fails the pass (`TokenRejected`), so the
 *   next pass, after a short backoff, logs in again.
 * - Changes that could not be applied fail the pass (`ApplyFailed`) after everything else was
 *   applied and the status written.
 * - Otherwise the next pass is due at the polling interval, or earlier when the token is due
 *   for a refresh.
 */
import { Clock, Data, Duration, Effect, Option, Result } from "effect"
import * as DittoServer from "../domain/DittoServer.ts"
import * as Status from "../plan/Status.ts"
import { DittoFs, type DittoFsError, isTransient } from "../services/DittoFs.ts"
import { timestamp } from "../domain/Kubernetes.ts"
import { Kubernetes, Resources } from "../services/Kubernetes.ts"
import { type Action, requeue } from "./Action.ts"
import { reconcileAdapterExposure } from "./AdapterExposure.ts"
import type { FailedChange } from "./Apply.ts"
import { ensureSession, forgetTokens } from "./Auth.ts"

/** Annotation on a DittoServer that points the operator at its DittoFS API from outside the cluster. */
export const apiUrlAnnotation = "dittofs.io/api-url"

export interface DittoServerOptions {
  /** The DittoFS API URL for every server without the annotation (an operator flag). */
  readonly apiUrlOverride?: string
}

const describeDittoFsError = (error: DittoFsError): string => `${error.operation}: ${error.reason}: ${error.message}`

export class DittoFsUnavailable extends Data.TaggedError("DittoFsUnavailable")<{ readonly error: DittoFsError }> {
  override get message(): string {
    return `DittoFS unavailable: ${describeDittoFsError(this.error)}`
  }
}

/** DittoFS refused the operator's token; it was dropped and the next pass logs in again. */
export class TokenRejected extends Data.TaggedError("TokenRejected")<{ readonly error: DittoFsError }> {
  override get message(): string {
    return `DittoFS refused the operator's token: ${describeDittoFsError(this.error)}`
  }
}

export class ApplyFailed extends Data.TaggedError("ApplyFailed")<{ readonly failures: ReadonlyArray<FailedChange> }> {
  override get message(): string {
    return this.failures.map((f) => `${f.change} ${f.kind} ${f.name}: ${f.error.reason}: ${f.error.message}`).join("; ")
  }
}

/** How long a permanent authentication failure waits before it is tried again. */
export const authFailureRetry = Duration.minutes(5)

export const apiUrl = (server: DittoServer.DittoServer, options: DittoServerOptions = {}): string =>
  server.metadata.annotations?.[apiUrlAnnotation]
    ?? options.apiUrlOverride
    ?? `http://${server.metadata.name}-api.${server.metadata.namespace ?? "default"}.svc.cluster.local:${server.spec.controlPlane.port}`


const unreachable = (error: DittoFsError): Status.ConditionFact => ({
  type: "DittoFSReachable",
  status: "False",
  reason: "APIUnreachable",
  message: describeDittoFsError(error)
})

export const reconcileDittoServer = Effect.fn("reconcileDittoServer")(function*(
  server: DittoServer.DittoServer,
  options: DittoServerOptions = {}
) {
  const kubernetes = yield* Kubernetes
  const dittofs = yield* DittoFs
  const now = yield* Clock.currentTimeMillis
  const baseUrl = apiUrl(server, options)

  const writeStatus = (facts: ReadonlyArray<Status.ConditionFact>, adapters: Option.Option<ReadonlyArray<DittoServer.AdapterStatus>>) => {
    const writeOver = (observed: DittoServer.DittoServer) => {
      const next = Status.next(observed.status, { facts, adapters, generation: observed.metadata.generation, now: timestamp(now) })
      return Status.equal(observed.status, next)
        ? Effect.void
        : Effect.asVoid(kubernetes.updateStatus(Resources.DittoServer, { ...observed, status: next }))
    }
    // The object handed to the pass may be a cache's view, older than this operator's own last
    // status write: on a conflict, compare with and write over the current object instead.
    return writeOver(server).pipe(
      Effect.catchIf((error) => error.reason === "Conflict", () =>
        Effect.flatMap(
          kubernetes.get(Resources.DittoServer, server.metadata.namespace ?? "default", server.metadata.name),
          writeOver
        ))
    )
  }

  const health = yield* Effect.result(dittofs.health(baseUrl))
  if (Result.isFailure(health)) {
    yield* writeStatus([unreachable(health.failure)], Option.none())
    return yield* new DittoFsUnavailable({ error: health.failure })
  }
  const reachable: Status.ConditionFact = { type: "DittoFSReachable", status: "True", reason: "HealthCheckSucceeded", message: `${baseUrl} answers` }

  const auth = yield* ensureSession(server, baseUrl)
  switch (auth._tag) {
    case "Unreachable":
      yield* writeStatus([unreachable(auth.error)], Option.none())
      return yield* new DittoFsUnavailable({ error: auth.error })
    case "Failed":
      yield* writeStatus([reachable, { type: "Authenticated", status: "False", reason: auth.reason, message: auth.message }], Option.none())
      return requeue(authFailureRetry) satisfies Action
    case "Authenticated":
      break
  }
  const authenticated: Status.ConditionFact = {
    type: "Authenticated",
    status: "True",
    reason: "AuthenticationSucceeded",
    message: "Authenticated as the operator account"
  }

  const exposure = yield* reconcileAdapterExposure(server, auth.session)
  if (Result.isFailure(exposure.poll)) {
    const error = exposure.poll.failure
    const transient = isTransient(error)
    yield* writeStatus([
      transient ? unreachable(error) : reachable,
      authenticated,
      { type: "AdaptersSynced", status: "False", reason: "PollFailed", message: describeDittoFsError(error) }
    ], Option.none())
    if (transient) return yield* new DittoFsUnavailable({ error })
    if (error.reason === "Unauthorized") {
      // the server no longer accepts the token (restarted with a new signing key, account reset):
      // log in again on the next pass, soon
      yield* forgetTokens(server)
      return yield* new TokenRejected({ error })
    }
    return exposure.action
  }
  const { active, conflicts } = exposure.plan.active
  const synced: Status.ConditionFact = exposure.failures.length > 0
    ? {
      type: "AdaptersSynced",
      status: "False",
      reason: "ApplyFailed",
      message: exposure.failures.map((f) => `${f.change} ${f.kind} ${f.name}: ${f.error.reason}`).join("; ")
    }
    : conflicts.length > 0
    ? { type: "AdaptersSynced", status: "False", reason: "AdapterConflicts", message: conflicts.map((c) => c.message).join("; ") }
    : { type: "AdaptersSynced", status: "True", reason: "AdaptersSynced", message: `${active.length} adapter(s) exposed` }
  yield* writeStatus([reachable, authenticated, synced], exposure.adapters)
  if (exposure.failures.length > 0) return yield* new ApplyFailed({ failures: exposure.failures })

  const untilRefresh = Duration.millis(Math.max(0, auth.refreshAt - now))
  const interval = DittoServer.pollingInterval(server.spec)
  return requeue(Duration.min(interval, untilRefresh)) satisfies Action
})
