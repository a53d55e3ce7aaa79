/**
 * A ListWatch whose lists and watches a test scripts step by step: the list answers from a Ref
 * (or fails when told), each watch plays the next scripted Stream (or waits forever), and every
 * watch records the resourceVersion it was opened from.
 *
 * Deterministic signals instead of "let the fibers run a while":
 * - `nextList` / `nextWatch` wait for the next list call / watch opening (each is announced once);
 * - `live` scripts a watch that the test feeds one event at a time: `push` returns once the
 *   reflector has applied the event (its `onChange` included), because the watch's stream is only
 *   pulled again after that; `fail` ends the watch with a failure.
 */
import { Deferred, Effect, Queue, Ref, Stream } from "effect"
import type { K8s } from "@dittofs-operator/core"
import type * as Reflector from "../../../src/runtime/Reflector.ts"

export interface Failure {
  readonly reason: string
  readonly message: string
}

export type Item = { readonly metadata: K8s.ObjectMeta; readonly spec?: unknown; readonly status?: unknown }

export const item = (name: string, resourceVersion: string, extra: Partial<K8s.ObjectMeta> = {}): Item => ({
  metadata: { name, namespace: "ns", resourceVersion, ...extra }
})

type LiveStep =
  | { readonly _tag: "Event"; readonly event: Reflector.WatchEvent<Item>; readonly applied: Deferred.Deferred<void> }
  | { readonly _tag: "Fail"; readonly failure: Failure }

export const make = Effect.gen(function*() {
  const items = yield* Ref.make<{ readonly items: ReadonlyArray<Item>; readonly resourceVersion: string }>({ items: [], resourceVersion: "1" })
  const listFailures = yield* Ref.make<ReadonlyArray<Failure>>([])
  const lists = yield* Ref.make(0)
  const listCalls = yield* Queue.unbounded<number>()
  const watchedFrom = yield* Ref.make<ReadonlyArray<string>>([])
  const watchOpenings = yield* Queue.unbounded<string>()
  const scripts = yield* Queue.unbounded<Stream.Stream<Reflector.WatchEvent<Item>, Failure>>()
  const liveSteps = yield* Queue.unbounded<LiveStep>()
  const source: Reflector.ListWatch<Item, Failure> = {
    list: Effect.gen(function*() {
      yield* Queue.offer(listCalls, yield* Ref.updateAndGet(lists, (n) => n + 1))
      const [failure, ...rest] = yield* Ref.get(listFailures)
      if (failure !== undefined) {
        yield* Ref.set(listFailures, rest)
        return yield* Effect.fail(failure)
      }
      return yield* Ref.get(items)
    }),
    watch: (resourceVersion) =>
      Stream.unwrap(Effect.gen(function*() {
        yield* Ref.update(watchedFrom, (all) => [...all, resourceVersion])
        yield* Queue.offer(watchOpenings, resourceVersion)
        return yield* Queue.take(scripts)
      }))
  }
  /** A watch fed by `push` and `fail`: each event's `applied` completes when the next one is pulled. */
  const live: Stream.Stream<Reflector.WatchEvent<Item>, Failure> = Stream.fromQueue(liveSteps).pipe(
    Stream.flatMap((step) =>
      step._tag === "Fail"
        ? Stream.fail(step.failure)
        : Stream.concat(Stream.succeed(step.event), Stream.drain(Stream.fromEffect(Deferred.succeed(step.applied, undefined)))))
  )
  return {
    source,
    setList: (next: ReadonlyArray<Item>, resourceVersion: string) => Ref.set(items, { items: next, resourceVersion }),
    failNextList: (failure: Failure) => Ref.update(listFailures, (all) => [...all, failure]),
    script: (stream: Stream.Stream<Reflector.WatchEvent<Item>, Failure>) => Queue.offer(scripts, stream),
    /** Scripts the next watch as the live one. */
    scriptLive: Queue.offer(scripts, live),
    /** Feeds one event to the live watch; returns once the reflector has applied it. */
    push: (event: Reflector.WatchEvent<Item>) =>
      Effect.gen(function*() {
        const applied = yield* Deferred.make<void>()
        yield* Queue.offer(liveSteps, { _tag: "Event", event, applied })
        yield* Deferred.await(applied)
      }),
    /** Ends the live watch with a failure. */
    fail: (failure: Failure) => Queue.offer(liveSteps, { _tag: "Fail", failure }),
    lists: Ref.get(lists),
    /** Waits for the next list call; returns how many there have been. */
    nextList: Queue.take(listCalls),
    watchedFrom: Ref.get(watchedFrom),
    /** Waits for the next watch to open; returns the resourceVersion it was opened from. */
    nextWatch: Queue.take(watchOpenings)
  }
})
