/**
 * One Service per active adapter, exposing exactly the port DittoFS reports, with the type and
 * annotations of `spec.adapterServices`.
 *
 * Contract (total, pure): creates, updates and deletes, each with its Event.
 * - Touches only Services with the adapter-service label, this server's instance label and this
 *   server as controller owner; anything else is never updated or deleted.
 * - Drift: the ports (name, port, targetPort, protocol), the type, the selector, the operator's
 *   labels (the controller watches its objects by them) and the managed annotations. Other fields
 *   (clusterIP, third-party labels and annotations, ...) are kept as observed.
 * - An allocated nodePort is kept unless the new type is ClusterIP.
 * - The managed-annotations tracking key is written on create as on update.
 * - Applying the plan and planning again yields an empty plan.
 */
import { Option } from "effect"
import type { AdapterServicesSpec } from "../domain/DittoServer.ts"
import type { Service, ServicePort, StringMap } from "../domain/Kubernetes.ts"
import type * as ActiveAdapters from "./ActiveAdapters.ts"
import * as Annotations from "./Annotations.ts"
import { type Change, diffByKey, normal, type Plan } from "./Change.ts"
import { adapterResourceName, adapterServiceLabels, labels, labelValue, selectorLabels } from "./Naming.ts"
import { adapterTypeOf, controllerReference, isManagedBy, type ServerIdentity } from "./Ownership.ts"

/**
 * What the adapter Services are planned from: the server, `spec.adapterServices`, the active
 * adapters and the observed adapter Services.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: AdapterServicesSpec
  readonly active: ReadonlyArray<ActiveAdapters.Active>
  /** Services listed by the adapter-service label; the plan filters them again. */
  readonly observed: ReadonlyArray<Service>
}

const typeLabel = (object: { readonly metadata: { readonly labels?: StringMap } }): string => adapterTypeOf(object.metadata)

/** Whether the plan may update or delete this Service. */
export const isManaged = (service: Service, server: ServerIdentity): boolean =>
  isManagedBy(service.metadata, server, labels.adapterService)

const desiredPort = (adapter: ActiveAdapters.Active): ServicePort => ({
  name: adapter.portName,
  port: adapter.port,
  targetPort: adapter.port,
  protocol: "TCP"
})

const samePort = (observed: ServicePort, desired: ServicePort): boolean =>
  observed.name === desired.name
  && observed.port === desired.port
  && (observed.targetPort ?? observed.port) === desired.targetPort
  && (observed.protocol ?? "TCP") === desired.protocol

const desiredAnnotations = (spec: AdapterServicesSpec): StringMap => spec.annotations ?? {}

/**
 * The Service an active adapter should have: `<server>-adapter-<type>`, owned by the server, of the
 * spec's type and annotations, targeting the adapter's port.
 */
export const desired = (input: Input, adapter: ActiveAdapters.Active): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: adapterResourceName(input.server.name, adapter.type),
    namespace: input.server.namespace,
    labels: adapterServiceLabels(input.server.name, adapter.sanitizedType),
    annotations: Annotations.sync(undefined, desiredAnnotations(input.spec)),
    ownerReferences: [controllerReference(input.server)]
  },
  spec: {
    type: input.spec.type,
    selector: selectorLabels(input.server.name),
    ports: [desiredPort(adapter)]
  }
})

const drifted = (input: Input, observed: Service, adapter: ActiveAdapters.Active): boolean => {
  const ports = observed.spec.ports ?? []
  const [only] = ports
  return ports.length !== 1 || only === undefined || !samePort(only, desiredPort(adapter))
    || (observed.spec.type ?? "ClusterIP") !== input.spec.type
    || !Annotations.mapsEqual(observed.spec.selector, selectorLabels(input.server.name))
    || !Annotations.includes(observed.metadata.labels, adapterServiceLabels(input.server.name, adapter.sanitizedType))
    || !Annotations.inSync(observed.metadata.annotations, desiredAnnotations(input.spec))
}

const updatedService = (input: Input, observed: Service, adapter: ActiveAdapters.Active): Service => {
  const ports = observed.spec.ports ?? []
  const previous = ports.find((port) => port.name === adapter.portName) ?? (ports.length === 1 ? ports[0] : undefined)
  const nodePort = input.spec.type !== "ClusterIP" ? previous?.nodePort : undefined
  return {
    ...observed,
    metadata: {
      ...observed.metadata,
      labels: { ...observed.metadata.labels, ...adapterServiceLabels(input.server.name, adapter.sanitizedType) },
      annotations: Annotations.sync(observed.metadata.annotations, desiredAnnotations(input.spec))
    },
    spec: {
      ...observed.spec,
      type: input.spec.type,
      selector: selectorLabels(input.server.name),
      ports: [nodePort === undefined ? desiredPort(adapter) : { ...desiredPort(adapter), nodePort }]
    }
  }
}

const portText = (service: Service): string => String(service.spec.ports?.[0]?.port ?? "none")

/**
 * Creates, updates and deletes of the adapter Services, each with its Event. Only Services the
 * server controls are updated or deleted; fields set by others (nodePort, clusterIP, foreign
 * annotations) are kept.
 */
export const plan = (input: Input): Plan<Service> =>
  diffByKey<ActiveAdapters.Active, Service>({
    desired: input.active.map((adapter) => [labelValue(adapter.sanitizedType), adapter] as const),
    observed: input.observed.filter((service) => isManaged(service, input.server)),
    keyOf: typeLabel,
    nameOf: (adapter) => adapterResourceName(input.server.name, adapter.type),
    create: (adapter): Change<Service> => {
      const service = desired(input, adapter)
      return {
        _tag: "Create",
        object: service,
        event: normal(
          "AdapterServiceCreated",
          `Created ${input.spec.type} Service ${service.metadata.name} for adapter ${adapter.sanitizedType} (port ${adapter.port})`
        )
      }
    },
    update: (observed, adapter) =>
      drifted(input, observed, adapter)
        ? Option.some<Change<Service>>({
          _tag: "Update",
          object: updatedService(input, observed, adapter),
          event: normal(
            "AdapterServiceUpdated",
            `Updated Service ${observed.metadata.name} for adapter ${adapter.sanitizedType} (port ${portText(observed)} -> ${adapter.port})`
          )
        })
        : Option.none(),
    remove: (observed) => ({
      _tag: "Delete",
      object: observed,
      event: normal("AdapterServiceDeleted", `Deleted Service ${observed.metadata.name} for adapter ${typeLabel(observed)}`)
    })
  })
