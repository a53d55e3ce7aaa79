/**
 * The `DittoServer` custom resource (`dittofs.dittofs.com/v1alpha1`): spec and status as
 * Schemas, the fields of the reference operator's CRD.
 *
 * Contract: decoding applies the CRD's defaults, so a decoded spec is total (every default is
 * filled in); a `null` in the spec is read as the API server reads it (the field's default, or
 * absent when it has none), so the Schema accepts what the API server accepts; unknown fields are
 * kept (open structs), so nothing a newer CRD adds is lost on a write. The CRD's OpenAPI schema
 * (defaults and descriptions included) is generated from these same Schemas, and the contract
 * suite checks both verdicts against the API server.
 */
import { Duration, Option, Schema, SchemaGetter } from "effect"
import * as GoDuration from "./GoDuration.ts"
import { ObjectMeta, open, ServiceType, StringMap } from "./Kubernetes.ts"

/** The API group of the `DittoServer` resource. */
export const group = "dittofs.dittofs.com"
/** The API version of the `DittoServer` resource within its group. */
export const version = "v1alpha1"
/** The `apiVersion` of a `DittoServer` object: `dittofs.dittofs.com/v1alpha1`. */
export const apiVersion = `${group}/${version}`
/** The `kind` of a `DittoServer` object. */
export const kind = "DittoServer"
/**
 * The resource name of `DittoServer` in API paths
 * (`/apis/dittofs.dittofs.com/v1alpha1/…/dittoservers`).
 */
export const plural = "dittoservers"

type Field = Schema.Top & { readonly DecodingServices: never; readonly EncodingServices: never }

/**
 * A spec field with a default, as the API server reads it: absent or `null` decodes to the
 * default; the default and the description are published in the CRD.
 */
const withDefault = <S extends Field>(value: S["Encoded"], description?: string) => (self: S) =>
  Schema.optionalKey(
    Schema.NullOr(Schema.toEncoded(self)).annotate(description === undefined ? { default: value } : { default: value, description })
  ).pipe(Schema.decodeTo(self, {
    decode: SchemaGetter.transformOptional((input) => Option.some(Option.getOrElse(Option.filter(input, (inner) => inner !== null), () => value))),
    encode: SchemaGetter.passthroughSubtype()
  }))

/**
 * An optional spec field, as the API server reads it: `null` is the same as absent (it is
 * pruned); the description is published in the CRD.
 */
const optional = <S extends Field>(self: S, description?: string) =>
  Schema.optionalKey(Schema.NullOr(Schema.toEncoded(self)).annotate(description === undefined ? {} : { description })).pipe(
    Schema.decodeTo(Schema.optionalKey(self), {
      decode: SchemaGetter.transformOptional((input) => Option.filter(input, (inner) => inner !== null)),
      encode: SchemaGetter.passthroughSubtype()
    })
  )

/** A string map whose `null` values the API server prunes. */
const Annotations = (description: string) =>
  optional(
    Schema.Record(Schema.String, Schema.NullOr(Schema.String)).pipe(Schema.decodeTo(StringMap, {
      decode: SchemaGetter.transform((map) => Object.fromEntries(Object.entries(map).filter((entry): entry is [string, string] => entry[1] !== null))),
      encode: SchemaGetter.passthroughSubtype()
    })),
    description
  )

const Quantity = Schema.String.check(Schema.isPattern(/^[0-9]+(Gi|Mi|Ti)$/u))
const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
const SecretKeyRef = open({
  name: Schema.String.annotate({ description: "Name of the Secret, in the DittoServer's namespace." }),
  key: Schema.String.annotate({ description: "Key of the value inside the Secret." })
})
/** A Kubernetes object we pass through as the user wrote it (every field preserved). */
const Passthrough = (description: string) => optional(Schema.Record(Schema.String, Schema.Unknown), description)

/**
 * Schema of `spec.adapterServices`: the type (default LoadBalancer) and annotations of the Service
 * made for each running adapter.
 */
export const AdapterServicesSpec = open({
  type: ServiceType.pipe(withDefault("LoadBalancer", "Type of the Service created for each running adapter.")),
  annotations: Annotations("Annotations of every adapter Service (e.g. cloud load-balancer settings).")
})
/** A decoded `spec.adapterServices` ({@link AdapterServicesSpec}). */
export type AdapterServicesSpec = typeof AdapterServicesSpec.Type

/**
 * Schema of `spec.storage`: the sizes of the metadata, content and cache volumes, and their
 * StorageClass.
 */
export const StorageSpec = open({
  metadataSize: Quantity.annotate({ description: "Size of the metadata volume (/data/metadata), e.g. 10Gi." }),
  contentSize: optional(Quantity, "Size of the content volume (/data/content); without it file content is kept in memory or S3."),
  cacheSize: Quantity.pipe(withDefault("5Gi", "Size of the cache volume (/data/cache).")),
  storageClassName: optional(Schema.String, "StorageClass of the server's volume claims; the cluster's default when absent.")
})
/** A decoded `spec.storage` ({@link StorageSpec}). */
export type StorageSpec = typeof StorageSpec.Type

/**
 * Schema of `spec.database`: the control-plane database, SQLite on the server's volume (default) or
 * PostgreSQL.
 */
export const DatabaseSpec = open({
  type: Schema.Literals(["sqlite", "postgres"]).pipe(
    withDefault("sqlite", "Control-plane database: sqlite on the server's control-plane volume, or postgres.")
  ),
  sqlite: optional(open({
    path: Schema.String.pipe(withDefault("/data/controlplane/controlplane.db", "Path of the SQLite file inside the container."))
  }), "SQLite settings (database.type sqlite)."),
  postgresSecretRef: optional(SecretKeyRef, "Secret key holding the PostgreSQL connection string; when set, postgres is used.")
})
/** A decoded `spec.database` ({@link DatabaseSpec}). */
export type DatabaseSpec = typeof DatabaseSpec.Type

/** Schema of `spec.cache`: the directory and maximum size of DittoFS's cache. */
export const CacheSpec = open({
  path: Schema.String.pipe(withDefault("/data/cache", "Directory of the cache.")),
  size: Schema.String.pipe(withDefault("1GB", "Maximum cache size, e.g. 1GB or 512MB."))
})

/**
 * Schema of `spec.s3`: where the S3 credentials are (a Secret and its keys) and the bucket
 * settings.
 */
export const S3Spec = open({
  credentialsSecretRef: optional(open({
    secretName: Schema.String.annotate({ description: "Secret with the S3 credentials." }),
    accessKeyIdKey: Schema.String.pipe(withDefault("accessKeyId", "Key of the access key id in the Secret.")),
    secretAccessKeyKey: Schema.String.pipe(withDefault("secretAccessKey", "Key of the secret access key in the Secret.")),
    endpointKey: Schema.String.pipe(withDefault("endpoint", "Key of the endpoint URL in the Secret."))
  }), "Secret with the S3 credentials and endpoint."),
  region: Schema.String.pipe(withDefault("eu-west-1", "S3 region.")),
  bucket: optional(Schema.String, "S3 bucket.")
})

/**
 * How pod template changes roll out: `Managed` (the operator restarts pods itself, only for changes
 * other than adapter ports) or `RollingUpdate` (the StatefulSet controller does).
 */
export const RolloutStrategy = Schema.Literals(["Managed", "RollingUpdate"])
/** A decoded {@link RolloutStrategy}. */
export type RolloutStrategy = typeof RolloutStrategy.Type

/**
 * Schema of a `DittoServer`'s spec. Decoding fills in every default of the CRD, so a decoded spec
 * is total.
 */
export const Spec = open({
  image: Schema.String.pipe(withDefault("marmos91c/dittofs:latest", "DittoFS container image.")),
  replicas: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(
    withDefault(1, "Number of server pods: 1 runs the server, 0 stops it (DittoFS is single-replica).")
  ),
  storage: StorageSpec.annotate({ description: "The server's volumes." }),
  database: optional(DatabaseSpec, "Control-plane database."),
  cache: optional(CacheSpec, "Read cache."),
  s3: optional(S3Spec, "S3 content store."),
  percona: optional(open({
    enabled: Schema.Boolean.pipe(withDefault(
      false,
      "A Percona PostgreSQL cluster for the control plane (not supported by this operator: use database.postgresSecretRef)."
    ))
  }), "Percona PostgreSQL (not supported)."),
  controlPlane: open({
    port: Port.pipe(withDefault(8080, "Port of the DittoFS REST API."))
  }).pipe(withDefault({}, "The DittoFS REST API.")),
  metrics: open({
    enabled: Schema.Boolean.pipe(withDefault(false, "Expose Prometheus metrics.")),
    port: Port.pipe(withDefault(9090, "Port of the metrics endpoint."))
  }).pipe(withDefault({}, "Prometheus metrics.")),
  adapterDiscovery: open({
    pollingInterval: Schema.String.pipe(withDefault(
      "30s",
      "How often the adapter list is polled (Go duration, e.g. 30s, 1m); invalid or not positive: 30s."
    ))
  }).pipe(withDefault({}, "How running adapters are discovered.")),
  adapterServices: AdapterServicesSpec.pipe(withDefault({}, "The Services created for running adapters.")),
  service: optional(open({
    type: ServiceType.pipe(withDefault("ClusterIP", "Type of the API Service (<name>-api).")),
    annotations: Annotations("Annotations of the API Service.")
  }), "The API Service (<name>-api); LoadBalancer when absent."),
  identity: optional(open({
    type: Schema.Literals(["memory"]).pipe(withDefault("memory", "Identity store (memory only).")),
    jwt: optional(open({
      secretRef: SecretKeyRef.annotate({ description: "Secret key holding the JWT signing secret (at least 32 characters)." }),
      accessTokenDuration: Schema.String.pipe(withDefault("15m", "Lifetime of access tokens (Go duration).")),
      refreshTokenDuration: Schema.String.pipe(withDefault("168h", "Lifetime of refresh tokens (Go duration).")),
      issuer: Schema.String.pipe(withDefault("dittofs", "Issuer of the tokens."))
    }), "JWT settings of the REST API."),
    admin: optional(open({
      username: Schema.String.pipe(withDefault("admin", "Name of the admin user.")),
      passwordSecretRef: optional(
        SecretKeyRef,
        "Secret key holding the admin's initial password; generated into <name>-admin-credentials when absent."
      )
    }), "The initial admin user.")
  }), "Identity store and authentication."),
  resources: Passthrough("Compute resources of the DittoFS container (a core/v1 ResourceRequirements)."),
  securityContext: Passthrough("Security context of the DittoFS container; non-root with all capabilities dropped when absent."),
  podSecurityContext: Passthrough("Security context of the server pod; fsGroup 65532 when absent."),
  rollout: open({
    strategy: RolloutStrategy.pipe(withDefault(
      "Managed",
      "Managed (default): pods are restarted by the operator, once, only when what they run changes (image, configuration, resources); an adapter start or stop only updates the declared ports. RollingUpdate: every pod-template change rolls the pods at once, adapter ports included."
    ))
  }).pipe(withDefault({}, "How server pods are rolled."))
})
/** A decoded, fully defaulted `DittoServer` spec ({@link Spec}). */
export type Spec = typeof Spec.Type

/** The status of a condition: `True`, `False` or `Unknown`. */
export const ConditionStatus = Schema.Literals(["True", "False", "Unknown"])

/**
 * Schema of one of the status conditions (`Ready`, `Available`, `AdaptersSynced`, …), with its
 * reason, message, transition time and observed generation.
 */
export const Condition = open({
  type: Schema.String,
  status: ConditionStatus,
  reason: Schema.String,
  message: Schema.String,
  lastTransitionTime: Schema.String,
  observedGeneration: Schema.optionalKey(Schema.Int)
})
/** A decoded status condition ({@link Condition}). */
export type Condition = typeof Condition.Type

/**
 * Schema of one entry of `status.adapters`: an adapter, its port, its Service and whether it is
 * exposed.
 */
export const AdapterStatus = open({
  type: Schema.String,
  port: Schema.Int,
  serviceName: Schema.String,
  exposed: Schema.Boolean
})
/** A decoded entry of `status.adapters` ({@link AdapterStatus}). */
export type AdapterStatus = typeof AdapterStatus.Type

/**
 * Schema of a `DittoServer`'s status: phase, replica counts, config hash, adapters and conditions.
 */
export const Status = open({
  observedGeneration: Schema.optionalKey(Schema.Int),
  phase: Schema.optionalKey(Schema.Literals(["Pending", "Running", "Failed", "Stopped", "Deleting"])),
  replicas: Schema.optionalKey(Schema.Int),
  readyReplicas: Schema.optionalKey(Schema.Int),
  availableReplicas: Schema.optionalKey(Schema.Int),
  configHash: Schema.optionalKey(Schema.String),
  conditions: Schema.optionalKey(Schema.Array(Condition)),
  adapters: Schema.optionalKey(Schema.Array(AdapterStatus))
})
/** A decoded `DittoServer` status ({@link Status}). */
export type Status = typeof Status.Type

/**
 * Schema of a whole `DittoServer` object: metadata, spec (defaults applied) and status. Unknown
 * fields are kept at every level.
 */
export const DittoServer = open({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal(kind),
  metadata: ObjectMeta,
  spec: Spec,
  status: Schema.optionalKey(Status)
})
/** A decoded `DittoServer` ({@link DittoServer}). */
export type DittoServer = typeof DittoServer.Type

/** The polling interval when the spec's is missing, unparsable or not positive (reference rule). */
export const defaultPollingInterval = Duration.seconds(30)

/** `spec.adapterDiscovery.pollingInterval` as a Duration; total. */
export const pollingInterval = (spec: Spec): Duration.Duration =>
  GoDuration.parse(spec.adapterDiscovery.pollingInterval).pipe(
    Option.filter(Duration.isPositive),
    Option.getOrElse(() => defaultPollingInterval)
  )
