import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Queue, Ref, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as Reflector from "../../../src/runtime/Reflector.ts"
import { capture, logged } from "./Logs.ts"
import * as Scripted from "./ScriptedSource.ts"

/** A reflector on a scripted source; every change it announces is logged and signalled. */
const start = Effect.gen(function*() {
  const scripted = yield* Scripted.make
  const changes = yield* Ref.make<ReadonlyArray<string>>([])
  const announced = yield* Queue.unbounded<string>()
  const onChange: Reflector.OnChange<Scripted.Item> = (key, previous, current) => {
    const change = `${key}:${previous?.metadata.resourceVersion ?? "-"}->${current?.metadata.resourceVersion ?? "-"}`
    return Ref.update(changes, (all) => [...all, change]).pipe(Effect.andThen(Queue.offer(announced, change)))
  }
  return {
    scripted,
    changes,
    /** Waits for the next `n` changes the reflector announces. */
    nextChanges: (n: number) => Effect.forEach(Array.from({ length: n }), () => Queue.take(announced)),
    begin: Reflector.start("items", scripted.source, onChange)
  }
})

const names = (store: Reflector.Store<Scripted.Item>) =>
  Effect.sync(() => [...store.snapshot().values()].map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`).sort())

describe("Reflector", () => {
  it.effect("lists, then applies watch events, announcing previous and current versions after the store holds them", () =>
    Effect.gen(function*() {
      const { begin, nextChanges, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5")], "10")
      yield* scripted.scriptLive
      const store = yield* begin
      yield* store.synced
      assert.deepStrictEqual(yield* nextChanges(1), ["ns/a:-->5"])
      assert.deepStrictEqual(yield* names(store), ["a@5"])
      yield* scripted.push({ _tag: "Added", object: Scripted.item("b", "11") })
      assert.deepStrictEqual(yield* names(store), ["a@5", "b@11"])
      yield* scripted.push({ _tag: "Modified", object: Scripted.item("a", "12") })
      yield* scripted.push({ _tag: "Deleted", object: Scripted.item("b", "13") })
      assert.deepStrictEqual(yield* names(store), ["a@12"])
      assert.strictEqual(store.get("ns/a")?.metadata.resourceVersion, "12")
      assert.isUndefined(store.get("ns/b"))
      assert.deepStrictEqual(yield* nextChanges(3), ["ns/b:-->11", "ns/a:5->12", "ns/b:11->-"])
      assert.deepStrictEqual(yield* scripted.watchedFrom, ["10"])
    }))

  it.effect("before its first list succeeds it is empty, not synced and at version \"\"; after, at the list's version", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5")], "10")
      yield* scripted.failNextList({ reason: "Unavailable", message: "connection refused" })
      yield* scripted.scriptLive
      const store = yield* begin
      yield* scripted.nextList
      assert.deepStrictEqual([store.version(), store.isSynced(), store.snapshot().size], ["", false, 0])
      yield* TestClock.adjust("1 second")
      yield* store.synced
      assert.deepStrictEqual([store.version(), store.isSynced(), [...store.snapshot().keys()]], ["10", true, ["ns/a"]])
    }))

  it.effect("hands out the same snapshot until the store changes, and never changes one handed out", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5")], "10")
      yield* scripted.scriptLive
      const store = yield* begin
      yield* store.synced
      const first = store.snapshot()
      assert.strictEqual(store.snapshot(), first, "no change: the same snapshot")
      yield* scripted.push({ _tag: "Added", object: Scripted.item("b", "11") })
      const second = store.snapshot()
      assert.notStrictEqual(second, first)
      assert.deepStrictEqual([[...first.keys()], [...second.keys()].sort()], [["ns/a"], ["ns/a", "ns/b"]])
    }))

  it.effect("is alive while its scope is open, and not after", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      yield* scripted.scriptLive
      const scope = yield* Scope.make()
      const store = yield* Scope.provide(begin, scope)
      yield* store.synced
      assert.isTrue(store.alive())
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(store.alive())
    }))

  it.effect("keeps its index in step with the store through adds, relabels, deletes and a relist", () =>
    Effect.gen(function*() {
      const scripted = yield* Scripted.make
      const tier = (object: Scripted.Item) => object.metadata.labels?.["tier"]
      const labelled = (name: string, version: string, value?: string) =>
        Scripted.item(name, version, value === undefined ? {} : { labels: { tier: value } })
      yield* scripted.setList([labelled("a", "1", "x"), labelled("b", "2", "y"), labelled("c", "3")], "10")
      yield* scripted.scriptLive
      const store = yield* Reflector.start("items", scripted.source, () => Effect.void, { indexBy: tier })
      yield* store.synced
      /** The specification: the snapshot's entries with that index value. */
      const expected = (value: string) =>
        Effect.sync(() => [...store.snapshot()].filter(([, object]) => tier(object) === value).map(([key]) => key).sort())
      const check = Effect.gen(function*() {
        for (const value of ["x", "y", "z"]) {
          assert.deepStrictEqual([...store.indexed(value).keys()].sort(), yield* expected(value), value)
        }
      })
      yield* check
      assert.deepStrictEqual([...store.indexed("x").keys()], ["ns/a"])
      yield* scripted.push({ _tag: "Modified", object: labelled("a", "11", "y") })
      yield* scripted.push({ _tag: "Added", object: labelled("d", "12", "x") })
      yield* scripted.push({ _tag: "Modified", object: labelled("c", "13", "z") })
      yield* scripted.push({ _tag: "Deleted", object: labelled("b", "14", "y") })
      yield* check
      assert.deepStrictEqual([...store.indexed("y").keys()], ["ns/a"])
      const before = store.indexed("x")
      yield* scripted.setList([labelled("a", "11", "x"), labelled("e", "20", "x")], "20")
      yield* scripted.fail({ reason: "Gone", message: "too old resource version" })
      yield* scripted.nextWatch
      yield* scripted.nextWatch
      yield* check
      assert.deepStrictEqual([...store.indexed("x").keys()].sort(), ["ns/a", "ns/e"])
      assert.deepStrictEqual([...before.keys()], ["ns/d"], "an entry handed out is a copy")
    }))

  it.effect("announces nothing for an unchanged object across a relist", () =>
    Effect.gen(function*() {
      const { begin, changes, nextChanges, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5"), Scripted.item("b", "6")], "10")
      yield* scripted.scriptLive
      const store = yield* begin
      assert.deepStrictEqual(yield* nextChanges(2), ["ns/a:-->5", "ns/b:-->6"])
      yield* scripted.setList([Scripted.item("a", "5"), Scripted.item("b", "7")], "20")
      yield* scripted.fail({ reason: "Gone", message: "too old resource version" })
      assert.strictEqual(yield* scripted.nextWatch, "10")
      assert.strictEqual(yield* scripted.nextWatch, "20")
      assert.deepStrictEqual((yield* Ref.get(changes)).slice(2), ["ns/b:6->7"])
      assert.deepStrictEqual(yield* names(store), ["a@5", "b@7"])
    }))

  it.effect("resumes an ended watch from the last resourceVersion seen, without relisting", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      yield* scripted.setList([], "10")
      yield* scripted.script(Stream.fromIterable([{ _tag: "Added", object: Scripted.item("a", "15") }] as const))
      yield* scripted.script(Stream.fromIterable([{ _tag: "Bookmark", resourceVersion: "20" }] as const))
      yield* scripted.script(Stream.fromIterable([{ _tag: "Added", object: { metadata: { name: "b", namespace: "ns" } } }] as const))
      const store = yield* begin
      const opened = yield* Effect.forEach(Array.from({ length: 4 }), () => scripted.nextWatch)
      assert.deepStrictEqual(opened, ["10", "15", "20", "20"], "an object without a resourceVersion does not move it")
      assert.strictEqual(yield* scripted.lists, 1)
      assert.deepStrictEqual(yield* names(store), ["a@15", "b@undefined"])
    }))

  it.effect("relists at once on Gone, swapping the snapshot and announcing what vanished", () =>
    Effect.gen(function*() {
      const { begin, changes, nextChanges, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5"), Scripted.item("b", "6")], "10")
      yield* scripted.scriptLive
      const store = yield* begin
      yield* nextChanges(2)
      yield* scripted.setList([Scripted.item("b", "6"), Scripted.item("c", "30")], "31")
      yield* scripted.fail({ reason: "Gone", message: "too old resource version" })
      assert.deepStrictEqual(yield* nextChanges(2), ["ns/a:5->-", "ns/c:-->30"])
      assert.strictEqual(yield* scripted.nextWatch, "10")
      assert.strictEqual(yield* scripted.nextWatch, "31")
      assert.strictEqual(yield* scripted.lists, 2)
      assert.deepStrictEqual(yield* names(store), ["b@6", "c@30"])
      assert.deepStrictEqual((yield* Ref.get(changes)).slice(2), ["ns/a:5->-", "ns/c:-->30"])
      assert.deepStrictEqual((yield* logged).map(({ annotations, level, message }) => [level, message, annotations]), [
        ["WARN", "items watch failed; relisting", { reason: "Gone", message: "too old resource version" }]
      ])
    }).pipe(capture))

  it("keys an object by namespace and name, a cluster-scoped one by its name", () => {
    assert.strictEqual(Reflector.keyOf(Scripted.item("a", "1")), "ns/a")
    assert.strictEqual(Reflector.keyOf({ metadata: { name: "a" } }), "/a")
  })

  it.effect("never dies: other failures relist after a capped exponential backoff, which a success resets", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      for (let i = 0; i < 7; i++) yield* scripted.failNextList({ reason: "Unavailable", message: "connection refused" })
      yield* scripted.scriptLive
      const store = yield* begin
      yield* scripted.nextList
      // every relist after the first is woken by the clock: `adjust` returns once it is done
      const times: Array<number> = [0]
      for (let second = 1; second <= 130; second++) {
        yield* TestClock.adjust("1 second")
        if ((yield* scripted.lists) > times.length) times.push(second)
      }
      assert.deepStrictEqual(times, [0, 1, 3, 7, 15, 31, 61, 91])
      yield* store.synced
      // the eighth list succeeded: the next failure waits the first delay again
      yield* scripted.failNextList({ reason: "Unavailable", message: "connection refused" })
      yield* scripted.fail({ reason: "Unavailable", message: "watch broke" })
      yield* scripted.nextList
      yield* scripted.nextList
      const failedAt = yield* scripted.lists
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* scripted.lists, failedAt)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* scripted.lists, failedAt + 1)
    }))
})
