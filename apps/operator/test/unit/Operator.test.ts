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

/** 10 ms of virtual time, then the operator's fibers run. */
const step = Effect.andThen(TestClock.adjust("10 millis"), Effect.yieldNow)

/** Steps until `done` holds; fails after `within` ms of virtual time. */
const until = <E, R>(done: Effect.Effect<boolean, E, R>, what: string, within = 10_000) =>
  Effect.gen(function*() {
    for (let elapsed = 0; elapsed <= within; elapsed += 10) {
      if (yield* done) return
      yield* step
    }
    assert.fail(`not within ${within} ms of virtual time: ${what}`)
  })

/** Steps through `millis` of virtual time (to see that something does not happen meanwhile). */
const elapse = (millis: number) => Effect.gen(function*() {
  for (let elapsed = 0; elapsed < millis; elapsed += 10) yield* step
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
      yield* until(Effect.map(Effect.all([reconciled("a"), reconciled("b")]), ([a, b]) => a && b), "a and b reconciled")
      // c's pass would have run with the others' had it been watched
      yield* elapse(2_000)
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
      yield* until(Effect.map(Effect.all([reconciled("a"), reconciled("c")]), ([a, c]) => a && c), "a and c reconciled")
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
      yield* Sample.apply({ namespace: "a", apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      const scopeA = yield* Scope.make()
      yield* Scope.provide(Layer.build(Operator.layerOn(replica("a"), { instance: "a", leaderElection: election("a") })), scopeA)
      yield* until(reconciled("a"), "a leads and reconciles")
      yield* Layer.build(Operator.layerOn(replica("b"), { instance: "b", leaderElection: election("b") }))
      // the follower: several renewals of a's Lease pass
      yield* elapse(3_000)
      assert.isAbove(writes.a, 0)
      assert.strictEqual(writes.b, 0, "the follower writes nothing")

      yield* Scope.close(scopeA, Exit.void) // a stops: releases the Lease
      const before = writes.a
      yield* Sample.apply({ namespace: "b", apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      yield* until(reconciled("b"), "b took over and reconciled the new server")
      assert.isAbove(writes.b, 0)
      assert.strictEqual(writes.a, before, "a wrote nothing after it stopped")
    }).pipe(Effect.scoped, Effect.provide(layers)))
})
