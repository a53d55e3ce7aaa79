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
import { type Duration, Effect, Layer, Result, Schema, SchemaIssue, type Scope } from "effect"
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
import { listWatch } from "../runtime/KubernetesSource.ts"
import * as LeaderElection from "../runtime/LeaderElection.ts"

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

export const start = (
  options: DittoServerControllerOptions = {}
): Effect.Effect<Controller.RunningController<K8s.AnyObject>, never, Kubernetes.Kubernetes | Events.Events | DittoFs.DittoFs | Scope.Scope> =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const raw = Kubernetes.raw
    const ours = { labelSelector: { [Naming.labels.app]: Naming.appLabelValue } }
    const leadership = yield* Effect.serviceOption(LeaderElection.Leadership)
    return yield* Controller.start({
      ...(leadership._tag === "Some" ? { whileLeading: leadership.value.whileLeading } : {}),
      ...(options.drainTimeout === undefined ? {} : { drainTimeout: options.drainTimeout }),
      primary: {
        name: "dittoservers",
        source: listWatch(kubernetes, raw(Kubernetes.Resources.DittoServer), options.namespace),
        relevant
      },
      owner: { apiVersion: DittoServer.apiVersion, kind: DittoServer.kind },
      owned: [
        { name: "services", source: listWatch(kubernetes, raw(Kubernetes.Resources.Service), options.namespace, ours) },
        { name: "networkpolicies", source: listWatch(kubernetes, raw(Kubernetes.Resources.NetworkPolicy), options.namespace, ours) },
        { name: "secrets", source: listWatch(kubernetes, raw(Kubernetes.Resources.Secret), options.namespace, ours) },
        { name: "configmaps", source: listWatch(kubernetes, raw(Kubernetes.Resources.ConfigMap), options.namespace, ours) },
        { name: "statefulsets", source: listWatch(kubernetes, raw(Kubernetes.Resources.StatefulSet), options.namespace) }
      ],
      concurrency: options.concurrency ?? 4,
      reconcile: (object) => {
        const decoded = decodeServer(object)
        if (Result.isFailure(decoded)) return InvalidSpec.reconcile(object, formatIssue(decoded.failure.issue))
        return DittoServerPass.reconcile(decoded.success, options)
      },
      errorPolicy: PassError.errorPolicy
    })
  })

export const layer = (options: DittoServerControllerOptions = {}) => Layer.effectDiscard(Effect.asVoid(start(options)))
