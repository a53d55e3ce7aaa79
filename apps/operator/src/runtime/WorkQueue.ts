/**
 * A keyed work queue for reconciles (client-go's workqueue, kube-rs's runner).
 *
 * Contract:
 * - Requests are keyed (e.g. `namespace/name`) and coalesce: a key queued twice runs once.
 * - Never two reconciles of one key at once: a key added while it runs is marked dirty and runs
 *   again right after.
 * - At most `concurrency` reconciles run at a time, across keys.
 * - `addAfter(key, delay)` schedules a key; of several schedules the earliest wins.
 * - The queue knows nothing of what a key means: the worker's result, an `Action` of the core,
 *   decides what follows — `Requeue(after)` schedules the key again, `AwaitChange` leaves it
 *   until the next `add`, and a failure schedules it after the next delay of the key's own
 *   backoff (the named Schedule `Backoff.reconcileBackoff` by default), capped by the `Retry` the
 *   caller's error policy chose for that error; the next success resets the backoff.
 * Time is Effect's Clock: tests drive it with `TestClock`.
 */
import { Action } from "@dittofs-operator/core"
import { Cause, Duration, Effect, FiberMap, Option, Queue, Ref, type Schedule, type Scope } from "effect"
import * as Backoff from "./Backoff.ts"

export type Outcome = Action.Action

/** Decides how a failed run is retried (kube-rs `error_policy`). */
export type ErrorPolicy<E> = (error: E) => Action.Retry

export interface WorkQueueOptions {
  readonly concurrency: number
  /** The backoff of a failing key (default `Backoff.reconcileBackoff`). */
  readonly backoff?: Schedule.Schedule<unknown>
}

interface State<K> {
  readonly queued: ReadonlySet<K>
  readonly running: ReadonlySet<K>
  readonly dirty: ReadonlySet<K>
  /** Due time (epoch ms) of each scheduled key. */
  readonly scheduled: ReadonlyMap<K, number>
  /** The backoff of each key whose last run failed. */
  readonly failures: ReadonlyMap<K, Backoff.Backoff>
}

const without = <K>(set: ReadonlySet<K>, key: K): ReadonlySet<K> => {
  const next = new Set(set)
  next.delete(key)
  return next
}

export interface WorkQueue<K> {
  /** Queues a key now (coalesced with a queued or running one). */
  readonly add: (key: K) => Effect.Effect<void>
  /** Queues a key after a delay; an earlier schedule of the same key wins. */
  readonly addAfter: (key: K, delay: Duration.Duration) => Effect.Effect<void>
  /** Forgets a key: its schedule is cancelled and its backoff reset (the object is gone). */
  readonly forget: (key: K) => Effect.Effect<void>
  /** Runs the workers until interrupted. */
  readonly run: <E, R>(
    work: (key: K) => Effect.Effect<Outcome, E, R>,
    errorPolicy?: ErrorPolicy<E>
  ) => Effect.Effect<never, never, R>
  /** Keys waiting to run now, and keys running (for metrics and tests). */
  readonly depth: Effect.Effect<{ readonly queued: number; readonly running: number; readonly scheduled: number }>
}

export const make = <K>(options: WorkQueueOptions): Effect.Effect<WorkQueue<K>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const backoff = options.backoff ?? Backoff.reconcileBackoff
    const ready = yield* Queue.unbounded<K>()
    const timers = yield* FiberMap.make<K>()
    const state = yield* Ref.make<State<K>>({
      queued: new Set(),
      running: new Set(),
      dirty: new Set(),
      scheduled: new Map(),
      failures: new Map()
    })

    const add = (key: K): Effect.Effect<void> =>
      Ref.modify(state, (current): readonly [boolean, State<K>] => {
        if (current.running.has(key)) return [false, { ...current, dirty: new Set(current.dirty).add(key) }]
        if (current.queued.has(key)) return [false, current]
        return [true, { ...current, queued: new Set(current.queued).add(key) }]
      }).pipe(Effect.flatMap((offer) => (offer ? Effect.asVoid(Queue.offer(ready, key)) : Effect.void)))

    const addAfter = (key: K, delay: Duration.Duration): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (Duration.toMillis(delay) <= 0) return yield* add(key)
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const due = now + Duration.toMillis(delay)
        const replace = yield* Ref.modify(state, (current): readonly [boolean, State<K>] => {
          const existing = current.scheduled.get(key)
          if (existing !== undefined && existing <= due) return [false, current]
          return [true, { ...current, scheduled: new Map(current.scheduled).set(key, due) }]
        })
        if (!replace) return
        yield* FiberMap.run(
          timers,
          key,
          Effect.sleep(delay).pipe(
            Effect.andThen(Ref.update(state, (current) => {
              const scheduled = new Map(current.scheduled)
              scheduled.delete(key)
              return { ...current, scheduled }
            })),
            Effect.andThen(add(key))
          )
        )
      })

    const forget = (key: K): Effect.Effect<void> =>
      FiberMap.remove(timers, key).pipe(
        Effect.andThen(Ref.update(state, (current) => {
          const scheduled = new Map(current.scheduled)
          scheduled.delete(key)
          const failures = new Map(current.failures)
          failures.delete(key)
          return { ...current, scheduled, failures }
        }))
      )

    const worker = <E, R>(work: (key: K) => Effect.Effect<Outcome, E, R>, errorPolicy: ErrorPolicy<E>) =>
      Effect.gen(function*() {
        const key = yield* Queue.take(ready)
        yield* Ref.update(state, (current) => ({
          ...current,
          queued: without(current.queued, key),
          running: new Set(current.running).add(key)
        }))
        const result = yield* Effect.exit(work(key))
        if (result._tag === "Failure") {
          const existing = (yield* Ref.get(state)).failures.get(key)
          const keyBackoff = existing ?? (yield* Backoff.make(backoff))
          if (existing === undefined) {
            yield* Ref.update(state, (current) => ({ ...current, failures: new Map(current.failures).set(key, keyBackoff) }))
          }
          const retry = Option.match(Cause.findErrorOption(result.cause), {
            onNone: () => Action.defaultRetry,
            onSome: errorPolicy
          })
          const delay = Duration.min(yield* keyBackoff.next, retry.cap)
          yield* Effect.logWarning("reconcile failed; backing off", result.cause).pipe(
            Effect.annotateLogs({ key: String(key), retryIn: Duration.format(delay) })
          )
          yield* addAfter(key, delay)
        } else {
          yield* Ref.update(state, (current) => {
            const failures = new Map(current.failures)
            failures.delete(key)
            return { ...current, failures }
          })
          if (result.value._tag === "Requeue") yield* addAfter(key, result.value.after)
        }
        const again = yield* Ref.modify(state, (current): readonly [boolean, State<K>] => [
          current.dirty.has(key),
          { ...current, running: without(current.running, key), dirty: without(current.dirty, key) }
        ])
        if (again) yield* add(key)
      }).pipe(Effect.forever)

    return {
      add,
      addAfter,
      forget,
      run: (work, errorPolicy = () => Action.defaultRetry) =>
        Effect.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker(work, errorPolicy)), {
          concurrency: "unbounded",
          discard: true
        }).pipe(Effect.andThen(Effect.never)),
      depth: Effect.map(Ref.get(state), (current) => ({
        queued: current.queued.size,
        running: current.running.size,
        scheduled: current.scheduled.size
      }))
    }
  })
