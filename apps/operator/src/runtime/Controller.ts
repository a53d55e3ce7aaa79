/**
 * A controller: reflectors feeding a keyed work queue that runs a level-triggered reconcile
 * (kube-rs `Controller`, controller-runtime's `Builder`). It knows nothing of DittoFS.
 *
 * Contract:
 * - The primary kind's changes queue the object's own key, when `relevant(previous, current)`
 *   says so (e.g. not for a status-only write); owned kinds' changes queue their controller
 *   owner's key (matched by owner kind and apiVersion).
 * - Reconciles start only after every reflector has listed once; they read the primary object
 *   from its store, never from the event. A key whose object is gone is forgotten (its schedule
 *   cancelled): nothing runs for it until it reappears.
 * - The reconcile's outcome drives the queue: `Requeue(after)`, `AwaitChange`, or a failure
 *   backed off per key.
 */
import { Effect, type Scope } from "effect"
import { Action, type K8s, ObjectRef } from "@dittofs-operator/core"
import * as Reflector from "./Reflector.ts"
import * as WorkQueue from "./WorkQueue.ts"

type Meta = { readonly metadata: K8s.ObjectMeta }

export interface Primary<A extends Meta, E extends Reflector.WatchFailure> {
  readonly name: string
  readonly source: Reflector.ListWatch<A, E>
  /** Whether a change of the primary object calls for a reconcile (default: always). */
  readonly relevant?: (previous: A | undefined, current: A | undefined) => boolean
  /** Applied to every object on its way into the store. */
  readonly transform?: (object: A) => A
}

export interface Owned<E extends Reflector.WatchFailure> {
  readonly name: string
  readonly source: Reflector.ListWatch<Meta, E>
  /** Applied to every object on its way into the store. */
  readonly transform?: (object: Meta) => Meta
}

export interface ControllerOptions<A extends Meta, E extends Reflector.WatchFailure, RE, R> {
  readonly primary: Primary<A, E>
  /** apiVersion and kind of the primary, as they appear in owner references. */
  readonly owner: { readonly apiVersion: string; readonly kind: string }
  readonly owned: ReadonlyArray<Owned<E>>
  readonly reconcile: (object: A) => Effect.Effect<Action.Action, RE, R>
  /** How a failed reconcile is retried (default: the backoff capped at 5 minutes). */
  readonly errorPolicy?: WorkQueue.ErrorPolicy<RE>
  readonly concurrency: number
}

/** The key of the object's controller owner of the given kind, if any. */
export const ownerKey = (object: Meta, owner: { readonly apiVersion: string; readonly kind: string }): string | undefined => {
  const reference = (object.metadata.ownerReferences ?? []).find((ref) =>
    ref.controller === true && ref.kind === owner.kind && ref.apiVersion === owner.apiVersion
  )
  return reference === undefined ? undefined : ObjectRef.keyIn(object.metadata.namespace, reference.name)
}

export interface RunningController<A> {
  readonly store: Reflector.Store<A>
  /** The owned kinds' stores, in the order of `options.owned`. */
  readonly owned: ReadonlyArray<Reflector.Store<Meta>>
  readonly queue: WorkQueue.WorkQueue<string>
}

/** Starts the reflectors and the workers in the current scope. */
export const start = <A extends Meta, E extends Reflector.WatchFailure, RE, R>(
  options: ControllerOptions<A, E, RE, R>
): Effect.Effect<RunningController<A>, never, R | Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* WorkQueue.make<string>({ concurrency: options.concurrency })
    const relevant = options.primary.relevant ?? (() => true)
    const store = yield* Reflector.start(
      options.primary.name,
      options.primary.source,
      (key, previous, current) => relevant(previous, current) ? queue.add(key) : Effect.void,
      options.primary.transform === undefined ? {} : { transform: options.primary.transform }
    )
    const owned = yield* Effect.forEach(options.owned, (kind) =>
      Reflector.start(kind.name, kind.source, (_key, previous, current) => {
        const keys = new Set([previous, current].flatMap((object) => {
          const key = object === undefined ? undefined : ownerKey(object, options.owner)
          return key === undefined ? [] : [key]
        }))
        return Effect.forEach(keys, queue.add, { discard: true })
      }, kind.transform === undefined ? {} : { transform: kind.transform }))
    yield* Effect.forkScoped(
      Effect.gen(function*() {
        yield* store.synced
        yield* Effect.logInfo("listed; watching").pipe(Effect.annotateLogs({ kind: options.primary.name }))
        yield* Effect.forEach(owned, (ownedStore) => ownedStore.synced, { discard: true })
        return yield* queue.run((key) =>
          Effect.flatMap(store.get(key), (object) =>
            object === undefined
              ? Effect.as(queue.forget(key), Action.awaitChange)
              : options.reconcile(object)),
          options.errorPolicy
        )
      })
    )
    return { store, owned, queue }
  })
