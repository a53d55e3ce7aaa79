/**
 * The operator as one Layer: the live Kubernetes and DittoFS layers, the Event recorder, and the
 * DittoServer controller running in the layer's scope (stopping the layer stops everything).
 * Tests build the same Layer against a local control plane and a local `dfs`.
 */
import { EventRecorder } from "@dittofs-operator/core"
import { Layer } from "effect"
import * as DittoServerController from "./controller/DittoServerController.ts"
import * as DittoFsLive from "./live/DittoFsLive.ts"
import * as KubernetesLive from "./live/KubernetesLive.ts"

export interface OperatorOptions extends DittoServerController.DittoServerControllerOptions {
  readonly kubeconfigPath?: string
  /** `reportingInstance` of Events, e.g. the pod name. */
  readonly instance?: string
}

export const layer = (options: OperatorOptions = {}) => {
  const kubernetes = KubernetesLive.layer(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath })
  const events = EventRecorder.layer(options.instance === undefined ? {} : { instance: options.instance })
  return DittoServerController.layer(options).pipe(
    Layer.provide(Layer.mergeAll(events, DittoFsLive.layerNode())),
    Layer.provide(kubernetes)
  )
}
