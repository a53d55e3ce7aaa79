/**
 * Laws of the whole adapter-exposure reconcile, over generated adapter lists and specs, on the
 * in-memory cluster (so the apiserver's defaulting takes part): convergence, and no change at
 * all on a poll that fails to decode.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { type Adapter, AdapterExposure, AdapterExposurePhase, K8s, Kubernetes, Ownership } from "../../src/index.ts"
import { DittoFsMemory } from "../../src/testing/index.ts"
import { namespace, ValidAdapter } from "../fixtures.ts"
import { baseUrl, login, reconcileOnce, services, setup, statefulSet, testLayer } from "./harness.ts"

const Adapters = Schema.Array(ValidAdapter).check(Schema.isMaxLength(6))
const AnnotationMap = Schema.Record(Schema.Literals(["a", "b", "example.com/c"]), Schema.Literals(["1", "2"]))
const Spec = Schema.Struct({ type: K8s.ServiceType, annotations: AnnotationMap })
/** Sixty cases of whole reconciles: more than vitest's default 5 s on a loaded 2-core machine. */
const runs = { arbitrary: { runs: 60 }, timeout: 60_000 }

const snapshot = Effect.gen(function*() {
  const kubernetes = yield* Kubernetes.Kubernetes
  const all = [
    ...(yield* kubernetes.list(Kubernetes.Resources.Service, namespace)),
    ...(yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, namespace)),
    yield* statefulSet("ditto")
  ]
  return all.map((object) => `${object.kind}/${object.metadata.name}@${object.metadata.resourceVersion}`)
})

/** Plans again from the cluster as it is now, with the same poll. */
const replan = <E>(poll: Result.Result<Adapter.List, E>) =>
  Effect.gen(function*() {
    const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
    const identity = Ownership.identityOf(server)
    return AdapterExposure.plan({
      server: identity,
      spec: server.spec,
      poll,
      observed: yield* AdapterExposurePhase.observe(identity)
    })
  })

const updateSpec = (spec: typeof Spec.Type) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
    yield* kubernetes.update(Kubernetes.Resources.DittoServer, { ...server, spec: { ...server.spec, adapterServices: spec } })
  })

describe("convergence", () => {
  it.effect.prop(
    "after any change of adapters and spec, one pass converges: planning again is empty and writes nothing",
    { before: Adapters, after: Adapters, specBefore: Spec, specAfter: Spec },
    ({ after, before, specAfter, specBefore }) =>
      Effect.gen(function*() {
        yield* setup({ adapterServices: specBefore })
        const session = yield* login
        yield* reconcileOnce("ditto", session)
        yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, after)
        yield* updateSpec(specAfter)
        const outcome = yield* reconcileOnce("ditto", session)
        assert.deepStrictEqual(outcome.failures, [])
        const replanned = yield* replan(outcome.poll)
        assert.isTrue(AdapterExposure.isEmpty(replanned), JSON.stringify(replanned))
        const settled = yield* snapshot
        yield* reconcileOnce("ditto", session)
        assert.deepStrictEqual(yield* snapshot, settled)
        assert.strictEqual((yield* services).length, outcome.plan.active.active.length)
      }).pipe(Effect.provide(testLayer(before))),
    runs
  )
})

describe("a poll that fails to decode", () => {
  const NotAnArray = Schema.Union([Schema.Null, Schema.String, Schema.Finite, Schema.Record(Schema.String, Schema.Unknown)])

  it.effect.prop("changes nothing in the cluster, whatever it already holds", { before: Adapters, body: NotAnArray }, ({ before, body }) =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      yield* reconcileOnce("ditto", session)
      const settled = yield* snapshot
      yield* (yield* DittoFsMemory.Control).setAdapterBody(baseUrl, { body })
      const outcome = yield* reconcileOnce("ditto", session)
      assert.isTrue(Result.isFailure(outcome.poll))
      assert.isTrue(AdapterExposure.isEmpty(outcome.plan))
      assert.deepStrictEqual(yield* snapshot, settled)
      assert.isTrue(AdapterExposure.isEmpty(yield* replan(outcome.poll)))
    }).pipe(Effect.provide(testLayer(before))), runs)
})
