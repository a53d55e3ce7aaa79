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
 * - Leader election: the reflectors always run (a follower's caches stay warm, so a takeover
 *   needs no relist), the workers only during the leader's terms (`whileLeading`); each term
 *   starts by queueing every key of the store, so the new leader passes over everything once.
 * - Graceful stop (the scope closes): with `drainTimeout`, no new work is taken and passes in
 *   flight may finish within it before the rest is interrupted; without, they are interrupted.
 * - Health, when a `Health` service is provided: liveness — every reflector's and the workers'
 *   fiber alive; readiness — every reflector has listed once.
 * - Metrics: `controller_runtime_reconcile_total{controller,result}` (success, requeue_after,
 *   error), `_reconcile_errors_total`, `_reconcile_time_seconds`, and the queue's.
 */
import { Duration, Effect, type Scope } from "effect"
import { Action, type K8s, ObjectRef } from "@dittofs-operator/core"
import * as Health from "./Health.ts"
import * as Metrics from "./Metrics.ts"
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
  /** Told of every change once the store holds it (a cache over the store drops what it supersedes). */
  readonly stored?: Reflector.OnChange<A>
}

export interface Owned<E extends Reflector.WatchFailure> {
  readonly name: string
  readonly source: Reflector.ListWatch<Meta, E>
  /** Applied to every object on its way into the store. */
  readonly transform?: (object: Meta) => Meta
  /** The store's index (`Reflector.StartOptions.indexBy`). */
  readonly indexBy?: (object: Meta) => string | undefined
  /** Told of every change once the store holds it (a cache over the store drops what it supersedes). */
  readonly stored?: Reflector.OnChange<Meta>
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
  /** Runs the workers during each term of leadership (default: always). */
  readonly whileLeading?: <R>(work: Effect.Effect<unknown, never, R>) => Effect.Effect<never, never, R>
  /** How long a graceful stop waits for passes in flight (default: it does not wait). */
  readonly drainTimeout?: Duration.Duration
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
    const queue = yield* WorkQueue.make<string>({ concurrency: options.concurrency, name: options.primary.name })
    const controller = { controller: options.primary.name }
    yield* Metrics.record(Metrics.maxConcurrentReconciles, controller, options.concurrency)
    // every series exists from the start, at 0 (as controller-runtime does), so rates and alerts work
    yield* Metrics.record(Metrics.reconcileErrorsTotal, controller, 0)
    yield* Effect.forEach(["success", "error", "requeue_after"], (result) => Metrics.record(Metrics.reconcileTotal, { ...controller, result }, 0), { discard: true })
    let reconciles = 0
    const measured = (object: A) =>
      Effect.gen(function*() {
        const started = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        // every log line of a pass names its object and the pass (controller-runtime's reconcileID)
        const reconcileId = `${started.toString(36)}-${(++reconciles).toString(36)}`
        const exit = yield* Effect.exit(options.reconcile(object).pipe(
          Effect.tap((action) =>
            Effect.logDebug("reconciled").pipe(
              Effect.annotateLogs({ outcome: action._tag === "Requeue" ? `requeue after ${Duration.format(action.after)}` : "await change" })
            )),
          Effect.annotateLogs({ controller: options.primary.name, key: ObjectRef.keyOf(object), reconcileId })
        ))
        yield* Metrics.record(Metrics.reconcileTimeSeconds, controller, yield* Metrics.secondsSince(started))
        const result = exit._tag === "Failure" ? "error" : exit.value._tag === "Requeue" ? "requeue_after" : "success"
        yield* Metrics.increment(Metrics.reconcileTotal, { ...controller, result })
        if (result === "error") yield* Metrics.increment(Metrics.reconcileErrorsTotal, controller)
        return yield* exit
      })
    const whileLeading = options.whileLeading ?? ((work) => Effect.andThen(work, Effect.never))
    const relevant = options.primary.relevant ?? (() => true)
    const store = yield* Reflector.start(
      options.primary.name,
      options.primary.source,
      (key, previous, current) =>
        Effect.andThen(
          options.primary.stored?.(key, previous, current) ?? Effect.void,
          relevant(previous, current) ? queue.add(key) : Effect.void
        ),
      options.primary.transform === undefined ? {} : { transform: options.primary.transform }
    )
    const owned = yield* Effect.forEach(options.owned, (kind) =>
      Reflector.start(kind.name, kind.source, (key, previous, current) => {
        const keys = new Set([previous, current].flatMap((object) => {
          const key = object === undefined ? undefined : ownerKey(object, options.owner)
          return key === undefined ? [] : [key]
        }))
        return Effect.andThen(kind.stored?.(key, previous, current) ?? Effect.void, Effect.forEach(keys, queue.add, { discard: true }))
      }, {
        ...(kind.transform === undefined ? {} : { transform: kind.transform }),
        ...(kind.indexBy === undefined ? {} : { indexBy: kind.indexBy })
      }))
    const workers = yield* Effect.forkScoped(
      Effect.gen(function*() {
        yield* store.synced
        yield* Effect.logInfo("listed; watching").pipe(Effect.annotateLogs({ kind: options.primary.name }))
        yield* Effect.forEach(owned, (ownedStore) => ownedStore.synced, { discard: true })
        return yield* whileLeading(Effect.gen(function*() {
          yield* Effect.forEach(store.snapshot().keys(), queue.add, { discard: true })
          return yield* queue.run((key) =>
            Effect.suspend(() => {
              const object = store.get(key)
              return object === undefined ? Effect.as(queue.forget(key), Action.awaitChange) : measured(object)
            }),
            options.errorPolicy
          )
        }))
      })
    )
    // runs before the workers are interrupted (finalizers run last-added first)
    const drainTimeout = options.drainTimeout
    if (drainTimeout !== undefined) yield* Effect.addFinalizer(() => queue.drain(drainTimeout))
    const reflectors = [{ name: options.primary.name, store }, ...options.owned.map((kind, index) => ({ name: kind.name, store: owned[index]! }))]
    yield* Effect.forEach(reflectors, ({ name, store: reflected }) =>
      Effect.andThen(
        Health.register("liveness", { name: `reflector-${name}`, ok: Effect.sync(reflected.alive) }),
        Health.register("readiness", { name: `synced-${name}`, ok: Effect.sync(reflected.isSynced) })
      ), { discard: true })
    yield* Health.register("liveness", { name: `workers-${options.primary.name}`, ok: Effect.sync(() => workers.pollUnsafe() === undefined) })
    return { store, owned, queue }
  })
