/**
 * The server's pod, piece by piece: its environment from each Secret, which names the operator
 * owns, the probes as the API server stores them, the security defaults, the volume claims and
 * where they are mounted, and the restart hash that an adapter toggle never changes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { DittoServer, Naming, ServerPod } from "../../src/index.ts"

const names = Naming.workloadNames("ditto")
const specOf = (fields: Record<string, unknown> = {}) => Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })
const secret = (name: string, key: string, optional = false) => ({ secretKeyRef: { name, key, ...(optional ? { optional: true } : {}) } })
const envOf = (spec: DittoServer.Spec) => ServerPod.env(spec, names).map((v) => [v.name, v["valueFrom"] ?? v["value"]])

describe("ServerPod.env", () => {
  it("takes the JWT secret and the generated admin password (optional) from the server's Secrets by default", () => {
    assert.deepStrictEqual(envOf(specOf()), [
      ["DITTOFS_CONTROLPLANE_SECRET", secret("ditto-jwt-secret", "jwt-secret")],
      ["DITTOFS_ADMIN_INITIAL_PASSWORD", secret("ditto-admin-credentials", "password", true)]
    ])
  })

  it("takes them from the Secrets the spec names, with PostgreSQL and S3 settings when configured", () => {
    const spec = specOf({
      identity: { jwt: { secretRef: { name: "jwt", key: "k" } }, admin: { passwordSecretRef: { name: "adm", key: "pw" } } },
      database: { postgresSecretRef: { name: "pg", key: "dsn" } },
      s3: { credentialsSecretRef: { secretName: "s3" }, region: "us-east-2" }
    })
    assert.deepStrictEqual(envOf(spec), [
      ["DITTOFS_CONTROLPLANE_SECRET", secret("jwt", "k")],
      ["DITTOFS_ADMIN_INITIAL_PASSWORD", secret("adm", "pw")],
      ["DITTOFS_DATABASE_POSTGRES_HOST", secret("pg", "host")],
      ["DITTOFS_DATABASE_POSTGRES_PORT", secret("pg", "port", true)],
      ["DITTOFS_DATABASE_POSTGRES_DATABASE", secret("pg", "database")],
      ["DITTOFS_DATABASE_POSTGRES_USER", secret("pg", "user")],
      ["DITTOFS_DATABASE_POSTGRES_PASSWORD", secret("pg", "password")],
      ["DITTOFS_DATABASE_POSTGRES_SSLMODE", secret("pg", "sslmode", true)],
      ["AWS_ACCESS_KEY_ID", secret("s3", "accessKeyId")],
      ["AWS_SECRET_ACCESS_KEY", secret("s3", "secretAccessKey")],
      ["AWS_ENDPOINT_URL", secret("s3", "endpoint", true)],
      ["AWS_REGION", "us-east-2"]
    ])
    assert.deepStrictEqual(envOf(specOf({ s3: { region: "x" } })).length, 2, "S3 without credentials sets nothing")
  })

  it("owns its variables and the reference's legacy ones, never a user's", () => {
    assert.deepStrictEqual(
      ["DITTOFS_CONTROLPLANE_SECRET", "AWS_REGION", "DITTOFS_DATABASE_POSTGRES", "DITTOFS_ADMIN_PASSWORD_HASH", "USER_VAR", "AWS_PROFILE"].map(ServerPod.ownsEnv),
      [true, true, true, true, false, false]
    )
  })
})

describe("ServerPod: ports, volumes and what the operator owns of them", () => {
  it("declares api, and metrics while enabled, and owns only those", () => {
    assert.deepStrictEqual(ServerPod.staticPorts(specOf({ metrics: { enabled: false } })), [{ name: "api", containerPort: 8080, protocol: "TCP" }])
    assert.deepStrictEqual(ServerPod.staticPorts(specOf({ controlPlane: { port: 9000 }, metrics: { enabled: true, port: 9100 } })), [
      { name: "api", containerPort: 9000, protocol: "TCP" },
      { name: "metrics", containerPort: 9100, protocol: "TCP" }
    ])
    assert.deepStrictEqual(["api", "metrics", "adapter-nfs", "debug"].map((name) => ServerPod.ownsPort({ name, containerPort: 1 })), [true, true, false, false])
  })

  it("claims metadata, content only when sized, cache and the control plane, with the spec's storage class", () => {
    const claims = (spec: DittoServer.Spec) => ServerPod.claimTemplates(spec).map((c) => [c.metadata.name, c.spec.resources?.requests?.["storage"], c.spec.storageClassName, c.spec.accessModes])
    assert.deepStrictEqual(claims(specOf()), [
      ["metadata", "1Gi", undefined, ["ReadWriteOnce"]],
      ["cache", "5Gi", undefined, ["ReadWriteOnce"]],
      ["controlplane", "1Gi", undefined, ["ReadWriteOnce"]]
    ])
    assert.deepStrictEqual(claims(specOf({ storage: { metadataSize: "2Gi", contentSize: "10Gi", cacheSize: "3Gi", storageClassName: "fast" } })), [
      ["metadata", "2Gi", "fast", ["ReadWriteOnce"]],
      ["content", "10Gi", "fast", ["ReadWriteOnce"]],
      ["cache", "3Gi", "fast", ["ReadWriteOnce"]],
      ["controlplane", "1Gi", "fast", ["ReadWriteOnce"]]
    ])
  })

  it("mounts the configuration and the claims the StatefulSet has, the control plane where the SQLite file lives", () => {
    const all = new Set(["metadata", "content", "cache", "controlplane"])
    const mounts = (spec: DittoServer.Spec, claims: ReadonlySet<string> = all) => ServerPod.volumeMounts(spec, claims).map((m) => `${m.name}:${m["mountPath"]}`)
    assert.deepStrictEqual(mounts(specOf()), ["config:/config", "metadata:/data/metadata", "content:/data/content", "cache:/data/cache", "controlplane:/data/controlplane"])
    assert.deepStrictEqual(mounts(specOf(), new Set(["metadata"])), ["config:/config", "metadata:/data/metadata"])
    assert.isTrue(ServerPod.volumeMounts(specOf(), all)[0]?.["readOnly"] === true, "the configuration is read-only")
    const at = (path: string, database: Record<string, unknown> = {}) => ServerPod.controlPlaneMountPath(specOf({ database: { sqlite: { path }, ...database } }))
    assert.deepStrictEqual(
      [at("/var/lib/ditto/cp.db"), at("cp.db"), at("/cp.db"), at("/data/metadata/cp.db"), at("/config/cp.db"), at("/data/cache/cp.db"), at("/data/content/cp.db"), at("/var/lib/ditto/cp.db", { postgresSecretRef: { name: "pg", key: "dsn" } })],
      ["/var/lib/ditto", "/data/controlplane", "/data/controlplane", "/data/controlplane", "/data/controlplane", "/data/controlplane", "/data/controlplane", "/data/controlplane"]
    )
    assert.deepStrictEqual(["config", "metadata", "content", "cache", "controlplane", "scratch"].map(ServerPod.ownsVolumeMount), [true, true, true, true, true, false])
    assert.deepStrictEqual(["config", "metadata", "scratch"].map(ServerPod.ownsVolume), [true, false, false])
    assert.deepStrictEqual(ServerPod.volumes(names), [{ name: "config", configMap: { name: "ditto-config", defaultMode: 0o644 } }])
  })
})

describe("ServerPod: probes, security and the template", () => {
  it("probes DittoFS's health endpoints with every field the API server would default, and no zero", () => {
    const probes = ServerPod.probes(specOf({ controlPlane: { port: 9000 } }))
    const get = (path: string) => ({ path, port: 9000, scheme: "HTTP" })
    assert.deepStrictEqual(probes, {
      livenessProbe: { httpGet: get("/health"), initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3 },
      readinessProbe: { httpGet: get("/health/ready"), initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3 },
      startupProbe: { httpGet: get("/health"), periodSeconds: 5, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 30 }
    })
  })

  it("runs non-root without privileges unless the spec says otherwise, with the image's group on the volumes", () => {
    assert.deepStrictEqual(ServerPod.containerSecurityContext(specOf()), {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" }
    })
    assert.deepStrictEqual(ServerPod.podSecurityContext(specOf()), { fsGroup: 65532 })
    assert.deepStrictEqual(ServerPod.resources(specOf()), {})
    const given = specOf({ securityContext: { runAsUser: 0 }, podSecurityContext: { fsGroup: 1 }, resources: { limits: { cpu: "1" } } })
    assert.deepStrictEqual([ServerPod.containerSecurityContext(given), ServerPod.podSecurityContext(given), ServerPod.resources(given)], [
      { runAsUser: 0 },
      { fsGroup: 1 },
      { limits: { cpu: "1" } }
    ])
  })

  it("makes a template whose restart hash ignores adapter ports and follows what the pod runs", () => {
    const input = (spec = specOf(), configHash = "a".repeat(64)): ServerPod.Input => ({
      spec,
      serverName: "ditto",
      names,
      configHash,
      claims: new Set(["metadata", "cache", "controlplane"])
    })
    const hashOf = (template: ServerPod.PodTemplate) => template.metadata.annotations["dittofs.io/restart-hash"]
    const api = ServerPod.staticPorts(specOf())
    const withNfs = ServerPod.podTemplate(input(), [...api, { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" }])
    const bare = ServerPod.podTemplate(input(), api)
    assert.strictEqual(hashOf(withNfs), hashOf(bare), "an adapter toggle never restarts the server")
    assert.strictEqual(hashOf(bare), ServerPod.restartHash(input()))
    assert.notStrictEqual(hashOf(ServerPod.podTemplate(input(specOf({ image: "dittofs:other" })), api)), hashOf(bare), "the image")
    assert.notStrictEqual(hashOf(ServerPod.podTemplate(input(specOf(), "b".repeat(64)), api)), hashOf(bare), "the configuration")
    assert.strictEqual(bare.metadata.annotations["dittofs.io/config-hash"], "a".repeat(64))
    assert.deepStrictEqual(bare.metadata.labels, { app: "dittofs-server", instance: "ditto" })
    assert.deepStrictEqual([bare.spec.automountServiceAccountToken, bare.spec.terminationGracePeriodSeconds], [false, 45])
    const [server] = bare.spec.containers
    assert.deepStrictEqual([server.name, server.args, server.lifecycle], [
      "dittofs",
      ["start", "--foreground", "--config", "/config/config.yaml"],
      { preStop: { exec: { command: ["/bin/sh", "-c", "sleep 5"] } } }
    ])
  })
})
