/**
 * The cached Kubernetes service: the Kubernetes contract suite holds for it over the in-memory API
 * server (reads served from reflector stores), and what only a cache has to prove — reads that
 * make no API request, read-your-writes before the store catches up, a GET after a conflict or a
 * delete, trimmed objects read from the API server — on a store the test drives by hand.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Ref, Schedule, Schema } from "effect"
import { Json, K8s, Kubernetes } from "@dittofs-operator/core"
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

/** A store the test fills and advances by hand, as a reflector would (one that has listed, unless `listed` is false). */
const manualStore = (listed: boolean) => Effect.gen(function*() {
  let objects: ReadonlyMap<string, K8s.AnyObject> = new Map()
  let version = "0"
  const synced = yield* Deferred.make<void>()
  if (listed) yield* Deferred.succeed(synced, undefined)
  const store: Reflector.Store<K8s.AnyObject> = {
    snapshot: () => objects,
    get: (key) => objects.get(key),
    synced: Deferred.await(synced),
    isSynced: () => listed,
    version: () => version,
    alive: () => true,
    indexed: (value) => new Map([...objects].filter(([, object]) => KubernetesCache.indexByLabel("app")(object) === value))
  }
  /** The store as the watch would leave it: every object's current state, at `at`. */
  const catchUp = (current: ReadonlyArray<K8s.AnyObject>, at: string, transform = (o: K8s.AnyObject) => o) =>
    Effect.sync(() => {
      objects = new Map(current.map((object) => [`${object.metadata.namespace}/${object.metadata.name}`, transform(object)] as const))
      version = at
    })
  return { store, catchUp }
})

const secret = (name: string, labels: K8s.StringMap = {}, namespace = "ns") => ({
  apiVersion: "v1" as const,
  kind: "Secret" as const,
  metadata: { name, namespace, labels },
  data: { key: "dmFsdWU=" }
})

interface Setup {
  /** The store's label selector. */
  readonly labelSelector?: K8s.StringMap
  /** The only namespace the store watches (default: all). */
  readonly namespace?: string
  /** Whether the store has listed (default: true). */
  readonly listed?: boolean
  /** What the store keeps of an object (default: the object). */
  readonly keep?: (object: K8s.AnyObject) => K8s.AnyObject
}

/**
 * The memory server (and its fault control), a counted view of it, and a cache over a
 * hand-driven Secret store indexed by the `app` label.
 */
const setup = (options: Setup = {}) =>
  Effect.gen(function*() {
    const memory = yield* Kubernetes.Kubernetes
    const control = yield* KubernetesMemory.Control
    const calls = yield* Ref.make<ReadonlyArray<string>>([])
    const { catchUp, store } = yield* manualStore(options.listed ?? true)
    const { keep, labelSelector, namespace } = options
    const made = KubernetesCache.makeCache(counted(memory, calls), [{ resource: R.Secret, store, labelSelector, namespace, indexLabel: "app", keep }])
    const cache = made.service
    /** The store catches up with the server's current Secrets (those it watches), or with `objects`. */
    const sync = (transform?: (o: K8s.AnyObject) => K8s.AnyObject) =>
      Effect.flatMap(
        memory.listWithVersion(Kubernetes.raw(R.Secret), namespace, labelSelector === undefined ? {} : { labelSelector }),
        (listed) => catchUp(listed.items, listed.resourceVersion, transform)
      )
    const taken = Ref.getAndSet(calls, [])
    return { memory, control, cache, sync, catchUp, taken, store, storeChanged: made.storeChanged, overlays: made.overlays }
  }).pipe(Effect.provide(KubernetesMemory.layer()))

const namesOf = (objects: ReadonlyArray<{ readonly metadata: { readonly name: string } }>) => objects.map((o) => o.metadata.name)

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
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x" } })), ["a"])
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns")), ["a", "b"])
      assert.strictEqual((yield* Effect.flip(cache.get(R.Secret, "ns", "missing"))).reason, "NotFound")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "other"), [])
      assert.deepStrictEqual(yield* taken, [])
      // a kind without a store goes to the API server
      yield* Effect.flip(cache.get(R.ConfigMap, "ns", "c"))
      assert.deepStrictEqual(yield* taken, ["get ConfigMap c"])
    }))

  it.effect("reads the store when a read runs, not when it is made: a read run again sees the store's changes", () =>
    Effect.gen(function*() {
      const { cache, memory, sync } = yield* setup()
      const getA = cache.get(R.Secret, "ns", "a")
      const listNs = cache.list(R.Secret, "ns")
      yield* sync()
      assert.strictEqual((yield* Effect.flip(getA)).reason, "NotFound")
      assert.deepStrictEqual(yield* listNs, [])
      yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      assert.strictEqual((yield* getA).metadata.name, "a")
      assert.deepStrictEqual(namesOf(yield* listNs), ["a"])
    }))

  it.effect("serves a stored object that is already a value of the reader's Schema as it is stored, not a copy", () =>
    Effect.gen(function*() {
      const { cache, memory, store, sync } = yield* setup()
      yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      const stored = store.get("ns/a")
      assert.isDefined(stored)
      assert.strictEqual(yield* cache.get(R.Secret, "ns", "a"), stored)
      assert.strictEqual((yield* cache.list(R.Secret, "ns"))[0], stored)
    }))

  it.effect("decodes a stored object that is not yet a value of the reader's Schema once, and serves that decoded value to every read", () =>
    Effect.gen(function*() {
      const memory = yield* Kubernetes.Kubernetes
      const { catchUp, store } = yield* manualStore(true)
      const cache = KubernetesCache.make(memory, [{ resource: R.DittoServer, store }])
      // only the required spec field: the Schema's defaults fill the rest, so the stored object is not yet a DittoServer value
      const stored = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", metadata: { name: "s", namespace: "ns", resourceVersion: "1" }, spec: { storage: { metadataSize: "1Gi" } } }
      yield* catchUp([stored], "1")
      const first = yield* cache.get(R.DittoServer, "ns", "s")
      assert.notStrictEqual<unknown>(first, stored)
      assert.deepStrictEqual(first, yield* Schema.decodeUnknownEffect(R.DittoServer.schema)(stored))
      assert.strictEqual(yield* cache.get(R.DittoServer, "ns", "s"), first)
      assert.strictEqual((yield* cache.list(R.DittoServer, "ns"))[0], first)
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("a filtered store answers only what it covers", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup({ labelSelector: { app: "x" } })
      yield* memory.create(R.Secret, secret("a", { app: "x", tier: "t" }))
      yield* memory.create(R.Secret, secret("b"))
      yield* sync()
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x", tier: "t" } })), ["a"])
      assert.deepStrictEqual(yield* taken, [])
      // a list the store's selector does not cover, and a name it may not hold, ask the API server
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns")), ["a", "b"])
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

  const managed = (name: string, labels: K8s.StringMap = {}) => {
    const draft = secret(name, labels)
    return { ...draft, metadata: { ...draft.metadata, managedFields: [{ manager: "someone", operation: "Update" }] } }
  }

  it.effect("reads its own writes back as its store will keep them, before the store has them as after", () =>
    Effect.gen(function*() {
      // the store keeps our Secrets without managedFields, labelled as kept; anyone else's trimmed
      const keep = (object: K8s.AnyObject): K8s.AnyObject =>
        object.metadata.labels?.["app"] === "ours"
          ? K8s.withoutManagedFields({ ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, kept: "yes" } } })
          : KubernetesCache.markTrimmed({ apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata })
      const { cache, memory, sync } = yield* setup({ keep })
      yield* sync(keep)
      const created = yield* cache.create(R.Secret, managed("a", { app: "ours" }))
      assert.isDefined(created.metadata["managedFields"], "the API server's answer has them")
      const before = yield* cache.get(R.Secret, "ns", "a")
      assert.deepStrictEqual(before, keep(yield* memory.get(R.Secret, "ns", "a")))
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns"), [before])
      // one the store would trim (only its metadata) is served whole, as the API server answered
      const theirs = yield* cache.create(R.Secret, managed("b"))
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "b"), theirs)
      yield* sync(keep)
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), before, "the store's copy reads the same")
    }))

  it.effect("without a transform, reads its own writes back whole, as the store keeps them", () =>
    Effect.gen(function*() {
      const { cache, sync } = yield* setup()
      yield* sync()
      const created = yield* cache.create(R.Secret, managed("a"))
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), created)
      yield* sync()
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), created)
    }))

  it.effect("a list through the index sees its own writes, relabelled ones included, before the store does", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, secret("other", { app: "x" }))
      yield* sync()
      const namesFor = (app: string) => Effect.map(cache.list(R.Secret, "ns", { labelSelector: { app } }), namesOf)
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
      // a list whose selector the trimmed object does not match is still the store's, through the
      // index or a scan
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x" } }), [])
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns", { labelSelector: { tier: "t" } }), [])
      assert.deepStrictEqual(yield* taken, [])
    }))

  it.effect("a store that watches one namespace, or has not listed yet, leaves the reads it cannot answer to the API server", () =>
    Effect.gen(function*() {
      const one = yield* setup({ namespace: "ns" })
      yield* one.memory.create(R.Secret, secret("a"))
      yield* one.memory.create(R.Secret, secret("b", {}, "elsewhere"))
      yield* one.sync()
      assert.deepStrictEqual(namesOf(yield* one.cache.list(R.Secret, "ns")), ["a"])
      assert.deepStrictEqual(yield* one.taken, [])
      assert.deepStrictEqual(namesOf(yield* one.cache.list(R.Secret, "elsewhere")), ["b"])
      assert.strictEqual((yield* one.cache.get(R.Secret, "elsewhere", "b")).metadata.name, "b")
      assert.deepStrictEqual(yield* one.taken, ["list Secret", "get Secret b"])

      const early = yield* setup({ listed: false })
      yield* early.memory.create(R.Secret, secret("a"))
      assert.strictEqual((yield* early.cache.get(R.Secret, "ns", "a")).metadata.name, "a")
      assert.deepStrictEqual(namesOf(yield* early.cache.list(R.Secret, "ns")), ["a"])
      assert.deepStrictEqual(yield* early.taken, ["get Secret a", "list Secret"])
    }))

  it.effect("a conflict sends reads to the API server only until the store's entry changes", () =>
    Effect.gen(function*() {
      const { cache, memory, sync, taken } = yield* setup()
      const original = yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      const theirs = yield* memory.update(R.Secret, { ...original, data: { key: "dGhlaXJz" } })
      yield* Effect.flip(cache.update(R.Secret, { ...original, data: { key: "bWluZQ==" } }))
      // no read in between (a read would overlay the server's answer): the store catches up
      yield* sync()
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), theirs)
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns")), ["a"])
      assert.deepStrictEqual(yield* taken, ["update"], "the store's new entry is served")
    }))

  it.effect("a write refused for another reason than a conflict leaves reads to the store", () =>
    Effect.gen(function*() {
      const { cache, control, memory, sync, taken } = yield* setup()
      const original = yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      yield* control.failNext({ verb: "update", kind: "Secret", reason: "Forbidden" })
      assert.strictEqual((yield* Effect.flip(cache.update(R.Secret, { ...original, data: { key: "bWluZQ==" } }))).reason, "Forbidden")
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), original)
      assert.deepStrictEqual(yield* taken, ["update"])
    }))

  it.effect("after a delete whose read-back failed, reads the object from the API server, not as gone", () =>
    Effect.gen(function*() {
      const { cache, control, memory, sync, taken } = yield* setup()
      yield* memory.create(R.Secret, { ...secret("a"), metadata: { ...secret("a").metadata, finalizers: ["example.com/hold"] } })
      yield* sync()
      yield* control.failNext({ verb: "get", kind: "Secret", name: "a", reason: "Unavailable" })
      yield* cache.delete(R.Secret, "ns", "a")
      const marked = yield* cache.get(R.Secret, "ns", "a")
      assert.isDefined(marked.metadata.deletionTimestamp, "still there, marked for deletion")
      assert.deepStrictEqual(yield* taken, ["delete", "get Secret a", "get Secret a"])
    }))

  it.effect("an object deleted through it and created again by someone else is served once the store holds the new one", () =>
    Effect.gen(function*() {
      const { cache, memory, sync } = yield* setup()
      yield* memory.create(R.Secret, secret("a"))
      yield* sync()
      yield* cache.delete(R.Secret, "ns", "a")
      const again = yield* memory.create(R.Secret, secret("a", { generation: "2" }))
      yield* sync()
      assert.deepStrictEqual(yield* cache.get(R.Secret, "ns", "a"), again)
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns")), ["a"])
    }))

  it.effect("a list through the index keeps hiding an object deleted through it that the index does not name", () =>
    Effect.gen(function*() {
      const { cache, memory, sync } = yield* setup()
      yield* memory.create(R.Secret, secret("a", { app: "y" }))
      yield* sync()
      yield* cache.delete(R.Secret, "ns", "a")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "x" } }), [])
      // the store still holds the deleted object: reads of it say it is gone
      assert.strictEqual((yield* Effect.flip(cache.get(R.Secret, "ns", "a"))).reason, "NotFound")
      assert.deepStrictEqual(yield* cache.list(R.Secret, "ns", { labelSelector: { app: "y" } }), [])
    }))

  it.effect("drops what it kept of a key once its store reports a change that supersedes it, and only then", () =>
    Effect.gen(function*() {
      const { cache, memory, overlays, store, storeChanged, sync } = yield* setup()
      yield* memory.create(R.Secret, secret("b"))
      yield* memory.create(R.Secret, secret("c"))
      yield* sync()
      const stored = (key: string) => store.get(key)
      yield* cache.create(R.Secret, secret("a"))
      yield* cache.delete(R.Secret, "ns", "b")
      const theirs = yield* memory.update(R.Secret, { ...(yield* memory.get(R.Secret, "ns", "c")), data: { key: "dGhlaXJz" } })
      yield* Effect.flip(cache.update(R.Secret, { ...theirs, metadata: { ...theirs.metadata, resourceVersion: "1" } }))
      assert.strictEqual(yield* overlays, 3, "a write, a delete, a conflict")
      // changes the store does not yet hold supersede nothing: another key, or a key still behind
      yield* storeChanged(R.Secret, "ns/other", undefined)
      for (const key of ["ns/a", "ns/b", "ns/c"]) yield* storeChanged(R.Secret, key, stored(key))
      assert.strictEqual(yield* overlays, 3)
      yield* sync()
      yield* storeChanged(R.Secret, "ns/a", stored("ns/a"))
      assert.strictEqual(yield* overlays, 2, "the store holds the write")
      yield* storeChanged(R.Secret, "ns/b", undefined)
      assert.strictEqual(yield* overlays, 1, "the store no longer holds the deleted object")
      yield* storeChanged(R.Secret, "ns/c", stored("ns/c"))
      assert.strictEqual(yield* overlays, 0, "the store's entry changed since the conflict")
      // a kind without a store has nothing to drop
      yield* storeChanged(R.ConfigMap, "ns/a", undefined)
      assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, "ns")), ["a", "c"])
    }))

  it.effect("keeps nothing of a write whose version the store already holds when the answer comes (the watch was quicker)", () =>
    Effect.gen(function*() {
      const memory = yield* Kubernetes.Kubernetes
      const { catchUp, store } = yield* manualStore(true)
      const sync = Effect.flatMap(memory.listWithVersion(Kubernetes.raw(R.Secret), undefined), (listed) => catchUp(listed.items, listed.resourceVersion))
      const quickWatch: Kubernetes.Api = { ...memory, create: (resource, object) => Effect.tap(memory.create(resource, object), () => sync) }
      const cache = KubernetesCache.makeCache(quickWatch, [{ resource: R.Secret, store }])
      const created = yield* cache.service.create(R.Secret, secret("a"))
      assert.strictEqual(yield* cache.overlays, 0)
      assert.deepStrictEqual(yield* cache.service.get(R.Secret, "ns", "a"), created)
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.live("started over an API server, its reflectors drop each write it kept once their stores hold it", () =>
    Effect.gen(function*() {
      const cache = yield* KubernetesCache.start([{ resource: R.Secret }, { resource: R.ConfigMap }])
      const created = yield* cache.service.create(R.Secret, secret("a"))
      yield* cache.service.update(R.Secret, { ...created, data: { key: "bmV3" } })
      yield* cache.service.create(R.ConfigMap, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ns" } })
      const settled = yield* cache.overlays.pipe(
        Effect.repeat({ until: (count) => count === 0, schedule: Schedule.spaced("2 millis").pipe(Schedule.upTo({ duration: "5 seconds" })) })
      )
      assert.strictEqual(settled, 0)
    }).pipe(Effect.scoped, Effect.provide(KubernetesMemory.layer())))

  it.effect("names the operation in the errors it makes itself: a store object that does not decode, a name it does not hold", () =>
    Effect.gen(function*() {
      const { cache, catchUp } = yield* setup()
      yield* catchUp([{ apiVersion: "v1", kind: "Secret", metadata: { name: "bad", namespace: "ns", resourceVersion: "1" }, data: { key: 5 } }], "1")
      const get = yield* Effect.flip(cache.get(R.Secret, "ns", "bad"))
      assert.deepStrictEqual([get.reason, get.operation], ["BadResponse", "get v1 Secret ns/bad"])
      const list = yield* Effect.flip(cache.list(R.Secret, "ns"))
      assert.deepStrictEqual([list.reason, list.operation], ["BadResponse", "list v1 Secret ns"])
      const missing = yield* Effect.flip(cache.get(R.Secret, "ns", "missing"))
      assert.deepStrictEqual([missing.reason, missing.operation, missing.message], ["NotFound", "get v1 Secret ns/missing", `secrets "missing" not found`])
    }))

  /** One Secret: in a namespace, and in the store already or written through the cache. */
  const Placed = Schema.Struct({
    name: Schema.Literals(["a", "b", "c", "d", "e", "f", "g", "h"]),
    namespace: Schema.Literals(["ns", "nt"]),
    written: Schema.Boolean
  })

  it.effect.prop(
    "lists a namespace's objects, stored and written, sorted by name and nothing else",
    { placed: Schema.Array(Placed) },
    ({ placed }) =>
      Effect.gen(function*() {
        const { cache, memory, sync } = yield* setup()
        const unique = [...new Map(placed.map((p) => [`${p.namespace}/${p.name}`, p])).values()]
        for (const p of unique) if (!p.written) yield* memory.create(R.Secret, secret(p.name, {}, p.namespace))
        yield* sync()
        for (const p of unique) if (p.written) yield* cache.create(R.Secret, secret(p.name, {}, p.namespace))
        for (const namespace of ["ns", "nt"]) {
          const expected = unique.filter((p) => p.namespace === namespace).map((p) => p.name).sort()
          assert.deepStrictEqual(namesOf(yield* cache.list(R.Secret, namespace)), expected, namespace)
        }
      }),
    { arbitrary: { runs: 100 } }
  )

  // The cache serves a stored object that is already a value of the reader's Schema as is
  // (`Schema.is`), instead of a decoded copy: sound only if decoding such a value gives it back.
  for (const resource of [R.Service, R.Secret, R.ConfigMap, R.NetworkPolicy, R.StatefulSet, R.Pod, R.DittoServer]) {
    it.prop(
      `${resource.kind}: decoding a value of its own Schema gives an equal value, which the cache may serve instead`,
      { value: resource.schema },
      ({ value }) => {
        assert.isTrue(Schema.is(resource.schema)(value))
        assert.isTrue(Json.equal(Schema.decodeSync(resource.schema)(value), value))
      },
      { arbitrary: { runs: 50 } }
    )
  }

  it.effect("applies a kind's transform on the way into its store", () =>
    Effect.gen(function*() {
      const memory = yield* Kubernetes.Kubernetes
      yield* memory.create(R.Secret, secret("a"))
      const seen = (object: K8s.AnyObject): K8s.AnyObject => ({ ...object, metadata: { ...object.metadata, labels: { seen: "yes" } } })
      const cache = yield* Kubernetes.Kubernetes.pipe(
        Effect.provide(KubernetesCache.layer([{ resource: R.Secret, transform: seen }]).pipe(Layer.provide(Layer.succeed(Kubernetes.Kubernetes, memory))))
      )
      assert.deepStrictEqual((yield* cache.get(R.Secret, "ns", "a")).metadata.labels, { seen: "yes" })
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it("compares resourceVersions as etcd revisions", () => {
    assert.isTrue(KubernetesCache.reached("10", "9"))
    assert.isTrue(KubernetesCache.reached("9", "9"))
    assert.isFalse(KubernetesCache.reached("9", "10"))
    assert.isFalse(KubernetesCache.reached("abc", "abd"))
  })

  /** A resourceVersion: an etcd revision, or one wrapped in something that makes it not one. */
  const Version = Schema.Struct({
    revision: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1e15 })),
    before: Schema.Literals(["", "", "x", " ", "-"]),
    after: Schema.Literals(["", "", "x", " ", "."])
  })
  const text = (v: typeof Version.Type) => `${v.before}${v.revision}${v.after}`
  const isDecimal = (s: string) => s.length > 0 && [...s].every((c) => c >= "0" && c <= "9")

  it.prop("a resourceVersion is reached by itself and by later revisions; versions that are not revisions only by themselves", { a: Version, b: Version }, ({ a, b }) => {
    const [x, y] = [text(a), text(b)]
    const expected = x === y || (isDecimal(x) && isDecimal(y) && BigInt(x) >= BigInt(y))
    assert.strictEqual(KubernetesCache.reached(x, y), expected)
  }, { arbitrary: { runs: 500 } })
})
