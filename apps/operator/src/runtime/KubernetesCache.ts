/**
 * A cached `Kubernetes` service: the core's `Kubernetes.Api` whose reads (`get`, `list`) are
 * served from reflector stores for the kinds that have one, and whose writes go to the API server
 * (client-go's delegating client, controller-runtime's cache reader). The pass is the same code on
 * the cached service, the plain live one and the in-memory one; the same contract suite holds for
 * all three.
 *
 * Contract:
 * - A kind is served from its store when the store has listed once and covers the request: the
 *   namespace is the store's (or the store watches every namespace), and for `list` the request's
 *   label selector includes every pair of the store's. Otherwise the call goes to the API server.
 *   `get` of a name the store does not hold is `NotFound` only when the store has no label
 *   selector (it sees every object of the kind); else it asks the API server.
 * - Read-your-writes: an object this service created or updated is read back as its store will
 *   keep it (the kind's `keep`, its reflector's transform; the object as written when that keeps
 *   only its metadata) until the store has caught up with its resourceVersion (the store's
 *   `version`), and from the store after: a read does not depend on how quick the watch was. The
 *   store is never written here: it keeps one writer, its reflector.
 * - What this service keeps beyond a store (a write, a conflict mark, a delete) is dropped once the
 *   store supersedes it: when the store's reflector reports a change of that key
 *   (`Cache.storeChanged`), or at the next read of it, whichever comes first.
 * - A write refused with `Conflict` marks the object: until its store entry changes, reads of it
 *   go to the API server (a GET, whose answer is overlaid like a write; a list of its kind and
 *   namespace is a LIST), so a retry over "fresh reads" reads the server's current object, never
 *   the stale copy that caused the conflict.
 * - After a delete the object is read once from the API server: still there (finalizers), it is
 *   overlaid like a write; gone, it is absent until the store no longer holds that uid. So is an
 *   object whose last finalizer a write of ours removed while it was marked for deletion.
 * - A store object the transform marked as `trimmed` (not the operator's: only its metadata is
 *   kept) is never served: reads that would return it go to the API server (a list, only when the
 *   object's labels match its selector).
 * - Lists are sorted by namespace and name, as the API server's are. A list whose selector names
 *   the kind's `indexLabel` reads that entry of the store's index, not the whole store.
 * - Reads of the same stored object return the same decoded value (decoded once per Schema; the
 *   stored object itself when it already is a value of the Schema): callers treat what they read
 *   as immutable, as its readonly type says.
 * - `listWithVersion` and `watch` always go to the API server (they feed the reflectors).
 */
import { Effect, Layer, Schema, type Scope } from "effect"
import { K8s, Kubernetes, ObjectRef } from "@dittofs-operator/core"
import { listWatch } from "./KubernetesSource.ts"
import * as Reflector from "./Reflector.ts"

type AnyObject = K8s.AnyObject

/** One reflected kind: its store and what the store's reflector watches. */
export interface CachedKind {
  readonly resource: Kubernetes.Resource<unknown>
  readonly store: Reflector.Store<AnyObject>
  /** The only namespace the store watches (undefined: all). */
  readonly namespace?: string | undefined
  /** The store's label selector (empty or absent: every object of the kind). */
  readonly labelSelector?: K8s.StringMap | undefined
  /**
   * The label the store is indexed by ({@link indexByLabel}): a list whose selector names it
   * reads that index entry instead of scanning the store.
   */
  readonly indexLabel?: string | undefined
  /** What the store keeps of an object: its reflector's transform (absent: the object as it is). */
  readonly keep?: ((object: AnyObject) => AnyObject) | undefined
}

/** The store index of {@link CachedKind.indexLabel}: namespace and the label's value. */
export const indexByLabel = (label: string) => (object: { readonly metadata: K8s.ObjectMeta }): string | undefined => {
  const value = object.metadata.labels?.[label]
  return value === undefined ? undefined : ObjectRef.keyIn(object.metadata.namespace, value)
}

/** Objects the transform reduced to their metadata: present in the store, never served from it. */
const trimmedObjects = new WeakSet<object>()

/** Marks a transformed object as not to be served from a store (only its metadata is real). */
export const markTrimmed = <A extends object>(object: A): A => {
  trimmedObjects.add(object)
  return object
}

export const isTrimmed = (object: object): boolean => trimmedObjects.has(object)

/**
 * Whether resourceVersion `a` is at or after `b`. resourceVersions are etcd revisions (decimal
 * integers) on every API server we know of; anything else compares only as equal.
 */
export const reached = (a: string, b: string): boolean => {
  if (a === b) return true
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false
  return a.length === b.length ? a > b : a.length > b.length
}

const kindKey = (resource: Kubernetes.Resource<unknown>): string => `${Kubernetes.apiVersionOf(resource)}/${resource.kind}`

/** What this service knows of one object beyond its store. */
type Overlay =
  /** Our write (or a fresh GET), as JSON: valid until the store reaches `resourceVersion`. */
  | { readonly _tag: "Written"; readonly object: AnyObject; readonly resourceVersion: string }
  /** Read it from the API server until the store's entry changes from `storeVersion` (a conflict). */
  | { readonly _tag: "Stale"; readonly storeVersion: string }
  /** Deleted by us: absent while the store still holds the object of this uid. */
  | { readonly _tag: "Gone"; readonly uid: string }

const matches = (selector: K8s.StringMap | undefined, object: AnyObject): boolean =>
  Object.entries(selector ?? {}).every(([key, value]) => object.metadata.labels?.[key] === value)

const covers = (storeSelector: K8s.StringMap | undefined, selector: K8s.StringMap | undefined): boolean =>
  Object.entries(storeSelector ?? {}).every(([key, value]) => selector?.[key] === value)

/** Keys are unique in a list, so the order of two keys is never a tie. */
const byKey = (a: AnyObject, b: AnyObject): number => (ObjectRef.keyOf(a) < ObjectRef.keyOf(b) ? -1 : 1)

/** A cached kind and what this service knows of its objects beyond the store, by key. */
interface Entry {
  readonly kind: CachedKind
  /** Written only by this service's own calls. */
  readonly overlays: Map<string, Overlay>
}

/** The cached service, and the hook its stores' reflectors call after each change. */
export interface Cache {
  readonly service: Kubernetes.Api
  /**
   * A kind's store changed `key` (its reflector's `onChange`, after the store holds `current`):
   * what this service kept of that key beyond the store and the store now supersedes is dropped,
   * so an object the operator wrote but never reads again (its DittoServer) is not kept twice.
   */
  readonly storeChanged: (resource: Kubernetes.Resource<unknown>, key: string, current: AnyObject | undefined) => Effect.Effect<void>
  /** How many objects this service keeps beyond its stores (its overlays). */
  readonly overlays: Effect.Effect<number>
}

/** The cached service over `api`, serving the given kinds from their stores. */
export const make = (api: Kubernetes.Api, kinds: ReadonlyArray<CachedKind>): Kubernetes.Api => makeCache(api, kinds).service

/** {@link make}, with the store hook and the overlay count. */
export const makeCache = (api: Kubernetes.Api, kinds: ReadonlyArray<CachedKind>): Cache => {
  const entries = new Map(kinds.map((kind): readonly [string, Entry] => [kindKey(kind.resource), { kind, overlays: new Map() }]))

  /** The kind's entry, when its store can answer for this namespace. */
  const cacheFor = (resource: Kubernetes.Resource<unknown>, namespace: string): Entry | undefined => {
    const entry = entries.get(kindKey(resource))
    if (entry === undefined) return undefined
    if (entry.kind.namespace !== undefined && entry.kind.namespace !== namespace) return undefined
    return entry.kind.store.isSynced() ? entry : undefined
  }

  /**
   * Per Schema, what each stored object decoded to: a store's objects are replaced, never changed,
   * so an idle pass reading the same objects again decodes nothing (and allocates nothing). A
   * stored object that already is a value of the Schema (`Schema.is`: the open, transformation-free
   * Kubernetes schemas, whose decoding would only copy it) is its own decoded value: one copy of
   * each object in memory, not two.
   */
  const decoded = new WeakMap<object, WeakMap<object, unknown>>()
  const memoOf = (schema: object): WeakMap<object, unknown> => {
    let memo = decoded.get(schema)
    if (memo === undefined) {
      memo = new WeakMap()
      decoded.set(schema, memo)
    }
    return memo
  }
  /** The decoded value of a stored object when it needs no decoding now (memoised, or a value already). */
  const decodedNow = <A>(resource: Kubernetes.Resource<A>, object: AnyObject): { readonly value: A } | undefined => {
    const memo = memoOf(resource.schema)
    // the memo is per Schema, so what it holds was decoded by this resource's Schema: an `A`
    if (memo.has(object)) return { value: memo.get(object) as A }
    if (!Schema.is(resource.schema)(object)) return undefined
    memo.set(object, object)
    return { value: object }
  }
  const decode = <A>(resource: Kubernetes.Resource<A>, object: AnyObject, operation: string): Effect.Effect<A, Kubernetes.KubernetesError> => {
    const known = decodedNow(resource, object)
    if (known !== undefined) return Effect.succeed(known.value)
    return Schema.decodeEffect(resource.schema)(object).pipe(
      Effect.tap((value) => Effect.sync(() => memoOf(resource.schema).set(object, value))),
      Effect.mapError((error) => new Kubernetes.KubernetesError({ reason: "BadResponse", message: error.message, operation }))
    )
  }
  /** {@link decode} of each object, in order; without a step per object when none needs decoding. */
  const decodeAll = <A>(resource: Kubernetes.Resource<A>, objects: ReadonlyArray<AnyObject>, operation: string) => {
    const values: Array<A> = []
    for (const object of objects) {
      const known = decodedNow(resource, object)
      if (known === undefined) return Effect.forEach(objects, (each) => decode(resource, each, operation))
      values.push(known.value)
    }
    return Effect.succeed(values)
  }

  const encode = <A>(resource: Kubernetes.Resource<A>, object: A) =>
    Schema.encodeUnknownEffect(resource.schema)(object).pipe(
      Effect.flatMap((encoded) => Schema.decodeUnknownEffect(K8s.AnyObject)(encoded)),
      Effect.option
    )

  /**
   * The view of one key: the overlay when it still holds, else the store's object. `Stale`: ask
   * the API server (`stored` is the store's copy, whose labels say whether a list needs it).
   * Superseded overlays are dropped.
   */
  const view = (entry: Entry, key: string, storeVersion: string, stored: AnyObject | undefined) => {
    const overlay = entry.overlays.get(key)
    if (overlay !== undefined) {
      if (overlay._tag === "Written") {
        if (!reached(storeVersion, overlay.resourceVersion)) return { _tag: "Object", object: overlay.object } as const
      } else if (overlay._tag === "Gone") {
        if (stored !== undefined && stored.metadata.uid === overlay.uid) return { _tag: "Object", object: undefined } as const
      } else if (stored !== undefined && stored.metadata.resourceVersion === overlay.storeVersion) {
        return { _tag: "Stale", stored } as const
      }
      entry.overlays.delete(key)
    }
    if (stored !== undefined && isTrimmed(stored)) return { _tag: "Stale", stored } as const
    return { _tag: "Object", object: stored } as const
  }

  /** Remembers what the API server answered (a write or a GET), for reads until the store catches up. */
  const remember = <A>(resource: Kubernetes.Resource<A>, object: A) =>
    Effect.gen(function*() {
      const entry = entries.get(kindKey(resource))
      if (entry === undefined) return
      const encoded = yield* encode(resource, object)
      if (encoded._tag === "None" || encoded.value.metadata.resourceVersion === undefined) return
      const key = ObjectRef.keyOf(encoded.value)
      const { deletionTimestamp, finalizers, uid } = encoded.value.metadata
      if (deletionTimestamp !== undefined && (finalizers ?? []).length === 0 && uid !== undefined) {
        // the write removed the last finalizer of an object marked for deletion: it is gone
        entry.overlays.set(key, { _tag: "Gone", uid })
        return
      }
      if (reached(entry.kind.store.version(), encoded.value.metadata.resourceVersion)) {
        // the watch was quicker than the answer: the store holds this version, or a later one
        entry.overlays.delete(key)
        return
      }
      const kept = entry.kind.keep === undefined ? encoded.value : entry.kind.keep(encoded.value)
      entry.overlays.set(key, {
        _tag: "Written",
        // as the store will keep it; one it would trim is served as the API server answered
        object: isTrimmed(kept) ? encoded.value : kept,
        resourceVersion: encoded.value.metadata.resourceVersion
      })
    })

  /** The next reads of this object go to the API server, until its store entry changes. */
  const markStale = (resource: Kubernetes.Resource<unknown>, key: string) =>
    Effect.sync(() => {
      const entry = entries.get(kindKey(resource))
      if (entry === undefined) return
      const stored = entry.kind.store.get(key)
      // a store without the object has no stale copy to hide
      if (stored?.metadata.resourceVersion === undefined) return
      entry.overlays.set(key, { _tag: "Stale", storeVersion: stored.metadata.resourceVersion })
    })

  const onConflict = <A>(resource: Kubernetes.Resource<A>, object: A) => <B>(write: Effect.Effect<B, Kubernetes.KubernetesError>) =>
    Effect.tapError(write, (error) =>
      error.reason === "Conflict"
        ? Effect.flatMap(encode(resource, object), (encoded) =>
          encoded._tag === "None" ? Effect.void : markStale(resource, ObjectRef.keyOf(encoded.value)))
        : Effect.void
    )

  /**
   * What a delete left: the object marked for deletion (finalizers) is overlaid as read; one that
   * is gone is hidden until the store no longer holds that uid.
   */
  const afterDelete = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string) =>
    Effect.gen(function*() {
      const entry = entries.get(kindKey(resource))
      if (entry === undefined) return
      const key = ObjectRef.keyIn(namespace, name)
      const known = entry.overlays.get(key)
      const uid = known?._tag === "Written" ? known.object.metadata.uid : entry.kind.store.get(key)?.metadata.uid
      const current = yield* Effect.result(api.get(resource, namespace, name))
      if (current._tag === "Success") return yield* remember(resource, current.success)
      if (current.failure.reason !== "NotFound") return yield* markStale(resource, key)
      if (uid === undefined) entry.overlays.delete(key)
      else entry.overlays.set(key, { _tag: "Gone", uid })
    })

  const getFromApi = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string) =>
    api.get(resource, namespace, name).pipe(Effect.tap((object) => remember(resource, object)))


  /** `get` from the kind's store when it covers the request. */
  const readOne = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string): Effect.Effect<A, Kubernetes.KubernetesError> => {
    const entry = cacheFor(resource, namespace)
    if (entry === undefined) return api.get(resource, namespace, name)
    const { store } = entry.kind
    const key = ObjectRef.keyIn(namespace, name)
    const seen = view(entry, key, store.version(), store.get(key))
    if (seen._tag === "Stale") return getFromApi(resource, namespace, name)
    if (seen.object !== undefined) return decode(resource, seen.object, `get ${Kubernetes.describe(resource, namespace, name)}`)
    if (Object.keys(entry.kind.labelSelector ?? {}).length > 0) return api.get(resource, namespace, name)
    return Effect.fail(
      new Kubernetes.KubernetesError({
        reason: "NotFound",
        message: `${resource.plural} "${name}" not found`,
        operation: `get ${Kubernetes.describe(resource, namespace, name)}`
      })
    )
  }

  /** `list` from the kind's store when it covers the request. */
  const readMany = <A>(resource: Kubernetes.Resource<A>, namespace: string, options?: Kubernetes.ListOptions): Effect.Effect<ReadonlyArray<A>, Kubernetes.KubernetesError> => {
    const entry = cacheFor(resource, namespace)
    if (entry === undefined || !covers(entry.kind.labelSelector, options?.labelSelector)) {
      return api.list(resource, namespace, options)
    }
    const { indexLabel, store } = entry.kind
    const version = store.version()
    const indexValue = indexLabel === undefined ? undefined : options?.labelSelector?.[indexLabel]
    // the candidates: the index entry the selector names, else every object of the store
    const candidates = indexValue === undefined ? store.snapshot() : store.indexed(ObjectRef.keyIn(namespace, indexValue))
    // the keys in the namespace: the candidates' and our writes' (which the store may not have yet)
    const prefix = ObjectRef.keyIn(namespace, "")
    const keys = new Set<string>()
    for (const from of [entry.overlays.keys(), candidates.keys()]) {
      for (const key of from) if (key.startsWith(prefix)) keys.add(key)
    }
    const items: Array<AnyObject> = []
    for (const key of keys) {
      const seen = view(entry, key, version, candidates.get(key) ?? store.get(key))
      if (seen._tag === "Stale") {
        // only an object that may be in the answer needs the API server: a trimmed one keeps
        // its labels, a marked one is judged by the labels of the copy the store holds
        if (matches(options?.labelSelector, seen.stored)) return api.list(resource, namespace, options)
      } else if (seen.object !== undefined && matches(options?.labelSelector, seen.object)) {
        items.push(seen.object)
      }
    }
    return decodeAll(resource, items.sort(byKey), `list ${Kubernetes.apiVersionOf(resource)} ${resource.kind} ${namespace}`)
  }

  const service = Kubernetes.Kubernetes.of({
    // a read is plain code over the stores, suspended (read when run, not when made): one fiber step
    get: <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string): Effect.Effect<A, Kubernetes.KubernetesError> =>
      Effect.suspend(() => readOne(resource, namespace, name)),
    list: <A>(resource: Kubernetes.Resource<A>, namespace: string, options?: Kubernetes.ListOptions): Effect.Effect<ReadonlyArray<A>, Kubernetes.KubernetesError> =>
      Effect.suspend(() => readMany(resource, namespace, options)),
    listWithVersion: api.listWithVersion,
    watch: api.watch,
    create: (resource, object) => api.create(resource, object).pipe(Effect.tap((created) => remember(resource, created))),
    update: (resource, object) =>
      api.update(resource, object).pipe(Effect.tap((updated) => remember(resource, updated)), onConflict(resource, object)),
    updateStatus: (resource, object) =>
      api.updateStatus(resource, object).pipe(Effect.tap((updated) => remember(resource, updated)), onConflict(resource, object)),
    patchStatus: (resource, previous, next) => api.patchStatus(resource, previous, next).pipe(Effect.tap((patched) => remember(resource, patched))),
    delete: (resource, namespace, name, preconditions) =>
      api.delete(resource, namespace, name, preconditions).pipe(
        Effect.ensuring(afterDelete(resource, namespace, name))
      )
  })

  return {
    service,
    storeChanged: (resource, key, current) =>
      Effect.sync(() => {
        const entry = entries.get(kindKey(resource))
        if (entry === undefined || !entry.overlays.has(key)) return
        // the view drops what the store supersedes
        view(entry, key, entry.kind.store.version(), current)
      }),
    overlays: Effect.sync(() => {
      let count = 0
      for (const entry of entries.values()) count += entry.overlays.size
      return count
    })
  }
}

/**
 * The change hook of reflectors started before their cache (a cache is made over the stores, so
 * after them): `changed(resource)` is a kind's `onChange`, forwarded to `storeChanged` once
 * `attach` has the cache; changes before that (the first lists) find nothing of it to drop.
 */
export const storeHook = () => {
  let cache: Cache | undefined
  return {
    changed: (resource: Kubernetes.Resource<unknown>) => (key: string, _previous: unknown, current: AnyObject | undefined): Effect.Effect<void> =>
      cache === undefined ? Effect.void : cache.storeChanged(resource, key, current),
    attach: (made: Cache): Cache => {
      cache = made
      return made
    }
  }
}

/** A kind to reflect for a cache built by {@link layer}. */
export interface ReflectedKind {
  readonly resource: Kubernetes.Resource<unknown>
  readonly namespace?: string
  readonly labelSelector?: K8s.StringMap
  readonly transform?: (object: AnyObject) => AnyObject
  /** Index the store by this label ({@link CachedKind.indexLabel}). */
  readonly indexLabel?: string
}

/**
 * The cached service over the `Kubernetes` service in context: one reflector per kind, started in
 * the layer's scope; the layer is built once every store has listed.
 */
export const layer = (kinds: ReadonlyArray<ReflectedKind>): Layer.Layer<Kubernetes.Kubernetes, never, Kubernetes.Kubernetes> =>
  Layer.effect(Kubernetes.Kubernetes, Effect.map(start(kinds), (cache) => cache.service))

/**
 * The cache of {@link layer} over the `Kubernetes` service in context, once every store has
 * listed; its reflectors run in the scope and tell the cache of each change.
 */
export const start = (kinds: ReadonlyArray<ReflectedKind>): Effect.Effect<Cache, never, Kubernetes.Kubernetes | Scope.Scope> =>
  Effect.gen(function*() {
    const api = yield* Kubernetes.Kubernetes
    const hook = storeHook()
    const cachedKinds = yield* Effect.forEach(kinds, (kind) =>
      Effect.map(
        Reflector.start(
          kind.resource.plural,
          listWatch(api, Kubernetes.raw(kind.resource), kind.namespace, kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
          hook.changed(kind.resource),
          {
            ...(kind.transform === undefined ? {} : { transform: kind.transform }),
            ...(kind.indexLabel === undefined ? {} : { indexBy: indexByLabel(kind.indexLabel) })
          }
        ),
        (store): CachedKind => ({
          resource: kind.resource,
          store,
          namespace: kind.namespace,
          labelSelector: kind.labelSelector,
          indexLabel: kind.indexLabel,
          keep: kind.transform
        })
      ))
    yield* Effect.forEach(cachedKinds, (kind) => kind.store.synced, { discard: true })
    return hook.attach(makeCache(api, cachedKinds))
  })
