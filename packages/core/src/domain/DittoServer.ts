/**
 * The `DittoServer` custom resource (`dittofs.dittofs.com/v1alpha1`): spec and status as
 * Schemas, the fields of the reference operator's CRD.
 *
 * Contract: decoding applies the CRD's defaults, so a decoded spec is total (every default is
 * filled in); unknown fields are kept (open structs), so nothing a newer CRD adds is lost on a
 * write. The CRD's OpenAPI schema is generated from these same Schemas.
 */
import { Duration, Effect, Option, Schema } from "effect"
import * as GoDuration from "./GoDuration.ts"
import { ObjectMeta, open, ServiceType, StringMap } from "./Kubernetes.ts"

export const group = "dittofs.dittofs.com"
export const version = "v1alpha1"
export const apiVersion = `${group}/${version}`
export const kind = "DittoServer"
export const plural = "dittoservers"

/** A default applied on decode, and published as the CRD's `default`. */
const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  Schema.withDecodingDefaultKey<S["Rebuild"]>(Effect.succeed(value))(self.annotate({ default: value }))

const Quantity = Schema.String.check(Schema.isPattern(/^[0-9]+(Gi|Mi|Ti)$/u))
const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
const SecretKeyRef = open({ name: Schema.String, key: Schema.String })

export const AdapterServicesSpec = open({
  type: ServiceType.pipe(withDefault("LoadBalancer")),
  annotations: Schema.optionalKey(StringMap)
})
export type AdapterServicesSpec = typeof AdapterServicesSpec.Type

export const DittoServerSpec = open({
  image: Schema.String.pipe(withDefault("marmos91c/dittofs:latest")),
  replicas: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(withDefault(1)),
  storage: open({
    metadataSize: Quantity,
    contentSize: Schema.optionalKey(Quantity),
    cacheSize: Quantity.pipe(withDefault("5Gi")),
    storageClassName: Schema.optionalKey(Schema.String)
  }),
  controlPlane: open({ port: Port.pipe(withDefault(8080)) }).pipe(withDefault({})),
  metrics: open({
    enabled: Schema.Boolean.pipe(withDefault(false)),
    port: Port.pipe(withDefault(9090))
  }).pipe(withDefault({})),
  adapterDiscovery: open({
    pollingInterval: Schema.String.pipe(withDefault("30s"))
  }).pipe(withDefault({})),
  adapterServices: AdapterServicesSpec.pipe(withDefault({})),
  service: Schema.optionalKey(open({
    type: Schema.optionalKey(ServiceType),
    annotations: Schema.optionalKey(StringMap)
  })),
  identity: Schema.optionalKey(open({
    jwt: Schema.optionalKey(open({
      secretRef: SecretKeyRef,
      accessTokenDuration: Schema.optionalKey(Schema.String),
      refreshTokenDuration: Schema.optionalKey(Schema.String),
      issuer: Schema.optionalKey(Schema.String)
    })),
    admin: Schema.optionalKey(open({
      username: Schema.String.pipe(withDefault("admin")),
      passwordSecretRef: Schema.optionalKey(SecretKeyRef)
    }))
  }))
})
export type DittoServerSpec = typeof DittoServerSpec.Type

export const ConditionStatus = Schema.Literals(["True", "False", "Unknown"])

export const Condition = open({
  type: Schema.String,
  status: ConditionStatus,
  reason: Schema.String,
  message: Schema.String,
  lastTransitionTime: Schema.String,
  observedGeneration: Schema.optionalKey(Schema.Int)
})
export type Condition = typeof Condition.Type

export const AdapterStatus = open({
  type: Schema.String,
  port: Schema.Int,
  serviceName: Schema.String,
  exposed: Schema.Boolean
})
export type AdapterStatus = typeof AdapterStatus.Type

export const DittoServerStatus = open({
  observedGeneration: Schema.optionalKey(Schema.Int),
  phase: Schema.optionalKey(Schema.Literals(["Pending", "Running", "Failed", "Stopped", "Deleting"])),
  replicas: Schema.optionalKey(Schema.Int),
  readyReplicas: Schema.optionalKey(Schema.Int),
  availableReplicas: Schema.optionalKey(Schema.Int),
  conditions: Schema.optionalKey(Schema.Array(Condition)),
  adapters: Schema.optionalKey(Schema.Array(AdapterStatus))
})
export type DittoServerStatus = typeof DittoServerStatus.Type

export const DittoServer = open({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal(kind),
  metadata: ObjectMeta,
  spec: DittoServerSpec,
  status: Schema.optionalKey(DittoServerStatus)
})
export type DittoServer = typeof DittoServer.Type

/** The polling interval when the spec's is missing, unparsable or not positive (reference rule). */
export const defaultPollingInterval = Duration.seconds(30)

/** `spec.adapterDiscovery.pollingInterval` as a Duration; total. */
export const pollingInterval = (spec: DittoServerSpec): Duration.Duration =>
  GoDuration.parse(spec.adapterDiscovery.pollingInterval).pipe(
    Option.filter(Duration.isPositive),
    Option.getOrElse(() => defaultPollingInterval)
  )
