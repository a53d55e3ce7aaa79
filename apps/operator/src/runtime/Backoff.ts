/**
 * Backoff as named `Schedule`s, stepped one failure at a time by a stateful `Backoff` (one per
 * key that fails; a success drops it, so the next failure starts again from the first delay).
 *
 * Contract: `next` returns the schedule's next delay; a schedule that ends keeps its last delay.
 */
import { Duration, Effect, Pull, Ref, Schedule } from "effect"

/** A failing reconcile: 2 s, 4 s, 8 s, … capped at 5 minutes (the reference's 2 s → 5 min). */
export const reconcileBackoff: Schedule.Schedule<Duration.Duration> = Schedule.exponential("2 seconds").pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.minutes(5))))
)

/** A failing list or watch: 1 s doubling to 30 s. */
export const relistBackoff: Schedule.Schedule<Duration.Duration> = Schedule.exponential("1 second").pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(30))))
)

export interface Backoff {
  /** The delay before the next attempt. */
  readonly next: Effect.Effect<Duration.Duration>
}

export const make = <Out>(schedule: Schedule.Schedule<Out>): Effect.Effect<Backoff> =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(schedule)
    const last = yield* Ref.make(Duration.zero)
    return {
      next: Effect.gen(function*() {
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const delay = yield* step(now, undefined).pipe(
          Effect.map(([, delay]) => delay),
          Pull.catchDone(() => Ref.get(last))
        )
        yield* Ref.set(last, delay)
        return delay
      })
    }
  })

/** The first `count` delays of a schedule (for documentation and tests). */
export const delays = <Out>(schedule: Schedule.Schedule<Out>, count: number): Effect.Effect<ReadonlyArray<Duration.Duration>> =>
  Effect.flatMap(make(schedule), (backoff) => Effect.forEach(Array.from({ length: count }), () => backoff.next))
