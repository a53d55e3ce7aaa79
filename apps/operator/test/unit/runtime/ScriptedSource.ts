/**
 * A ListWatch whose lists and watches a test scripts step by step: the list answers from a Ref
 * (or fails when told), each watch plays the next scripted Stream (or waits forever), and every
 * watch records the resourceVersion it was opened from.
 */
import { Effect, Queue, Ref, Stream } from "effect"
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

export const make = Effect.gen(function*() {
  const items = yield* Ref.make<{ readonly items: ReadonlyArray<Item>; readonly resourceVersion: string }>({ items: [], resourceVersion: "1" })
  const listFailures = yield* Ref.make<ReadonlyArray<Failure>>([])
  const lists = yield* Ref.make(0)
  const watchedFrom = yield* Ref.make<ReadonlyArray<string>>([])
  const scripts = yield* Queue.unbounded<Stream.Stream<Reflector.WatchEvent<Item>, Failure>>()
  const source: Reflector.ListWatch<Item, Failure> = {
    list: Effect.gen(function*() {
      yield* Ref.update(lists, (n) => n + 1)
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
        return yield* Queue.take(scripts)
      }))
  }
  return {
    source,
    setList: (next: ReadonlyArray<Item>, resourceVersion: string) => Ref.set(items, { items: next, resourceVersion }),
    failNextList: (failure: Failure) => Ref.update(listFailures, (all) => [...all, failure]),
    script: (stream: Stream.Stream<Reflector.WatchEvent<Item>, Failure>) => Queue.offer(scripts, stream),
    lists: Ref.get(lists),
    watchedFrom: Ref.get(watchedFrom)
  }
})
