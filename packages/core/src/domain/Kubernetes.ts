/**
 * The narrow Kubernetes shapes the operator reads and writes, in their JSON form
 * (`containerPort`, `protocol`, ...).
 *
 * Contract: every object schema is *open* — decoding keeps the fields we do not model, at every
 * level we model. An object that is read, changed with a spread and written back therefore loses
 * nothing (no blind overwrite of fields owned by users, defaulting or other controllers).
 */
import { Schema } from "effect"
import * as ObjectRef from "./ObjectRef.ts"

/** An open struct: the declared fields are checked, every other field is kept as is. */
export const open = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Schema.Unknown)])

/** Schema of a string-to-string map (labels, annotations, ConfigMap data). */
export const StringMap = Schema.Record(Schema.String, Schema.String)
/** A decoded {@link StringMap}. */
export type StringMap = typeof StringMap.Type

/** Schema of a port's protocol: `TCP`, `UDP` or `SCTP`. */
export const Protocol = Schema.Literals(["TCP", "UDP", "SCTP"])
/** A decoded {@link Protocol}. */
export type Protocol = typeof Protocol.Type

/** Schema of an owner reference (open): who owns an object, and whether it is its controller. */
export const OwnerReference = open({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optionalKey(Schema.Boolean),
  blockOwnerDeletion: Schema.optionalKey(Schema.Boolean)
})
/** A decoded {@link OwnerReference}. */
export type OwnerReference = typeof OwnerReference.Type

/**
 * Schema of an object's metadata (open): name, namespace, uid, resourceVersion, generation, labels,
 * annotations, owner references, finalizers, deletion timestamp.
 */
export const ObjectMeta = open({
  name: Schema.String,
  namespace: Schema.optionalKey(Schema.String),
  uid: Schema.optionalKey(Schema.String),
  resourceVersion: Schema.optionalKey(Schema.String),
  generation: Schema.optionalKey(Schema.Int),
  creationTimestamp: Schema.optionalKey(Schema.String),
  deletionTimestamp: Schema.optionalKey(Schema.String),
  labels: Schema.optionalKey(StringMap),
  annotations: Schema.optionalKey(StringMap),
  ownerReferences: Schema.optionalKey(Schema.Array(OwnerReference)),
  finalizers: Schema.optionalKey(Schema.Array(Schema.String))
})
/** A decoded {@link ObjectMeta}. */
export type ObjectMeta = typeof ObjectMeta.Type

/** Metadata of an embedded template: no name of its own. */
export const TemplateMeta = open({
  labels: Schema.optionalKey(StringMap),
  annotations: Schema.optionalKey(StringMap)
})

/** Schema of a container port (open). */
export const ContainerPort = open({
  name: Schema.optionalKey(Schema.String),
  containerPort: Schema.Int,
  protocol: Schema.optionalKey(Protocol),
  hostPort: Schema.optionalKey(Schema.Int),
  hostIP: Schema.optionalKey(Schema.String)
})
/** A decoded {@link ContainerPort}. */
export type ContainerPort = typeof ContainerPort.Type

/** Schema of a container (open): its name, image and ports; everything else is kept as read. */
export const Container = open({
  name: Schema.String,
  image: Schema.optionalKey(Schema.String),
  ports: Schema.optionalKey(Schema.Array(ContainerPort))
})
/** A decoded {@link Container}. */
export type Container = typeof Container.Type

/** Schema of a pod spec (open): its containers; everything else is kept as read. */
export const PodSpec = open({ containers: Schema.Array(Container) })

/** Schema of a pod template (open): metadata and spec. */
export const PodTemplateSpec = open({
  metadata: Schema.optionalKey(TemplateMeta),
  spec: PodSpec
})

/** Schema of a label selector (open): `matchLabels`. */
export const LabelSelector = open({ matchLabels: Schema.optionalKey(StringMap) })
/** A decoded {@link LabelSelector}. */
export type LabelSelector = typeof LabelSelector.Type

/**
 * Schema of a PersistentVolumeClaim (open): access modes, requested storage, StorageClass, and its
 * phase.
 */
export const PersistentVolumeClaim = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("PersistentVolumeClaim"),
  metadata: ObjectMeta,
  spec: Schema.optionalKey(open({
    accessModes: Schema.optionalKey(Schema.Array(Schema.String)),
    storageClassName: Schema.optionalKey(Schema.String),
    resources: Schema.optionalKey(open({ requests: Schema.optionalKey(StringMap) }))
  })),
  status: Schema.optionalKey(open({ phase: Schema.optionalKey(Schema.String) }))
})
/** A decoded {@link PersistentVolumeClaim}. */
export type PersistentVolumeClaim = typeof PersistentVolumeClaim.Type

/** A claim template of a StatefulSet: a PersistentVolumeClaim without kind (it may carry one). */
export const PersistentVolumeClaimTemplate = open({
  apiVersion: Schema.optionalKey(Schema.String),
  kind: Schema.optionalKey(Schema.String),
  metadata: open({ name: Schema.String, labels: Schema.optionalKey(StringMap), annotations: Schema.optionalKey(StringMap) }),
  spec: open({
    accessModes: Schema.optionalKey(Schema.Array(Schema.String)),
    storageClassName: Schema.optionalKey(Schema.String),
    resources: Schema.optionalKey(open({ requests: Schema.optionalKey(StringMap) }))
  })
})
/** A decoded {@link PersistentVolumeClaimTemplate}. */
export type PersistentVolumeClaimTemplate = typeof PersistentVolumeClaimTemplate.Type

/**
 * Schema of a StatefulSet (open): replicas, selector, service name, pod template, volume claim
 * templates, update strategy, and the status counts the operator reads.
 */
export const StatefulSet = open({
  apiVersion: Schema.Literal("apps/v1"),
  kind: Schema.Literal("StatefulSet"),
  metadata: ObjectMeta,
  spec: open({
    replicas: Schema.optionalKey(Schema.Int),
    selector: Schema.optionalKey(LabelSelector),
    serviceName: Schema.optionalKey(Schema.String),
    template: PodTemplateSpec,
    updateStrategy: Schema.optionalKey(open({ type: Schema.optionalKey(Schema.Literals(["RollingUpdate", "OnDelete"])) })),
    volumeClaimTemplates: Schema.optionalKey(Schema.Array(PersistentVolumeClaimTemplate))
  }),
  status: Schema.optionalKey(open({
    replicas: Schema.optionalKey(Schema.Int),
    readyReplicas: Schema.optionalKey(Schema.Int),
    availableReplicas: Schema.optionalKey(Schema.Int),
    currentReplicas: Schema.optionalKey(Schema.Int),
    updatedReplicas: Schema.optionalKey(Schema.Int),
    currentRevision: Schema.optionalKey(Schema.String),
    updateRevision: Schema.optionalKey(Schema.String),
    observedGeneration: Schema.optionalKey(Schema.Int)
  }))
})
/** A decoded {@link StatefulSet}. */
export type StatefulSet = typeof StatefulSet.Type

/** Schema of Kubernetes' int-or-string (a port given by number or by name). */
export const IntOrString = Schema.Union([Schema.Int, Schema.String])
/** A decoded {@link IntOrString}. */
export type IntOrString = typeof IntOrString.Type

/**
 * Schema of the Service types a `DittoServer` may ask for: `ClusterIP`, `NodePort` or
 * `LoadBalancer`.
 */
export const ServiceType = Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer"])
/** A decoded {@link ServiceType}. */
export type ServiceType = typeof ServiceType.Type

/** Schema of a Service port (open). */
export const ServicePort = open({
  name: Schema.optionalKey(Schema.String),
  port: Schema.Int,
  targetPort: Schema.optionalKey(IntOrString),
  protocol: Schema.optionalKey(Protocol),
  nodePort: Schema.optionalKey(Schema.Int)
})
/** A decoded {@link ServicePort}. */
export type ServicePort = typeof ServicePort.Type

/**
 * Schema of a Service (open): type, selector, ports and the fields the API server assigns
 * (clusterIP, nodePorts).
 */
export const Service = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Service"),
  metadata: ObjectMeta,
  spec: open({
    type: Schema.optionalKey(Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])),
    selector: Schema.optionalKey(StringMap),
    ports: Schema.optionalKey(Schema.Array(ServicePort)),
    clusterIP: Schema.optionalKey(Schema.String)
  })
})
/** A decoded {@link Service}. */
export type Service = typeof Service.Type

/** Schema of a NetworkPolicy port (open). */
export const NetworkPolicyPort = open({
  protocol: Schema.optionalKey(Protocol),
  port: Schema.optionalKey(IntOrString),
  endPort: Schema.optionalKey(Schema.Int)
})
/** A decoded {@link NetworkPolicyPort}. */
export type NetworkPolicyPort = typeof NetworkPolicyPort.Type

/** Schema of a NetworkPolicy ingress rule (open): its ports and peers. */
export const NetworkPolicyIngressRule = open({
  ports: Schema.optionalKey(Schema.Array(NetworkPolicyPort)),
  from: Schema.optionalKey(Schema.Array(Schema.Unknown))
})
/** A decoded {@link NetworkPolicyIngressRule}. */
export type NetworkPolicyIngressRule = typeof NetworkPolicyIngressRule.Type

/** Schema of a NetworkPolicy (open): pod selector, policy types and ingress rules. */
export const NetworkPolicy = open({
  apiVersion: Schema.Literal("networking.k8s.io/v1"),
  kind: Schema.Literal("NetworkPolicy"),
  metadata: ObjectMeta,
  spec: open({
    podSelector: LabelSelector,
    policyTypes: Schema.optionalKey(Schema.Array(Schema.Literals(["Ingress", "Egress"]))),
    ingress: Schema.optionalKey(Schema.Array(NetworkPolicyIngressRule))
  })
})
/** A decoded {@link NetworkPolicy}. */
export type NetworkPolicy = typeof NetworkPolicy.Type

/** Schema of a Secret (open): its type and `data` (base64, as on the wire). */
export const Secret = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Secret"),
  metadata: ObjectMeta,
  type: Schema.optionalKey(Schema.String),
  /** base64-encoded values, as on the wire */
  data: Schema.optionalKey(StringMap)
})
/** A decoded {@link Secret}. */
export type Secret = typeof Secret.Type

/** Schema of a ConfigMap (open): its `data`. */
export const ConfigMap = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("ConfigMap"),
  metadata: ObjectMeta,
  data: Schema.optionalKey(StringMap)
})
/** A decoded {@link ConfigMap}. */
export type ConfigMap = typeof ConfigMap.Type

/** Schema of a pod condition (open): its type and status. */
export const PodCondition = open({ type: Schema.String, status: Schema.String })

/** Schema of a Pod (open): spec and the status the operator reads (phase, conditions). */
export const Pod = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Pod"),
  metadata: ObjectMeta,
  spec: PodSpec,
  status: Schema.optionalKey(open({
    phase: Schema.optionalKey(Schema.String),
    conditions: Schema.optionalKey(Schema.Array(PodCondition))
  }))
})
/** A decoded {@link Pod}. */
export type Pod = typeof Pod.Type

/** A `coordination.k8s.io/v1` Lease (leader election). */
export const Lease = open({
  apiVersion: Schema.Literal("coordination.k8s.io/v1"),
  kind: Schema.Literal("Lease"),
  metadata: ObjectMeta,
  spec: open({
    holderIdentity: Schema.optionalKey(Schema.NullOr(Schema.String)),
    leaseDurationSeconds: Schema.optionalKey(Schema.NullOr(Schema.Int)),
    acquireTime: Schema.optionalKey(Schema.NullOr(Schema.String)),
    renewTime: Schema.optionalKey(Schema.NullOr(Schema.String)),
    leaseTransitions: Schema.optionalKey(Schema.NullOr(Schema.Int))
  })
})
/** A decoded {@link Lease}. */
export type Lease = typeof Lease.Type

/** A reference to the object an Event is about. */
export interface ObjectReference {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace: string
  readonly name: string
  readonly uid: string
}

/**
 * An object without its `metadata.managedFields` (the field managers' bookkeeping: most of a small
 * object's size, and nothing the operator reads). A write without them keeps the server's.
 */
export const withoutManagedFields = <A extends { readonly metadata: object }>(object: A): A => {
  if (!("managedFields" in object.metadata)) return object
  const { managedFields: _, ...metadata } = object.metadata as { readonly managedFields?: unknown }
  return { ...object, metadata }
}

/** The `ObjectReference` of an object, as an Event's `involvedObject` names it. */
export const referenceTo = (object: {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: ObjectMeta
}): ObjectReference => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  ...ObjectRef.of(object.metadata),
  uid: object.metadata.uid ?? ""
})

/**
 * The text of a Secret's key (its `data` is base64 on the wire); `undefined` when the key is
 * missing or not valid base64.
 */
export const secretText = (secret: Secret, key: string): string | undefined => {
  const value = secret.data?.[key]
  if (value === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined
  return Buffer.from(value, "base64").toString("utf8")
}

/** Kubernetes' timestamp format: RFC 3339, whole seconds, UTC. */
export const timestamp = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

/** A core/v1 Event, as the operator records it. */
export const Event = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Event"),
  metadata: ObjectMeta,
  involvedObject: open({
    apiVersion: Schema.optionalKey(Schema.String),
    kind: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    name: Schema.optionalKey(Schema.String),
    uid: Schema.optionalKey(Schema.String)
  }),
  type: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  count: Schema.optionalKey(Schema.Int),
  firstTimestamp: Schema.optionalKey(Schema.NullOr(Schema.String)),
  lastTimestamp: Schema.optionalKey(Schema.NullOr(Schema.String)),
  source: Schema.optionalKey(open({ component: Schema.optionalKey(Schema.String) })),
  reportingComponent: Schema.optionalKey(Schema.String),
  reportingInstance: Schema.optionalKey(Schema.String)
})
/** A decoded {@link Event}. */
export type Event = typeof Event.Type

/** Any object: kind and metadata checked, everything else kept. */
export const AnyObject = open({
  apiVersion: Schema.String,
  kind: Schema.String,
  metadata: ObjectMeta
})
/** A decoded {@link AnyObject}. */
export type AnyObject = typeof AnyObject.Type
