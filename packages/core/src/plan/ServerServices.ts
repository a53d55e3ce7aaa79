/**
 * The server's own Services: `<cr>-headless` (the StatefulSet's, clusterIP None), `<cr>-api`
 * (type and annotations from `spec.service`, ClusterIP by default — never exposed outside the
 * cluster unless asked) and `<cr>-metrics` (ClusterIP, only while metrics are enabled).
 *
 * Contract (total, pure):
 * - Owned: labels (merged), `type`, `selector`, `ports` (one TCP port, `targetPort` = `port`);
 *   ports that mean the same are left as observed, and an allocated nodePort is kept while the
 *   type allocates one. clusterIP (and clusterIPs, ipFamilies, ...) is the API server's: kept.
 * - The API Service's annotations from `spec.service.annotations` are tracked with
 *   `Annotations.sync` (`dittofs.io/managed-annotations`): one the spec drops is removed, a
 *   user's or controller's own annotation is kept.
 * - `clusterIP` is immutable: a headless Service that is not headless (or an API or metrics
 *   Service that is) is reported in `blocked`, never recreated.
 */
import type * as DittoServer from "../domain/DittoServer.ts"
import type { Service, ServicePort, ServiceType, StringMap } from "../domain/Kubernetes.ts"
import * as Annotations from "./Annotations.ts"
import { type EventNote, type Finding, normal } from "./Change.ts"
import { selectorLabels, type WorkloadNames } from "./Naming.ts"
import { mergeMap } from "./OwnedFields.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"
import * as ServerPod from "./ServerPod.ts"

/** The kind of object this module plans. */
export const kind = "Service"

/**
 * Which of the server's Services: the headless one of the StatefulSet, the API one or the metrics
 * one.
 */
export type Role = "headless" | "api" | "metrics"

/** What the server's Services are planned from: the server, its spec and its workload names. */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  readonly names: WorkloadNames
}

/** An overlaid Service and the wanted changes Kubernetes forbids on it (reported, not planned). */
export interface Overlay {
  readonly object: Service
  readonly blocked: ReadonlyArray<Finding>
}

/** The name of the Service of a role. */
export const nameOf = (names: WorkloadNames, role: Role): string =>
  role === "headless" ? names.headlessService : role === "api" ? names.apiService : names.metricsService

/** Whether the Service of a role should exist (the metrics one only while metrics are on). */
export const wanted = (spec: DittoServer.Spec, role: Role): boolean => role !== "metrics" || spec.metrics.enabled

const typeOf = (spec: DittoServer.Spec, role: Role): ServiceType => (role === "api" ? spec.service?.type ?? "ClusterIP" : "ClusterIP")

/** The one port of a role's Service, every field set. */
type WantedPort = ServicePort & { readonly name: string; readonly targetPort: number; readonly protocol: "TCP" }

const portOf = (spec: DittoServer.Spec, role: Role): WantedPort => {
  const [name, port] = role === "metrics"
    ? [ServerPod.portNames.metrics, spec.metrics.port]
    : [ServerPod.portNames.api, spec.controlPlane.port]
  return { name, port, targetPort: port, protocol: "TCP" }
}

/**
 * Annotations as synced (only the API Service has any from the spec); `undefined` when there are
 * none, as the API server stores them.
 */
const syncedAnnotations = (current: StringMap | undefined, spec: DittoServer.Spec, role: Role): StringMap | undefined => {
  if (role !== "api") return current
  const synced = Annotations.sync(current, spec.service?.annotations ?? {})
  return Object.keys(synced).length === 0 ? undefined : synced
}

/**
 * The Service of a role, owned by the server: the API one ClusterIP unless the spec says otherwise,
 * with the user's annotations.
 */
export const desired = (input: Input, role: Role): Service => {
  const annotations = syncedAnnotations(undefined, input.spec, role)
  return {
    apiVersion: "v1",
    kind,
    metadata: {
      name: nameOf(input.names, role),
      namespace: input.server.namespace,
      labels: selectorLabels(input.server.name),
      ...(annotations === undefined ? {} : { annotations }),
      ownerReferences: [controllerReference(input.server)]
    },
    spec: {
      type: typeOf(input.spec, role),
      ...(role === "headless" ? { clusterIP: "None" } : {}),
      selector: selectorLabels(input.server.name),
      ports: [portOf(input.spec, role)]
    }
  }
}

/** Whether an observed port means the wanted one (the API server defaults targetPort and protocol). */
const samePort = (observed: ServicePort, wanted: WantedPort): boolean =>
  observed.name === wanted.name
  && observed.port === wanted.port
  && (observed.targetPort ?? observed.port) === wanted.targetPort
  && (observed.protocol ?? "TCP") === wanted.protocol

const allocatesNodePorts = (type: ServiceType): boolean => type !== "ClusterIP"

/** The observed ports when they are the wanted one (with a nodePort only if the type allocates one), else the wanted one. */
const overlayPorts = (observed: ReadonlyArray<ServicePort>, wanted: WantedPort, type: ServiceType): ReadonlyArray<ServicePort> => {
  const [only] = observed
  if (observed.length === 1 && only !== undefined && samePort(only, wanted) && (allocatesNodePorts(type) || only.nodePort === undefined)) {
    return observed
  }
  // the nodePort the API server allocated to the port of that name is kept while the type allocates one
  const nodePort = observed.find((candidate) => candidate.name === wanted.name)?.nodePort
  return [allocatesNodePorts(type) && nodePort !== undefined ? { ...wanted, nodePort } : wanted]
}

/**
 * The observed Service with the operator's type, selector, ports, labels and annotations laid over
 * it; assigned fields (clusterIP, nodePorts) and foreign annotations are kept.
 */
export const overlay = (input: Input, role: Role, observed: Service): Overlay => {
  const name = observed.metadata.name
  const type = typeOf(input.spec, role)
  const selector = selectorLabels(input.server.name)
  const headless = observed.spec.clusterIP === "None"
  const blocked: ReadonlyArray<Finding> = role === "headless"
    ? (headless ? [] : [{ kind, name, message: `is not headless (clusterIP ${observed.spec.clusterIP ?? "unset"}); clusterIP is immutable (delete the Service to let the operator recreate it)` }])
    : (headless ? [{ kind, name, message: "is headless (clusterIP None); clusterIP is immutable (delete the Service to let the operator recreate it)" }] : [])
  const { annotations: _annotations, ...metadata } = observed.metadata
  const annotations = syncedAnnotations(observed.metadata.annotations, input.spec, role)
  return {
    blocked,
    object: {
      ...observed,
      metadata: {
        ...metadata,
        labels: mergeMap(observed.metadata.labels, selector),
        ...(annotations === undefined ? {} : { annotations })
      },
      spec: {
        ...observed.spec,
        type,
        selector: Annotations.mapsEqual(observed.spec.selector, selector) ? observed.spec.selector ?? selector : selector,
        ports: overlayPorts(observed.spec.ports ?? [], portOf(input.spec, role), type)
      }
    }
  }
}

const describePorts = (service: Service): string => (service.spec.ports ?? []).map((port) => String(port.port)).join(",") || "none"

/** A Service's type: no type is ClusterIP, as the API server defaults it. */
const serviceType = (service: Service): string => service.spec.type ?? "ClusterIP"

/** The Event of creating a Service. */
export const createdEvent = (service: Service): EventNote =>
  normal("ServiceCreated", `Created ${serviceType(service)} Service ${service.metadata.name} (port ${describePorts(service)})`)

/** The Event of updating a Service: what changed. */
export const updatedEvent = (observed: Service, next: Service): EventNote => {
  const parts = [
    ...(serviceType(observed) === serviceType(next) ? [] : [`type ${serviceType(observed)} -> ${serviceType(next)}`]),
    ...(describePorts(observed) === describePorts(next) ? [] : [`port ${describePorts(observed)} -> ${describePorts(next)}`]),
    ...(Annotations.mapsEqual(observed.metadata.annotations, next.metadata.annotations) ? [] : ["annotations"]),
    ...(Annotations.mapsEqual(observed.metadata.labels, next.metadata.labels) ? [] : ["labels"]),
    ...(Annotations.mapsEqual(observed.spec.selector, next.spec.selector) ? [] : ["selector"])
  ]
  return normal("ServiceUpdated", `Updated Service ${next.metadata.name}: ${parts.length === 0 ? "ports" : parts.join(", ")}`)
}

/** The Event of deleting the metrics Service once metrics are off. */
export const deletedEvent = (observed: Service): EventNote =>
  normal("ServiceDeleted", `Deleted Service ${observed.metadata.name} (metrics are disabled)`)
