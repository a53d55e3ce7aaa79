/**
 * The planned workload on the run's real kube-apiserver: every object the planner writes is
 * accepted (names, claim templates, probes, security contexts, a reference StatefulSet adopted
 * without touching an immutable field), and what the API server stores — defaulted, its
 * quantities in canonical form, clusterIPs and nodePorts allocated — reads back as converged:
 * planning again is empty. An adapter-port change is then one StatefulSet write that leaves the
 * restart hash alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { Apply, DittoServer, type K8s, Kubernetes, Naming, Ownership, Workload } from "@dittofs-operator/core"
import { Effect, Option, Schema } from "effect"
import { freshNamespace } from "./e2e/harness.ts"
import { e2e } from "./e2e/support.ts"

const generated = { jwtSecret: "j".repeat(32), adminPassword: "p".repeat(24) }

const getOption = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string) =>
  Kubernetes.Kubernetes.use((k) => k.get(resource, namespace, name)).pipe(
    Effect.asSome,
    Effect.catchIf((error: Kubernetes.KubernetesError) => error.reason === "NotFound", () => Effect.succeed(Option.none<A>()))
  )

const observe = (server: Ownership.ServerIdentity) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const names = Naming.workloadNames(server.name)
    return {
      configMap: yield* getOption(Kubernetes.Resources.ConfigMap, server.namespace, names.configMap),
      statefulSet: yield* getOption(Kubernetes.Resources.StatefulSet, server.namespace, names.statefulSet),
      services: yield* kubernetes.list(Kubernetes.Resources.Service, server.namespace),
      secrets: yield* kubernetes.list(Kubernetes.Resources.Secret, server.namespace),
      networkPolicies: yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, server.namespace),
      pods: yield* kubernetes.list(Kubernetes.Resources.Pod, server.namespace)
    } satisfies Workload.Observed
  })

const plan = (server: Ownership.ServerIdentity, spec: DittoServer.Spec, adapterPorts: Option.Option<ReadonlyArray<K8s.ContainerPort>>) =>
  Effect.map(observe(server), (observed) => Workload.plan({ server, spec, adapterPorts, observed, generated }))

const apply = (workload: Workload.Plan) =>
  Effect.gen(function*() {
    for (const change of workload.secrets) yield* Apply.change(Kubernetes.Resources.Secret, change)
    for (const change of workload.configMaps) yield* Apply.change(Kubernetes.Resources.ConfigMap, change)
    for (const change of workload.services) yield* Apply.change(Kubernetes.Resources.Service, change)
    for (const change of workload.statefulSets) yield* Apply.change(Kubernetes.Resources.StatefulSet, change)
    for (const change of workload.networkPolicies) yield* Apply.change(Kubernetes.Resources.NetworkPolicy, change)
  })

const summary = (workload: Workload.Plan) =>
  Workload.changes(workload).map(({ change, kind }) => `${change._tag} ${kind} ${change.object.metadata.name}: ${change.event.message}`)

/** A DittoServer stored in a fresh namespace (a dangling owner reference would be collected). */
const serverIn = (prefix: string, name: string, fields: Record<string, unknown>) =>
  Effect.gen(function*() {
    const namespace = yield* freshNamespace(prefix)
    const decoded = yield* Schema.decodeEffect(DittoServer.DittoServer)({
      apiVersion: DittoServer.apiVersion,
      kind: DittoServer.kind,
      metadata: { name, namespace },
      spec: { storage: { metadataSize: "1Gi" }, ...fields }
    })
    const stored = yield* Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.DittoServer, decoded))
    return { identity: Ownership.identityOf(stored), spec: stored.spec }
  })

const nfs: K8s.ContainerPort = { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" }
const smb: K8s.ContainerPort = { name: "adapter-smb", containerPort: 12445, protocol: "TCP" }

const table: ReadonlyArray<readonly [string, string, Record<string, unknown>]> = [
  ["minimal", "ditto", {}],
  ["metrics, NodePort API with annotations, RollingUpdate", "1st.ditto", {
    metrics: { enabled: true },
    service: { type: "NodePort", annotations: { "example.com/lb": "internal" } },
    rollout: { strategy: "RollingUpdate" }
  }],
  ["postgres, s3, resources in non-canonical quantities, own security contexts", "ditto", {
    database: { postgresSecretRef: { name: "pg", key: "dsn" } },
    s3: { credentialsSecretRef: { secretName: "s3" } },
    storage: { metadataSize: "1024Mi", contentSize: "5Gi", storageClassName: "fast" },
    resources: { limits: { cpu: "0.5", memory: "1024Mi" } },
    securityContext: { runAsUser: 1000, runAsNonRoot: true },
    podSecurityContext: { fsGroup: 1000 }
  }]
]

describe("the workload on a real kube-apiserver", () => {
  for (const [title, name, fields] of table) {
    it.live(`${title}: accepted, converged in one pass, an adapter change is one StatefulSet write`, () =>
      e2e(Effect.gen(function*() {
        const { identity, spec } = yield* serverIn("workload", name, fields)
        const first = yield* plan(identity, spec, Option.some([nfs]))
        assert.deepStrictEqual(first.foreign, [])
        assert.deepStrictEqual(first.blocked, [])
        yield* apply(first)
        assert.deepStrictEqual(summary(yield* plan(identity, spec, Option.some([nfs]))), [], "what the API server stored is no drift")

        const statefulSet = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.StatefulSet, identity.namespace, Naming.workloadNames(name).statefulSet))
        const adapters = yield* plan(identity, spec, Option.some([smb, nfs]))
        assert.deepStrictEqual(summary(adapters), [
          `Update StatefulSet ${statefulSet.metadata.name}: Updated StatefulSet container ports (1 static + 2 dynamic)`.replace("(1 static", `(${spec.metrics.enabled ? 2 : 1} static`)
        ])
        const updated = adapters.statefulSets[0]?.object
        assert.strictEqual(
          updated?.spec.template.metadata?.annotations?.["dittofs.io/restart-hash"],
          statefulSet.spec.template.metadata?.annotations?.["dittofs.io/restart-hash"]
        )
        yield* apply(adapters)
        assert.deepStrictEqual(summary(yield* plan(identity, spec, Option.some([nfs, smb]))), [])
      }).pipe(Effect.orDie)), 60_000)
  }

  it.live("a StatefulSet built the reference operator's way is adopted in place, then converged", () =>
    e2e(Effect.gen(function*() {
      const { identity, spec } = yield* serverIn("workload-adopt", "ditto", {})
      const owner = { apiVersion: DittoServer.apiVersion, kind: DittoServer.kind, name: identity.name, uid: identity.uid, controller: true, blockOwnerDeletion: true }
      const labels = { app: "dittofs-server", instance: "ditto" }
      const probe = (path: string, initialDelaySeconds: number) => ({ httpGet: { path, port: 8080 }, initialDelaySeconds, periodSeconds: 5, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3 })
      const created = yield* Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.StatefulSet, {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "ditto", namespace: identity.namespace, ownerReferences: [owner] },
        spec: {
          replicas: 1,
          serviceName: "ditto-headless",
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "dittofs.io/config-hash": "reference" } },
            spec: {
              securityContext: { fsGroup: 65532 },
              containers: [{
                name: "dittofs",
                image: "marmos91c/dittofs:latest",
                command: ["/app/dittofs"],
                args: ["start", "--foreground", "--config", "/config/config.yaml"],
                volumeMounts: [{ name: "metadata", mountPath: "/data/metadata" }, { name: "cache", mountPath: "/data/cache" }, { name: "config", mountPath: "/config" }],
                ports: [{ name: "api", containerPort: 8080, protocol: "TCP" }, nfs],
                livenessProbe: probe("/health", 15),
                readinessProbe: probe("/health/ready", 10)
              }],
              volumes: [{ name: "config", configMap: { name: "ditto-config" } }]
            }
          },
          volumeClaimTemplates: [
            { metadata: { name: "metadata" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
            { metadata: { name: "cache" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } } }
          ]
        }
      }))
      const adoption = yield* plan(identity, spec, Option.none())
      assert.deepStrictEqual(adoption.statefulSets.map((change) => change._tag), ["Update"])
      assert.deepStrictEqual(adoption.blocked.map((finding) => finding.message.split(";")[0]), ["volume claim controlplane (1Gi) is wanted but missing"])
      yield* apply(adoption)
      const adopted = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.StatefulSet, identity.namespace, "ditto"))
      assert.strictEqual(adopted.metadata.uid, created.metadata.uid)
      assert.deepStrictEqual(adopted.spec.template.spec.containers[0]?.ports?.map((port) => port.name), ["api", "adapter-nfs"])
      assert.deepStrictEqual(summary(yield* plan(identity, spec, Option.none())), [])
    }).pipe(Effect.orDie)), 60_000)
})
