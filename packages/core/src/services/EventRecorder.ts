/**
 * The `Events` service recorded as core/v1 Events through the `Kubernetes` service (so the same
 * code runs on the real API server and on `KubernetesMemory`).
 *
 * Contract:
 * - One Event per distinct (object, type, reason, message); a repeat within the aggregation
 *   window bumps `count` and `lastTimestamp` of that Event (one PUT over the Event as last
 *   written) instead of creating another, so a flapping adapter cannot flood the namespace.
 * - `emit` never fails: an Event that cannot be written is logged and dropped.
 * - Names follow client-go: `<object>.<hex timestamp>`, unique per recorder.
 * - `layerInBackground` records the same Events off the caller's path (client-go's broadcaster):
 *   `emit` queues the Event and returns, waiting only while `queueCapacity` Events are queued
 *   (never dropping one); `writers` fibers record them in the order they were queued. Closing
 *   the layer records what is still queued, for at most `drainTimeout`, and logs what it left.
 */
import { type Cause, Clock, Duration, Effect, Fiber, Layer, Queue, Ref } from "effect"
import { type Event, type ObjectReference, timestamp } from "../domain/Kubernetes.ts"
import type { EventNote } from "../plan/Change.ts"
import { Events } from "./Events.ts"
import { Kubernetes, type KubernetesError, Resources } from "./Kubernetes.ts"

/**
 * How Events are recorded: the reporting component and instance, and the window in which repeats
 * are counted on one Event.
 */
export interface Options {
  /** `source.component` / `reportingComponent` of every Event. */
  readonly component?: string
  /** `reportingInstance`, e.g. the pod name of the operator. */
  readonly instance?: string
  /** Repeats within this window are counted on one Event (default 10 minutes). */
  readonly aggregationWindow?: Duration.Duration
  /** How many distinct Events are remembered for aggregation (default 4096). */
  readonly capacity?: number
}

/**
 * What is remembered of an Event as last written: what its next bump needs besides the object and
 * the note (its key), so that a PUT over it is a single request. Not the Event: up to `capacity`
 * are remembered, and the API server's answer is several times larger (managedFields, uid, …).
 */
interface Recorded {
  readonly name: string
  readonly resourceVersion: string | undefined
  readonly count: number
  readonly firstTimestamp: string
  readonly firstSeen: number
  readonly lastSeen: number
}


const keyOf = (regarding: ObjectReference, note: EventNote): string =>
  JSON.stringify([regarding.uid, regarding.namespace, regarding.name, note.type, note.reason, note.message])

/**
 * The `Events` service writing Kubernetes Events through `Kubernetes`: one Event per change,
 * repeats within the window counted on it.
 */
export const layer = (options: Options = {}): Layer.Layer<Events, never, Kubernetes> =>
  Layer.effect(
    Events,
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const component = options.component ?? "dittoserver-controller"
      const window = Duration.toMillis(options.aggregationWindow ?? Duration.minutes(10))
      const capacity = options.capacity ?? 4096
      // changed in place by `remember` (synchronously, so never seen half-done): a copy per Event
      // would cost O(capacity) each time
      const recorded = new Map<string, Recorded>()
      const sequence = yield* Ref.make(0)

      /** The Event about `regarding` for `note`, as this recorder writes it. */
      const eventOf = (
        regarding: ObjectReference,
        note: EventNote,
        written: { readonly name: string; readonly resourceVersion?: string | undefined; readonly count: number; readonly firstTimestamp: string; readonly lastTimestamp: string }
      ): Event => ({
        apiVersion: "v1",
        kind: "Event",
        metadata: {
          name: written.name,
          namespace: regarding.namespace,
          ...(written.resourceVersion === undefined ? {} : { resourceVersion: written.resourceVersion })
        },
        involvedObject: { ...regarding },
        type: note.type,
        reason: note.reason,
        message: note.message,
        count: written.count,
        firstTimestamp: written.firstTimestamp,
        lastTimestamp: written.lastTimestamp,
        source: { component },
        reportingComponent: component,
        reportingInstance: options.instance ?? component
      })

      const createEvent = (regarding: ObjectReference, note: EventNote, now: number) =>
        Effect.gen(function*() {
          const n = yield* Ref.getAndUpdate(sequence, (i) => i + 1)
          const suffix = `.${(now * 1000 + (n % 1000)).toString(16)}`
          const name = regarding.name.slice(0, 253 - suffix.length) + suffix
          return yield* kubernetes.create(Resources.Event, eventOf(regarding, note, { name, count: 1, firstTimestamp: timestamp(now), lastTimestamp: timestamp(now) }))
        })

      const bumped = (event: Event, now: number): Event => ({ ...event, count: (event.count ?? 1) + 1, lastTimestamp: timestamp(now) })

      /** One PUT over the Event as last written; if someone changed it meanwhile, over the current one. */
      const bump = (regarding: ObjectReference, note: EventNote, previous: Recorded, now: number): Effect.Effect<Event, KubernetesError> =>
        kubernetes.update(
          Resources.Event,
          eventOf(regarding, note, { ...previous, count: previous.count + 1, lastTimestamp: timestamp(now) })
        ).pipe(
          Effect.catchIf((error) => error.reason === "Conflict", () =>
            Effect.flatMap(
              kubernetes.get(Resources.Event, regarding.namespace, previous.name),
              (current) => kubernetes.update(Resources.Event, bumped(current, now))
            ))
        )

      const remember = (key: string, entry: Recorded) =>
        Effect.sync(() => {
          recorded.delete(key)
          recorded.set(key, entry)
          while (recorded.size > capacity) {
            const oldest = recorded.keys().next()
            if (oldest.done === true) break
            recorded.delete(oldest.value)
          }
        })

      return Events.of({
        emit: (regarding, note) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            const key = keyOf(regarding, note)
            const previous = recorded.get(key)
            const written = previous !== undefined && now - previous.lastSeen <= window
              ? yield* bump(regarding, note, previous, now).pipe(Effect.catch(() => createEvent(regarding, note, now)))
              : yield* createEvent(regarding, note, now)
            yield* remember(key, {
              name: written.metadata.name,
              resourceVersion: written.metadata.resourceVersion,
              count: written.count ?? 1,
              firstTimestamp: written.firstTimestamp ?? timestamp(now),
              firstSeen: previous?.firstSeen ?? now,
              lastSeen: now
            })
          }).pipe(
            Effect.catch((error) =>
              Effect.logWarning(`could not record Event ${note.reason}: ${error.reason}: ${error.message}`)
            )
          )
      })
    })
  )

/** How Events are queued by {@link layerInBackground}. */
export interface BackgroundOptions {
  /** Events queued at most; `emit` waits while the queue is full (default 1000). */
  readonly queueCapacity?: number
  /** Fibers writing the queue (default 2). */
  readonly writers?: number
  /** How long closing the layer may spend recording what is queued (default 2 seconds). */
  readonly drainTimeout?: Duration.Duration
}

/**
 * The `Events` service of {@link layer}, recorded in the background: a pass never waits for an
 * Event's round trip to the API server.
 */
export const layerInBackground = (options: Options & BackgroundOptions = {}): Layer.Layer<Events, never, Kubernetes> =>
  Layer.effect(
    Events,
    Effect.gen(function*() {
      const recorder = yield* Events
      const queue = yield* Queue.bounded<readonly [ObjectReference, EventNote], Cause.Done>(options.queueCapacity ?? 1000)
      // a writer ends when the queue has ended and is empty (its only failure is `Done`)
      const writer = Queue.take(queue).pipe(
        Effect.flatMap(([regarding, note]) => recorder.emit(regarding, note)),
        Effect.forever,
        Effect.ignore
      )
      const writers = yield* Effect.forEach(Array.from({ length: Math.max(1, options.writers ?? 2) }), () => Effect.forkScoped(writer))
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          yield* Queue.end(queue)
          const drained = yield* Effect.timeoutOption(Fiber.awaitAll(writers), options.drainTimeout ?? Duration.seconds(2))
          if (drained._tag === "None") {
            yield* Effect.logWarning(`stopped with ${yield* Queue.size(queue)} Event(s) not recorded`)
          }
        }))
      return Events.of({ emit: (regarding, note) => Effect.asVoid(Queue.offer(queue, [regarding, note])) })
    })
  ).pipe(Layer.provide(layer(options)))
