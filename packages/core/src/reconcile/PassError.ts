/**
 * Why a DittoServer pass failed — one union of tagged errors — and the pure `errorPolicy` that
 * decides how soon the controller tries again.
 *
 * Contract:
 * - Every phase reports its failures as `PhaseError`s; a pass with any fails once, with
 *   `PassFailed` carrying them all, after every phase ran and the status was written.
 * - `errorPolicy` is total and pure. DittoFS unreachable (or refusing a token) is retried within
 *   one polling interval, so recovery after an outage takes at most one interval; a permanent
 *   authentication failure and Kubernetes' own failures back off up to 5 minutes; a write refused
 *   for a stale resourceVersion is retried within a second, over fresh reads. A pass with several
 *   failures is retried as its most urgent one asks.
 * - Messages never carry a token or a password (the errors they wrap are scrubbed at the edge).
 * - An object of one of our names that belongs to something else is not an error: it is reported
 *   as a condition and an Event, and never retried faster than the polling interval.
 */
import { Data, Duration } from "effect"
import type { DittoFsError } from "../services/DittoFs.ts"
import type * as Kubernetes from "../services/Kubernetes.ts"
import { mostUrgent, type Retry, retryWithin } from "./Action.ts"
import type { FailedChange } from "./Apply.ts"

const describeDittoFsError = (error: DittoFsError): string => `${error.operation}: ${error.reason}: ${error.message}`

/** DittoFS did not answer (down, timing out, 5xx): nothing was changed on its account. */
export class DittoFsUnavailable extends Data.TaggedError("DittoFsUnavailable")<{
  readonly error: DittoFsError
  readonly pollingInterval: Duration.Duration
}> {
  override get message(): string {
    return `DittoFS unavailable: ${describeDittoFsError(this.error)}`
  }
}

/** DittoFS refused the operator's token; it was dropped and the next pass logs in again. */
export class TokenRejected extends Data.TaggedError("TokenRejected")<{
  readonly error: DittoFsError
  readonly pollingInterval: Duration.Duration
}> {
  override get message(): string {
    return `DittoFS refused the operator's token: ${describeDittoFsError(this.error)}`
  }
}

/** A refusal retrying cannot fix by itself: wrong admin password, missing admin Secret. */
export class AuthenticationFailed extends Data.TaggedError("AuthenticationFailed")<{
  readonly reason: string
  readonly detail: string
}> {
  override get message(): string {
    return `authentication with DittoFS failed: ${this.reason}: ${this.detail}`
  }
}

/** Reading the cluster failed: nothing was planned from it, nothing written. */
export class ObserveFailed extends Data.TaggedError("ObserveFailed")<{ readonly error: Kubernetes.KubernetesError }> {
  override get message(): string {
    return `${this.error.operation}: ${this.error.reason}: ${this.error.message}`
  }
}

/** Some changes could not be written; the others were. */
export class ApplyFailed extends Data.TaggedError("ApplyFailed")<{ readonly failures: ReadonlyArray<FailedChange> }> {
  override get message(): string {
    return this.failures.map((f) => `${f.change} ${f.kind} ${f.name}: ${f.error.reason}: ${f.error.message}`).join("; ")
  }
}

/** The ways a phase of the pass can fail. */
export type PhaseError = DittoFsUnavailable | TokenRejected | AuthenticationFailed | ObserveFailed | ApplyFailed

/** A pass whose phases failed; every phase ran and the status was written first. */
export class PassFailed extends Data.TaggedError("PassFailed")<{ readonly errors: ReadonlyArray<PhaseError> }> {
  override get message(): string {
    return this.errors.map((error) => `${error._tag}: ${error.message}`).join("; ")
  }
}

/** The ways a pass can fail: a phase's error, or several gathered in `PassFailed`. */
export type PassError = PhaseError | PassFailed

/** How long a write refused for a stale resourceVersion waits at most (it is retried over fresh reads). */
export const conflictRetry = retryWithin(Duration.seconds(1))

/** The retry cap of a permanent failure, and of Kubernetes failing. */
export const slowRetry = retryWithin(Duration.minutes(5))

const retryOfKubernetes = (reason: Kubernetes.ErrorReason): Retry => (reason === "Conflict" ? conflictRetry : slowRetry)

/**
 * How soon a failure is retried: within the polling interval when DittoFS is down or refused a
 * token, within a second on a stale write, else with the slow backoff.
 */
export const errorPolicy = (error: PassError): Retry => {
  switch (error._tag) {
    case "DittoFsUnavailable":
    case "TokenRejected":
      return retryWithin(error.pollingInterval)
    case "AuthenticationFailed":
      return slowRetry
    case "ObserveFailed":
      return retryOfKubernetes(error.error.reason)
    case "ApplyFailed":
      return mostUrgent(error.failures.map((failure) => retryOfKubernetes(failure.error.reason)))
    case "PassFailed":
      return mostUrgent(error.errors.map(errorPolicy))
  }
}
