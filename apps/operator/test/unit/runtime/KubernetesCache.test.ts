/**
 * The cached Kubernetes service: the Kubernetes contract suite holds for it over the in-memory API
 * server (reads served from reflector stores), and what only a cache has to prove — reads that
 * make no API request, read-your-writes before the store catches up, a GET after a conflict or a
 * delete, trimmed objects read from the API server — on a store the test drives by hand.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Ref, Schedule } from "effect"
import { type K8s, Kubernetes } from "@dittofs-operator/core"
import { KubernetesMemory } from "@dittofs-operator/core/testing"
// The core's package exports do not list the contract suite (it imports vitest): a relative import.
import { ContractNamespaces, kubernetesContract } from "../../../../../packages/core/src/testing/contract/KubernetesContract.ts"
import * as KubernetesCache from "../../../src/runtime/KubernetesCache.ts"
import { counted } from "./Counted.ts"
import type * as Reflector from "../../../src/runtime/Reflector.ts"
import { contractStores } from "../../CacheContract.ts"

const namespaces = Layer.effect(
  ContractNamespaces,
  Effect.map(Ref.make(0), (counter) =>
    ContractNamespaces.of({
      fresh: Effect.map(Ref.updateAndGet(counter, (n) => n + 1), (n) => `contract-${n}`)
    }))
)

const R = Kubernetes.Resources

kubernetesContract("KubernetesCache over KubernetesMemory", {
  layer: Layer.merge(
    KubernetesCache.layer(contractStores).pipe(Layer.provide(KubernetesMemory.layer())),
    namespaces
  ),
  // others' changes (the garbage collector's) reach the stores through the watch, a moment later
  settle: Schedule.spaced("5 millis").pipe(Schedule.upTo({ duration: "5 seconds" })),
  liveClock: true,
  testTimeout: 20_000
})

/** A store the test fills and advances by hand, as a reflector would. */
const manualStore = Effect.gen(function*() {
  const objects = yield* Ref.make<ReadonlyMap<string, K8s.AnyObject>>(new Map())
  const version = yield* Ref.make("0")
  const synced = yield* Deferred.make<void>()
  yield* Deferred.succeed(synced, undefined)
  const store: Reflector.Store<K8s.AnyObject> = {
    snapshot: Ref.get(objects),
    get: (key) => Effect.map(Ref.get(objects), (all) => all.get(key)),
    synced: Deferred.await(synced),
    isSynced: Effect.succeed(true),
    version: Ref.get(version),
    alive: Effect.succeed(true),
    indexed: (value) =>
      Effect.map(Ref.get(objects), (all) => new Map([...all].filter(([, object]) => KubernetesCache.indexByLabel("app")(object) === value)))
  }
  /** The store as the watch would leave it: every object's current state, at `at`. */
  const catchUp = (current: ReadonlyArray<K8s.AnyObject>, at: string, transform = (o: K8s.AnyObject) => o) =>
    Effect.andThen(
      Ref.set(objects, new Map(current.map((object) => [`${object.metadata.namespace}/${object.metadata.name}`, transform(object)] as const))),
      Ref.set(version, at)
    )
  return { store, catchUp }
})

const secret = (name: string, labels: K8s.StringMap = {}) => ({
  apiVersion: "v1" as const,
  kind: "Secret" as const,
  metadata: { name, namespace: "ns", labels },
  data: { key: "dmFsdWU=" }
})

/** The memory server, a counted view of it, and a cache over a hand-driven Secret store. */
const setup = (labelSelector: K8s.StringMap | undefined = undefined) =>
  Effect.gen(function*() {
    const memory = yield* Kubernetes.Kubernetes
    const calls = yield* Ref.make<ReadonlyArray<string>>([])
    const { catchUp, store } = yield* manualStore
    const cache = KubernetesCache.make(counted(memory, calls), [{ resource: R.Secret, store, labelSelector, indexLabel: "app" }])
    /** The store catches up with the server's current Secrets (those its selector matches). */
    const sync = (transform?: (o: K8s.AnyObject) => K8s.AnyObject) =>
      Effect.flatMap(
        memory.listWithVersion(Kubernetes.raw(R.Secret), "ns", labelSelector === undefined ? {} : { labelSelector }),
        (listed) => catchUp(listed.items, listed.resourceVersion, transform)
      )
    const taken = Ref.getAndSet(calls, [])
    return { memory, cache, sync, taken }
  }).pipe(Effect.provide(KubernetesMemory.layer()))

describe("KubernetesCache", () => {
  it.effect("serves get and list of a synced kind from its store, absent names as NotFound, without an API call", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, secret("a", { app: "x" }))
      yield* memory.create(R.Secret, secret("b"))
      yield* sync()
      assert.strictEqual((yield* cache.get(R.Secret, "ns", "a")).data?.["key"], "dmFsdWU=")
      assert.strictEqual(yield* cache.get(R.Secret, "ns", "a"), yield* cache.get(R.Secret, "ns", "a"), "decoded once, shared")
      assert.strictEqual((yield* cache.list(R.Secret, "ns"))[0], yield* cache.get(R.Secret, "ns", "a"))
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x" } })).map((s) => s.metadata.name), ["a"])
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns")).map((s) => s.metadata.name), ["a", "b"])
      assert.strictEqual((yield* Effect.flip(cache.get(R.Secret, "ns", "missing"))).reason, "NotFound")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "other"), [])
      assert.deepStrictEqual(yield* taken, [])
      // a kind without a store goes to the API server
      yield* Effect.flip(cache.get(R.ConfigMap, "ns", "c"))
      assert.deepStrictEqual(yield* taken, ["get ConfigMap c"])
    }))

  it.effect("a filtered store answers only what it covers", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup({ app: "x" })
      yield* memory.create(R.Secret, secret("a", { app: "x", tier: "t" }))
      yield* memory.create(R.Secret, secret("b"))
      yield* sync()
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x", tier: "t" } })).map((s) => s.metadata.name), ["a"])
      assert.deepStrictEqual(yield* taken, [])
      // a list the store's selector does not cover, and a name it may not hold, ask the API server
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns")).map((s) => s.metadata.name), ["a", "b"])
      assert.strictEqual((yield* cache.get(R.Secret, "ns", "b")).metadata.name, "b")
      assert.deepStrictEqual(yield* taken, ["list Secret", "get Secret b"])
    }))

  it.effect("reads its own writes before the store has them, and the store's after", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* sync()
      const created = yield* cache.create(R.Secret, secret("a"))
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), created)
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns")).map((s) => s.metadata.resourceVersion), [created.metadata.resourceVersion])
      const updated = yield* cache.update(R.Secret, { ...created, data: { key: "bmV3" } })
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), updated)
      // the store catches up, then moves on with a change of someone else's: the store wins
      yield* sync()
      const theirs = yield* memory.update(R.Secret, { ...updated, data: { key: "dGhlaXJz" } })
      yield* sync()
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), theirs)
      assert.deepStrictEqual(yield* taken, ["create", "update"])
    }))

  it.effect("a list through the index sees its own writes, relabelled ones included, before the store does", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, secret("other", { app: "x" }))
      yield* sync()
      const namesFor = (app: string) => Effect.map(cache.list(R.Secret, "ns", { labelSelector: { app } }), (all) => all.map((s) => s.metadata.name))
      const created = yield* cache.create(R.Secret, secret("a", { app: "x" }))
      assert.deepStrictEqual(yield* namesFor("x"), ["a", "other"], "the write, before the store has it")
      yield* sync()
      assert.deepStrictEqual(yield* namesFor("x"), ["a", "other"], "from the index")
      yield* cache.update(R.Secret, { ...created, metadata: { ...created.metadata, labels: { app: "y" } } })
      assert.deepStrictEqual(yield* namesFor("x"), ["other"], "the store's index still says x; the write says y")
      assert.deepStrictEqual(yield* namesFor("y"), ["a"])
      yield* sync()
      assert.deepStrictEqual([yield* namesFor("x"), yield* namesFor("y")], [["other"], ["a"]])
      assert.deepStrictEqual(yield* taken, ["create", "update"])
    }))

  it.effect("after a conflict, reads the object from the API server until its store entry changes", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      const original = yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      const theirs = yield* memory.update(R.Secret, { ...original, data: { key: "dGhlaXJz" } })
      // the store still holds the original: a write over it is refused
      assert.strictEqual((yield* Effect.flip(cache.update(R.Secret, { ...original, data: { key: "bWluZQ==" } }))).reason, "Conflict")
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), theirs, "the fresh read is the server's")
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns")).map((s) => s.metadata.resourceVersion), [theirs.metadata.resourceVersion])
      const retried = yield* cache.update(R.Secret, { ...theirs, data: { key: "bWluZQ==" } })
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), retried)
      yield* sync()
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), retried)
      assert.deepStrictEqual(yield* taken, ["update", "get Secret a", "update"])
    }))

  it.effect("after a delete, reads the object from the API server until the store drops it", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      yield* cache.delete(R.Secret, "ns", "a")
      assert.strictEqual((yield* Effect.flip(cache.get(R.Secret, "ns", "a"))).reason, "NotFound")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns"), [])
      assert.deepStrictEqual(yield* taken, ["delete", "get Secret a"], "one GET after the delete")
      yield* sync()
      assert.strictEqual((yield* Effect.flip(cache.get(R.Secret, "ns", "a"))).reason, "NotFound")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns"), [])
      assert.deepStrictEqual(yield* taken, [])
    }))

  it.effect("never serves a trimmed object: its reads go to the API server", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, secret("theirs"))
      yield* sync((object) => KubernetesCache.markTrimmed({ apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata }))
      assert.strictEqual((yield* cache.get(R.Secret, "ns", "theirs")).data?.["key"], "dmFsdWU=")
      assert.deepStrictEqual((yield* cache.list(R.Secret, "ns")).map((s) => s.data?.["key"]), ["dmFsdWU="])
      assert.deepStrictEqual(yield* taken, ["get Secret theirs", "list Secret"])
      // a list whose selector the trimmed object does not match is still the store's
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x" } }), [])
      assert.deepStrictEqual(yield* taken, [])
    }))

  it("compares resourceVersions as etcd revisions", () => {
    assert.isTrue(KubernetesCache.reached("10", "9"))
    assert.isTrue(KubernetesCache.reached("9", "9"))
    assert.isFalse(KubernetesCache.reached("9", "10"))
    assert.isFalse(KubernetesCache.reached("abc", "abd"))
  })
})
