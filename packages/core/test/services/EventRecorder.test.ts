import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Latch, Layer, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Events, K8s, Kubernetes } from "../../src/index.ts"
import * as EventRecorder from "../../src/services/EventRecorder.ts"
import { KubernetesMemory } from "../../src/testing/index.ts"
import { capture, lines } from "../Logs.ts"

const regarding = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", namespace: "storage", name: "ditto", uid: "u-1" }
const created = { type: "Normal" as const, reason: "AdapterServiceCreated", message: "Created LoadBalancer Service x" }
const layer = Layer.provideMerge(EventRecorder.layer({ instance: "operator-0" }), KubernetesMemory.layer())
const recorded = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Event, "storage"))

/** The in-memory API, creating objects with managedFields as the API server does. */
const managedFieldsOnCreate = Layer.effect(
  Kubernetes.Kubernetes,
  Effect.map(Kubernetes.Kubernetes, (api) =>
    Kubernetes.Kubernetes.of({
      ...api,
      create: (resource, object) => {
        const plain = Schema.decodeUnknownSync(K8s.AnyObject)(Schema.encodeSync(resource.schema)(object))
        const managed = { ...plain, metadata: { ...plain.metadata, managedFields: [{ manager: "dittoserver-controller", operation: "Update" }] } }
        return api.create(resource, Schema.decodeSync(resource.schema)(managed))
      }
    }))
).pipe(Layer.provideMerge(KubernetesMemory.layer()))

describe("EventRecorder", () => {
  it.effect("records a core/v1 Event about the object", () =>
    Effect.gen(function*() {
      yield* (yield* Events.Events).emit(regarding, created)
      const [event, ...rest] = yield* recorded
      assert.strictEqual(rest.length, 0)
      assert.deepStrictEqual(
        [event?.type, event?.reason, event?.message, event?.count, event?.involvedObject.uid, event?.reportingComponent, event?.reportingInstance],
        ["Normal", "AdapterServiceCreated", "Created LoadBalancer Service x", 1, "u-1", "dittoserver-controller", "operator-0"]
      )
    }).pipe(Effect.provide(layer)))

  it.effect("counts repeats within the window on one Event, and starts a new one after it", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
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
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Event", reason: "Forbidden" })
      yield* (yield* Events.Events).emit(regarding, created)
      assert.strictEqual((yield* recorded).length, 0)
      yield* (yield* Events.Events).emit(regarding, created)
      assert.strictEqual((yield* recorded).length, 1)
    }).pipe(Effect.provide(layer)))

  it.effect("creates a fresh Event when the aggregated one was deleted", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      yield* events.emit(regarding, created)
      const [first] = yield* recorded
      yield* Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.Event, "storage", first?.metadata.name ?? ""))
      yield* events.emit(regarding, created)
      assert.deepStrictEqual((yield* recorded).map((e) => e.count), [1])
    }).pipe(Effect.provide(layer)))
})

describe("EventRecorder, in detail", () => {
  it.effect("names an Event after its object and the time, and moves only lastTimestamp on a repeat", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      yield* events.emit(regarding, created)
      yield* TestClock.adjust("90 seconds")
      yield* events.emit(regarding, created)
      yield* events.emit(regarding, { ...created, reason: "Other" })
      const all = yield* recorded
      assert.deepStrictEqual(all.map((e) => [e.metadata.name, e.count, e.firstTimestamp, e.lastTimestamp, e.source?.component]), [
        ["ditto.0", 2, "1970-01-01T00:00:00Z", "1970-01-01T00:01:30Z", "dittoserver-controller"],
        [`ditto.${(90_000 * 1000 + 1).toString(16)}`, 1, "1970-01-01T00:01:30Z", "1970-01-01T00:01:30Z", "dittoserver-controller"]
      ])
      assert.deepStrictEqual(all[0]?.involvedObject, regarding)
    }).pipe(Effect.provide(layer)))

  it.effect("keeps an Event's firstTimestamp through every repeat, not only the first", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      for (let i = 0; i < 3; i++) {
        yield* events.emit(regarding, created)
        yield* TestClock.adjust("1 minute")
      }
      assert.deepStrictEqual(
        (yield* recorded).map((e) => [e.count, e.firstTimestamp, e.lastTimestamp]),
        [[3, "1970-01-01T00:00:00Z", "1970-01-01T00:02:00Z"]]
      )
    }).pipe(Effect.provide(layer)))

  it.effect("keeps an Event's name within 253 characters", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1 hour")
      yield* (yield* Events.Events).emit({ ...regarding, name: "n".repeat(253) }, created)
      const [event] = yield* recorded
      const suffix = `.${(3_600_000 * 1000).toString(16)}`
      assert.strictEqual(event?.metadata.name, "n".repeat(253 - suffix.length) + suffix)
    }).pipe(Effect.provide(layer)))

  it.effect("takes its component, window and capacity from the options", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      const note = (reason: string) => ({ ...created, reason })
      yield* events.emit(regarding, note("A"))
      yield* TestClock.adjust("1 minute")
      yield* events.emit(regarding, note("A")) // exactly at the end of the window: counted
      yield* TestClock.adjust("61 seconds")
      yield* events.emit(regarding, note("A")) // past it: a new Event
      const byReason = Effect.map(recorded, (all) => all.map((e) => [e.reason, e.count, e.reportingComponent, e.reportingInstance]))
      assert.deepStrictEqual(yield* byReason, [["A", 2, "ops", "ops"], ["A", 1, "ops", "ops"]])
      // two remembered at most, the least recently used forgotten first
      yield* events.emit(regarding, note("B"))
      yield* events.emit(regarding, note("A"))
      yield* events.emit(regarding, note("C"))
      yield* events.emit(regarding, note("A"))
      yield* events.emit(regarding, note("B"))
      assert.deepStrictEqual((yield* byReason).map(([reason, count]) => `${reason}${count}`), ["A2", "A3", "B1", "C1", "B1"])
    }).pipe(Effect.provide(Layer.provideMerge(
      EventRecorder.layer({ component: "ops", aggregationWindow: Duration.minutes(1), capacity: 2 }),
      KubernetesMemory.layer()
    ))))

  it.effect("logs an Event it could not record", () =>
    Effect.gen(function*() {
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Event", reason: "Forbidden" })
      yield* (yield* Events.Events).emit(regarding, created)
      const [line] = yield* lines
      assert.strictEqual(line?.[0], "WARN")
      assert.match(String(line?.[1]), /^could not record Event AdapterServiceCreated: Forbidden: /)
    }).pipe(Effect.provide(layer), capture))
})

describe("EventRecorder, when someone else changed the Event", () => {
  it.effect("bumps the current Event after a conflict", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      yield* events.emit(regarding, created)
      const [first] = yield* recorded
      if (first === undefined) return assert.fail("no Event")
      yield* Kubernetes.Kubernetes.use((k) => k.update(Kubernetes.Resources.Event, { ...first, count: 7 }))
      yield* events.emit(regarding, created)
      assert.deepStrictEqual((yield* recorded).map((e) => e.count), [8])
    }).pipe(Effect.provide(layer)))

  it.effect("remembers an Event without its managedFields: the PUT of a repeat carries none", () =>
    Effect.gen(function*() {
      const events = yield* Events.Events
      yield* events.emit(regarding, created)
      assert.isDefined((yield* recorded)[0]?.metadata["managedFields"], "the API server's Event has them")
      yield* events.emit(regarding, created)
      const [bumped] = yield* recorded
      assert.strictEqual(bumped?.count, 2)
      assert.isUndefined(bumped?.metadata["managedFields"], "the PUT sent the Event as remembered")
    }).pipe(Effect.provide(Layer.provideMerge(EventRecorder.layer(), managedFieldsOnCreate))))
})

describe("EventRecorder.layerInBackground", () => {
  /** The in-memory API with Event creates held until `open` (a slow API server). */
  const gated = Effect.gen(function*() {
    const gate = yield* Latch.make(false)
    const memory = Layer.effect(
      Kubernetes.Kubernetes,
      Effect.map(Kubernetes.Kubernetes, (api) =>
        Kubernetes.Kubernetes.of({
          ...api,
          create: (resource, object) => resource.kind === "Event" ? Effect.andThen(gate.await, api.create(resource, object)) : api.create(resource, object)
        }))
    ).pipe(Layer.provideMerge(KubernetesMemory.layer()))
    return { gate, memory }
  })

  it.effect("returns from emit before the Event is written, and records what is queued when closed", () =>
    Effect.gen(function*() {
      const { gate, memory } = yield* gated
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Layer.provideMerge(EventRecorder.layerInBackground({ writers: 1 }), memory), scope)
      const events = Context.get(context, Events.Events)
      const listed = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Event, "storage")).pipe(Effect.provideContext(context))
      for (const reason of ["A", "B", "C"]) yield* events.emit(regarding, { ...created, reason })
      assert.deepStrictEqual(yield* listed, [], "nothing written while the API server holds the first")
      yield* gate.open
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual((yield* listed).map((e) => e.reason).sort(), ["A", "B", "C"])
    }))

  it.effect("gives up recording after drainTimeout, and says how many it left", () =>
    Effect.gen(function*() {
      const { memory } = yield* gated
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Layer.provideMerge(EventRecorder.layerInBackground({ writers: 1, drainTimeout: Duration.seconds(2) }), memory),
        scope
      )
      const events = Context.get(context, Events.Events)
      for (const reason of ["A", "B", "C"]) yield* events.emit(regarding, { ...created, reason })
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(closing)
      const warnings = (yield* lines).filter(([level]) => level === "WARN").map(([, message]) => message)
      assert.deepStrictEqual(warnings, ["stopped with 2 Event(s) not recorded"], "one held by the API server, two queued")
    }).pipe(capture))
})
