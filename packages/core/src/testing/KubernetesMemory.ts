/**
 * `KubernetesMemory`: an in-memory Kubernetes API server behind the core's `Kubernetes` service,
 * for deterministic tests.
 *
 * Contract: it behaves like kube-apiserver (v1.36) for everything the operator uses, and the
 * Kubernetes contract suite (run here and against a real apiserver) is what proves it. The
 * behaviour lives in `apiserver/`:
 * - `Cluster`: the store, one cluster-wide revision, the bounded event log, uids, the lifecycle
 *   of writes (status subresource, preconditions, finalizers, generation), owner-reference
 *   cascade (the garbage collector, applied synchronously when `cascadeDeletion` is on) and
 *   injected faults;
 * - `Watch`: label selectors, list order, and watches served from the event log by the watch
 *   cache's rules (with bookmarks and timeouts on the `Clock`);
 * - `Kinds`: the kind table, one module per kind under `kinds/` (Service, StatefulSet, Secret,
 *   Event, NetworkPolicy, ConfigMap, PersistentVolumeClaim, Pod, Lease, and each served CRD's
 *   custom resources, pruned, defaulted and validated by its structural schema) for names,
 *   defaulting, validation, initial status, status writes and deletion.
 * This module wires them into the service: every call is one atomic step over the cluster state,
 * and a PubSub ticks every open watch after each write.
 * Deliberately stricter than the API server: an update without `resourceVersion` is rejected
 * (ours always send one), and Service names must be DNS-1035 labels (start with a letter), as
 * API servers before RelaxedServiceNameValidation (1.34) require. Namespaces are not modelled:
 * any namespace exists. The event log is one for the cluster, where each kind has its own watch
 * cache on a real server: a version from before a real cluster's start may still be served there
 * (for built-in kinds), never here.
 * Faults can be injected per verb, kind and name, and the event log compacted, through
 * `KubernetesMemory.Control`; its `runStatefulSetController` plays the StatefulSet controller's
 * effects on demand (a test double of a controller, not API-server behaviour).
 */
import { Clock, Context, Duration, Effect, Layer, PubSub, Ref, Result, Schema, Stream } from "effect"
import { canonical } from "../domain/Json.ts"
import * as MergePatch from "../domain/MergePatch.ts"
import * as DittoServer from "../domain/DittoServer.ts"
import * as DittoServerCrd from "../domain/DittoServerCrd.ts"
import { AnyObject } from "../domain/Kubernetes.ts"
import {
  describe,
  Kubernetes,
  type KubernetesError,
  type ListOptions,
  type ListResult,
  type Resource,
  type WatchEvent,
  type WatchOptions
} from "../services/Kubernetes.ts"
import * as Cluster from "./apiserver/Cluster.ts"
import { kindTable } from "./apiserver/Kinds.ts"
import { idOf } from "./apiserver/Resource.ts"
import { failure } from "./apiserver/Status.ts"
import { bookmarkTimes, defaultWatchTimeoutSeconds, eventsOf, listed, selectionOf, watchStart } from "./apiserver/Watch.ts"
import * as StatefulSetController from "./StatefulSetController.ts"

import type { Fault, Verb } from "./apiserver/Cluster.ts"

export type { Fault, Verb }

type ClusterState = Cluster.ClusterState
type Transition<A> = Cluster.Transition<A>

/**
 * A DittoServer CRD that checks nothing in the spec, as on a cluster whose CRD predates the
 * current one: the only way a spec the operator's Schema rejects gets stored (the current CRD
 * refuses it). For `customResourceDefinitions`.
 */
export const looseDittoServerCrd: Readonly<Record<string, unknown>> = {
  ...DittoServerCrd.make(),
  spec: {
    group: DittoServer.group,
    names: { kind: DittoServer.kind, plural: DittoServer.plural },
    versions: [{ name: DittoServer.version, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }]
  }
}

/**
 * How the in-memory cluster behaves: cascade deletion, the watch history kept, and the CRDs it
 * serves.
 */
export interface Options {
  /** Delete dependents when their controller owner is deleted, like the garbage collector. */
  readonly cascadeDeletion?: boolean
  /** How many changes the event log keeps for watches (default 1000); older versions are Gone. */
  readonly historySize?: number
  /**
   * The CustomResourceDefinitions (as JSON) whose custom resources the fake serves, validated by
   * their structural schemas (default: the DittoServer CRD generated from the core's Schemas). An
   * older or looser CRD stores objects the current Schema would reject, as a cluster whose CRD
   * was not upgraded does.
   */
  readonly customResourceDefinitions?: ReadonlyArray<Readonly<Record<string, unknown>>>
}

/** Test-only controls of the in-memory cluster. */
export interface ControlApi {
  /** Makes the next matching call(s) fail with the given reason. */
  readonly failNext: (fault: Fault) => Effect.Effect<void>
  /** Every stored object of a kind, decoded, sorted by namespace and name. */
  readonly objects: <A>(resource: Resource<A>) => Effect.Effect<ReadonlyArray<A>>
  /**
   * Forgets the event log, as an etcd compaction and a watch-cache restart would: a watch from
   * any resourceVersion before the current one fails with `Gone`, and an open watch that has
   * not yet caught up ends (its resumption is then `Gone`).
   */
  readonly compact: Effect.Effect<void>
  /**
   * Plays one pass of the StatefulSet controller for `namespace/name`: pods (and claims) from
   * the template, marked Running and Ready, and the StatefulSet's status. A TEST DOUBLE of a
   * controller (see `StatefulSetController`), not API-server behaviour: without this call no
   * pod ever appears, as in the project's control plane.
   */
  readonly runStatefulSetController: (namespace: string, name: string) => Effect.Effect<void, KubernetesError>
}

/** The test controls of the in-memory cluster. */
export class Control extends Context.Service<Control, ControlApi>()(
  "@dittofs-operator/core/testing/KubernetesMemoryControl"
) {}

const decodeFor = <A>(resource: Resource<A>, operation: string) => (value: unknown): Effect.Effect<A, KubernetesError> =>
  Schema.decodeUnknownEffect(resource.schema)(value).pipe(
    Effect.mapError((error) => failure("BadResponse", error.message, operation))
  )

const encodeFor = <A>(resource: Resource<A>, operation: string) => (value: A): Effect.Effect<AnyObject, KubernetesError> =>
  Schema.encodeUnknownEffect(resource.schema)(value).pipe(
    Effect.flatMap(Schema.decodeUnknownEffect(AnyObject)),
    Effect.map((encoded) => structuredClone(encoded)),
    Effect.mapError((error) => failure("BadRequest", error.message, operation))
  )

const fromResult = <A>(result: Result.Result<A, KubernetesError>): Effect.Effect<A, KubernetesError> =>
  Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)

/** The in-memory cluster and its controls. */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const state = yield* Ref.make(Cluster.emptyState(
      options.cascadeDeletion ?? true,
      options.historySize ?? 1000,
      kindTable(options.customResourceDefinitions)
    ))
    /** A tick per write that changed the cluster; watches read what is new from the log. */
    const changes = yield* PubSub.sliding<void>(1)

    const run = <A>(verb: Verb, kind: string, name: string, step: (state: ClusterState, now: number) => Transition<A>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(state, (current): readonly [readonly [Result.Result<A, KubernetesError>, boolean], ClusterState] => {
          const [fault, afterFault] = Cluster.takeFault(current, verb, kind, name)
          const [result, next]: Transition<A> = Result.isFailure(fault) ? [Result.fail(fault.failure), afterFault] : step(afterFault, now)
          return [[result, next.revision !== current.revision], next]
        })).pipe(
          Effect.tap(([, changed]) => changed ? PubSub.publish(changes, undefined) : Effect.void),
          Effect.flatMap(([result]) => fromResult(result))
        )

    const listAt = <A>(resource: Resource<A>, namespace: string | undefined, listOptions: ListOptions | undefined) => {
      const operation = `list ${resource.kind}`
      const selection = selectionOf(resource, namespace, listOptions)
      return run("list", resource.kind, "", (current) => [Result.succeed({ objects: listed(current, selection), revision: current.revision }), current]).pipe(
        Effect.flatMap(({ objects, revision }) =>
          Effect.map(
            Effect.forEach(objects, (object) => decodeFor(resource, operation)(structuredClone(object))),
            (items): ListResult<A> => ({ items, resourceVersion: String(revision) })
          )
        )
      )
    }

    const watch = <A>(resource: Resource<A>, namespace: string | undefined, watchOptions: WatchOptions) =>
      Stream.unwrap(Effect.gen(function*() {
        const operation = `watch ${resource.kind} ${namespace ?? "(all namespaces)"}`
        const selection = selectionOf(resource, namespace, watchOptions)
        const timeoutSeconds = watchOptions.timeoutSeconds !== undefined && watchOptions.timeoutSeconds > 0
          ? watchOptions.timeoutSeconds
          : defaultWatchTimeoutSeconds
        const startedAt = yield* Clock.currentTimeMillis
        /** Until `seconds` after the watch started (however late this fiber asks). */
        const until = (seconds: number) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Duration.millis(Math.max(0, startedAt + seconds * 1000 - now))))
        // Subscribed before the snapshot is read: every later change ticks this subscription.
        const subscription = yield* PubSub.subscribe(changes)
        const snapshot = yield* run("watch", resource.kind, "", (current): Transition<ClusterState> => [Result.succeed(current), current])
        const start = yield* fromResult(watchStart(watchOptions.resourceVersion, snapshot, selection, operation))
        const seen = yield* Ref.make(start.after)

        /**
         * What is new in the log since the last step (then, for a bookmark, the revision now
         * reached); `undefined` when the log no longer reaches back to the last step.
         */
        const step = (input: "Changes" | "Bookmark"): Effect.Effect<ReadonlyArray<WatchEvent<AnyObject>> | undefined> =>
          Effect.gen(function*() {
            const last = yield* Ref.get(seen)
            const current = yield* Ref.get(state)
            if (last < current.logStart) return undefined
            const reached = Math.max(last, current.revision)
            yield* Ref.set(seen, reached)
            const events = current.log.filter((entry) => entry.revision > last).flatMap(eventsOf(selection))
            return input === "Bookmark" ? [...events, { _tag: "Bookmark", resourceVersion: String(reached) }] : events
          })
        const decode = (event: WatchEvent<AnyObject>): Effect.Effect<WatchEvent<A>, KubernetesError> =>
          event._tag === "Bookmark"
            ? Effect.succeed(event)
            : Effect.map(decodeFor(resource, operation)(structuredClone(event.object)), (object) => ({ _tag: event._tag, object }))

        const bookmarks = Stream.fromIterable(bookmarkTimes(timeoutSeconds)).pipe(
          Stream.mapEffect((at) => Effect.as(until(at), "Bookmark" as const))
        )
        const inputs = Stream.merge(Stream.fromSubscription(subscription).pipe(Stream.as("Changes" as const)), bookmarks)
        const followed = Stream.concat(Stream.succeed("Changes" as const), inputs).pipe(
          // One step at a time: a bookmark never overtakes the events before it.
          Stream.mapEffect(step),
          Stream.takeWhile((events): events is ReadonlyArray<WatchEvent<AnyObject>> => events !== undefined),
          Stream.flattenIterable
        )
        return Stream.concat(Stream.fromIterable(start.initial), followed).pipe(
          Stream.interruptWhen(until(timeoutSeconds)),
          Stream.mapEffect(decode)
        )
      }))

    const kubernetes = Kubernetes.of({
      get: (resource, namespace, name) =>
        run("get", resource.kind, name, (current) => Cluster.get(idOf(resource), namespace, name, `get ${describe(resource, namespace, name)}`, current)).pipe(Effect.map(structuredClone), Effect.flatMap(decodeFor(resource, `get ${describe(resource, namespace, name)}`))),
      list: (resource, namespace, listOptions) => Effect.map(listAt(resource, namespace, listOptions), (result) => result.items),
      listWithVersion: listAt,
      watch,
      create: (resource, object) =>
        Effect.gen(function*() {
          const operation = `create ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("create", resource.kind, encoded.metadata.name, (current, now) => Cluster.create(idOf(resource), encoded, now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      update: (resource, object) =>
        Effect.gen(function*() {
          const operation = `update ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("update", resource.kind, encoded.metadata.name, (current, now) => Cluster.update(idOf(resource), encoded, "main", now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      updateStatus: (resource, object) =>
        Effect.gen(function*() {
          const operation = `updateStatus ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("updateStatus", resource.kind, encoded.metadata.name, (current, now) => Cluster.update(idOf(resource), encoded, "status", now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      patchStatus: (resource, previous, next) =>
        Effect.gen(function*() {
          const operation = `patchStatus ${resource.kind}`
          const [from, to] = [yield* encodeFor(resource, operation)(previous), yield* encodeFor(resource, operation)(next)]
          const namespace = to.metadata.namespace ?? ""
          const patch = MergePatch.ofStatus(from, to)
          const stored = yield* run("patchStatus", resource.kind, to.metadata.name, (current, now) => Cluster.patchStatus(idOf(resource), namespace, to.metadata.name, patch, now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      delete: (resource, namespace, name, preconditions) =>
        run("delete", resource.kind, name, (current, now) => Cluster.remove(idOf(resource), namespace, name, preconditions ?? {}, now, current))
    })

    const control = Control.of({
      failNext: (fault) => Ref.update(state, (current) => ({ ...current, faults: [...current.faults, { ...fault, times: fault.times ?? 1 }] })),
      objects: (resource) =>
        Ref.get(state).pipe(
          Effect.map((current) =>
            Cluster.storedOf(current, resource)
              .map((stored) => stored.object)
              .sort((a, b) => canonical([a.metadata.namespace, a.metadata.name]) < canonical([b.metadata.namespace, b.metadata.name]) ? -1 : 1)
          ),
          Effect.flatMap((objects) => Effect.forEach(objects, (object) => decodeFor(resource, "objects")(structuredClone(object)))),
          Effect.orDie
        ),
      compact: Ref.update(state, Cluster.compact),
      runStatefulSetController: (namespace, name) =>
        StatefulSetController.reconcile(namespace, name).pipe(Effect.provideService(Kubernetes, kubernetes))
    })
    return { kubernetes, control }
  })

/** The in-memory cluster: provides `Kubernetes` and its test controls. */
export const layer = (options: Options = {}): Layer.Layer<Kubernetes | Control> =>
  Layer.effectContext(Effect.map(make(options), ({ control, kubernetes }) =>
    Context.make(Kubernetes, kubernetes).pipe(Context.add(Control, control))))
