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
 */
import { EventRecorder, type Kubernetes } from "@dittofs-operator/core"
import { Layer } from "effect"
import * as DittoServerController from "./controller/DittoServerController.ts"
import * as DittoFsLive from "./live/DittoFsLive.ts"
import * as KubernetesLive from "./live/KubernetesLive.ts"

export interface OperatorOptions extends DittoServerController.DittoServerControllerOptions {
  readonly kubeconfigPath?: string
  /** More namespaces to watch, besides `namespace`; none (and no `namespace`) = every namespace. */
  readonly namespaces?: ReadonlyArray<string>
  /** `reportingInstance` of Events, e.g. the pod name. */
  readonly instance?: string
}

/** The namespaces to watch, deduplicated in the order given; empty = every namespace. */
export const watchedNamespaces = (options: OperatorOptions): ReadonlyArray<string> => [
  ...new Set([...(options.namespace === undefined ? [] : [options.namespace]), ...(options.namespaces ?? [])])
]

/** The DittoServer controllers of the watched namespaces (one for every namespace when none is given). */
export const controllers = (options: OperatorOptions = {}) => {
  const { namespace: _namespace, namespaces: _namespaces, ...controllerOptions } = options
  const [first, ...rest] = watchedNamespaces(options).map((namespace) => DittoServerController.layer({ ...controllerOptions, namespace }))
  return first === undefined ? DittoServerController.layer(controllerOptions) : Layer.mergeAll(first, ...rest)
}

/** The operator on a given Kubernetes service (the live one, or one wrapped for tests). */
export const layerOn = <E>(kubernetes: Layer.Layer<Kubernetes.Kubernetes, E>, options: OperatorOptions = {}) => {
  const events = EventRecorder.layer(options.instance === undefined ? {} : { instance: options.instance })
  return controllers(options).pipe(
    Layer.provide(Layer.mergeAll(events, DittoFsLive.layerNode())),
    Layer.provide(kubernetes)
  )
}

export const layer = (options: OperatorOptions = {}) =>
  layerOn(KubernetesLive.layer(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath }), options)
