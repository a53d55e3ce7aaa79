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

export const containerName = "dittofs"
export const configVolumeName = "config"
export const configMountPath = "/config"
export const configFilePath = `${configMountPath}/${ConfigFile.fileName}`
export const args: ReadonlyArray<string> = ["start", "--foreground", "--config", configFilePath]

export const portNames = { api: "api", metrics: "metrics" } as const

/** The image's user and group (`USER 65532:65532` in DittoFS's Dockerfile). */
export const defaultFsGroup = 65532

/** preStop sleep + shutdown timeout + margin: DittoFS is never killed mid-shutdown. */
export const preStopSleepSeconds = 5
export const terminationGracePeriodSeconds = preStopSleepSeconds + ConfigFile.shutdownTimeoutSeconds + 10

export const claimNames = {
  metadata: "metadata",
  content: "content",
  cache: "cache",
  controlPlane: "controlplane"
} as const

export const mountPaths = {
  metadata: "/data/metadata",
  content: "/data/content",
  cache: "/data/cache",
  controlPlane: "/data/controlplane"
} as const

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

export type EnvVar = Named
export type VolumeMount = Named
export type Volume = Named

const claim = (spec: DittoServer.Spec, name: string, size: string): PersistentVolumeClaimTemplate => ({
  metadata: { name },
  spec: {
    accessModes: ["ReadWriteOnce"],
    ...(spec.storage.storageClassName === undefined ? {} : { storageClassName: spec.storage.storageClassName }),
    resources: { requests: { storage: size } }
  }
})

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

export const volumes = (names: WorkloadNames): ReadonlyArray<Volume> => [
  { name: configVolumeName, configMap: { name: names.configMap, defaultMode: 0o644 } }
]

export const ownsVolume = (name: string): boolean => name === configVolumeName

const fromSecret = (name: string, secret: string, key: string, optional = false): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } }
})

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

export const env = (spec: DittoServer.Spec, names: WorkloadNames): ReadonlyArray<EnvVar> => {
  const jwt = spec.identity?.jwt?.secretRef
  const admin = spec.identity?.admin?.passwordSecretRef
  const postgres = spec.database?.postgresSecretRef
  const s3 = spec.s3?.credentialsSecretRef
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
    ...(s3 === undefined || spec.s3 === undefined ? [] : [
      fromSecret(envNames.s3AccessKeyId, s3.secretName, s3.accessKeyIdKey),
      fromSecret(envNames.s3SecretAccessKey, s3.secretName, s3.secretAccessKeyKey),
      fromSecret(envNames.s3Endpoint, s3.secretName, s3.endpointKey, true),
      { name: envNames.s3Region, value: spec.s3.region }
    ])
  ]
}

/** The operator's own container ports: `api`, and `metrics` when enabled. */
export const staticPorts = (spec: DittoServer.Spec): ReadonlyArray<ContainerPort> => [
  { name: portNames.api, containerPort: spec.controlPlane.port, protocol: "TCP" },
  ...(spec.metrics.enabled ? [{ name: portNames.metrics, containerPort: spec.metrics.port, protocol: "TCP" as const }] : [])
]

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

export const probes = (spec: DittoServer.Spec) => ({
  livenessProbe: probe(spec, "/health", { initialDelaySeconds: 15, periodSeconds: 10, failureThreshold: 3 }),
  readinessProbe: probe(spec, "/health/ready", { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3 }),
  // up to 150 s to start (30 x 5 s) before liveness takes over
  startupProbe: probe(spec, "/health", { initialDelaySeconds: 0, periodSeconds: 5, failureThreshold: 30 })
})

export const defaultContainerSecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" }
} as const

export const containerSecurityContext = (spec: DittoServer.Spec): unknown =>
  spec.securityContext ?? defaultContainerSecurityContext

export const podSecurityContext = (spec: DittoServer.Spec): unknown => spec.podSecurityContext ?? { fsGroup: defaultFsGroup }

export const resources = (spec: DittoServer.Spec): unknown => spec.resources ?? {}

export const lifecycle = {
  preStop: { exec: { command: ["/bin/sh", "-c", `sleep ${preStopSleepSeconds}`] } }
} as const

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
