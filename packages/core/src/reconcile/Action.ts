/**
 * What a reconcile asks of the controller once it is done (kube-rs `Action`), and what a failed
 * one asks for (its `error_policy`): the shared vocabulary of the core and the runtime.
 *
 * Contract:
 * - `Requeue(after)` runs the object again after `after`; `AwaitChange` waits for its next change.
 * - `shortest` combines the actions of a pass's phases: the earliest requeue wins, and
 *   `AwaitChange` only when no phase asked for a requeue.
 * - A failure is retried after the next delay of the key's own exponential backoff, capped by
 *   the `Retry` its error policy chose; the next success resets that backoff.
 */
import { Duration } from "effect"

/**
 * What a reconcile asks of the controller: run the object again after a delay, or wait for its next
 * change.
 */
export type Action =
  | { readonly _tag: "Requeue"; readonly after: Duration.Duration }
  | { readonly _tag: "AwaitChange" }

/** Run the object again after `after`. */
export const requeue = (after: Duration.Duration): Action => ({ _tag: "Requeue", after })

/** Wait for the object's next change (or the controller's resync). */
export const awaitChange: Action = { _tag: "AwaitChange" }

/** The earliest of several actions (`AwaitChange` is later than any requeue). */
export const shortest = (actions: ReadonlyArray<Action>): Action =>
  actions.reduce<Action>((earliest, action) => {
    if (action._tag === "AwaitChange") return earliest
    if (earliest._tag === "AwaitChange") return action
    return Duration.isLessThan(action.after, earliest.after) ? action : earliest
  }, awaitChange)

/** How a failed reconcile is retried: the key's exponential backoff, capped at `cap`. */
export interface Retry {
  readonly cap: Duration.Duration
}

/** A retry whose backoff is capped at `cap`. */
export const retryWithin = (cap: Duration.Duration): Retry => ({ cap })

/** The retry of a failure nobody classified (a defect): the reference's 5-minute cap. */
export const defaultRetry: Retry = retryWithin(Duration.minutes(5))

/** The most urgent of several retries: the smallest cap. */
export const mostUrgent = (retries: ReadonlyArray<Retry>): Retry =>
  retries.reduce((urgent, retry) => (Duration.isLessThan(retry.cap, urgent.cap) ? retry : urgent), defaultRetry)
