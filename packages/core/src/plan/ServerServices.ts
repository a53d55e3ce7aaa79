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

const portOf = (spec: DittoServer.Spec, role: Role): ServicePort => {
  const [name, port] = role === "metrics"
    ? [ServerPod.portNames.metrics, spec.metrics.port]
    : [ServerPod.portNames.api, spec.controlPlane.port]
  return { name, port, targetPort: port, protocol: "TCP" }
}

/** The annotations the spec asks for: only the API Service has any. */
const annotationsOf = (spec: DittoServer.Spec, role: Role): StringMap => (role === "api" ? spec.service?.annotations ?? {} : {})

/** Annotations as synced; `undefined` when there are none, as the API server stores them. */
const syncedAnnotations = (current: StringMap | undefined, spec: DittoServer.Spec, role: Role): StringMap | undefined => {
  if (role !== "api") return current
  const synced = Annotations.sync(current, annotationsOf(spec, role))
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

const samePort = (observed: ServicePort, wanted: ServicePort): boolean =>
  (observed.name ?? "") === (wanted.name ?? "")
  && observed.port === wanted.port
  && (observed.targetPort ?? observed.port) === (wanted.targetPort ?? wanted.port)
  && (observed.protocol ?? "TCP") === (wanted.protocol ?? "TCP")

const allocatesNodePorts = (type: ServiceType): boolean => type !== "ClusterIP"

const overlayPorts = (observed: ReadonlyArray<ServicePort>, wanted: ReadonlyArray<ServicePort>, type: ServiceType): ReadonlyArray<ServicePort> => {
  const same = observed.length === wanted.length && observed.every((port, index) => {
    const other = wanted[index]
    return other !== undefined && samePort(port, other)
  })
  if (same && (allocatesNodePorts(type) || observed.every((port) => port.nodePort === undefined))) return observed
  return wanted.map((port) => {
    const nodePort = observed.find((candidate) => (candidate.name ?? "") === (port.name ?? ""))?.nodePort
    return allocatesNodePorts(type) && nodePort !== undefined ? { ...port, nodePort } : port
  })
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
        type: (observed.spec.type ?? "ClusterIP") === type ? observed.spec.type ?? type : type,
        selector: Annotations.mapsEqual(observed.spec.selector, selector) ? observed.spec.selector ?? selector : selector,
        ports: overlayPorts(observed.spec.ports ?? [], [portOf(input.spec, role)], type)
      }
    }
  }
}

const describePorts = (service: Service): string => (service.spec.ports ?? []).map((port) => String(port.port)).join(",") || "none"

/** The Event of creating a Service. */
export const createdEvent = (service: Service): EventNote =>
  normal("ServiceCreated", `Created ${service.spec.type ?? "ClusterIP"} Service ${service.metadata.name} (port ${describePorts(service)})`)

/** The Event of updating a Service: what changed. */
export const updatedEvent = (observed: Service, next: Service): EventNote => {
  const parts = [
    ...((observed.spec.type ?? "ClusterIP") === (next.spec.type ?? "ClusterIP") ? [] : [`type ${observed.spec.type ?? "ClusterIP"} -> ${next.spec.type ?? "ClusterIP"}`]),
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
