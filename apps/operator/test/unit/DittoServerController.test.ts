/**
 * The whole controller on the in-memory layers with the TestClock: watches, queue, polling
 * interval, auth and adapter exposure together.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Ref, Schema } from "effect"
import { TestClock } from "effect/testing"
import { DittoServer, EventRecorder, Finalizer, Kubernetes } from "@dittofs-operator/core"
import { DittoFsMemory, KubernetesMemory } from "@dittofs-operator/core/testing"
import * as Sample from "../../../../scripts/launch/Sample.ts"
import * as DittoServerController from "../../src/controller/DittoServerController.ts"
import { counted } from "./runtime/Counted.ts"

const baseUrl = "http://dfs.local:8080"
const password = "admin-secret"
const adapters = [
  { type: "nfs", enabled: true, running: true, port: 12049 },
  { type: "smb", enabled: true, running: true, port: 12445 }
]

const layers = Layer.mergeAll(
  Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer()),
  DittoFsMemory.layer({ [baseUrl]: { adminPassword: password, adapters } })
)

const layersWithLooseCrd = Layer.mergeAll(
  Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer({ customResourceDefinitions: [KubernetesMemory.looseDittoServerCrd] })),
  DittoFsMemory.layer({ [baseUrl]: { adminPassword: password, adapters } })
)

/**
 * Runs a step of the test from a fiber the TestClock wakes. `TestClock.adjust` returns only once
 * every task scheduled by the fibers it woke, and by those they woke, has run: the watch events
 * of the step's writes, the reflectors, the queue, the reconciles and their writes. So each step
 * ends with the operator idle: a deterministic signal, not a number of yields.
 */
const act = <A, E, R>(step: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Effect.andThen(Effect.sleep("1 milli"), step))
    yield* TestClock.adjust("1 milli")
    return yield* Fiber.join(fiber)
  })

/** Lets time pass: every timer due meanwhile fires in order, each followed by what it set off. */
const advance = (seconds: number) => TestClock.adjust(Duration.seconds(seconds))

const rawDittoServer = Kubernetes.raw(Kubernetes.Resources.DittoServer)

const serviceNames = Kubernetes.Kubernetes.use((k) =>
  k.list(Kubernetes.Resources.Service, "default", { labelSelector: { "dittofs.io/adapter-service": "true" } })).pipe(
  Effect.map((services) => services.map((s) => s.metadata.name))
)

describe("DittoServerController", () => {
  it.effect("follows DittoFS adapters at the polling interval, and stops polling a deleted server", () =>
    Effect.gen(function*() {
      yield* act(Sample.apply({ apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" }))
      yield* act(DittoServerController.start())
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs", "nas-adapter-smb"], "the first pass ran to its end")
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, "default", "nas"))
      assert.strictEqual(server.status?.conditions?.find((c) => c.type === "AdaptersSynced")?.status, "True")

      const control = yield* DittoFsMemory.Control
      yield* act(control.setAdapters(baseUrl, [adapters[0]!, { ...adapters[1]!, enabled: false, running: false }]))
      yield* advance(8)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs", "nas-adapter-smb"], "not before the interval (t = 9 s)")
      yield* advance(2)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs"])

      // a shorter interval takes effect on the next cycle, without a restart
      const current = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, "default", "nas"))
      yield* act(Kubernetes.Kubernetes.use((k) =>
        k.update(Kubernetes.Resources.DittoServer, { ...current, spec: { ...current.spec, adapterDiscovery: { pollingInterval: "2s" } } })))
      yield* advance(1)
      yield* act(control.setAdapters(baseUrl, []))
      yield* advance(3)
      assert.deepStrictEqual(yield* serviceNames, [])

      yield* act(Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.DittoServer, "default", "nas")))
      yield* advance(1)
      yield* act(control.setAdapters(baseUrl, adapters))
      yield* advance(30)
      assert.deepStrictEqual(yield* serviceNames, [], "a deleted server is not polled")
    }).pipe(Effect.provide(layers)))

  it.effect("polls once per interval when idle, and writes nothing", () =>
    Effect.gen(function*() {
      yield* act(Sample.apply({ apiUrl: baseUrl, adminPassword: password, pollingInterval: "5s" }))
      yield* act(DittoServerController.start())
      yield* advance(2)
      const objects = Effect.gen(function*() {
        const kubernetes = yield* Kubernetes.Kubernetes
        const all = [
          ...(yield* kubernetes.list(Kubernetes.Resources.Service, "default")),
          ...(yield* kubernetes.list(Kubernetes.Resources.Secret, "default")),
          ...(yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, "default")),
          ...(yield* kubernetes.list(Kubernetes.Resources.StatefulSet, "default")),
          ...(yield* kubernetes.list(Kubernetes.Resources.ConfigMap, "default")),
          ...(yield* kubernetes.list(Kubernetes.Resources.DittoServer, "default"))
        ]
        return all.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort()
      })
      const settled = yield* objects
      const control = yield* DittoFsMemory.Control
      const before = (yield* control.requests(baseUrl)).listAdapters ?? 0
      yield* advance(60)
      assert.deepStrictEqual(yield* objects, settled)
      const polls = ((yield* control.requests(baseUrl)).listAdapters ?? 0) - before
      assert.strictEqual(polls, 12, "one poll per 5 s over 60 s")
    }).pipe(Effect.provide(layers)))

  it.effect("keeps no copy of its own writes once the stores hold them", () =>
    Effect.gen(function*() {
      yield* act(Sample.apply({ apiUrl: baseUrl, adminPassword: password, pollingInterval: "5s" }))
      const running = yield* act(DittoServerController.start())
      yield* advance(2)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs", "nas-adapter-smb"], "converged")
      assert.strictEqual(yield* running.cache.overlays, 0, "the DittoServer's status write included, which no pass reads back")
      const control = yield* DittoFsMemory.Control
      yield* act(control.setAdapters(baseUrl, [adapters[0]!]))
      yield* advance(5)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs"])
      assert.strictEqual(yield* running.cache.overlays, 0, "a delete's")
    }).pipe(Effect.provide(layers)))

  it.effect("an idle cycle reads from the stores: no Kubernetes request, one DittoFS call", () =>
    Effect.gen(function*() {
      const memory = yield* Kubernetes.Kubernetes
      const requests = yield* Ref.make<ReadonlyArray<string>>([])
      yield* act(Sample.apply({ apiUrl: baseUrl, adminPassword: password, pollingInterval: "5s" }))
      yield* act(DittoServerController.start().pipe(Effect.provideService(Kubernetes.Kubernetes, counted(memory, requests))))
      yield* advance(2)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs", "nas-adapter-smb"], "converged")
      assert.isAbove((yield* Ref.getAndSet(requests, [])).length, 0, "the first pass wrote")
      const control = yield* DittoFsMemory.Control
      const total = Effect.map(control.requests(baseUrl), (counts) => Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0))
      const before = yield* total
      yield* advance(60)
      assert.deepStrictEqual(yield* Ref.get(requests), [])
      assert.strictEqual((yield* total) - before, 12, "one DittoFS call (the poll) per 5 s cycle")

      // an adapter stops: the next poll deletes its Service, and the cycle after is idle again
      yield* act(control.setAdapters(baseUrl, [adapters[0]!]))
      yield* advance(5)
      assert.deepStrictEqual(yield* serviceNames, ["nas-adapter-nfs"])
      yield* Ref.set(requests, [])
      yield* advance(30)
      assert.deepStrictEqual(yield* Ref.get(requests), [])
    }).pipe(Effect.provide(layers)))

  it.effect("reports an invalid spec with a Warning Event and does not reconcile it", () =>
    Effect.gen(function*() {
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(rawDittoServer, {
          apiVersion: DittoServer.apiVersion,
          kind: DittoServer.kind,
          metadata: { name: "broken", namespace: "default" },
          spec: { storage: { metadataSize: "lots" } }
        }))
      yield* act(DittoServerController.start())
      yield* advance(1)
      const events = yield* Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Event, "default"))
      assert.deepStrictEqual(events.map((e) => [e.type, e.reason]), [["Warning", "InvalidSpec"]])
      assert.include(events[0]?.message ?? "", "metadataSize")
      const stored = yield* Kubernetes.Kubernetes.use((k) => k.get(rawDittoServer, "default", "broken"))
      const status = yield* Schema.decodeUnknownEffect(DittoServer.Status)(stored["status"])
      assert.strictEqual(status.phase, "Failed")
      assert.deepStrictEqual(status.conditions?.map((c) => [c.type, c.reason]), [["Ready", "InvalidSpec"]])
      assert.strictEqual((yield* Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Service, "default"))).length, 0, "nothing created for it")
    }).pipe(Effect.provide(layersWithLooseCrd)))

  it.effect("lets an invalid DittoServer marked for deletion go, even with the finalizer", () =>
    Effect.gen(function*() {
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(rawDittoServer, {
          apiVersion: DittoServer.apiVersion,
          kind: DittoServer.kind,
          metadata: { name: "broken", namespace: "default", finalizers: [Finalizer.name] },
          spec: { storage: { metadataSize: "lots" } }
        }))
      yield* Kubernetes.Kubernetes.use((k) => k.delete(rawDittoServer, "default", "broken"))
      yield* act(DittoServerController.start())
      yield* advance(1)
      const left = yield* Kubernetes.Kubernetes.use((k) => k.list(rawDittoServer, "default"))
      assert.deepStrictEqual(left.map((o) => o.metadata.name), [])
    }).pipe(Effect.provide(layersWithLooseCrd)))

  it("counts spec, label, annotation and deletion changes as relevant, not status writes", () => {
    const object = (meta: Record<string, unknown>, status?: unknown) => ({
      apiVersion: DittoServer.apiVersion,
      kind: DittoServer.kind,
      metadata: { name: "nas", generation: 1, resourceVersion: "1", ...meta },
      ...(status === undefined ? {} : { status })
    })
    const base = object({})
    assert.isFalse(DittoServerController.relevant(base, object({ resourceVersion: "2" }, { phase: "Running" })))
    assert.isTrue(DittoServerController.relevant(base, object({ generation: 2 })))
    assert.isTrue(DittoServerController.relevant(base, object({ annotations: { "dittofs.io/api-url": "http://x" } })))
    assert.isTrue(DittoServerController.relevant(base, object({ labels: { a: "b" } })))
    assert.isTrue(DittoServerController.relevant(base, object({ deletionTimestamp: "2026-01-01T00:00:00Z" })))
    assert.isTrue(DittoServerController.relevant(undefined, base))
    assert.isTrue(DittoServerController.relevant(base, undefined))
  })
})
