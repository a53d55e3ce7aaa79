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

export const StringMap = Schema.Record(Schema.String, Schema.String)
export type StringMap = typeof StringMap.Type

export const Protocol = Schema.Literals(["TCP", "UDP", "SCTP"])
export type Protocol = typeof Protocol.Type

export const OwnerReference = open({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optionalKey(Schema.Boolean),
  blockOwnerDeletion: Schema.optionalKey(Schema.Boolean)
})
export type OwnerReference = typeof OwnerReference.Type

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
export type ObjectMeta = typeof ObjectMeta.Type

/** Metadata of an embedded template: no name of its own. */
export const TemplateMeta = open({
  labels: Schema.optionalKey(StringMap),
  annotations: Schema.optionalKey(StringMap)
})

export const ContainerPort = open({
  name: Schema.optionalKey(Schema.String),
  containerPort: Schema.Int,
  protocol: Schema.optionalKey(Protocol),
  hostPort: Schema.optionalKey(Schema.Int),
  hostIP: Schema.optionalKey(Schema.String)
})
export type ContainerPort = typeof ContainerPort.Type

export const Container = open({
  name: Schema.String,
  image: Schema.optionalKey(Schema.String),
  ports: Schema.optionalKey(Schema.Array(ContainerPort))
})
export type Container = typeof Container.Type

export const PodSpec = open({ containers: Schema.Array(Container) })

export const PodTemplateSpec = open({
  metadata: Schema.optionalKey(TemplateMeta),
  spec: PodSpec
})

export const LabelSelector = open({ matchLabels: Schema.optionalKey(StringMap) })
export type LabelSelector = typeof LabelSelector.Type

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
export type PersistentVolumeClaimTemplate = typeof PersistentVolumeClaimTemplate.Type

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
export type StatefulSet = typeof StatefulSet.Type

export const IntOrString = Schema.Union([Schema.Int, Schema.String])
export type IntOrString = typeof IntOrString.Type

export const ServiceType = Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer"])
export type ServiceType = typeof ServiceType.Type

export const ServicePort = open({
  name: Schema.optionalKey(Schema.String),
  port: Schema.Int,
  targetPort: Schema.optionalKey(IntOrString),
  protocol: Schema.optionalKey(Protocol),
  nodePort: Schema.optionalKey(Schema.Int)
})
export type ServicePort = typeof ServicePort.Type

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
export type Service = typeof Service.Type

export const NetworkPolicyPort = open({
  protocol: Schema.optionalKey(Protocol),
  port: Schema.optionalKey(IntOrString),
  endPort: Schema.optionalKey(Schema.Int)
})
export type NetworkPolicyPort = typeof NetworkPolicyPort.Type

export const NetworkPolicyIngressRule = open({
  ports: Schema.optionalKey(Schema.Array(NetworkPolicyPort)),
  from: Schema.optionalKey(Schema.Array(Schema.Unknown))
})
export type NetworkPolicyIngressRule = typeof NetworkPolicyIngressRule.Type

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
export type NetworkPolicy = typeof NetworkPolicy.Type

export const Secret = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Secret"),
  metadata: ObjectMeta,
  type: Schema.optionalKey(Schema.String),
  /** base64-encoded values, as on the wire */
  data: Schema.optionalKey(StringMap)
})
export type Secret = typeof Secret.Type

export const ConfigMap = open({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("ConfigMap"),
  metadata: ObjectMeta,
  data: Schema.optionalKey(StringMap)
})
export type ConfigMap = typeof ConfigMap.Type

export const PodCondition = open({ type: Schema.String, status: Schema.String })

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
export type Lease = typeof Lease.Type

/** A reference to the object an Event is about. */
export interface ObjectReference {
  readonly apiVersion: string
  readonly kind: string
  readonly namespace: string
  readonly name: string
  readonly uid: string
}

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
export type Event = typeof Event.Type

/** Any object: kind and metadata checked, everything else kept. */
export const AnyObject = open({
  apiVersion: Schema.String,
  kind: Schema.String,
  metadata: ObjectMeta
})
export type AnyObject = typeof AnyObject.Type
