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
const SecretKeyRef = open({
  name: Schema.String.annotate({ description: "Name of the Secret, in the DittoServer's namespace." }),
  key: Schema.String.annotate({ description: "Key of the value inside the Secret." })
})
/** A Kubernetes object we pass through as the user wrote it (every field preserved). */
const Passthrough = (description: string) =>
  Schema.Record(Schema.String, Schema.Unknown).annotate({ description })

export const AdapterServicesSpec = open({
  type: ServiceType.pipe(withDefault("LoadBalancer")).annotate({
    description: "Type of the Service created for each running adapter."
  }),
  annotations: Schema.optionalKey(StringMap.annotate({
    description: "Annotations of every adapter Service (e.g. cloud load-balancer settings)."
  }))
})
export type AdapterServicesSpec = typeof AdapterServicesSpec.Type

export const StorageSpec = open({
  metadataSize: Quantity.annotate({ description: "Size of the metadata volume (/data/metadata), e.g. 10Gi." }),
  contentSize: Schema.optionalKey(Quantity.annotate({
    description: "Size of the content volume (/data/content); without it file content is kept in memory or S3."
  })),
  cacheSize: Quantity.pipe(withDefault("5Gi")).annotate({ description: "Size of the cache volume (/data/cache)." }),
  storageClassName: Schema.optionalKey(Schema.String.annotate({
    description: "StorageClass of the server's volume claims; the cluster's default when absent."
  }))
})
export type StorageSpec = typeof StorageSpec.Type

export const DatabaseSpec = open({
  type: Schema.Literals(["sqlite", "postgres"]).pipe(withDefault("sqlite")).annotate({
    description: "Control-plane database: sqlite on the server's control-plane volume, or postgres."
  }),
  sqlite: Schema.optionalKey(open({
    path: Schema.String.pipe(withDefault("/data/controlplane/controlplane.db")).annotate({
      description: "Path of the SQLite file inside the container."
    })
  })),
  postgresSecretRef: Schema.optionalKey(SecretKeyRef.annotate({
    description: "Secret key holding the PostgreSQL connection string; when set, postgres is used."
  }))
})
export type DatabaseSpec = typeof DatabaseSpec.Type

export const CacheSpec = open({
  path: Schema.String.pipe(withDefault("/data/cache")).annotate({ description: "Directory of the cache." }),
  size: Schema.String.pipe(withDefault("1GB")).annotate({ description: "Maximum cache size, e.g. 1GB or 512MB." })
})

export const S3Spec = open({
  credentialsSecretRef: Schema.optionalKey(open({
    secretName: Schema.String.annotate({ description: "Secret with the S3 credentials." }),
    accessKeyIdKey: Schema.String.pipe(withDefault("accessKeyId")),
    secretAccessKeyKey: Schema.String.pipe(withDefault("secretAccessKey")),
    endpointKey: Schema.String.pipe(withDefault("endpoint"))
  })),
  region: Schema.String.pipe(withDefault("eu-west-1")),
  bucket: Schema.optionalKey(Schema.String)
})

export const RolloutStrategy = Schema.Literals(["Managed", "RollingUpdate"])
export type RolloutStrategy = typeof RolloutStrategy.Type

export const DittoServerSpec = open({
  image: Schema.String.pipe(withDefault("marmos91c/dittofs:latest")).annotate({ description: "DittoFS container image." }),
  replicas: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(withDefault(1)).annotate({
    description: "Number of server pods: 1 runs the server, 0 stops it (DittoFS is single-replica)."
  }),
  storage: StorageSpec,
  database: Schema.optionalKey(DatabaseSpec),
  cache: Schema.optionalKey(CacheSpec),
  s3: Schema.optionalKey(S3Spec),
  percona: Schema.optionalKey(open({
    enabled: Schema.Boolean.pipe(withDefault(false)).annotate({
      description: "A Percona PostgreSQL cluster for the control plane (not supported by this operator: use database.postgresSecretRef)."
    })
  })),
  controlPlane: open({
    port: Port.pipe(withDefault(8080)).annotate({ description: "Port of the DittoFS REST API." })
  }).pipe(withDefault({})),
  metrics: open({
    enabled: Schema.Boolean.pipe(withDefault(false)).annotate({ description: "Expose Prometheus metrics." }),
    port: Port.pipe(withDefault(9090)).annotate({ description: "Port of the metrics endpoint." })
  }).pipe(withDefault({})),
  adapterDiscovery: open({
    pollingInterval: Schema.String.pipe(withDefault("30s")).annotate({
      description: "How often the adapter list is polled (Go duration, e.g. 30s, 1m); invalid or not positive: 30s."
    })
  }).pipe(withDefault({})),
  adapterServices: AdapterServicesSpec.pipe(withDefault({})),
  service: Schema.optionalKey(open({
    type: ServiceType.pipe(withDefault("ClusterIP")).annotate({ description: "Type of the API Service (<name>-api)." }),
    annotations: Schema.optionalKey(StringMap.annotate({ description: "Annotations of the API Service." }))
  })),
  identity: Schema.optionalKey(open({
    type: Schema.Literals(["memory"]).pipe(withDefault("memory")),
    jwt: Schema.optionalKey(open({
      secretRef: SecretKeyRef.annotate({ description: "Secret key holding the JWT signing secret (at least 32 characters)." }),
      accessTokenDuration: Schema.String.pipe(withDefault("15m")),
      refreshTokenDuration: Schema.String.pipe(withDefault("168h")),
      issuer: Schema.String.pipe(withDefault("dittofs"))
    })),
    admin: Schema.optionalKey(open({
      username: Schema.String.pipe(withDefault("admin")),
      passwordSecretRef: Schema.optionalKey(SecretKeyRef.annotate({
        description: "Secret key holding the admin's initial password; generated into <name>-admin-credentials when absent."
      }))
    }))
  })),
  resources: Schema.optionalKey(Passthrough("Compute resources of the DittoFS container (a core/v1 ResourceRequirements).")),
  securityContext: Schema.optionalKey(Passthrough("Security context of the DittoFS container; non-root with all capabilities dropped when absent.")),
  podSecurityContext: Schema.optionalKey(Passthrough("Security context of the server pod; fsGroup 65532 when absent.")),
  rollout: open({
    strategy: RolloutStrategy.pipe(withDefault("Managed")).annotate({
      description: "Managed (default): pods are restarted by the operator, once, only when what they run changes (image, configuration, resources); an adapter start or stop only updates the declared ports. RollingUpdate: every pod-template change rolls the pods at once, adapter ports included."
    })
  }).pipe(withDefault({}))
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
  configHash: Schema.optionalKey(Schema.String),
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
