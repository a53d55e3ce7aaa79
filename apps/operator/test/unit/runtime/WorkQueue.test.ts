/**
 * The work queue, driven deterministically: each run announces itself (`next` waits for it), and
 * everything a run or a timer sets off after that is woken by the TestClock, whose `adjust`
 * returns only once the fibers it woke (and those they woke) are idle again. So a test asserts
 * what ran, and what did not, without letting fibers "run for a while".
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Data, Deferred, Duration, Effect, Fiber, Metric, Queue, Ref } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import { Action } from "@dittofs-operator/core"
import * as WorkQueue from "../../../src/runtime/WorkQueue.ts"
import * as Prometheus from "../../support/PrometheusText.ts"
import { capture, logged } from "./Logs.ts"

const awaitChange: WorkQueue.Outcome = { _tag: "AwaitChange" }

/** Runs announced as `key@millis`: `next` waits for the next one, `log` has them all. */
const announcer = Effect.gen(function*() {
  const started = yield* Queue.unbounded<string>()
  const log = yield* Ref.make<ReadonlyArray<string>>([])
  return {
    announce: (key: unknown) =>
      Effect.gen(function*() {
        const entry = `${String(key)}@${yield* Clock.currentTimeMillis}`
        yield* Ref.update(log, (entries) => [...entries, entry])
        yield* Queue.offer(started, entry)
      }),
    next: Queue.take(started),
    log: Ref.get(log)
  }
})

const idle = { queued: 0, running: 0, scheduled: 0 }

describe("WorkQueue", () => {
  it.effect("coalesces a key added many times before it runs", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log, next } = yield* announcer
      for (let i = 0; i < 5; i++) yield* queue.add("ns/a")
      yield* queue.add("ns/b")
      assert.deepStrictEqual(yield* queue.depth, { ...idle, queued: 2 })
      // one worker takes keys in the order they were queued: once "last" ran, all before it did
      yield* queue.add("last")
      yield* Effect.forkChild(queue.run((key) => Effect.as(announce(key), awaitChange)))
      while ((yield* next) !== "last@0");
      assert.deepStrictEqual(yield* log, ["ns/a@0", "ns/b@0", "last@0"])
    }))

  it.effect("never runs one key twice at once, and runs it again once when added while running", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 4 })
      const { announce, log, next } = yield* announcer
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const gate = yield* Deferred.make<void>()
      yield* Effect.forkChild(queue.run((key) =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(peak, (m) => Math.max(m, now))
          const first = (yield* log).length === 0
          yield* announce(key)
          // the first run waits for the gate, the others for the clock
          yield* first ? Deferred.await(gate) : Effect.sleep("1 second")
          yield* Ref.update(running, (n) => n - 1)
          return awaitChange
        })
      ))
      yield* queue.add("k")
      assert.strictEqual(yield* next, "k@0")
      yield* queue.add("k")
      yield* queue.add("k")
      assert.deepStrictEqual(yield* queue.depth, { ...idle, running: 1 }, "marked dirty, not queued")
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* next, "k@0")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* log, ["k@0", "k@0"], "the dirty key ran exactly once more")
      assert.deepStrictEqual(yield* queue.depth, idle)
      assert.strictEqual(yield* Ref.get(peak), 1)
    }))

  it.effect("bounds global concurrency", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<number>({ concurrency: 3 })
      const { announce, log, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => announce(key).pipe(Effect.andThen(Effect.sleep("1 second")), Effect.as(awaitChange))))
      for (let i = 0; i < 10; i++) yield* queue.add(i)
      for (let i = 0; i < 3; i++) yield* next
      assert.deepStrictEqual(yield* queue.depth, { queued: 7, running: 3, scheduled: 0 })
      for (let i = 0; i < 4; i++) yield* TestClock.adjust("1 second")
      const starts = (yield* log).map((entry) => Number(entry.split("@")[1]))
      assert.deepStrictEqual(starts, [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000])
      assert.deepStrictEqual(yield* queue.depth, idle)
    }))

  it.effect("runs one worker when asked for none", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<number>({ concurrency: 0 })
      const { announce, log, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => announce(key).pipe(Effect.andThen(Effect.sleep("1 second")), Effect.as(awaitChange))))
      yield* queue.add(1)
      yield* queue.add(2)
      yield* next
      assert.deepStrictEqual(yield* queue.depth, { queued: 1, running: 1, scheduled: 0 })
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* log, ["1@0", "2@1000"])
    }))

  it.effect("honours Requeue(after): the key runs again exactly then", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.as(announce(key), { _tag: "Requeue", after: Duration.seconds(30) } as const)))
      yield* queue.add("k")
      yield* next
      yield* TestClock.adjust("29 seconds")
      assert.deepStrictEqual(yield* log, ["k@0"])
      assert.deepStrictEqual(yield* queue.depth, { ...idle, scheduled: 1 })
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* log, ["k@0", "k@30000"])
    }))

  it.effect("keeps the earliest of several schedules, whichever comes first", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.as(announce(key), awaitChange)))
      // earliest first: the later ones are ignored
      yield* queue.addAfter("early-first", Duration.seconds(5))
      yield* queue.addAfter("early-first", Duration.seconds(60))
      yield* queue.addAfter("early-first", Duration.seconds(30))
      // earliest last: it replaces the later ones
      yield* queue.addAfter("early-last", Duration.seconds(60))
      yield* queue.addAfter("early-last", Duration.seconds(10))
      assert.deepStrictEqual(yield* queue.depth, { ...idle, scheduled: 2 })
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* log, ["early-first@5000"])
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* log, ["early-first@5000", "early-last@10000"])
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual(yield* log, ["early-first@5000", "early-last@10000"], "the later schedules were dropped")
      assert.deepStrictEqual(yield* queue.depth, idle)
    }))

  it.effect("adds at once a key scheduled after no delay", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      yield* queue.addAfter("k", Duration.zero)
      assert.deepStrictEqual(yield* queue.depth, { ...idle, queued: 1 })
    }))

  it.effect("keeps a later schedule of a key added after no delay (client-go's AddAfter)", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.as(announce(key), awaitChange)))
      yield* queue.addAfter("k", Duration.seconds(5))
      yield* queue.addAfter("k", Duration.zero)
      yield* next
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* log, ["k@0", "k@5000"], "the run now does not cancel the one at 5 s")
    }))

  it.effect("backs off a failing key exponentially, starts again from 2 s after a success, and forget cancels", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log, next } = yield* announcer
      // run 4 succeeds, every other one fails
      yield* Effect.forkChild(queue.run((key) =>
        Effect.gen(function*() {
          yield* announce(key)
          return (yield* log).length === 4 ? awaitChange : yield* Effect.fail("boom")
        })
      ))
      yield* queue.add("k")
      yield* next
      for (const delay of [2, 4, 8]) yield* TestClock.adjust(Duration.seconds(delay))
      assert.deepStrictEqual(yield* log, ["k@0", "k@2000", "k@6000", "k@14000"])
      assert.deepStrictEqual(yield* queue.depth, idle, "a success schedules nothing")
      // the next failure waits the first delay again, not the fourth
      yield* queue.add("k")
      yield* next
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual((yield* log).slice(4), ["k@14000", "k@16000"])
      // forgotten while backing off: the retry is cancelled, and so is the backoff
      assert.deepStrictEqual(yield* queue.depth, { ...idle, scheduled: 1 })
      yield* queue.forget("k")
      assert.deepStrictEqual(yield* queue.depth, idle)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* log).length, 6)
      yield* queue.add("k")
      yield* next
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual((yield* log).slice(6), ["k@76000", "k@78000"])
    }))

  it.effect("logs each failure as a warning with its key, cause and the delay before the retry", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.fail("connection refused"))))
      yield* queue.add("ns/a")
      yield* next
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual((yield* logged).map(({ annotations, cause, level, message }) => [level, message, cause, annotations]), [
        ["WARN", "reconcile failed; backing off", "Error: connection refused", { key: "ns/a", retryIn: "2s", reason: "connection refused" }],
        ["WARN", "reconcile failed; backing off", "Error: connection refused", { key: "ns/a", retryIn: "4s", reason: "connection refused" }]
      ])
    }).pipe(capture))

  it.effect("keeps one backoff per key", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 2 })
      const { announce, log, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.fail("boom"))))
      yield* queue.add("a")
      yield* next
      yield* TestClock.adjust("2 seconds")
      yield* queue.add("b")
      yield* next
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(yield* log, ["a@0", "a@2000", "b@2000", "b@4000"])
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
      yield* TestClock.adjust("20 seconds")
      // exponential 2 s, 4 s, 8 s, 16 s — each capped at 3 s
      assert.deepStrictEqual(yield* Ref.get(attempts), [0, 2000, 5000, 8000, 11000])
    }))

  it.effect("a run interrupted (a term ended) is queued again for the next run", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, next } = yield* announcer
      yield* queue.add("ns/a")
      const first = yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.never)))
      assert.strictEqual(yield* next, "ns/a@0")
      assert.deepStrictEqual(yield* queue.depth, { ...idle, running: 1 })
      yield* Fiber.interrupt(first)
      assert.deepStrictEqual(yield* queue.depth, { ...idle, queued: 1 }, "back in the queue, not running")
      yield* Effect.forkChild(queue.run((key) => Effect.as(announce(key), awaitChange)))
      assert.strictEqual(yield* next, "ns/a@0", "the next term runs it")
    }))

  it.effect("drain: no new key starts, and it returns the moment the run in flight finishes", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, log, next } = yield* announcer
      yield* queue.add("ns/a")
      yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.as(Effect.sleep("1013 millis"), awaitChange))))
      assert.strictEqual(yield* next, "ns/a@0")
      yield* queue.add("ns/b")
      const drained = yield* Effect.forkChild(queue.drain(Duration.seconds(10)))
      yield* TestClock.adjust("1012 millis")
      assert.isUndefined(drained.pollUnsafe(), "ns/a still runs")
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(drained)
      assert.deepStrictEqual(yield* Clock.currentTimeMillis, 1013, "at the millisecond ns/a finished")
      assert.deepStrictEqual(yield* log, ["ns/a@0"], "ns/b never started")
      assert.deepStrictEqual(yield* queue.depth, { ...idle, queued: 1 })
    }))

  it.effect("drain: gives up on a run that outlasts the timeout", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, next } = yield* announcer
      yield* queue.add("ns/a")
      yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.as(Effect.sleep("1 minute"), awaitChange))))
      assert.strictEqual(yield* next, "ns/a@0")
      const drained = yield* Effect.forkChild(queue.drain(Duration.seconds(10)))
      yield* TestClock.adjust("9999 millis")
      assert.isUndefined(drained.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(drained)
      assert.strictEqual(yield* Clock.currentTimeMillis, 10_000)
      assert.deepStrictEqual((yield* queue.depth).running, 1, "still running: the caller's scope interrupts it")
    }))

  it.effect("drain: returns at once when nothing runs", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      yield* queue.add("ns/a")
      yield* queue.drain(Duration.seconds(10))
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
    }))
})

describe("WorkQueue: drain with several runs", () => {
  it.effect("drain: waits for the last of several runs in flight, not the first", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 2 })
      const { announce, next } = yield* announcer
      yield* queue.add("short")
      yield* queue.add("long")
      yield* Effect.forkChild(queue.run((key) =>
        Effect.andThen(announce(key), Effect.as(Effect.sleep(key === "short" ? "1 second" : "3 seconds"), awaitChange))))
      yield* next
      yield* next
      const drained = yield* Effect.forkChild(queue.drain(Duration.seconds(10)))
      yield* TestClock.adjust("1 second")
      assert.isUndefined(drained.pollUnsafe(), "long still runs")
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(drained)
      assert.strictEqual(yield* Clock.currentTimeMillis, 3_000)
    }))

  it.effect("drain: a run that ended before it was asked does not count as the last one", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, next } = yield* announcer
      yield* Effect.forkChild(queue.run((key) => Effect.andThen(announce(key), Effect.as(Effect.sleep(key === "early" ? "1 millis" : "5 seconds"), awaitChange))))
      yield* queue.add("early")
      yield* next
      yield* TestClock.adjust("1 millis")
      yield* queue.add("late")
      yield* next
      const drained = yield* Effect.forkChild(queue.drain(Duration.seconds(10)))
      yield* TestClock.adjust("4 seconds")
      assert.isUndefined(drained.pollUnsafe(), "late still runs")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(drained)
    }))
})

describe("WorkQueue.reasonOf", () => {
  class Failed extends Data.TaggedError("KubernetesError")<{ readonly reason: string }> {}
  class Tagged extends Data.TaggedError("PassFailed")<{}> {}
  it("names a tagged error by tag and reason, else by tag, else what failed", () => {
    assert.deepStrictEqual(
      [
        Cause.fail(new Failed({ reason: "Conflict" })),
        Cause.fail(new Tagged()),
        Cause.fail({ message: "plain object" }),
        Cause.fail({ _tag: 3, reason: 4 }),
        Cause.fail("text"),
        Cause.die(new Error("bug")),
        Cause.interrupt()
      ].map(WorkQueue.reasonOf),
      ["KubernetesError.Conflict", "PassFailed", "Error", "Error", "text", "Defect", "Interrupted"]
    )
  })
})

describe("WorkQueue metrics", () => {
  const scrape = Effect.map(PrometheusMetrics.format(), Prometheus.parse)
  const metric = (name: string, labels: Record<string, string>) => Effect.map(scrape, (families) => Prometheus.value(families, name, labels))

  it.effect("counts adds (a coalesced one not), retries, and the time keys waited, under the queue's name", () =>
    Effect.gen(function*() {
      const queue = yield* WorkQueue.make<string>({ concurrency: 1 })
      const { announce, next } = yield* announcer
      yield* TestClock.adjust("1 second") // times measured from a clock not at 0
      yield* queue.add("ns/a")
      yield* queue.add("ns/b")
      yield* queue.add("ns/b")
      assert.deepStrictEqual([yield* metric("workqueue_adds_total", { name: "default" }), yield* metric("workqueue_depth", { name: "default" })], [2, 2])
      const failOnce = yield* Ref.make(true)
      yield* Effect.forkChild(queue.run((key) =>
        Effect.gen(function*() {
          yield* announce(key)
          if (key === "ns/a") {
            yield* Effect.sleep("2 seconds")
            return awaitChange
          }
          if (yield* Ref.getAndSet(failOnce, false)) return yield* Effect.fail("once")
          return awaitChange
        })))
      yield* next
      assert.strictEqual(yield* metric("controller_runtime_active_workers", { controller: "default" }), 1)
      yield* TestClock.adjust("2 seconds")
      yield* next
      assert.deepStrictEqual(
        [yield* metric("workqueue_queue_duration_seconds_sum", { name: "default" }), yield* metric("workqueue_queue_duration_seconds_count", { name: "default" })],
        [2, 2],
        "ns/a at once, ns/b after the 2 s ns/a ran"
      )
      assert.deepStrictEqual(
        [yield* metric("workqueue_work_duration_seconds_sum", { name: "default" }), yield* metric("workqueue_retries_total", { name: "default" })],
        [2, 1]
      )
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
