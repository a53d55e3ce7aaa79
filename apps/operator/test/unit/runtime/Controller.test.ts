import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Ref, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as Controller from "../../../src/runtime/Controller.ts"
import * as Scripted from "./ScriptedSource.ts"

const settle = Effect.gen(function*() {
  for (let i = 0; i < 80; i++) yield* Effect.yieldNow
})

const owner = { apiVersion: "example.com/v1", kind: "Thing" }
const ownedBy = (name: string) => [{ apiVersion: owner.apiVersion, kind: owner.kind, name, uid: `uid-${name}`, controller: true }]

describe("Controller", () => {
  it.effect("reconciles primaries from the store, maps owned objects to their owner, filters irrelevant changes", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const owned = yield* Scripted.make
      const reconciled = yield* Ref.make<ReadonlyArray<string>>([])
      yield* primary.setList([Scripted.item("a", "1", { generation: 1 }), Scripted.item("b", "2", { generation: 1 })], "2")
      yield* owned.setList([], "2")
      yield* primary.script(Stream.fromIterable([
        // a status-only write: same generation, filtered out
        { _tag: "Modified", object: Scripted.item("a", "3", { generation: 1 }) },
        // a spec change: reconciled
        { _tag: "Modified", object: Scripted.item("b", "4", { generation: 2 }) }
      ] as const).pipe(Stream.concat(Stream.never)))
      yield* owned.script(Stream.fromIterable([
        { _tag: "Added", object: Scripted.item("svc", "5", { ownerReferences: ownedBy("a") }) },
        { _tag: "Added", object: Scripted.item("orphan", "6") }
      ] as const).pipe(Stream.concat(Stream.never)))
      yield* Controller.start({
        primary: {
          name: "things",
          source: primary.source,
          relevant: (previous, current) => previous?.metadata.generation !== current?.metadata.generation
        },
        owner,
        owned: [{ name: "services", source: owned.source }],
        concurrency: 2,
        reconcile: (object) =>
          Effect.as(
            Ref.update(reconciled, (all) => [...all, `${object.metadata.name}@${object.metadata.resourceVersion}`]),
            { _tag: "AwaitChange" } as const
          )
      })
      yield* settle
      const seen = yield* Ref.get(reconciled)
      assert.includeMembers([...seen], ["b@4", "a@3"])
      assert.notInclude(seen.join(","), "orphan")
      assert.strictEqual(seen.filter((s) => s.startsWith("a@")).length, 1, "the status-only write did not add a pass")
    }))

  it.effect("forgets a deleted primary: its requeue schedule no longer runs", () =>
    Effect.gen(function*() {
      const primary = yield* Scripted.make
      const runs = yield* Ref.make(0)
      yield* primary.setList([Scripted.item("a", "1")], "1")
      const running = yield* Controller.start({
        primary: { name: "things", source: primary.source },
        owner,
        owned: [],
        concurrency: 1,
        reconcile: () => Effect.as(Ref.update(runs, (n) => n + 1), { _tag: "Requeue", after: Duration.seconds(10) } as const)
      })
      // the watch breaks with Gone after 15 s; by then the object is gone, so the relist misses it
      yield* primary.script(Stream.fromEffect(Effect.sleep("15 seconds")).pipe(
        Stream.flatMap(() => Stream.fail({ reason: "Gone", message: "too old" }))
      ))
      yield* primary.script(Stream.never)
      yield* settle
      yield* TestClock.adjust("10 seconds")
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 2)
      yield* primary.setList([], "9")
      yield* TestClock.adjust("5 seconds")
      yield* settle
      assert.deepStrictEqual(yield* running.queue.depth, { queued: 0, running: 0, scheduled: 0 }, "the 20 s schedule was cancelled")
      yield* TestClock.adjust("1 minute")
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 2)
      assert.strictEqual(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: ownedBy("a") }), owner), "ns/a")
    }))

  it("maps only controller owner references of the owner kind", () => {
    const ref = { apiVersion: owner.apiVersion, kind: owner.kind, name: "a", uid: "u" }
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [ref] }), owner))
    assert.isUndefined(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: true, kind: "Other" }] }), owner))
    assert.strictEqual(Controller.ownerKey(Scripted.item("x", "1", { ownerReferences: [{ ...ref, controller: true }] }), owner), "ns/a")
  })
})
