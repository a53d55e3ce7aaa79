import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Events, Kubernetes, Resources } from "../../src/index.ts"
import * as EventRecorder from "../../src/services/EventRecorder.ts"
import { KubernetesMemory, KubernetesMemoryControl } from "../../src/testing/index.ts"

const regarding = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", namespace: "storage", name: "ditto", uid: "u-1" }
const created = { type: "Normal" as const, reason: "AdapterServiceCreated", message: "Created LoadBalancer Service x" }
const layer = Layer.provideMerge(EventRecorder.layer({ instance: "operator-0" }), KubernetesMemory.layer())
const recorded = Kubernetes.use((k) => k.list(Resources.Event, "storage"))

describe("EventRecorder", () => {
  it.effect("records a core/v1 Event about the object", () =>
    Effect.gen(function*() {
      yield* (yield* Events).emit(regarding, created)
      const [event, ...rest] = yield* recorded
      assert.strictEqual(rest.length, 0)
      assert.deepStrictEqual(
        [event?.type, event?.reason, event?.message, event?.count, event?.involvedObject.uid, event?.reportingComponent, event?.reportingInstance],
        ["Normal", "AdapterServiceCreated", "Created LoadBalancer Service x", 1, "u-1", "dittoserver-controller", "operator-0"]
      )
    }).pipe(Effect.provide(layer)))

  it.effect("counts repeats within the window on one Event, and starts a new one after it", () =>
    Effect.gen(function*() {
      const events = yield* Events
      for (let i = 0; i < 5; i++) {
        yield* events.emit(regarding, created)
        yield* TestClock.adjust("1 minute")
      }
      yield* events.emit(regarding, { ...created, message: "other" })
      assert.deepStrictEqual((yield* recorded).map((e) => [e.message, e.count]), [["Created LoadBalancer Service x", 5], ["other", 1]])
      yield* TestClock.adjust("11 minutes")
      yield* events.emit(regarding, created)
      assert.strictEqual((yield* recorded).length, 3)
    }).pipe(Effect.provide(layer)))

  it.effect("never fails the caller when the API refuses the Event", () =>
    Effect.gen(function*() {
      yield* (yield* KubernetesMemoryControl).failNext({ verb: "create", kind: "Event", reason: "Forbidden" })
      yield* (yield* Events).emit(regarding, created)
      assert.strictEqual((yield* recorded).length, 0)
      yield* (yield* Events).emit(regarding, created)
      assert.strictEqual((yield* recorded).length, 1)
    }).pipe(Effect.provide(layer)))

  it.effect("creates a fresh Event when the aggregated one was deleted", () =>
    Effect.gen(function*() {
      const events = yield* Events
      yield* events.emit(regarding, created)
      const [first] = yield* recorded
      yield* Kubernetes.use((k) => k.delete(Resources.Event, "storage", first?.metadata.name ?? ""))
      yield* events.emit(regarding, created)
      assert.deepStrictEqual((yield* recorded).map((e) => e.count), [1])
    }).pipe(Effect.provide(layer)))
})

describe("EventRecorder, when someone else changed the Event", () => {
  it.effect("bumps the current Event after a conflict", () =>
    Effect.gen(function*() {
      const events = yield* Events
      yield* events.emit(regarding, created)
      const [first] = yield* recorded
      if (first === undefined) return assert.fail("no Event")
      yield* Kubernetes.use((k) => k.update(Resources.Event, { ...first, count: 7 }))
      yield* events.emit(regarding, created)
      assert.deepStrictEqual((yield* recorded).map((e) => e.count), [8])
    }).pipe(Effect.provide(layer)))
})
