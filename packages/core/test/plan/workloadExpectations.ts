/**
 * What a converged workload must look like, written out by hand from the reference operator and
 * the contract (names, labels, keys, paths), independently of the planner's own modules: the
 * convergence tests apply a plan, then check the cluster against these expectations.
 */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { type DittoServer, type K8s, Kubernetes } from "../../src/index.ts"
import { get, list, server } from "./workloadCluster.ts"

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")
const decode = (value: string | undefined) => Buffer.from(value ?? "", "base64").toString("utf8")
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)
const at = (value: unknown, ...path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((inner, key) => (isRecord(inner) ? inner[key] : undefined), value)

const selector = { app: "dittofs-server", instance: "ditto" }

export const controlledByServer = (object: { readonly metadata: K8s.ObjectMeta }): boolean =>
  (object.metadata.ownerReferences ?? []).some((ref) =>
    ref.controller === true && ref.uid === server.uid && ref.kind === "DittoServer" && ref.name === server.name)

const secretRef = (env: ReadonlyArray<unknown>, name: string) => at(env.find((item) => at(item, "name") === name), "valueFrom", "secretKeyRef")

/** Checks the cluster holds the workload of `spec` for the server `ditto`; returns the StatefulSet. */
export const expectWorkload = (spec: DittoServer.Spec) =>
  Effect.gen(function*() {
    const configMap = yield* get(Kubernetes.Resources.ConfigMap, "ditto-config")
    const text = configMap.data?.["config.yaml"] ?? ""
    assert.isTrue(controlledByServer(configMap), "ConfigMap owned")
    assert.include(text, `\ncontrolplane:\n  host: 0.0.0.0\n  port: ${spec.controlPlane.port}\n`)
    assert.include(text, spec.database?.postgresSecretRef === undefined ? "\n  type: sqlite\n" : "\n  type: postgres\n")
    for (const stale of ["cache:", "telemetry:", "issuer", "secret:", "password"]) assert.notInclude(text, stale)
    assert.include(text, `\nmetrics:\n  enabled: ${spec.metrics.enabled}\n`)

    const secrets = yield* list(Kubernetes.Resources.Secret)
    const jwt = secrets.find((secret) => secret.metadata.name === "ditto-jwt-secret")
    const admin = secrets.find((secret) => secret.metadata.name === "ditto-admin-credentials")
    if (spec.identity?.jwt === undefined) {
      assert.isDefined(jwt, "JWT Secret")
      assert.isAtLeast(decode(jwt?.data?.["jwt-secret"]).length, 32)
      if (jwt !== undefined) assert.isTrue(controlledByServer(jwt))
    }
    if (spec.identity?.admin?.passwordSecretRef === undefined) {
      assert.strictEqual(decode(admin?.data?.["username"]), "admin")
      assert.strictEqual(decode(admin?.data?.["password"]).length, 24)
      if (admin !== undefined) assert.isTrue(controlledByServer(admin))
    }

    const services = yield* list(Kubernetes.Resources.Service)
    const service = (name: string) => services.find((candidate) => candidate.metadata.name === name)
    const headless = service("ditto-headless")
    assert.strictEqual(headless?.spec.clusterIP, "None")
    assert.deepStrictEqual(headless?.spec.selector, selector)
    assert.deepStrictEqual(headless?.spec.ports?.map((port) => [port.name, port.port, port.targetPort]), [["api", spec.controlPlane.port, spec.controlPlane.port]])
    const api = service("ditto-api")
    assert.strictEqual(api?.spec.type, spec.service?.type ?? "ClusterIP")
    assert.deepStrictEqual(api?.spec.selector, selector)
    assert.deepStrictEqual(api?.spec.ports?.map((port) => [port.name, port.port, port.targetPort]), [["api", spec.controlPlane.port, spec.controlPlane.port]])
    for (const [key, value] of Object.entries(spec.service?.annotations ?? {})) assert.strictEqual(api?.metadata.annotations?.[key], value)
    const metrics = service("ditto-metrics")
    if (spec.metrics.enabled) {
      assert.deepStrictEqual(metrics?.spec.ports?.map((port) => [port.name, port.port]), [["metrics", spec.metrics.port]])
    } else {
      assert.isUndefined(metrics, "no metrics Service while metrics are disabled")
    }
    for (const owned of [headless, api, metrics]) if (owned !== undefined) assert.isTrue(controlledByServer(owned))

    const statefulSet = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
    assert.isTrue(controlledByServer(statefulSet), "StatefulSet owned")
    assert.strictEqual(statefulSet.spec.replicas, spec.replicas)
    assert.strictEqual(statefulSet.spec.serviceName, "ditto-headless")
    assert.deepStrictEqual(statefulSet.spec.selector?.matchLabels, selector)
    assert.strictEqual(statefulSet.spec.updateStrategy?.type, spec.rollout.strategy === "Managed" ? "OnDelete" : "RollingUpdate")
    const template = statefulSet.spec.template
    for (const [key, value] of Object.entries(selector)) assert.strictEqual(template.metadata?.labels?.[key], value)
    assert.strictEqual(template.metadata?.annotations?.["dittofs.io/config-hash"], sha256(text))
    assert.match(template.metadata?.annotations?.["dittofs.io/restart-hash"] ?? "", /^[0-9a-f]{64}$/)
    assert.deepStrictEqual(template.spec["securityContext"], spec.podSecurityContext ?? { fsGroup: 65532 })

    const container = template.spec.containers.find((candidate) => candidate.name === "dittofs")
    assert.isDefined(container, "container dittofs")
    assert.strictEqual(container?.image, spec.image)
    assert.isUndefined(container?.["command"], "the image's entrypoint runs")
    assert.deepStrictEqual(container?.["args"], ["start", "--foreground", "--config", "/config/config.yaml"])
    const env = Array.isArray(container?.["env"]) ? container["env"] : []
    const jwtRef = spec.identity?.jwt?.secretRef
    assert.deepStrictEqual(secretRef(env, "DITTOFS_CONTROLPLANE_SECRET"), { name: jwtRef?.name ?? "ditto-jwt-secret", key: jwtRef?.key ?? "jwt-secret" })
    const adminRef = spec.identity?.admin?.passwordSecretRef
    assert.deepStrictEqual(
      secretRef(env, "DITTOFS_ADMIN_INITIAL_PASSWORD"),
      adminRef === undefined ? { name: "ditto-admin-credentials", key: "password", optional: true } : { name: adminRef.name, key: adminRef.key }
    )
    const postgres = spec.database?.postgresSecretRef
    assert.deepStrictEqual(
      secretRef(env, "DITTOFS_DATABASE_POSTGRES_HOST"),
      postgres === undefined ? undefined : { name: postgres.name, key: "host" }
    )
    const s3 = spec.s3?.credentialsSecretRef
    assert.deepStrictEqual(secretRef(env, "AWS_ACCESS_KEY_ID"), s3 === undefined ? undefined : { name: s3.secretName, key: s3.accessKeyIdKey })

    const ports = container?.ports ?? []
    assert.deepStrictEqual(ports.filter((port) => port.name === "api").map((port) => port.containerPort), [spec.controlPlane.port])
    assert.deepStrictEqual(ports.filter((port) => port.name === "metrics").map((port) => port.containerPort), spec.metrics.enabled ? [spec.metrics.port] : [])

    const claims = statefulSet.spec.volumeClaimTemplates ?? []
    const claimSize = (name: string) => claims.find((claim) => claim.metadata.name === name)?.spec.resources?.requests?.["storage"]
    assert.strictEqual(claimSize("metadata"), spec.storage.metadataSize)
    assert.strictEqual(claimSize("cache"), spec.storage.cacheSize)
    assert.strictEqual(claimSize("content"), spec.storage.contentSize)
    assert.strictEqual(claimSize("controlplane"), "1Gi")
    for (const claim of claims) assert.strictEqual(claim.spec.storageClassName, spec.storage.storageClassName)
    const mounts = Array.isArray(container?.["volumeMounts"]) ? container["volumeMounts"] : []
    const mountPath = (name: string) => at(mounts.find((mount) => at(mount, "name") === name), "mountPath")
    assert.strictEqual(mountPath("config"), "/config")
    for (const claim of claims) assert.isString(mountPath(claim.metadata.name), `claim ${claim.metadata.name} mounted`)
    const volumes = Array.isArray(template.spec["volumes"]) ? template.spec["volumes"] : []
    assert.strictEqual(at(volumes.find((volume) => at(volume, "name") === "config"), "configMap", "name"), "ditto-config")

    assert.deepStrictEqual(at(container, "readinessProbe", "httpGet", "path"), "/health/ready")
    assert.deepStrictEqual(at(container, "readinessProbe", "httpGet", "port"), spec.controlPlane.port)
    assert.deepStrictEqual(at(container, "livenessProbe", "httpGet", "path"), "/health")
    if (spec.securityContext === undefined) {
      assert.strictEqual(at(container, "securityContext", "runAsNonRoot"), true)
      assert.strictEqual(at(container, "securityContext", "allowPrivilegeEscalation"), false)
      assert.deepStrictEqual(at(container, "securityContext", "capabilities", "drop"), ["ALL"])
    } else {
      assert.deepStrictEqual(container?.["securityContext"], spec.securityContext)
    }
    assert.deepStrictEqual(container?.["resources"], spec.resources ?? {})

    const policy = yield* get(Kubernetes.Resources.NetworkPolicy, "ditto-baseline")
    assert.isTrue(controlledByServer(policy))
    assert.strictEqual(policy.metadata.labels?.["dittofs.io/baseline-networkpolicy"], "true")
    assert.deepStrictEqual(policy.spec.podSelector.matchLabels, selector)
    assert.deepStrictEqual(
      policy.spec.ingress?.flatMap((rule) => (rule.ports ?? []).map((port) => [port.protocol, port.port])),
      [["TCP", spec.controlPlane.port], ...(spec.metrics.enabled ? [["TCP", spec.metrics.port]] : [])]
    )
    return statefulSet
  })
