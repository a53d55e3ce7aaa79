import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as Reflector from "../../../src/runtime/Reflector.ts"
import * as Scripted from "./ScriptedSource.ts"

const settle = Effect.gen(function*() {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

const start = Effect.gen(function*() {
  const scripted = yield* Scripted.make
  const changes = yield* Ref.make<ReadonlyArray<string>>([])
  const onChange: Reflector.OnChange<Scripted.Item> = (key, previous, current) =>
    Ref.update(changes, (all) => [...all, `${key}:${previous?.metadata.resourceVersion ?? "-"}->${current?.metadata.resourceVersion ?? "-"}`])
  return { scripted, changes, begin: Reflector.start("items", scripted.source, onChange) }
})

const names = (store: Reflector.Store<Scripted.Item>) =>
  Effect.map(store.snapshot, (snapshot) => [...snapshot.values()].map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`).sort())

describe("Reflector", () => {
  it.effect("lists, then applies watch events, announcing previous and current versions", () =>
    Effect.gen(function*() {
      const { begin, changes, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5")], "10")
      yield* scripted.script(Stream.fromIterable([
        { _tag: "Added", object: Scripted.item("b", "11") },
        { _tag: "Modified", object: Scripted.item("a", "12") },
        { _tag: "Deleted", object: Scripted.item("b", "13") }
      ] as const).pipe(Stream.concat(Stream.never)))
      const store = yield* begin
      yield* store.synced
      yield* settle
      assert.deepStrictEqual(yield* names(store), ["a@12"])
      assert.deepStrictEqual(yield* Ref.get(changes), ["ns/a:-->5", "ns/b:-->11", "ns/a:5->12", "ns/b:11->-"])
      assert.deepStrictEqual(yield* scripted.watchedFrom, ["10"])
    }))

  it.effect("resumes an ended watch from the last resourceVersion seen, without relisting", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      yield* scripted.setList([], "10")
      yield* scripted.script(Stream.fromIterable([{ _tag: "Added", object: Scripted.item("a", "15") }] as const))
      yield* scripted.script(Stream.fromIterable([{ _tag: "Bookmark", resourceVersion: "20" }] as const))
      yield* begin
      yield* settle
      assert.deepStrictEqual(yield* scripted.watchedFrom, ["10", "15", "20"])
      assert.strictEqual(yield* scripted.lists, 1)
    }))

  it.effect("relists at once on Gone, swapping the snapshot and announcing what vanished", () =>
    Effect.gen(function*() {
      const { begin, changes, scripted } = yield* start
      yield* scripted.setList([Scripted.item("a", "5"), Scripted.item("b", "6")], "10")
      yield* scripted.script(Stream.fail({ reason: "Gone", message: "too old resource version" }))
      const store = yield* begin
      yield* store.synced
      yield* scripted.setList([Scripted.item("b", "6"), Scripted.item("c", "30")], "31")
      yield* settle
      assert.strictEqual(yield* scripted.lists, 2)
      assert.deepStrictEqual(yield* names(store), ["b@6", "c@30"])
      assert.deepStrictEqual((yield* Ref.get(changes)).slice(2), ["ns/a:5->-", "ns/c:-->30"])
      assert.deepStrictEqual(yield* scripted.watchedFrom, ["10", "31"])
    }))

  it.effect("never dies: other failures relist after a capped exponential backoff", () =>
    Effect.gen(function*() {
      const { begin, scripted } = yield* start
      for (let i = 0; i < 7; i++) yield* scripted.failNextList({ reason: "Unavailable", message: "connection refused" })
      const store = yield* begin
      const times: Array<number> = []
      for (let second = 0; second <= 130; second++) {
        yield* settle
        if ((yield* scripted.lists) > times.length) times.push(second)
        yield* TestClock.adjust("1 second")
      }
      assert.deepStrictEqual(times, [0, 1, 3, 7, 15, 31, 61, 91])
      yield* store.synced
    }))
})
