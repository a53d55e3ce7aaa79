/**
 * The operator as one Layer: the live Kubernetes and DittoFS layers, the Event recorder, and the
 * DittoServer controller running in the layer's scope (stopping the layer stops everything).
 * Tests build the same Layer against a local control plane and a local `dfs`.
 *
 * Watched namespaces: every namespace when none is given (a ClusterRole's worth of access);
 * otherwise one controller per namespace (`namespace` and `namespaces` together, duplicates
 * ignored), each listing and watching only its own namespace, so a Role in each is enough. Every
 * controller has its own work queue of `concurrency` workers; a DittoServer's key holds its
 * namespace, so no server is reconciled by two of them.
 *
 * Around them: leader election when `leaderElection` is given (the reflectors run on every
 * replica, the workers on the leader only, and every Kubernetes write is fenced by the Lease),
 * the health checks, and the HTTP endpoints (`/healthz`, `/readyz`, `/metrics`) when
 * `healthAddress` is given. Kubernetes and DittoFS calls are measured (`Instrumented`).
 * Stopping the layer drains the work queues (passes in flight finish, bounded), then releases
 * the Lease.
 */
import { DittoFs, EventRecorder, Kubernetes } from "@dittofs-operator/core"
import { Effect, Layer } from "effect"
import type { HttpServerError } from "effect/http"
import * as DittoServerController from "./controller/DittoServerController.ts"
import * as DittoFsLive from "./live/DittoFsLive.ts"
import * as KubernetesLive from "./live/KubernetesLive.ts"
import * as Endpoints from "./runtime/Endpoints.ts"
import * as Health from "./runtime/Health.ts"
import * as Instrumented from "./runtime/Instrumented.ts"
import * as LeaderElection from "./runtime/LeaderElection.ts"

export interface OperatorOptions extends DittoServerController.DittoServerControllerOptions {
  readonly kubeconfigPath?: string
  /** More namespaces to watch, besides `namespace`; none (and no `namespace`) = every namespace. */
  readonly namespaces?: ReadonlyArray<string>
  /** `reportingInstance` of Events, e.g. the pod name. */
  readonly instance?: string
  /** Elect a leader on this Lease (default: none, this process always leads). */
  readonly leaderElection?: LeaderElection.Config
  /** Serve `/healthz` and `/readyz` here (default: not served), and `/metrics` unless `metricsAddress` is given. */
  readonly healthAddress?: Endpoints.Address
  /** Serve `/metrics` here; `undefined`: nowhere (absent: with the probes). */
  readonly metricsAddress?: Endpoints.Address | undefined
}

/** Why the operator could not start: no usable kubeconfig, or the endpoints' address is taken. */
export type StartError = KubernetesLive.KubernetesConfigError | HttpServerError.ServeError

/** The namespaces to watch, deduplicated in the order given; empty = every namespace. */
export const watchedNamespaces = (options: OperatorOptions): ReadonlyArray<string> => [
  ...new Set([...(options.namespace === undefined ? [] : [options.namespace]), ...(options.namespaces ?? [])])
]

/** The DittoServer controllers of the watched namespaces (one for every namespace when none is given). */
export const controllers = (options: OperatorOptions = {}) => {
  const { healthAddress: _health, metricsAddress: _metrics, leaderElection: _election, namespace: _namespace, namespaces: _namespaces, ...controllerOptions } = options
  const [first, ...rest] = watchedNamespaces(options).map((namespace) => DittoServerController.layer({ ...controllerOptions, namespace }))
  return first === undefined ? DittoServerController.layer(controllerOptions) : Layer.mergeAll(first, ...rest)
}

/** The election (or none), with its health checks; on the measured, unfenced Kubernetes service. */
const leadership = (config: LeaderElection.Config | undefined) =>
  config === undefined
    ? LeaderElection.layerAlwaysLeader
    : Layer.effect(
      LeaderElection.Leadership,
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes.Kubernetes
        const elected = yield* LeaderElection.run(Instrumented.kubernetes(kubernetes), config)
        // ready as leader or standby; not while the Lease cannot be read
        yield* Health.register("readiness", { name: "leader-election", ok: Effect.map(elected.status, (status) => status !== "Unknown") })
        yield* Health.register("liveness", { name: "leader-election", ok: elected.alive })
        return LeaderElection.Leadership.of(elected)
      })
    )

/** The Kubernetes service measured, its writes fenced by the Lease. */
const fenced = Layer.effect(
  Kubernetes.Kubernetes,
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const { fence } = yield* LeaderElection.Leadership
    return Kubernetes.Kubernetes.of(Instrumented.kubernetes(kubernetes, fence))
  })
)

const dittoFs = Layer.effect(
  DittoFs.DittoFs,
  Effect.gen(function*() {
    const api = yield* DittoFs.DittoFs
    return DittoFs.DittoFs.of(Instrumented.dittoFs(api))
  })
).pipe(Layer.provide(DittoFsLive.layer()))

/** The operator on a given Kubernetes service (the live one, or one wrapped for tests). */
export const layerOn = <E>(kubernetes: Layer.Layer<Kubernetes.Kubernetes, E>, options: OperatorOptions = {}) => {
  // Events are written by their own fibers: a pass does not wait for an Event's round trip
  const events = EventRecorder.layerInBackground(options.instance === undefined ? {} : { instance: options.instance })
  const elected = leadership(options.leaderElection)
  const writes = fenced.pipe(Layer.provideMerge(elected))
  const endpoints = Endpoints.layer(options.healthAddress, "metricsAddress" in options ? options.metricsAddress : options.healthAddress)
  return controllers(options).pipe(
    Layer.provide(Layer.merge(events, dittoFs).pipe(Layer.provideMerge(writes))),
    Layer.provide(kubernetes),
    Layer.merge(endpoints),
    Layer.provide(Health.layer)
  )
}

export const layer = (options: OperatorOptions = {}) =>
  layerOn(KubernetesLive.layer(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath }), options)
