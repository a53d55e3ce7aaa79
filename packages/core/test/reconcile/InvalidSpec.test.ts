/**
 * The pass over a DittoServer whose spec does not decode, on the in-memory cluster with a CRD
 * loose enough to store it: it says why (a Warning Event, a `Failed` status written only when it
 * changes), touches nothing else, and never holds a deletion hostage.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { DittoServer, EventRecorder, Finalizer, InvalidSpec, type K8s, Kubernetes } from "../../src/index.ts"
import { KubernetesMemory } from "../../src/testing/index.ts"
import { capture, lines } from "../Logs.ts"
import { countingStatusPatches } from "./harness.ts"

const namespace = "storage"
const rawDittoServer = Kubernetes.raw(Kubernetes.Resources.DittoServer)

const layer = Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer({ customResourceDefinitions: [KubernetesMemory.looseDittoServerCrd] }))

const broken = (metadata: Partial<K8s.ObjectMeta> = {}): K8s.AnyObject => ({
  apiVersion: DittoServer.apiVersion,
  kind: DittoServer.kind,
  metadata: { name: "broken", namespace, ...metadata },
  spec: { storage: { metadataSize: "lots" } }
})

const create = (object: K8s.AnyObject) => Kubernetes.Kubernetes.use((k) => k.create(rawDittoServer, object))
const read = Kubernetes.Kubernetes.use((k) => k.get(rawDittoServer, namespace, "broken"))
const readIfAny = read.pipe(Effect.asSome, Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeedNone))
const pass = (message = "spec.storage.metadataSize: not a quantity") =>
  Effect.flatMap(read, (object) => InvalidSpec.reconcile(object, message))
const statusOf = (object: K8s.AnyObject) => Schema.decodeUnknownEffect(DittoServer.Status)(object["status"])
const events = Effect.map(
  Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Event, namespace)),
  (list) => list.map((event) => [event.type, event.reason, event.message, event.count ?? 1] as const)
)
/** Every kind the operator could write for a server, besides the DittoServer and Events. */
const workloadObjects = Effect.gen(function*() {
  const k = yield* Kubernetes.Kubernetes
  const { ConfigMap, NetworkPolicy, Secret, Service, StatefulSet } = Kubernetes.Resources
  return [
    ...(yield* k.list(StatefulSet, namespace)),
    ...(yield* k.list(Service, namespace)),
    ...(yield* k.list(NetworkPolicy, namespace)),
    ...(yield* k.list(ConfigMap, namespace)),
    ...(yield* k.list(Secret, namespace))
  ].map((object) => `${object.kind}/${object.metadata.name}`)
})

describe("InvalidSpec.reconcile", () => {
  it.effect("says why with a Warning Event and a Failed status, touches nothing else, and awaits the next edit", () =>
    Effect.gen(function*() {
      yield* create(broken())
      yield* TestClock.setTime(Date.parse("2026-05-01T10:00:00Z"))
      const action = yield* pass()
      assert.deepStrictEqual(action, { _tag: "AwaitChange" })
      assert.deepStrictEqual(yield* events, [
        ["Warning", "InvalidSpec", "The DittoServer spec is invalid: spec.storage.metadataSize: not a quantity", 1]
      ])
      const status = yield* statusOf(yield* read)
      assert.deepStrictEqual(status, {
        observedGeneration: 1,
        phase: "Failed",
        conditions: [{
          type: "Ready",
          status: "False",
          reason: "InvalidSpec",
          message: "spec.storage.metadataSize: not a quantity",
          lastTransitionTime: "2026-05-01T10:00:00Z",
          observedGeneration: 1
        }],
        adapters: []
      })
      assert.deepStrictEqual(yield* workloadObjects, [])
      assert.deepStrictEqual((yield* read).metadata.finalizers, undefined, "no finalizer for a server it cannot read")
    }).pipe(Effect.provide(layer)))

  it.effect("keeps what the status said before (adapters, other conditions) and marks it Failed", () =>
    Effect.gen(function*() {
      const before = {
        phase: "Running",
        observedGeneration: 1,
        conditions: [
          { type: "Ready", status: "True", reason: "Ready", message: "ok", lastTransitionTime: "2026-04-01T00:00:00Z" },
          { type: "Authenticated", status: "True", reason: "LoggedIn", message: "ok", lastTransitionTime: "2026-04-01T00:00:00Z" }
        ],
        adapters: [{ type: "nfs", port: 12049, serviceName: "broken-adapter-nfs", exposed: true }]
      }
      const created = yield* create(broken())
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.patchStatus(rawDittoServer, created, { ...created, status: before })
      // the user's edit that broke the spec: generation 2
      yield* kubernetes.update(rawDittoServer, { ...(yield* read), spec: { storage: { metadataSize: "much" } } })
      yield* TestClock.setTime(Date.parse("2026-05-01T10:00:00Z"))
      yield* pass()
      const status = yield* statusOf(yield* read)
      assert.strictEqual(status.phase, "Failed")
      assert.strictEqual(status.observedGeneration, 2)
      assert.deepStrictEqual(status.adapters, before.adapters)
      assert.deepStrictEqual(
        status.conditions?.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]),
        [["Authenticated", "True", "LoggedIn", "2026-04-01T00:00:00Z"], ["Ready", "False", "InvalidSpec", "2026-05-01T10:00:00Z"]]
      )
    }).pipe(Effect.provide(layer)))

  it.effect("writes the status only when it changes: the same message again leaves it alone, a new one rewrites it", () =>
    Effect.gen(function*() {
      yield* create(broken())
      yield* pass()
      const first = yield* read
      yield* TestClock.adjust("1 minute")
      yield* pass()
      const second = yield* read
      assert.strictEqual(second.metadata.resourceVersion, first.metadata.resourceVersion, "no write for the same status")
      assert.deepStrictEqual((yield* events).map(([, reason, , count]) => [reason, count]), [["InvalidSpec", 2]], "the Event is repeated")
      yield* pass("spec.replicas: expected a number")
      const third = yield* read
      assert.notStrictEqual(third.metadata.resourceVersion, second.metadata.resourceVersion)
      assert.strictEqual((yield* statusOf(third)).conditions?.[0]?.message, "spec.replicas: expected a number")
    }).pipe(Effect.provide(layer)))

  it.effect("sends no status write when the status would not change", () =>
    Effect.gen(function*() {
      yield* create(broken())
      yield* pass()
      const { counting, patches } = yield* countingStatusPatches
      yield* pass().pipe(Effect.provideService(Kubernetes.Kubernetes, counting))
      assert.deepStrictEqual(patches, [], "the API server is not asked to write what it holds")
      yield* pass("another message").pipe(Effect.provideService(Kubernetes.Kubernetes, counting))
      assert.strictEqual(patches.length, 1)
    }).pipe(Effect.provide(layer)))

  it.effect("an object marked for deletion without any finalizer is left alone", () =>
    Effect.gen(function*() {
      // as a watch may still deliver it while the API server deletes it
      const object = broken({ deletionTimestamp: "2026-05-01T10:00:00Z", uid: "u-1" })
      assert.deepStrictEqual(yield* InvalidSpec.reconcile(object, "bad"), { _tag: "AwaitChange" })
      assert.deepStrictEqual((yield* events).map(([, reason]) => reason), ["InvalidSpec"])
    }).pipe(Effect.provide(layer)))

  it.effect("a status that cannot be written is logged as a warning, not failed", () =>
    Effect.gen(function*() {
      yield* create(broken())
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "patchStatus", reason: "Unavailable" })
      const action = yield* pass()
      assert.deepStrictEqual(action, { _tag: "AwaitChange" })
      assert.isUndefined((yield* read)["status"], "nothing written")
      assert.deepStrictEqual(
        (yield* lines).map(([level, message, annotations]) => [level, message, annotations["reason"]]),
        [["WARN", "could not write the Failed status", "Unavailable"]]
      )
    }).pipe(Effect.provide(layer), capture))

  it.effect("marked for deletion with the finalizer: lets it go at once and says the account was left", () =>
    Effect.gen(function*() {
      yield* create(broken({ finalizers: ["example.com/other", Finalizer.name] }))
      yield* Kubernetes.Kubernetes.use((k) => k.delete(rawDittoServer, namespace, "broken"))
      const action = yield* pass()
      assert.deepStrictEqual(action, { _tag: "AwaitChange" })
      const left = Option.getOrThrow(yield* readIfAny)
      assert.deepStrictEqual(left.metadata.finalizers, ["example.com/other"], "only the operator's finalizer goes")
      assert.isUndefined(left["status"], "no status for a server on its way out")
      assert.deepStrictEqual((yield* events).map(([type, reason, message]) => [type, reason, message]), [
        ["Warning", "InvalidSpec", "The DittoServer spec is invalid: spec.storage.metadataSize: not a quantity"],
        ["Warning", "CleanupSkipped", "The DittoFS operator account was left in place: the spec is invalid"]
      ])
    }).pipe(Effect.provide(layer)))

  it.effect("marked for deletion with only another finalizer: nothing to release, nothing written", () =>
    Effect.gen(function*() {
      yield* create(broken({ finalizers: ["example.com/other"] }))
      yield* Kubernetes.Kubernetes.use((k) => k.delete(rawDittoServer, namespace, "broken"))
      const before = yield* read
      yield* pass()
      const after = yield* read
      assert.strictEqual(after.metadata.resourceVersion, before.metadata.resourceVersion)
      assert.deepStrictEqual((yield* events).map(([, reason]) => reason), ["InvalidSpec"])
    }).pipe(Effect.provide(layer)))

  it.effect("a finalizer that cannot be removed is logged as a warning; the next pass removes it", () =>
    Effect.gen(function*() {
      yield* create(broken({ finalizers: [Finalizer.name] }))
      yield* Kubernetes.Kubernetes.use((k) => k.delete(rawDittoServer, namespace, "broken"))
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", reason: "Conflict" })
      yield* pass()
      assert.isTrue(Option.isSome(yield* readIfAny), "still held")
      assert.deepStrictEqual(
        (yield* lines).map(([level, message, annotations]) => [level, message, annotations["reason"]]),
        [["WARN", "could not remove the finalizer", "Conflict"]]
      )
      yield* pass()
      assert.isTrue(Option.isNone(yield* readIfAny), "gone once the finalizer is removed")
    }).pipe(Effect.provide(layer), capture))
})
