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
 * - `run` may be interrupted (a leader that lost its Lease stops its workers): a key whose run
 *   was interrupted is queued again, so the next `run` (the next term) picks it up.
 * - `drain(timeout)`: no key starts any more; it returns the moment the last run in flight ends
 *   (a signal, not a poll), or after `timeout`.
 * - Its metrics carry client-go's names with label `name`: `workqueue_depth`, `_adds_total`,
 *   `_retries_total`, `_queue_duration_seconds`, `_work_duration_seconds`, and
 *   `controller_runtime_active_workers{controller}`.
 * Time is Effect's Clock: tests drive it with `TestClock`.
 */
import { Action } from "@dittofs-operator/core"
import { Cause, Deferred, Duration, Effect, FiberMap, Option, Queue, Ref, type Schedule, type Scope } from "effect"
import * as Backoff from "./Backoff.ts"
import * as Metrics from "./Metrics.ts"

export type Outcome = Action.Action

/** Decides how a failed run is retried (kube-rs `error_policy`). */
export type ErrorPolicy<E> = (error: E) => Action.Retry

export interface WorkQueueOptions {
  readonly concurrency: number
  /** The backoff of a failing key (default `Backoff.reconcileBackoff`). */
  readonly backoff?: Schedule.Schedule<unknown>
  /** The `name` label of its metrics (default `default`). */
  readonly name?: string
}

interface State<K> {
  readonly queued: ReadonlySet<K>
  readonly running: ReadonlySet<K>
  readonly dirty: ReadonlySet<K>
  /** Due time (epoch ms) of each scheduled key. */
  readonly scheduled: ReadonlyMap<K, number>
  /** The backoff of each key whose last run failed. */
  readonly failures: ReadonlyMap<K, Backoff.Backoff>
  /** When each queued key was queued (epoch ms), for `workqueue_queue_duration_seconds`. */
  readonly queuedAt: ReadonlyMap<K, number>
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
  /**
   * Graceful stop: workers take no more keys; waits until no key runs, at most `timeout`.
   * (Interrupting `run` afterwards stops the rest.)
   */
  readonly drain: (timeout: Duration.Duration) => Effect.Effect<void>
  /** Keys waiting to run now, and keys running (for metrics and tests). */
  readonly depth: Effect.Effect<{ readonly queued: number; readonly running: number; readonly scheduled: number }>
}

/** A failure's reason for logs: the tagged error's `_tag` and `reason`, else what failed. */
export const reasonOf = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.findErrorOption(cause), {
    onNone: () => (Cause.hasInterrupts(cause) ? "Interrupted" : "Defect"),
    onSome: (error) => {
      if (typeof error !== "object" || error === null) return String(error)
      const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : "Error"
      return "reason" in error && typeof error.reason === "string" ? `${tag}.${error.reason}` : tag
    }
  })

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
      failures: new Map(),
      queuedAt: new Map()
    })
    const labels = { name: options.name ?? "default" }
    const draining = yield* Ref.make(false)
    /** Completed when, draining, the last run in flight ends: `drain` returns at that moment. */
    const drained = yield* Deferred.make<void>()
    /** After a run left `running`: signals a drain waiting for the last one. */
    const ended = (runningNow: number) =>
      Effect.flatMap(Ref.get(draining), (isDraining) =>
        isDraining && runningNow === 0 ? Deferred.succeed(drained, undefined) : Effect.void)
    const now = Effect.clockWith((clock) => clock.currentTimeMillis)
    const gauges = Effect.flatMap(Ref.get(state), (current) =>
      Effect.andThen(
        Metrics.record(Metrics.workqueueDepth, labels, current.queued.size),
        Metrics.record(Metrics.activeWorkers, { controller: labels.name }, current.running.size)
      ))
    yield* gauges
    yield* Metrics.record(Metrics.workqueueRetriesTotal, labels, 0)
    yield* Metrics.record(Metrics.workqueueAddsTotal, labels, 0)

    const add = (key: K): Effect.Effect<void> =>
      Effect.gen(function*() {
        const at = yield* now
        const outcome = yield* Ref.modify(state, (current): readonly ["offer" | "dirty" | "none", State<K>] => {
          if (current.running.has(key)) {
            return current.dirty.has(key) ? ["none", current] : ["dirty", { ...current, dirty: new Set(current.dirty).add(key) }]
          }
          if (current.queued.has(key)) return ["none", current]
          return ["offer", { ...current, queued: new Set(current.queued).add(key), queuedAt: new Map(current.queuedAt).set(key, at) }]
        })
        if (outcome !== "none") yield* Metrics.increment(Metrics.workqueueAddsTotal, labels)
        if (outcome === "offer") {
          yield* Queue.offer(ready, key)
          yield* gauges
        }
      })

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

    /**
     * A key whose run was interrupted (its term ended) goes back to the queue, for the next `run`.
     * A running key is never queued at the same time (`add` marks it dirty instead).
     */
    const requeueInterrupted = (key: K) =>
      Effect.gen(function*() {
        const at = yield* now
        const runningNow = yield* Ref.modify(state, (current): readonly [number, State<K>] => {
          const running = without(current.running, key)
          return [running.size, {
            ...current,
            running,
            dirty: without(current.dirty, key),
            queued: new Set(current.queued).add(key),
            queuedAt: new Map(current.queuedAt).set(key, at)
          }]
        })
        yield* Queue.offer(ready, key)
        yield* ended(runningNow)
        yield* gauges
      })

    const worker = <E, R>(work: (key: K) => Effect.Effect<Outcome, E, R>, errorPolicy: ErrorPolicy<E>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const key = yield* restore(Queue.take(ready))
          if (yield* Ref.get(draining)) {
            // still queued: back where it was (a drain is final: nothing runs it any more)
            yield* Queue.offer(ready, key)
            return yield* restore(Effect.never)
          }
          const started = yield* now
          const queuedAt = yield* Ref.modify(state, (current): readonly [number | undefined, State<K>] => {
            const stamps = new Map(current.queuedAt)
            stamps.delete(key)
            return [current.queuedAt.get(key), {
              ...current,
              queued: without(current.queued, key),
              running: new Set(current.running).add(key),
              queuedAt: stamps
            }]
          })
          yield* Metrics.record(Metrics.workqueueQueueDuration, labels, Math.max(0, started - (queuedAt ?? started)) / 1000)
          yield* gauges
          yield* restore(step(key, work, errorPolicy)).pipe(Effect.onInterrupt(() => requeueInterrupted(key)))
          yield* Metrics.record(Metrics.workqueueWorkDuration, labels, yield* Metrics.secondsSince(started))
          yield* gauges
        })
      ).pipe(Effect.forever)

    const step = <E, R>(key: K, work: (key: K) => Effect.Effect<Outcome, E, R>, errorPolicy: ErrorPolicy<E>) =>
      Effect.gen(function*() {
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
            Effect.annotateLogs({ key: String(key), retryIn: Duration.format(delay), reason: reasonOf(result.cause) })
          )
          yield* Metrics.increment(Metrics.workqueueRetriesTotal, labels)
          yield* addAfter(key, delay)
        } else {
          yield* Ref.update(state, (current) => {
            const failures = new Map(current.failures)
            failures.delete(key)
            return { ...current, failures }
          })
          if (result.value._tag === "Requeue") yield* addAfter(key, result.value.after)
        }
        const [again, runningNow] = yield* Ref.modify(state, (current): readonly [readonly [boolean, number], State<K>] => {
          const running = without(current.running, key)
          return [[current.dirty.has(key), running.size], { ...current, running, dirty: without(current.dirty, key) }]
        })
        if (again) yield* add(key)
        yield* ended(runningNow)
      })

    return {
      add,
      addAfter,
      forget,
      run: (work, errorPolicy = () => Action.defaultRetry) =>
        Effect.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker(work, errorPolicy)), {
          concurrency: "unbounded",
          discard: true
        }).pipe(Effect.andThen(Effect.never)),
      drain: (timeout) =>
        Effect.gen(function*() {
          yield* Ref.set(draining, true)
          if ((yield* Ref.get(state)).running.size === 0) return
          yield* Effect.timeoutOption(Deferred.await(drained), timeout)
        }),
      depth: Effect.map(Ref.get(state), (current) => ({
        queued: current.queued.size,
        running: current.running.size,
        scheduled: current.scheduled.size
      }))
    }
  })
