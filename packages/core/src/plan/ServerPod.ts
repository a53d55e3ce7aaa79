/**
 * The DittoFS server's pod, as the operator wants it: one container `dittofs` running the
 * image's entrypoint (`/app/dfs` at v0.29, `/app/dittofs` before) with
 * `start --foreground --config /config/config.yaml`, its Secrets as environment variables, its
 * volumes, probes and security settings — and the restart hash that decides when it must run
 * again.
 *
 * Contract (total, pure):
 * - Every field the API server would default is written explicitly (probe `scheme`, ConfigMap
 *   `defaultMode`, port `protocol`) and no zero-valued `omitempty` field is written (the server
 *   would drop it), so a stored template reads back as written and never looks drifted.
 * - `restartHash` is the SHA-256 of the canonical template WITHOUT adapter ports and without
 *   the restart hash itself: an adapter start or stop never changes it; the image, the
 *   configuration (through `dittofs.io/config-hash`), resources, environment, probes, volumes
 *   and security settings do.
 * - Volume claims: `metadata`, `content` (only with `storage.contentSize`), `cache`, and
 *   `controlplane` (1Gi, the SQLite directory), all ReadWriteOnce with the spec's storage class.
 *   Only the claims a StatefulSet really has are mounted (its claim templates are immutable).
 * - Without `securityContext` the container runs as non-root, with every capability dropped,
 *   no privilege escalation and the runtime's default seccomp profile; without
 *   `podSecurityContext` the pod gets `fsGroup: 65532` (the image's user), so volumes are
 *   writable. A user's contexts are used as given.
 */
import type * as DittoServer from "../domain/DittoServer.ts"
import type { Container, ContainerPort, PersistentVolumeClaimTemplate, StringMap } from "../domain/Kubernetes.ts"
import * as ConfigFile from "./ConfigFile.ts"
import { canonical } from "../domain/Json.ts"
import { annotations, selectorLabels, type WorkloadNames } from "./Naming.ts"
import type { Named } from "./OwnedFields.ts"

/** The name of the DittoFS container in the server's pod. */
export const containerName = "dittofs"
/** The name of the volume that mounts the configuration ConfigMap. */
export const configVolumeName = "config"
/** Where the configuration ConfigMap is mounted in the container. */
export const configMountPath = "/config"
/** The path of `config.yaml` in the container. */
export const configFilePath = `${configMountPath}/${ConfigFile.fileName}`
/** The container's arguments: `dfs start` in the foreground with the mounted configuration. */
export const args: ReadonlyArray<string> = ["start", "--foreground", "--config", configFilePath]

/** The names of the server's static container ports. */
export const portNames = { api: "api", metrics: "metrics" } as const

/** The image's user and group (`USER 65532:65532` in DittoFS's Dockerfile). */
export const defaultFsGroup = 65532

/** preStop sleep + shutdown timeout + margin: DittoFS is never killed mid-shutdown. */
export const preStopSleepSeconds = 5
/** The pod's grace period: the preStop sleep, DittoFS's shutdown timeout and a margin. */
export const terminationGracePeriodSeconds = preStopSleepSeconds + ConfigFile.shutdownTimeoutSeconds + 10

/** The names of the server's volume claim templates. */
export const claimNames = {
  metadata: "metadata",
  content: "content",
  cache: "cache",
  controlPlane: "controlplane"
} as const

/** Where each volume is mounted in the container. */
export const mountPaths = {
  metadata: "/data/metadata",
  content: "/data/content",
  cache: "/data/cache",
  controlPlane: "/data/controlplane"
} as const

/** The size of the control-plane database volume. */
export const controlPlaneClaimSize = "1Gi"

/** The keys of the managed Secrets. */
export const secretKeys = {
  jwtSecret: "jwt-secret",
  adminUsername: "username",
  adminPassword: "password"
} as const

/** Keys read from `database.postgresSecretRef.name` (as the reference operator at v0.29 does). */
export const postgresSecretKeys = {
  host: "host",
  port: "port",
  database: "database",
  user: "user",
  password: "password",
  sslmode: "sslmode"
} as const

/** A container environment variable (open: only its name is read). */
export type EnvVar = Named
/** A container volume mount (open: only its name is read). */
export type VolumeMount = Named
/** A pod volume (open: only its name is read). */
export type Volume = Named

const claim = (spec: DittoServer.Spec, name: string, size: string): PersistentVolumeClaimTemplate => ({
  metadata: { name },
  spec: {
    accessModes: ["ReadWriteOnce"],
    ...(spec.storage.storageClassName === undefined ? {} : { storageClassName: spec.storage.storageClassName }),
    resources: { requests: { storage: size } }
  }
})

/**
 * The StatefulSet's volume claim templates: metadata, content (when sized), cache and control
 * plane.
 */
export const claimTemplates = (spec: DittoServer.Spec): ReadonlyArray<PersistentVolumeClaimTemplate> => [
  claim(spec, claimNames.metadata, spec.storage.metadataSize),
  ...(spec.storage.contentSize === undefined ? [] : [claim(spec, claimNames.content, spec.storage.contentSize)]),
  claim(spec, claimNames.cache, spec.storage.cacheSize),
  claim(spec, claimNames.controlPlane, controlPlaneClaimSize)
]

const parentDirectory = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf("/")))

/**
 * Where the `controlplane` claim is mounted: the SQLite file's directory when it is absolute
 * and no other volume is mounted there, else `/data/controlplane`.
 */
export const controlPlaneMountPath = (spec: DittoServer.Spec): string => {
  const directory = parentDirectory(ConfigFile.sqlitePath(spec))
  const taken: ReadonlyArray<string> = [configMountPath, mountPaths.metadata, mountPaths.content, mountPaths.cache]
  return ConfigFile.usesPostgres(spec) || !directory.startsWith("/") || taken.includes(directory)
    ? mountPaths.controlPlane
    : directory
}

/** The claims' mounts, for the claims in `available`, after the configuration's. */
export const volumeMounts = (spec: DittoServer.Spec, available: ReadonlySet<string>): ReadonlyArray<VolumeMount> => [
  { name: configVolumeName, mountPath: configMountPath, readOnly: true },
  ...[
    { name: claimNames.metadata, mountPath: mountPaths.metadata },
    { name: claimNames.content, mountPath: mountPaths.content },
    { name: claimNames.cache, mountPath: mountPaths.cache },
    { name: claimNames.controlPlane, mountPath: controlPlaneMountPath(spec) }
  ].filter((mount) => available.has(mount.name))
]

/** Volume mounts the operator owns (the others on the container are kept). */
export const ownsVolumeMount = (name: string): boolean =>
  name === configVolumeName || Object.values(claimNames).some((claimName) => claimName === name)

/** The pod volumes the operator owns: the configuration ConfigMap. */
export const volumes = (names: WorkloadNames): ReadonlyArray<Volume> => [
  { name: configVolumeName, configMap: { name: names.configMap, defaultMode: 0o644 } }
]

/** Whether a pod volume is the operator's (others are kept as observed). */
export const ownsVolume = (name: string): boolean => name === configVolumeName

const fromSecret = (name: string, secret: string, key: string, optional = false): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } }
})

/** The names of the environment variables the operator sets. */
export const envNames = {
  jwtSecret: "DITTOFS_CONTROLPLANE_SECRET",
  adminPassword: "DITTOFS_ADMIN_INITIAL_PASSWORD",
  postgresHost: "DITTOFS_DATABASE_POSTGRES_HOST",
  postgresPort: "DITTOFS_DATABASE_POSTGRES_PORT",
  postgresDatabase: "DITTOFS_DATABASE_POSTGRES_DATABASE",
  postgresUser: "DITTOFS_DATABASE_POSTGRES_USER",
  postgresPassword: "DITTOFS_DATABASE_POSTGRES_PASSWORD",
  postgresSslMode: "DITTOFS_DATABASE_POSTGRES_SSLMODE",
  s3AccessKeyId: "AWS_ACCESS_KEY_ID",
  s3SecretAccessKey: "AWS_SECRET_ACCESS_KEY",
  s3Endpoint: "AWS_ENDPOINT_URL",
  s3Region: "AWS_REGION"
} as const

/** What the reference operator wrote that DittoFS v0.29 ignores: removed on adoption. */
const legacyEnvNames: ReadonlyArray<string> = ["DITTOFS_DATABASE_POSTGRES", "DITTOFS_ADMIN_PASSWORD_HASH"]

/** Environment variables the operator owns (the others on the container are kept). */
export const ownsEnv = (name: string): boolean =>
  Object.values(envNames).some((owned) => owned === name) || legacyEnvNames.includes(name)

/**
 * The container's environment: the JWT secret, the initial admin password, PostgreSQL and S3
 * settings, each from its Secret.
 */
export const env = (spec: DittoServer.Spec, names: WorkloadNames): ReadonlyArray<EnvVar> => {
  const jwt = spec.identity?.jwt?.secretRef
  const admin = spec.identity?.admin?.passwordSecretRef
  const postgres = spec.database?.postgresSecretRef
  const s3 = spec.s3
  return [
    fromSecret(envNames.jwtSecret, jwt?.name ?? names.jwtSecret, jwt?.key ?? secretKeys.jwtSecret),
    admin === undefined
      ? fromSecret(envNames.adminPassword, names.adminCredentials, secretKeys.adminPassword, true)
      : fromSecret(envNames.adminPassword, admin.name, admin.key),
    ...(postgres === undefined ? [] : [
      fromSecret(envNames.postgresHost, postgres.name, postgresSecretKeys.host),
      fromSecret(envNames.postgresPort, postgres.name, postgresSecretKeys.port, true),
      fromSecret(envNames.postgresDatabase, postgres.name, postgresSecretKeys.database),
      fromSecret(envNames.postgresUser, postgres.name, postgresSecretKeys.user),
      fromSecret(envNames.postgresPassword, postgres.name, postgresSecretKeys.password),
      fromSecret(envNames.postgresSslMode, postgres.name, postgresSecretKeys.sslmode, true)
    ]),
    ...(s3?.credentialsSecretRef === undefined ? [] : [
      fromSecret(envNames.s3AccessKeyId, s3.credentialsSecretRef.secretName, s3.credentialsSecretRef.accessKeyIdKey),
      fromSecret(envNames.s3SecretAccessKey, s3.credentialsSecretRef.secretName, s3.credentialsSecretRef.secretAccessKeyKey),
      fromSecret(envNames.s3Endpoint, s3.credentialsSecretRef.secretName, s3.credentialsSecretRef.endpointKey, true),
      { name: envNames.s3Region, value: s3.region }
    ])
  ]
}

/** The operator's own container ports: `api`, and `metrics` when enabled. */
export const staticPorts = (spec: DittoServer.Spec): ReadonlyArray<ContainerPort> => [
  { name: portNames.api, containerPort: spec.controlPlane.port, protocol: "TCP" },
  ...(spec.metrics.enabled ? [{ name: portNames.metrics, containerPort: spec.metrics.port, protocol: "TCP" as const }] : [])
]

/** Whether a container port is one of the server's static ports (api, metrics). */
export const ownsPort = (port: ContainerPort): boolean => port.name === portNames.api || port.name === portNames.metrics

interface ProbeTiming {
  readonly initialDelaySeconds: number
  readonly periodSeconds: number
  readonly failureThreshold: number
}

const probe = (spec: DittoServer.Spec, path: string, timing: ProbeTiming) => ({
  httpGet: { path, port: spec.controlPlane.port, scheme: "HTTP" },
  // 0 is omitted on the wire (omitempty): writing it would read back as a difference
  ...(timing.initialDelaySeconds === 0 ? {} : { initialDelaySeconds: timing.initialDelaySeconds }),
  periodSeconds: timing.periodSeconds,
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: timing.failureThreshold
})

/** The liveness, readiness and startup probes on DittoFS's health endpoints. */
export const probes = (spec: DittoServer.Spec) => ({
  livenessProbe: probe(spec, "/health", { initialDelaySeconds: 15, periodSeconds: 10, failureThreshold: 3 }),
  readinessProbe: probe(spec, "/health/ready", { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3 }),
  // up to 150 s to start (30 x 5 s) before liveness takes over
  startupProbe: probe(spec, "/health", { initialDelaySeconds: 0, periodSeconds: 5, failureThreshold: 30 })
})

/**
 * The container security context when the spec gives none: non-root, no privilege escalation, every
 * capability dropped, the runtime's seccomp profile.
 */
export const defaultContainerSecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" }
} as const

/** The container security context: the spec's, else {@link defaultContainerSecurityContext}. */
export const containerSecurityContext = (spec: DittoServer.Spec): unknown =>
  spec.securityContext ?? defaultContainerSecurityContext

/** The pod security context: the spec's, else the default fsGroup. */
export const podSecurityContext = (spec: DittoServer.Spec): unknown => spec.podSecurityContext ?? { fsGroup: defaultFsGroup }

/** The container's resources: the spec's, else none. */
export const resources = (spec: DittoServer.Spec): unknown => spec.resources ?? {}

/** The container's preStop hook: a short sleep so endpoints drop the pod before DittoFS stops. */
export const lifecycle = {
  preStop: { exec: { command: ["/bin/sh", "-c", `sleep ${preStopSleepSeconds}`] } }
} as const

/**
 * What the pod template is made from: the spec, the server's name and workload names, the
 * configuration hash and the volume claims the StatefulSet has.
 */
export interface Input {
  readonly spec: DittoServer.Spec
  readonly serverName: string
  readonly names: WorkloadNames
  readonly configHash: string
  /** The volume claims the StatefulSet has (all of `claimTemplates` on create). */
  readonly claims: ReadonlySet<string>
}

/** The DittoFS container, every field the operator owns spelled out. */
export interface ServerContainer extends Container {
  readonly name: string
  readonly image: string
  readonly args: ReadonlyArray<string>
  readonly env: ReadonlyArray<EnvVar>
  readonly ports: ReadonlyArray<ContainerPort>
  readonly volumeMounts: ReadonlyArray<VolumeMount>
  readonly resources: unknown
  readonly securityContext: unknown
  readonly livenessProbe: unknown
  readonly readinessProbe: unknown
  readonly startupProbe: unknown
  readonly lifecycle: unknown
}

/** The DittoFS container with the given ports. */
export const container = (input: Input, ports: ReadonlyArray<ContainerPort>): ServerContainer => ({
  name: containerName,
  image: input.spec.image,
  args,
  env: env(input.spec, input.names),
  ports,
  volumeMounts: volumeMounts(input.spec, input.claims),
  resources: resources(input.spec),
  securityContext: containerSecurityContext(input.spec),
  ...probes(input.spec),
  lifecycle
})

/** The server's pod template as the operator writes it. */
export type PodTemplate = {
  readonly metadata: { readonly labels: StringMap; readonly annotations: StringMap }
  readonly spec: {
    readonly automountServiceAccountToken: boolean
    readonly securityContext: unknown
    readonly terminationGracePeriodSeconds: number
    readonly containers: readonly [ServerContainer]
    readonly volumes: ReadonlyArray<Volume>
  }
}

const template = (input: Input, ports: ReadonlyArray<ContainerPort>, annotationsOf: StringMap): PodTemplate => ({
  metadata: { labels: selectorLabels(input.serverName), annotations: annotationsOf },
  spec: {
    // dfs never calls the Kubernetes API: no service-account token in a network-facing container
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(input.spec),
    terminationGracePeriodSeconds,
    containers: [container(input, ports)],
    volumes: volumes(input.names)
  }
})

/** The hash a running pod is compared with: the template without adapter ports and without itself. */
export const restartHash = (input: Input): string =>
  ConfigFile.sha256Hex(canonical(template(input, staticPorts(input.spec), { [annotations.configHash]: input.configHash })))

/** The pod template with these container ports, annotated with its config and restart hashes. */
export const podTemplate = (input: Input, ports: ReadonlyArray<ContainerPort>): PodTemplate =>
  template(input, ports, { [annotations.configHash]: input.configHash, [annotations.restartHash]: restartHash(input) })
