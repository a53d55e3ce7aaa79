import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Action } from "@dittofs-operator/core"
import * as WorkQueue from "../../../src/runtime/WorkQueue.ts"

/** Lets forked fibers run until they block. */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

const recorder = Effect.gen(function*() {
  const log = yield* Ref.make<ReadonlyArray<string>>([])
  return {
    log,
    record: (entry: string) => Ref.update(log, (entries) => [...entries, entry])
  }
})

describe("WorkQueue", () => {
  it.effect("coalesces a key added many times before it runs", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 2 })
      const { log, record } = yield* recorder
      for (let i = 0; i < 5; i++) yield* queue.add("ns/a")
      yield* queue.add("ns/b")
      yield* Effect.forkChild(queue.run((key) => Effect.as(record(key), { _tag: "AwaitChange" } as const)))
      yield* settle
      assert.deepStrictEqual([...(yield* Ref.get(log))].sort(), ["ns/a", "ns/b"])
    }))

  it.effect("never runs one key twice at once, and runs it again when added while running", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 4 })
      const running = yield* Ref.make(0)
      const maxRunning = yield* Ref.make(0)
      const runs = yield* Ref.make(0)
      const gate = yield* Deferred.make<void>()
      yield* Effect.forkChild(queue.run(() =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(maxRunning, (m) => Math.max(m, now))
          const n = yield* Ref.updateAndGet(runs, (r) => r + 1)
          if (n === 1) yield* Deferred.await(gate)
          yield* Ref.update(running, (r) => r - 1)
          return { _tag: "AwaitChange" } as const
        })
      ))
      yield* queue.add("k")
      yield* settle
      yield* queue.add("k")
      yield* queue.add("k")
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 1, "the second add waits for the first run")
      yield* Deferred.succeed(gate, undefined)
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 2, "dirty key runs exactly once more")
      assert.strictEqual(yield* Ref.get(maxRunning), 1)
    }))

  it.effect("bounds global concurrency", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<number>({ concurrency: 3 })
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      yield* Effect.forkChild(queue.run(() =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(peak, (m) => Math.max(m, now))
          yield* Effect.sleep("1 second")
          yield* Ref.update(running, (r) => r - 1)
          return { _tag: "AwaitChange" } as const
        })
      ))
      for (let i = 0; i < 10; i++) yield* queue.add(i)
      yield* settle
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      assert.strictEqual(yield* Ref.get(peak), 3)
      assert.deepStrictEqual(yield* queue.depth, { queued: 0, running: 0, scheduled: 0 })
    }))

  it.effect("honours Requeue(after): the key runs again exactly then", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { log, record } = yield* recorder
      yield* Effect.forkChild(queue.run((key) =>
        Effect.as(
          Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (t) => record(`${key}@${t}`)),
          { _tag: "Requeue", after: Duration.seconds(30) } as const
        )
      ))
      yield* queue.add("k")
      yield* settle
      yield* TestClock.adjust("29 seconds")
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(log), ["k@0"])
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(log), ["k@0", "k@30000"])
    }))

  it.effect("keeps the earliest of several schedules", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { log, record } = yield* recorder
      yield* Effect.forkChild(queue.run((key) => Effect.as(record(key), { _tag: "AwaitChange" } as const)))
      yield* queue.addAfter("k", Duration.seconds(10))
      yield* queue.addAfter("k", Duration.seconds(60))
      yield* queue.addAfter("k", Duration.seconds(5))
      yield* settle
      yield* TestClock.adjust("5 seconds")
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(log), ["k"])
      yield* TestClock.adjust("2 minutes")
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(log), ["k"], "the later schedules were replaced")
    }))

  it.effect("backs off a failing key exponentially, resets after a success, and forget cancels", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const attempts = yield* Ref.make<ReadonlyArray<number>>([])
      yield* Effect.forkChild(queue.run(() =>
        Effect.gen(function*() {
          const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const seen = yield* Ref.updateAndGet(attempts, (a) => [...a, now])
          return seen.length < 4 ? yield* Effect.fail("boom") : ({ _tag: "AwaitChange" } as const)
        })
      ))
      yield* queue.add("k")
      for (let i = 0; i < 20; i++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 2000, 6000, 14000])
      yield* queue.addAfter("k", Duration.seconds(10))
      yield* queue.forget("k")
      yield* TestClock.adjust("1 minute")
      yield* settle
      assert.strictEqual((yield* Ref.get(attempts)).length, 4)
    }))

  it.effect("caps the backoff at what the error policy chose for the error", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const attempts = yield* Ref.make<ReadonlyArray<number>>([])
      const policy = (error: "outage" | "other") => ({ cap: error === "outage" ? Duration.seconds(3) : Duration.minutes(5) })
      yield* Effect.forkChild(queue.run(() =>
        Effect.gen(function*() {
          const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const seen = yield* Ref.updateAndGet(attempts, (a) => [...a, now])
          return seen.length < 5 ? yield* Effect.fail("outage" as const) : Action.awaitChange
        }), policy))
      yield* queue.add("k")
      for (let i = 0; i < 20; i++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      // exponential 2 s, 4 s, 8 s, 16 s — each capped at 3 s
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 2000, 5000, 8000, 11000])
    }))
})
