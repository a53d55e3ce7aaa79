/**
 * A reflector: list, then watch, one kind of object into an in-memory store (kube-rs
 * `reflector`, client-go's informer without its failure modes).
 *
 * Contract:
 * - One writer: the reflector's fiber is the only code that changes the store; readers get
 *   immutable snapshots. A relist swaps the whole snapshot at once. Behind the single writer the
 *   store is one mutable map changed in place (an event costs O(1), not a copy of the map);
 *   `snapshot` copies it only when it changed since the last snapshot, and `get` reads it directly.
 * - Reads are plain function calls, not Effects: the store is this process's memory and its one
 *   writer runs between a reader's steps, never during one, so a read needs no scheduling (a pass
 *   reads its objects without a fiber step per read).
 * - Every change is announced to `onChange` with the object's key, its previous and its current
 *   version (`undefined` when absent: deletions, and keys that vanished across a relist), after
 *   the store holds it.
 * - A watch that ends is resumed from the last resourceVersion seen; `410 Gone` relists at once;
 *   any other failure relists after the next delay of the named Schedule `Backoff.relistBackoff`
 *   (reset by a successful list). The reflector never dies on an API error.
 * - `synced` completes after the first successful list.
 * - `version` is the resourceVersion the store has caught up with (the last list's, event's or
 *   bookmark's): the store holds every change of the watched objects up to it. Readers that wrote
 *   an object wait for, or overlay, their write until `version` reaches its resourceVersion.
 * - An optional `transform` is applied to every object on its way into the store (e.g. to drop
 *   what no reader needs); `onChange` and the store see only transformed objects.
 * - An optional `indexBy` names each object's index value (client-go's indexer, with one index):
 *   `indexed(value)` is a copy of the store's entries with that value, kept in step with the
 *   store by the same writer, so a reader of a few objects does not scan all of them.
 */
import { Deferred, Effect, Ref, type Scope, Stream } from "effect"
import * as Backoff from "./Backoff.ts"
import { type K8s, type Kubernetes, ObjectRef } from "@dittofs-operator/core"

export type WatchEvent<A> = Kubernetes.WatchEvent<A>
export type ListResult<A> = Kubernetes.ListResult<A>

export interface WatchFailure {
  readonly reason: string
  readonly message: string
}

/** How a reflector reads one kind: a consistent list, and a watch from a resourceVersion. */
export interface ListWatch<A, E extends WatchFailure> {
  readonly list: Effect.Effect<ListResult<A>, E>
  readonly watch: (resourceVersion: string) => Stream.Stream<WatchEvent<A>, E>
}

type Meta = { readonly metadata: K8s.ObjectMeta }

export const keyOf = (object: Meta): string => ObjectRef.keyOf(object)

export interface Store<A> {
  /** Every entry, as an immutable snapshot. */
  readonly snapshot: () => ReadonlyMap<string, A>
  /** The entry of a key (undefined: none). */
  readonly get: (key: string) => A | undefined
  /** Completes after the first successful list. */
  readonly synced: Effect.Effect<void>
  /** Whether the first list has succeeded (without waiting for it). */
  readonly isSynced: () => boolean
  /** The resourceVersion the store has caught up with ("" before the first list). */
  readonly version: () => string
  /** Whether the reflector's fiber still runs. */
  readonly alive: () => boolean
  /** The entries whose index value (`StartOptions.indexBy`) is `value`; none without an index. */
  readonly indexed: (value: string) => ReadonlyMap<string, A>
}

export interface StartOptions<A> {
  /** Applied to every object before it enters the store. */
  readonly transform?: (object: A) => A
  /** The object's index value, for `Store.indexed` (undefined: in no index entry). */
  readonly indexBy?: (object: A) => string | undefined
}

export type OnChange<A> = (key: string, previous: A | undefined, current: A | undefined) => Effect.Effect<void>

export const start = <A extends Meta, E extends WatchFailure>(
  name: string,
  source: ListWatch<A, E>,
  onChange: OnChange<A>,
  options: StartOptions<A> = {}
): Effect.Effect<Store<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // written only by this fiber (relist and apply); `frozen` is the last snapshot handed out
    let store = new Map<string, A>()
    let frozen: ReadonlyMap<string, A> | undefined
    const synced = yield* Deferred.make<void>()
    let listed = false
    let storeVersion = ""
    const transform = options.transform ?? ((object: A) => object)
    const indexBy = options.indexBy
    /** Index value → key → object: the store's entries, grouped; changed with the store. */
    const index = new Map<string, Map<string, A>>()
    const unindex = (key: string, object: A | undefined) => {
      const value = object === undefined || indexBy === undefined ? undefined : indexBy(object)
      if (value === undefined) return
      const entries = index.get(value)
      entries?.delete(key)
      if (entries?.size === 0) index.delete(value)
    }
    const reindex = (key: string, object: A) => {
      const value = indexBy === undefined ? undefined : indexBy(object)
      if (value === undefined) return
      let entries = index.get(value)
      if (entries === undefined) {
        entries = new Map()
        index.set(value, entries)
      }
      entries.set(key, object)
    }

    const relist = Effect.gen(function*() {
      const answer = yield* source.list
      const next = new Map(answer.items.map((item) => [keyOf(item), transform(item)] as const))
      const previous = store
      store = next
      frozen = undefined
      index.clear()
      for (const [key, object] of next) reindex(key, object)
      storeVersion = answer.resourceVersion
      listed = true
      yield* Deferred.succeed(synced, undefined)
      const changed = new Set([...previous.keys(), ...next.keys()])
      for (const key of changed) {
        const before = previous.get(key)
        const after = next.get(key)
        if (before?.metadata.resourceVersion !== after?.metadata.resourceVersion) yield* onChange(key, before, after)
      }
      return answer.resourceVersion
    })

    const apply = (lastVersion: Ref.Ref<string>) => (event: WatchEvent<A>) =>
      Effect.gen(function*() {
        if (event._tag === "Bookmark") {
          storeVersion = event.resourceVersion
          return yield* Ref.set(lastVersion, event.resourceVersion)
        }
        const key = keyOf(event.object)
        const object = transform(event.object)
        const previous = store.get(key)
        unindex(key, previous)
        if (event._tag === "Deleted") store.delete(key)
        else {
          store.set(key, object)
          reindex(key, object)
        }
        frozen = undefined
        if (event.object.metadata.resourceVersion !== undefined) {
          storeVersion = event.object.metadata.resourceVersion
          yield* Ref.set(lastVersion, event.object.metadata.resourceVersion)
        }
        yield* onChange(key, previous, event._tag === "Deleted" ? undefined : object)
      })

    /** Watches from a version until the watch fails; an ended watch is resumed. */
    const watchFrom = (version: string) =>
      Effect.gen(function*() {
        const lastVersion = yield* Ref.make(version)
        return yield* Effect.forever(
          Effect.flatMap(Ref.get(lastVersion), (from) => Stream.runForEach(source.watch(from), apply(lastVersion)))
        )
      })

    const backoff = yield* Ref.make(yield* Backoff.make(Backoff.relistBackoff))
    const loop = Effect.gen(function*() {
      for (;;) {
        const outcome = yield* Effect.result(
          relist.pipe(
            Effect.tap(() => Effect.flatMap(Backoff.make(Backoff.relistBackoff), (fresh) => Ref.set(backoff, fresh))),
            Effect.flatMap(watchFrom)
          )
        )
        if (outcome._tag === "Success") continue
        const error = outcome.failure
        yield* Effect.logWarning(`${name} watch failed; relisting`).pipe(
          Effect.annotateLogs({ reason: error.reason, message: error.message })
        )
        if (error.reason === "Gone") continue
        yield* Effect.sleep(yield* Effect.flatMap(Ref.get(backoff), (current) => current.next))
      }
    })
    const fiber = yield* Effect.forkScoped(loop)

    return {
      snapshot: () => {
        if (frozen === undefined) frozen = new Map(store)
        return frozen
      },
      get: (key) => store.get(key),
      synced: Deferred.await(synced),
      isSynced: () => listed,
      version: () => storeVersion,
      alive: () => fiber.pollUnsafe() === undefined,
      indexed: (value) => new Map(index.get(value))
    }
  })
