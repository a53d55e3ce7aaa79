/**
 * The controller on scripted sources. Deterministic signals only: watch events are fed one at a
 * time and `push` returns once the reflector has applied them (the queue was told, or not); each
 * reconcile announces itself and then sleeps one virtual second, so `TestClock.adjust` finishes
 * it (and whatever it sets off) before the test looks at the queue.
 */
import { assert, describe, it } from "@effect/vitest"
import { Action } from "@dittofs-operator/core"
import { Clock, Duration, Effect, Metric, Queue, Ref, References, Stream } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import * as Controller from "../../../src/runtime/Controller.ts"
import * as Health from "../../../src/runtime/Health.ts"
import type * as Reflector from "../../../src/runtime/Reflector.ts"
import * as Prometheus from "../../support/PrometheusText.ts"
import { capture, logged } from "./Logs.ts"
import * as Scripted from "./ScriptedSource.ts"

const owner = { apiVersion: "example.com/v1", kind: "Thing" }
const ownedBy = (name: string) => [{ apiVersion: owner.apiVersion, kind: owner.kind, name, uid: `uid-${name}`, controller: true }]
const idle = { queued: 0, running: 0, scheduled: 0 }

/** Reconciles announced as `name@resourceVersion`; each takes one second of the TestClock. */
const reconciler = Effect.gen(function*() {
  const started = yield* Queue.unbounded<string>()
  const log = yield* Ref.make<ReadonlyArray<string>>([])
  return {
    reconcile: (object: Scripted.Item) =>
      Effect.gen(function*() {
        const entry = `${object.metadata.name}@${object.metadata.resourceVersion}`
        yield* Ref.update(log, (all) => [...all, entry])
        yield* Queue.offer(started, entry)
        yield* Effect.sleep("1 second")
        return { _tag: "AwaitChange" } as const
      }),
    /** Waits for the next `n` reconciles to start; sorted, since keys run concurrently. */
    next: (n: number) => Effect.map(Effect.forEach(Array.from({ length: n }), () => Queue.take(started)), (all) => [...all].sort()),
    log: Ref.get(log)
  }
})

describe("Controller", () => {
  it.effect("reconciles primaries from the store, on relevant changes only, and owned objects' owners", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const owned = yield* Scripted.make
      const { log, next, reconcile } = yield* reconciler
      yield* primary.setList([Scripted.item("a", "1", { generation: 1 }), Scripted.item("b", "2", { generation: 1 })], "2")
      yield* owned.setList([], "2")
      yield* primary.scriptLive
      yield* owned.scriptLive
      const running = yield* Controller.start({
        primary: {
          name: "things",
          source: primary.source,
          relevant: (previous, current) => previous?.metadata.generation !== current?.metadata.generation
        },
        owner,
        owned: [{ name: "services", source: owned.source }],
        concurrency: 2,
        reconcile
      })
      assert.deepStrictEqual(yield* next(2), ["a@1", "b@2"])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* running.queue.depth, idle)

      // the operator's own status write: same generation, no pass
      yield* primary.push({ _tag: "Modified", object: Scripted.item("a", "3", { generation: 1 }) })
      assert.deepStrictEqual(yield* running.queue.depth, idle, "a status-only write queues nothing")
      assert.strictEqual((yield* log).length, 2)

      // a spec change: one pass, on the object as the store holds it
      yield* primary.push({ _tag: "Modified", object: Scripted.item("b", "4", { generation: 2 }) })
      assert.deepStrictEqual(yield* next(1), ["b@4"])
      yield* TestClock.adjust("1 second")

      // an owned object: its controller owner is reconciled; an orphan changes nothing
      yield* owned.push({ _tag: "Added", object: Scripted.item("svc", "5", { ownerReferences: ownedBy("a") }) })
      assert.deepStrictEqual(yield* next(1), ["a@3"])
      yield* TestClock.adjust("1 second")
      yield* owned.push({ _tag: "Added", object: Scripted.item("orphan", "6") })
      assert.deepStrictEqual(yield* running.queue.depth, idle, "an orphan queues nothing")

      // an owned object handed from one owner to another: both are reconciled
      yield* owned.push({ _tag: "Modified", object: Scripted.item("svc", "7", { ownerReferences: ownedBy("b") }) })
      assert.deepStrictEqual(yield* next(2), ["a@3", "b@4"])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* running.queue.depth, idle)
      const all = yield* log
      assert.deepStrictEqual(all.slice(2, 4), ["b@4", "a@3"])
      assert.deepStrictEqual([...all.slice(4)].sort(), ["a@3", "b@4"])
      assert.strictEqual(all.length, 6)
    }))

  it.effect("reconciles every change of a primary when no relevance is given", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const { next, reconcile } = yield* reconciler
      yield* primary.setList([Scripted.item("a", "1")], "1")
      yield* primary.scriptLive
      yield* Controller.start({ primary: { name: "things", source: primary.source }, owner, owned: [], concurrency: 1, reconcile })
      assert.deepStrictEqual(yield* next(1), ["a@1"])
      yield* TestClock.adjust("1 second")
      yield* primary.push({ _tag: "Modified", object: Scripted.item("a", "2") })
      assert.deepStrictEqual(yield* next(1), ["a@2"])
    }))

  it.effect("starts no reconcile before every reflector has listed once", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const owned = yield* Scripted.make
      const { next, reconcile } = yield* reconciler
      yield* primary.setList([Scripted.item("a", "1")], "1")
      yield* owned.failNextList({ reason: "Unavailable", message: "connection refused" })
      const running = yield* Controller.start({
        primary: { name: "things", source: primary.source },
        owner,
        owned: [{ name: "services", source: owned.source }],
        concurrency: 1,
        reconcile
      })
      yield* owned.nextList
      yield* primary.nextWatch
      assert.deepStrictEqual(yield* running.queue.depth, { ...idle, queued: 1 }, "queued, not started")
      // the owned reflector relists after its first backoff delay
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* next(1), ["a@1"])
    }))

  it.effect("forgets a deleted primary: its requeue schedule no longer runs", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const runs = yield* Queue.unbounded<number>()
      yield* primary.setList([Scripted.item("a", "1")], "1")
      // the watch breaks with Gone after 15 s; by then the object is gone, so the relist misses it
      yield* primary.script(Stream.fromEffect(Effect.sleep("15 seconds")).pipe(
        Stream.flatMap(() => Stream.fail({ reason: "Gone", message: "too old" }))
      ))
      yield* primary.script(Stream.never)
      const running = yield* Controller.start({
        primary: { name: "things", source: primary.source },
        owner,
        owned: [],
        concurrency: 1,
        reconcile: () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Queue.offer(runs, now)).pipe(
            Effect.as({ _tag: "Requeue", after: Duration.seconds(10) } as const)
          )
      })
      assert.strictEqual(yield* Queue.take(runs), 0)
      assert.strictEqual(yield* primary.nextWatch, "1")
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Queue.take(runs), 10_000)
      yield* primary.setList([], "9")
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* running.queue.depth, idle, "the 20 s schedule was cancelled")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Queue.size(runs), 0)
      assert.strictEqual(yield* primary.lists, 2)
    }))

  it("maps only controller owner references of the owner kind and apiVersion", () => {
    const ref = { apiVersion: owner.apiVersion, kind: owner.kind, name: "a", uid: "u" }
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1"), owner))
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [ref] }), owner))
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: false }] }), owner))
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: true, kind: "Other" }] }), owner))
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: true, apiVersion: "example.com/v2" }] }), owner))
    assert.strictEqual(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: true }] }), owner), "ns/a")
    assert.strictEqual(
      Controller.ownerKey({ metadata: { name: "x", ownerReferences: [{ ...ref, controller: true }] } }, owner),
      "/a",
      "a cluster-scoped object keys its owner without a namespace"
    )
  })
})

describe("Controller: what it reports", () => {
  const scrape = Effect.map(PrometheusMetrics.format(), Prometheus.parse)
  const metric = (name: string, labels: Record<string, string>) => Effect.map(scrape, (families) => Prometheus.value(families, name, labels))

  it.effect("counts passes by result from zero, times them, logs each with its object and pass id, and registers its health checks", () =>
    Effect.gen(function*() {
      const health = yield* Health.make
      const primary = yield* Scripted.make
      yield* primary.setList([Scripted.item("a", "1"), Scripted.item("b", "2"), Scripted.item("c", "3"), Scripted.item("d", "4")], "4")
      yield* primary.scriptLive
      const outcomes: Record<string, Effect.Effect<Action.Action, string>> = {
        a: Effect.as(Effect.sleep("1500 millis"), Action.awaitChange),
        b: Effect.as(Effect.sleep("1 second"), Action.requeue(Duration.seconds(30))),
        c: Effect.fail("broken"),
        d: Effect.succeed(Action.requeue(Duration.minutes(1)))
      }
      yield* Controller.start({
        primary: { name: "things", source: primary.source },
        owner,
        owned: [],
        concurrency: 4,
        reconcile: (object: Scripted.Item) => outcomes[object.metadata.name] ?? Effect.die("unknown")
      }).pipe(Effect.provideService(Health.Health, health))
      const zero = yield* Effect.forEach(["success", "error", "requeue_after"], (result) => metric("controller_runtime_reconcile_total", { controller: "things", result }))
      assert.deepStrictEqual(zero, [0, 0, 0], "every series exists at 0 before the first pass")
      assert.deepStrictEqual(
        [yield* metric("controller_runtime_reconcile_errors_total", { controller: "things" }), yield* metric("controller_runtime_max_concurrent_reconciles", { controller: "things" })],
        [0, 4]
      )
      yield* TestClock.adjust("1500 millis") // c is retried at 2 s
      const counted = yield* Effect.forEach(["success", "error", "requeue_after"], (result) => metric("controller_runtime_reconcile_total", { controller: "things", result }))
      assert.deepStrictEqual(counted, [1, 1, 2])
      assert.deepStrictEqual(
        [yield* metric("controller_runtime_reconcile_errors_total", { controller: "things" }), yield* metric("controller_runtime_reconcile_time_seconds_sum", { controller: "things" })],
        [1, 2.5],
        "1.5 s + 1 s + 0 s + 0 s"
      )
      const lines = yield* logged
      assert.deepStrictEqual(lines.filter((line) => line.message === "listed; watching").map((line) => line.annotations["kind"]), ["things"])
      const reconciled = lines.filter((line) => line.message === "reconciled")
      assert.deepStrictEqual(
        reconciled.map((line) => [line.level, line.annotations["controller"], line.annotations["key"], line.annotations["outcome"]]).sort(),
        [["DEBUG", "things", "ns/a", "await change"], ["DEBUG", "things", "ns/b", "requeue after 30s"], ["DEBUG", "things", "ns/d", "requeue after 1m"]]
      )
      const ids = reconciled.map((line) => String(line.annotations["reconcileId"]))
      assert.strictEqual(new Set(ids).size, 3, "one id a pass")
      assert.isTrue(ids.every((id) => /^[0-9a-z]+-[0-9a-z]+$/.test(id)))
      const checks = (report: Health.Report) => report.checks.map((check) => `${check.name}:${check.ok}`)
      assert.deepStrictEqual(checks(yield* health.liveness), ["reflector-things:true", "workers-things:true"])
      assert.deepStrictEqual(checks(yield* health.readiness), ["synced-things:true"])
    }).pipe(capture, Effect.provideService(References.MinimumLogLevel, "Debug"), Effect.provideService(Metric.MetricRegistry, new Map())))
})

describe("Controller: liveness", () => {
  it.effect("reports its workers dead when their fiber ends", () =>
    Effect.gen(function*() {
      const health = yield* Health.make
      const primary = yield* Scripted.make
      yield* primary.setList([], "1")
      yield* primary.scriptLive
      yield* Controller.start({
        primary: { name: "things", source: primary.source },
        owner,
        owned: [],
        concurrency: 1,
        reconcile: () => Effect.succeed(Action.awaitChange),
        whileLeading: () => Effect.die("the term's work crashed")
      }).pipe(Effect.provideService(Health.Health, health))
      yield* TestClock.adjust("1 millis")
      const report = yield* health.liveness
      assert.deepStrictEqual(report.checks.map((check) => `${check.name}:${check.ok}`), ["reflector-things:true", "workers-things:false"])
      assert.isFalse(report.ok)
    }))
})

describe("Controller: what its stores keep", () => {
  it.effect("tells each kind's `stored` of every change once its store holds it, relevant to a pass or not", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const owned = yield* Scripted.make
      yield* primary.setList([Scripted.item("a", "1")], "1")
      yield* owned.setList([], "1")
      yield* primary.scriptLive
      yield* owned.scriptLive
      const told = yield* Ref.make<ReadonlyArray<string>>([])
      let running: Controller.RunningController<Scripted.Item> | undefined
      const tell = (kind: string, store: () => Reflector.Store<{ readonly metadata: { readonly resourceVersion?: string } }> | undefined) =>
        (key: string, previous: Scripted.Item | undefined, current: Scripted.Item | undefined) =>
          Effect.gen(function*() {
            const holder = store()
            const held = holder?.get(key)
            const entry = `${kind} ${key} ${previous?.metadata.resourceVersion ?? "-"}→${current?.metadata.resourceVersion ?? "-"} held ${held?.metadata.resourceVersion ?? "-"}`
            yield* Ref.update(told, (all) => [...all, entry])
          })
      running = yield* Controller.start({
        primary: { name: "things", source: primary.source, relevant: () => false, stored: tell("primary", () => running?.store) },
        owner,
        owned: [{ name: "services", source: owned.source, stored: tell("owned", () => running?.owned[0]) }],
        concurrency: 1,
        reconcile: () => Effect.succeed(Action.awaitChange)
      })
      yield* primary.push({ _tag: "Modified", object: Scripted.item("a", "2") })
      yield* owned.push({ _tag: "Added", object: Scripted.item("svc", "3") })
      yield* owned.push({ _tag: "Deleted", object: Scripted.item("svc", "4") })
      const [first, ...rest] = yield* Ref.get(told)
      // the first list may be applied before `start` returns: whether its store could be asked varies
      assert.match(first ?? "", /^primary ns\/a -→1 held/)
      assert.deepStrictEqual(rest, [
        "primary ns/a 1→2 held 2",
        "owned ns/svc -→3 held 3",
        "owned ns/svc 3→- held -"
      ])
    }))

  it.effect("passes each kind's transform and index to its reflector: the pass sees transformed objects", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const owned = yield* Scripted.make
      yield* primary.setList([Scripted.item("a", "1", { labels: { big: "x".repeat(100) } })], "1")
      yield* owned.setList([Scripted.item("svc", "2", { labels: { tier: "files" }, ownerReferences: ownedBy("a") })], "2")
      yield* primary.scriptLive
      yield* owned.scriptLive
      const seen = yield* Queue.unbounded<Scripted.Item>()
      const trimmed = (object: Scripted.Item): Scripted.Item => ({ metadata: { ...object.metadata, labels: { trimmed: "true" } } })
      const running = yield* Controller.start({
        primary: { name: "things", source: primary.source, transform: trimmed },
        owner,
        owned: [{ name: "services", source: owned.source, transform: trimmed, indexBy: (object) => object.metadata.labels?.["trimmed"] }],
        concurrency: 1,
        reconcile: (object: Scripted.Item) => Effect.as(Queue.offer(seen, object), Action.awaitChange)
      })
      assert.deepStrictEqual((yield* Queue.take(seen)).metadata.labels, { trimmed: "true" })
      assert.deepStrictEqual([...running.owned[0]!.indexed("true").keys()], ["ns/svc"])
    }))
})
