/**
 * The DittoServer controller: watches DittoServers and the objects they own, and runs one
 * `DittoServerPass.reconcile` pass per server through the keyed work queue.
 *
 * Contract:
 * - A DittoServer is reconciled when it appears, when its generation, labels, annotations or
 *   deletion mark change — not on its own status writes (which would double the poll rate) —
 *   when an object it controls changes, and when its last pass asked to run again (the polling
 *   interval). A deleted one is forgotten.
 * - A DittoServer whose spec does not decode is not reconciled: a Warning Event says why, and the
 *   next edit of the spec brings it back.
 * - A DittoServer marked for deletion runs its finalizer pass (the operator's DittoFS account is
 *   removed); the objects the operator creates are owned by the DittoServer, so Kubernetes'
 *   garbage collector removes them with it.
 * - A failed pass is retried as the core's `errorPolicy` says (DittoFS down: within one polling
 *   interval; Kubernetes failing: backing off to 5 minutes).
 */
import { Deferred, type Duration, Effect, Layer, Result, Schema, SchemaIssue, type Scope } from "effect"
import {
  Annotations,
  DittoFs,
  DittoServer,
  DittoServerPass,
  Events,
  InvalidSpec,
  K8s,
  Kubernetes,
  Naming,
  PassError
} from "@dittofs-operator/core"
import * as Controller from "../runtime/Controller.ts"
import * as KubernetesCache from "../runtime/KubernetesCache.ts"
import { listWatch } from "../runtime/KubernetesSource.ts"
import * as LeaderElection from "../runtime/LeaderElection.ts"
import type * as Reflector from "../runtime/Reflector.ts"
import * as SharedStrings from "../runtime/SharedStrings.ts"

export interface DittoServerControllerOptions extends DittoServerPass.Options {
  /** Only this namespace (default: every namespace). */
  readonly namespace?: string
  /** Reconciles running at once across servers. */
  readonly concurrency?: number
  /** On stop, how long passes in flight may finish (default: interrupted at once). */
  readonly drainTimeout?: Duration.Duration
}

const decodeServer = Schema.decodeUnknownResult(DittoServer.DittoServer)
const formatIssue = SchemaIssue.makeFormatterDefault()

/** Spec, labels, annotations or deletion changed (status-only writes do not count). */
export const relevant = (previous: K8s.AnyObject | undefined, current: K8s.AnyObject | undefined): boolean => {
  if (previous === undefined || current === undefined) return true
  const before = previous.metadata
  const after = current.metadata
  return before.generation !== after.generation
    || before.deletionTimestamp !== after.deletionTimestamp
    || !Annotations.mapsEqual(before.labels, after.labels)
    || !Annotations.mapsEqual(before.annotations, after.annotations)
}

/** The operator's own: controlled by a DittoServer, or labelled as a DittoFS server's object. */
const isOurs = (object: K8s.AnyObject): boolean =>
  object.metadata.labels?.[Naming.labels.app] === Naming.appLabelValue
  || (object.metadata.ownerReferences ?? []).some((ref) =>
    ref.controller === true && ref.kind === DittoServer.kind && ref.apiVersion === DittoServer.apiVersion
  )

/**
 * What a store keeps of an owned kind's object: ours without `managedFields`, its short strings
 * shared with the other stored objects' (`strings`); anyone else's (a user's Secret, another
 * app's Service) only the metadata that says whose it is, marked trimmed so that a read of it goes
 * to the API server.
 */
export const keepForStore = (object: K8s.AnyObject, strings: SharedStrings.SharedStrings): K8s.AnyObject => {
  if (isOurs(object)) return strings.share(K8s.withoutManagedFields(object))
  const { labels, name, namespace, ownerReferences, resourceVersion, uid } = object.metadata
  return KubernetesCache.markTrimmed({
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(uid === undefined ? {} : { uid }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(labels === undefined ? {} : { labels }),
      ...(ownerReferences === undefined ? {} : { ownerReferences })
    }
  })
}

/**
 * The kinds the pass reads, each reflected into a store it reads from: every object of the kind
 * in the watched namespace(s) (so a name the store lacks is absent), except pods, only ours.
 */
const ownedKinds = (namespace: string | undefined) => {
  const ours = { [Naming.labels.app]: Naming.appLabelValue }
  const kinds: ReadonlyArray<{ readonly name: string; readonly resource: Kubernetes.Resource<unknown>; readonly labelSelector?: K8s.StringMap }> = [
    { name: "services", resource: Kubernetes.Resources.Service },
    { name: "networkpolicies", resource: Kubernetes.Resources.NetworkPolicy },
    { name: "secrets", resource: Kubernetes.Resources.Secret },
    { name: "configmaps", resource: Kubernetes.Resources.ConfigMap },
    { name: "statefulsets", resource: Kubernetes.Resources.StatefulSet },
    { name: "pods", resource: Kubernetes.Resources.Pod, labelSelector: ours }
  ]
  return kinds.map((kind) => ({ ...kind, namespace }))
}

/** The running controller, and the cache its passes read through. */
export interface RunningDittoServerController extends Controller.RunningController<K8s.AnyObject> {
  readonly cache: KubernetesCache.Cache
}

export const start = (
  options: DittoServerControllerOptions = {}
): Effect.Effect<RunningDittoServerController, never, Kubernetes.Kubernetes | Events.Events | DittoFs.DittoFs | Scope.Scope> =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const raw = Kubernetes.raw
    const kinds = ownedKinds(options.namespace)
    // one table for every store: their objects repeat each other's values
    const strings = SharedStrings.make()
    const leadership = yield* Effect.serviceOption(LeaderElection.Leadership)
    // the pass reads through the cache, built once the stores exist (before any reconcile runs)
    const cached = yield* Deferred.make<Kubernetes.Api>()
    const hook = KubernetesCache.storeHook()
    const keepServer = (object: K8s.AnyObject) => strings.share(K8s.withoutManagedFields(object))
    const keepOwned = (object: K8s.AnyObject) => keepForStore(object, strings)
    const running = yield* Controller.start({
      ...(leadership._tag === "Some" ? { whileLeading: leadership.value.whileLeading } : {}),
      ...(options.drainTimeout === undefined ? {} : { drainTimeout: options.drainTimeout }),
      primary: {
        name: "dittoservers",
        source: listWatch(kubernetes, raw(Kubernetes.Resources.DittoServer), options.namespace),
        relevant,
        transform: keepServer,
        stored: hook.changed(Kubernetes.Resources.DittoServer)
      },
      owner: { apiVersion: DittoServer.apiVersion, kind: DittoServer.kind },
      owned: kinds.map((kind) => ({
        name: kind.name,
        source: listWatch(kubernetes, raw(kind.resource), options.namespace, kind.labelSelector === undefined ? {} : { labelSelector: kind.labelSelector }),
        // the source lists raw objects (`AnyObject`), so every object the store sees is one
        transform: (object) => keepOwned(object as K8s.AnyObject),
        // the pass lists a server's objects by its instance label: one index entry per server
        indexBy: KubernetesCache.indexByLabel(Naming.labels.instance),
        // the source lists raw objects: every object the store holds is an `AnyObject`
        stored: (key, previous, current) => hook.changed(kind.resource)(key, previous, current as K8s.AnyObject | undefined)
      })),
      concurrency: options.concurrency ?? 4,
      reconcile: (object) =>
        Effect.flatMap(Deferred.await(cached), (api) => {
          const decoded = decodeServer(object)
          const pass = Result.isFailure(decoded)
            ? InvalidSpec.reconcile(object, formatIssue(decoded.failure.issue))
            : DittoServerPass.reconcile(decoded.success, options)
          return Effect.provideService(pass, Kubernetes.Kubernetes, api)
        }),
      errorPolicy: PassError.errorPolicy
    })
    const cache = hook.attach(KubernetesCache.makeCache(kubernetes, [
      { resource: Kubernetes.Resources.DittoServer, store: running.store, namespace: options.namespace, keep: keepServer },
      ...kinds.map((kind, index) => ({
        resource: kind.resource,
        // the stores hold raw objects (`AnyObject`): the cache decodes with the caller's Schema
        store: running.owned[index] as Reflector.Store<K8s.AnyObject>,
        namespace: options.namespace,
        labelSelector: kind.labelSelector,
        indexLabel: Naming.labels.instance,
        keep: keepOwned
      }))
    ]))
    yield* Deferred.succeed(cached, cache.service)
    return { ...running, cache }
  })

export const layer = (options: DittoServerControllerOptions = {}) => Layer.effectDiscard(Effect.asVoid(start(options)))
