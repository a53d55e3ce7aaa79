/**
 * The operator's watched namespaces: every namespace by default; otherwise one controller per
 * namespace, each reconciling only its own DittoServers (what a Role per namespace allows).
 */
import { assert, describe, it } from "@effect/vitest"
import { EventRecorder, Kubernetes } from "@dittofs-operator/core"
import { DittoFsMemory, KubernetesMemory } from "@dittofs-operator/core/testing"
import { Effect, Exit, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as Sample from "../../../../scripts/launch/Sample.ts"
import * as Operator from "../../src/Operator.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"

const baseUrl = "http://dfs.local:8080"
const password = "admin-secret"
const adapters = [{ type: "nfs", enabled: true, running: true, port: 12049 }]

const layers = Layer.mergeAll(
  Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer()),
  DittoFsMemory.layer({ [baseUrl]: { adminPassword: password, adapters } })
)

const settle = Effect.gen(function*() {
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow
})

/** Whether the server in `namespace` was reconciled (its finalizer added). */
const reconciled = (namespace: string) =>
  Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "nas")).pipe(
    Effect.map((server) => (server.metadata.finalizers ?? []).length > 0)
  )

describe("Operator", () => {
  it("watchedNamespaces: namespace and namespaces together, deduplicated, in order; none = every namespace", () => {
    assert.deepStrictEqual(Operator.watchedNamespaces({}), [])
    assert.deepStrictEqual(Operator.watchedNamespaces({ namespace: "a" }), ["a"])
    assert.deepStrictEqual(Operator.watchedNamespaces({ namespace: "a", namespaces: ["b", "a", "c", "b"] }), ["a", "b", "c"])
  })

  it.effect("with namespaces a and b, servers in a and b are reconciled, the one in c is not", () =>
    Effect.gen(function*() {
      for (const namespace of ["a", "b", "c"]) {
        yield* Sample.apply({ namespace, apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      }
      yield* Layer.build(Operator.controllers({ namespaces: ["a", "b"] }))
      for (let i = 0; i < 8; i++) {
        yield* TestClock.adjust("250 millis")
        yield* settle
      }
      assert.deepStrictEqual(
        [yield* reconciled("a"), yield* reconciled("b"), yield* reconciled("c")],
        [true, true, false]
      )
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.effect("with no namespace, every namespace", () =>
    Effect.gen(function*() {
      for (const namespace of ["a", "c"]) {
        yield* Sample.apply({ namespace, apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      }
      yield* Layer.build(Operator.controllers())
      for (let i = 0; i < 8; i++) {
        yield* TestClock.adjust("250 millis")
        yield* settle
      }
      assert.deepStrictEqual([yield* reconciled("a"), yield* reconciled("c")], [true, true])
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.effect("two replicas with leader election: only the leader writes; the follower takes over when it stops", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const writes = { a: 0, b: 0 }
      /** The shared API server, counting each replica's writes but its Lease's. */
      const replica = (name: "a" | "b") =>
        Layer.succeed(Kubernetes.Kubernetes, Kubernetes.Kubernetes.of({
          ...kubernetes,
          create: (resource, object) => Effect.andThen(Effect.sync(() => { if (resource.kind !== "Lease") writes[name]++ }), kubernetes.create(resource, object)),
          update: (resource, object) => Effect.andThen(Effect.sync(() => { if (resource.kind !== "Lease") writes[name]++ }), kubernetes.update(resource, object)),
          updateStatus: (resource, object) => Effect.andThen(Effect.sync(() => void writes[name]++), kubernetes.updateStatus(resource, object)),
          patchStatus: (resource, previous, next) => Effect.andThen(Effect.sync(() => void writes[name]++), kubernetes.patchStatus(resource, previous, next)),
          delete: (resource, namespace, n, pre) => Effect.andThen(Effect.sync(() => void writes[name]++), kubernetes.delete(resource, namespace, n, pre))
        }))
      const election = (identity: string) => ({ namespace: "ops", leaseName: "dittofs-operator", identity, ...LeaderElection.defaults })
      const run = Effect.gen(function*() {
        for (let i = 0; i < 12; i++) {
          yield* TestClock.adjust("250 millis")
          yield* settle
        }
      })
      yield* Sample.apply({ namespace: "a", apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      const scopeA = yield* Scope.make()
      yield* Scope.provide(Layer.build(Operator.layerOn(replica("a"), { instance: "a", leaderElection: election("a") })), scopeA)
      yield* run
      yield* Layer.build(Operator.layerOn(replica("b"), { instance: "b", leaderElection: election("b") }))
      yield* run
      assert.isTrue(yield* reconciled("a"))
      assert.isAbove(writes.a, 0)
      assert.strictEqual(writes.b, 0, "the follower writes nothing")

      yield* Scope.close(scopeA, Exit.void) // a stops: releases the Lease
      const before = writes.a
      yield* Sample.apply({ namespace: "b", apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      yield* run
      assert.isTrue(yield* reconciled("b"), "b took over and reconciled the new server")
      assert.isAbove(writes.b, 0)
      assert.strictEqual(writes.a, before, "a wrote nothing after it stopped")
    }).pipe(Effect.scoped, Effect.provide(layers)))
})
