/**
 * The operator as one Layer: the live Kubernetes and DittoFS layers, the Event recorder, and the
 * DittoServer controller running in the layer's scope (stopping the layer stops everything).
 * Tests build the same Layer against a local control plane and a local `dfs`.
 */
import { EventRecorder, type Kubernetes } from "@dittofs-operator/core"
import { Layer } from "effect"
import * as DittoServerController from "./controller/DittoServerController.ts"
import * as DittoFsLive from "./live/DittoFsLive.ts"
import * as KubernetesLive from "./live/KubernetesLive.ts"

export interface OperatorOptions extends DittoServerController.DittoServerControllerOptions {
  readonly kubeconfigPath?: string
  /** `reportingInstance` of Events, e.g. the pod name. */
  readonly instance?: string
}

/** The operator on a given Kubernetes service (the live one, or one wrapped for tests). */
export const layerOn = <E>(kubernetes: Layer.Layer<Kubernetes.Kubernetes, E>, options: OperatorOptions = {}) => {
  const events = EventRecorder.layer(options.instance === undefined ? {} : { instance: options.instance })
  return DittoServerController.layer(options).pipe(
    Layer.provide(Layer.mergeAll(events, DittoFsLive.layerNode())),
    Layer.provide(kubernetes)
  )
}

export const layer = (options: OperatorOptions = {}) =>
  layerOn(KubernetesLive.layer(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath }), options)
