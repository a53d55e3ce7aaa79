/**
 * `Workload.plan` on the in-memory API server: a fresh server converges in one pass, a converged
 * one plans nothing, others' fields survive, foreign objects are left alone, the reference
 * operator's objects are adopted in place, and restarts happen only when what the pod runs
 * changes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { type K8s, Kubernetes, Workload } from "../../src/index.ts"
import {
  apply,
  controller,
  createPod,
  generated,
  get,
  layer,
  list,
  namespace,
  observeGeneration,
  pass,
  plan,
  recreateDeletedPods,
  server,
  specOf
} from "./workloadCluster.ts"
import { strayConfigMap, strayService } from "../fixtures.ts"
import { expectWorkload } from "./workloadExpectations.ts"

const nfs: K8s.ContainerPort = { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" }
const smb: K8s.ContainerPort = { name: "adapter-smb", containerPort: 12445, protocol: "TCP" }

const tags = (changes: ReadonlyArray<{ readonly _tag: string; readonly object: { readonly metadata: K8s.ObjectMeta } }>) =>
  changes.map((change) => `${change._tag} ${change.object.metadata.name}`)

const everyChange = (workload: Workload.Plan) => Workload.changes(workload).map(({ change, kind }) => `${change._tag} ${kind} ${change.object.metadata.name}`)

const restartHash = (statefulSet: K8s.StatefulSet) => statefulSet.spec.template.metadata?.annotations?.["dittofs.io/restart-hash"]

/** A settled server: workload applied, the StatefulSet controller caught up, one pod running. */
const settle = (spec = specOf(), adapterPorts: Option.Option<ReadonlyArray<K8s.ContainerPort>> = Option.some([nfs])) =>
  Effect.gen(function*() {
    yield* pass(spec, { adapterPorts })
    yield* observeGeneration()
    yield* createPod(0)
    const again = yield* plan(spec, { adapterPorts })
    assert.deepStrictEqual(everyChange(again), [], "settled")
  })

describe("Workload.plan on a fresh namespace", () => {
  it.effect("creates the whole workload, owned by the server; a second plan is empty", () =>
    Effect.gen(function*() {
      const spec = specOf({ metrics: { enabled: true } })
      const first = yield* pass(spec)
      assert.deepStrictEqual(everyChange(first), [
        "Create Secret ditto-jwt-secret",
        "Create Secret ditto-admin-credentials",
        "Create ConfigMap ditto-config",
        "Create Service ditto-headless",
        "Create Service ditto-api",
        "Create Service ditto-metrics",
        "Create StatefulSet ditto",
        "Create NetworkPolicy ditto-baseline"
      ])
      assert.deepStrictEqual(first.foreign, [])
      assert.deepStrictEqual(first.blocked, [])
      yield* expectWorkload(spec)
      const again = yield* plan(spec)
      assert.deepStrictEqual(everyChange(again), [])
      assert.isTrue(Workload.isEmpty(again))
      assert.isFalse(Workload.isEmpty(first))
    }).pipe(Effect.provide(layer)))

  it.effect("declares the adapter ports given, after the static ones", () =>
    Effect.gen(function*() {
      yield* pass(specOf(), { adapterPorts: Option.some([smb, nfs]) })
      const statefulSet = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      assert.deepStrictEqual(statefulSet.spec.template.spec.containers[0]?.ports?.map((port) => port.name), ["api", "adapter-nfs", "adapter-smb"])
    }).pipe(Effect.provide(layer)))

  it("announces each change with its Event", () => {
    const workload = Workload.plan({
      server,
      spec: specOf({ service: { type: "LoadBalancer" } }),
      adapterPorts: Option.none(),
      observed: { configMap: Option.none(), statefulSet: Option.none(), services: [], secrets: [], networkPolicies: [], pods: [] },
      generated
    })
    assert.deepStrictEqual(Workload.changes(workload).map(({ change }) => `${change.event.reason}: ${change.event.message}`).map((line) => line.replace(/[0-9a-f]{8}\)/, "HASH)")), [
      "SecretCreated: Created Secret ditto-jwt-secret holding the generated JWT signing key",
      "SecretCreated: Created Secret ditto-admin-credentials holding the generated admin credentials",
      "ConfigMapCreated: Created ConfigMap ditto-config (config-hash HASH)",
      "ServiceCreated: Created ClusterIP Service ditto-headless (port 8080)",
      "ServiceCreated: Created LoadBalancer Service ditto-api (port 8080)",
      "StatefulSetCreated: Created StatefulSet ditto (image marmos91c/dittofs:latest)",
      "NetworkPolicyCreated: Created NetworkPolicy ditto-baseline admitting TCP 8080"
    ])
  })
})

describe("adapter ports and managed restarts", () => {
  it.effect("an adapter-port-only change is exactly one StatefulSet update, restart hash unchanged, no pod restarted", () =>
    Effect.gen(function*() {
      const spec = specOf()
      yield* settle(spec)
      const before = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      const changed = yield* plan(spec, { adapterPorts: Option.some([nfs, smb]) })
      assert.deepStrictEqual(everyChange(changed), ["Update StatefulSet ditto"])
      const [update] = changed.statefulSets
      assert.strictEqual(update?.event.reason, "ContainerPortsUpdated")
      assert.strictEqual(update?.event.message, "Updated StatefulSet container ports (1 static + 2 dynamic)")
      assert.strictEqual(restartHash(update?.object ?? before), restartHash(before))
      yield* apply(changed)
      yield* observeGeneration()
      assert.deepStrictEqual(everyChange(yield* plan(spec, { adapterPorts: Option.some([smb, nfs]) })), [], "no pod restart, no reorder")
      assert.deepStrictEqual(everyChange(yield* plan(spec, { adapterPorts: Option.none() })), [], "None keeps the observed adapter ports")
    }).pipe(Effect.provide(layer)))

  it.effect("an image change restarts the pod exactly once, after the StatefulSet controller saw the new template", () =>
    Effect.gen(function*() {
      yield* settle()
      const spec = specOf({ image: "marmos91c/dittofs:0.29.0" })
      const before = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      const update = yield* pass(spec)
      assert.deepStrictEqual(everyChange(update), ["Update StatefulSet ditto"])
      assert.strictEqual(update.statefulSets[0]?.event.reason, "StatefulSetUpdated")
      assert.notStrictEqual(restartHash(update.statefulSets[0]?.object ?? before), restartHash(before))

      assert.deepStrictEqual(everyChange(yield* plan(spec)), [], "not before the controller observed the new generation")
      yield* observeGeneration()
      const restart = yield* plan(spec)
      assert.deepStrictEqual(everyChange(restart), ["Delete Pod ditto-0"])
      assert.strictEqual(restart.pods[0]?.event.reason, "PodRestarted")
      assert.match(restart.pods[0]?.event.message ?? "", /^Restarted pod ditto-0: pod template changed \(restart-hash [0-9a-f]{8} -> [0-9a-f]{8}\)$/)
      yield* apply(restart)
      yield* recreateDeletedPods
      assert.deepStrictEqual(everyChange(yield* plan(spec)), [])
      const pod = yield* get(Kubernetes.Resources.Pod, "ditto-0")
      assert.strictEqual(pod.spec.containers[0]?.image, "marmos91c/dittofs:0.29.0")
    }).pipe(Effect.provide(layer)))

  it.effect("a configuration change updates ConfigMap and StatefulSet, then restarts the pod naming the config hash", () =>
    Effect.gen(function*() {
      yield* settle()
      const spec = specOf({ identity: { jwt: { secretRef: { name: "mine", key: "k" }, accessTokenDuration: "5m" } } })
      assert.deepStrictEqual(everyChange(yield* pass(spec)), ["Update ConfigMap ditto-config", "Update StatefulSet ditto"])
      yield* observeGeneration()
      const restart = yield* plan(spec)
      assert.match(restart.pods[0]?.event.message ?? "", /^Restarted pod ditto-0: configuration changed \(config-hash [0-9a-f]{8} -> [0-9a-f]{8}\)$/)
    }).pipe(Effect.provide(layer)))

  it.effect("no restart while the StatefulSet or its ConfigMap still has to change: the new pod would run a stale revision", () =>
    Effect.gen(function*() {
      yield* settle()
      const first = specOf({ image: "dfs:1" })
      yield* pass(first)
      yield* observeGeneration()
      assert.deepStrictEqual(everyChange(yield* plan(first)), ["Delete Pod ditto-0"], "the pod is stale")
      const second = specOf({ image: "dfs:2" })
      assert.deepStrictEqual(everyChange(yield* plan(second)), ["Update StatefulSet ditto"], "not while the template moves on")

      const third = specOf({ image: "dfs:1", controlPlane: { port: 18080 } })
      const both = yield* plan(third)
      assert.deepStrictEqual(everyChange(both).filter((line) => !line.includes("Service") && !line.includes("NetworkPolicy")), [
        "Update ConfigMap ditto-config",
        "Update StatefulSet ditto"
      ])
      yield* apply({ ...both, configMaps: [] }) // the ConfigMap write failed
      yield* observeGeneration()
      assert.deepStrictEqual(everyChange(yield* plan(third)), ["Update ConfigMap ditto-config"], "the pod would read the old file")
    }).pipe(Effect.provide(layer)))

  it.effect("with RollingUpdate the operator never deletes a pod", () =>
    Effect.gen(function*() {
      const spec = specOf({ rollout: { strategy: "RollingUpdate" } })
      yield* settle(spec)
      const changed = specOf({ rollout: { strategy: "RollingUpdate" }, image: "other:1" })
      yield* pass(changed)
      yield* observeGeneration()
      assert.deepStrictEqual(everyChange(yield* plan(changed)), [])
    }).pipe(Effect.provide(layer)))
})

describe("writes keep what others own", () => {
  it.effect("a user's static port, env var, volume and sidecar, a foreign annotation, the nodePort and clusterIP survive", () =>
    Effect.gen(function*() {
      const spec = specOf({ service: { type: "NodePort", annotations: { "a.example/one": "1" } } })
      yield* settle(spec)
      const kubernetes = yield* Kubernetes.Kubernetes
      const statefulSet = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      const [dittofs] = statefulSet.spec.template.spec.containers
      if (dittofs === undefined) return assert.fail("no container")
      yield* kubernetes.update(Kubernetes.Resources.StatefulSet, {
        ...statefulSet,
        spec: {
          ...statefulSet.spec,
          template: {
            ...statefulSet.spec.template,
            spec: {
              ...statefulSet.spec.template.spec,
              volumes: [...(Array.isArray(statefulSet.spec.template.spec["volumes"]) ? statefulSet.spec.template.spec["volumes"] : []), { name: "scratch", emptyDir: {} }],
              containers: [
                {
                  ...dittofs,
                  ports: [...(dittofs.ports ?? []), { name: "debug", containerPort: 2345, protocol: "TCP" }],
                  env: [...(Array.isArray(dittofs["env"]) ? dittofs["env"] : []), { name: "DITTOFS_LOGGING_LEVEL", value: "DEBUG" }],
                  volumeMounts: [...(Array.isArray(dittofs["volumeMounts"]) ? dittofs["volumeMounts"] : []), { name: "scratch", mountPath: "/scratch" }]
                },
                { name: "sidecar", image: "busybox" }
              ]
            }
          }
        }
      })
      const api = yield* get(Kubernetes.Resources.Service, "ditto-api")
      yield* kubernetes.update(Kubernetes.Resources.Service, {
        ...api,
        metadata: { ...api.metadata, annotations: { ...api.metadata.annotations, "cloud.example/lb-id": "xyz" } }
      })
      const apiBefore = yield* get(Kubernetes.Resources.Service, "ditto-api")
      const nodePort = apiBefore.spec.ports?.[0]?.nodePort
      assert.isNumber(nodePort)

      const newSpec = specOf({ service: { type: "NodePort", annotations: { "b.example/two": "2" } } })
      const changed = yield* pass(newSpec, { adapterPorts: Option.some([nfs, smb]) })
      assert.deepStrictEqual(everyChange(changed), ["Update Service ditto-api", "Update StatefulSet ditto"])

      const after = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      const containers = after.spec.template.spec.containers
      assert.deepStrictEqual(containers.map((container) => container.name), ["dittofs", "sidecar"])
      assert.deepStrictEqual(containers[0]?.ports?.map((port) => port.name).sort(), ["adapter-nfs", "adapter-smb", "api", "debug"])
      assert.deepStrictEqual(
        (Array.isArray(containers[0]?.["env"]) ? containers[0]["env"] : []).filter((item) => JSON.stringify(item).includes("LOGGING")),
        [{ name: "DITTOFS_LOGGING_LEVEL", value: "DEBUG" }]
      )
      assert.include(JSON.stringify(after.spec.template.spec["volumes"]), "scratch")
      assert.include(JSON.stringify(containers[0]?.["volumeMounts"]), "/scratch")
      assert.strictEqual(restartHash(after), restartHash(statefulSet), "an annotation and adapter change is no restart")

      const apiAfter = yield* get(Kubernetes.Resources.Service, "ditto-api")
      assert.strictEqual(apiAfter.metadata.annotations?.["cloud.example/lb-id"], "xyz")
      assert.strictEqual(apiAfter.metadata.annotations?.["b.example/two"], "2")
      assert.isUndefined(apiAfter.metadata.annotations?.["a.example/one"], "an annotation the spec dropped is removed")
      assert.strictEqual(apiAfter.spec.ports?.[0]?.nodePort, nodePort)
      assert.strictEqual(apiAfter.spec.clusterIP, apiBefore.spec.clusterIP)
      assert.strictEqual(apiAfter.metadata.uid, apiBefore.metadata.uid)
      assert.deepStrictEqual(everyChange(yield* plan(newSpec, { adapterPorts: Option.some([nfs, smb]) })), [])
    }).pipe(Effect.provide(layer)))

  it.effect("metrics switched off: the metrics Service is deleted and the metrics port removed", () =>
    Effect.gen(function*() {
      yield* settle(specOf({ metrics: { enabled: true } }))
      const off = specOf({ metrics: { enabled: false } })
      const changed = yield* pass(off)
      assert.deepStrictEqual(everyChange(changed), [
        "Update ConfigMap ditto-config",
        "Delete Service ditto-metrics",
        "Update StatefulSet ditto",
        "Update NetworkPolicy ditto-baseline"
      ])
      yield* expectWorkload(off)
    }).pipe(Effect.provide(layer)))

  it.effect("a generated Secret is never rotated; a missing key is filled", () =>
    Effect.gen(function*() {
      yield* pass(specOf())
      const kubernetes = yield* Kubernetes.Kubernetes
      const jwt = yield* get(Kubernetes.Resources.Secret, "ditto-jwt-secret")
      const admin = yield* get(Kubernetes.Resources.Secret, "ditto-admin-credentials")
      yield* kubernetes.update(Kubernetes.Resources.Secret, { ...admin, data: { username: admin.data?.["username"] ?? "" } })
      const again = Workload.plan({
        server,
        spec: specOf(),
        adapterPorts: Option.none(),
        observed: {
          configMap: Option.none(),
          statefulSet: Option.none(),
          services: [],
          secrets: yield* list(Kubernetes.Resources.Secret),
          networkPolicies: [],
          pods: []
        },
        generated: { jwtSecret: "k".repeat(32), adminPassword: "q".repeat(24) }
      })
      assert.deepStrictEqual(tags(again.secrets), ["Update ditto-admin-credentials"])
      assert.strictEqual(again.secrets[0]?.event.message, "Updated Secret ditto-admin-credentials: filled missing key(s) password")
      yield* apply({ ...again, configMaps: [], services: [], statefulSets: [], networkPolicies: [], pods: [] })
      assert.deepStrictEqual((yield* get(Kubernetes.Resources.Secret, "ditto-jwt-secret")).data, jwt.data)
      assert.strictEqual(Buffer.from((yield* get(Kubernetes.Resources.Secret, "ditto-admin-credentials")).data?.["password"] ?? "", "base64").toString(), "q".repeat(24))
    }).pipe(Effect.provide(layer)))
})

describe("ownership", () => {
  it.effect("objects of our names that the server does not control are never written, and reported", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.create(Kubernetes.Resources.ConfigMap, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ditto-config", namespace }, data: { "config.yaml": "mine" } })
      yield* kubernetes.create(Kubernetes.Resources.Service, {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: "ditto-api",
          namespace,
          // an owner that is not the controller comes first: the message names the controller
          ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "bundle", uid: "bundle-uid" }, { ...controller(), uid: "someone-else" }]
        },
        spec: { ports: [{ name: "http", port: 80 }] }
      })
      const first = yield* pass(specOf())
      assert.deepStrictEqual(first.foreign.map((finding) => `${finding.kind} ${finding.name}`), ["ConfigMap ditto-config", "Service ditto-api"])
      assert.match(first.foreign[1]?.message ?? "", /controlled by DittoServer ditto \(uid someone-else\)/)
      assert.notInclude(everyChange(first).join(), "ditto-config")
      assert.notInclude(everyChange(first).join(), "ditto-api")
      assert.strictEqual((yield* get(Kubernetes.Resources.ConfigMap, "ditto-config")).data?.["config.yaml"], "mine")
      assert.deepStrictEqual((yield* get(Kubernetes.Resources.Service, "ditto-api")).spec.ports?.map((port) => port.port), [80])
      assert.deepStrictEqual(everyChange(yield* plan(specOf())), [], "the rest converged")
    }).pipe(Effect.provide(layer)))
})

describe("ownership, object by object", () => {
  it.effect("an object of ours with no controller is named so; a foreign object that is not wanted is not reported", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.create(Kubernetes.Resources.ConfigMap, strayConfigMap("ditto-config"))
      yield* kubernetes.create(Kubernetes.Resources.Service, strayService("ditto-metrics"))
      const first = yield* pass(specOf({ metrics: { enabled: false } }))
      assert.deepStrictEqual(first.foreign.map((finding) => finding.message), [
        "ConfigMap ditto-config exists with no controller, not DittoServer ditto; left untouched"
      ])
      assert.notInclude(everyChange(first).join(), "ditto-metrics")
    }).pipe(Effect.provide(layer)))

  it.effect("objects of ours being deleted are left alone, and no pod is restarted under a terminating StatefulSet", () =>
    Effect.gen(function*() {
      yield* settle()
      const kubernetes = yield* Kubernetes.Kubernetes
      /** Deleted, held by a finalizer: it stays, with a deletionTimestamp. */
      const hold = <A extends { readonly metadata: K8s.ObjectMeta }>(resource: Kubernetes.Resource<A>, name: string) =>
        Effect.gen(function*() {
          const object = yield* get(resource, name)
          yield* kubernetes.update(resource, { ...object, metadata: { ...object.metadata, finalizers: ["test/hold"] } })
          yield* kubernetes.delete(resource, namespace, name)
        })
      // a pod that runs an older revision: it would be restarted under a live StatefulSet
      const pod = yield* get(Kubernetes.Resources.Pod, "ditto-0")
      yield* kubernetes.update(Kubernetes.Resources.Pod, { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, "dittofs.io/restart-hash": "older" } } })
      assert.deepStrictEqual(everyChange(yield* plan(specOf())), ["Delete Pod ditto-0"], "the stale pod, under a live StatefulSet")
      yield* hold(Kubernetes.Resources.ConfigMap, "ditto-config")
      yield* hold(Kubernetes.Resources.StatefulSet, "ditto")
      yield* observeGeneration()
      assert.isDefined(yield* get(Kubernetes.Resources.Pod, "ditto-0"), "the stale pod is still there")
      const changed = yield* plan(specOf({ image: "marmos91c/dittofs:v0.29.0" }))
      assert.deepStrictEqual(everyChange(changed), [], "an image change waits until they are gone and made again")
    }).pipe(Effect.provide(layer)))

  it.effect("a Secret of ours the spec no longer wants is left in place, not deleted", () =>
    Effect.gen(function*() {
      yield* settle()
      const changed = yield* plan(specOf({ identity: { admin: { passwordSecretRef: { name: "mine", key: "password" } } } }))
      assert.notInclude(everyChange(changed).join(), "Secret")
      assert.isDefined(yield* get(Kubernetes.Resources.Secret, "ditto-admin-credentials"))
    }).pipe(Effect.provide(layer)))
})

describe("adoption of the reference operator's objects", () => {
  const referenceConfig = [
    "logging:", "    level: INFO", "    format: json", "    output: stdout", "shutdown_timeout: 30s", "database:", "    type: sqlite",
    "    sqlite:", "        path: /data/controlplane/controlplane.db", "metrics:", "    enabled: false", "    port: 9090", "controlplane:",
    "    port: 8080", "    jwt:", "        issuer: dittofs", "        access_token_duration: 15m", "        refresh_token_duration: 168h",
    "cache:", "    path: /data/cache", "    size: 1GB", "admin:", "    username: admin", ""
  ].join("\n")
  const b64 = (text: string) => Buffer.from(text).toString("base64")
  const owner = [controller()]
  const podLabels = { app: "dittofs-server", instance: "ditto" }

  /** The objects as `C/dittoserver_controller.go` at 287121f1 builds them (before API-server defaulting). */
  const referenceObjects = Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    yield* kubernetes.create(Kubernetes.Resources.Secret, { apiVersion: "v1", kind: "Secret", metadata: { name: "ditto-jwt-secret", namespace, ownerReferences: owner }, data: { "jwt-secret": b64("R".repeat(32)) } })
    yield* kubernetes.create(Kubernetes.Resources.Secret, { apiVersion: "v1", kind: "Secret", metadata: { name: "ditto-admin-credentials", namespace, ownerReferences: owner }, data: { username: b64("admin"), password: b64("reference-password-24chr") } })
    yield* kubernetes.create(Kubernetes.Resources.ConfigMap, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ditto-config", namespace, ownerReferences: owner }, data: { "config.yaml": referenceConfig } })
    const service = (name: string, type: K8s.ServiceType, headless: boolean): K8s.Service => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels: podLabels, ownerReferences: owner },
      spec: { type, selector: podLabels, ports: [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }], ...(headless ? { clusterIP: "None" } : {}) }
    })
    yield* kubernetes.create(Kubernetes.Resources.Service, service("ditto-headless", "ClusterIP", true))
    yield* kubernetes.create(Kubernetes.Resources.Service, service("ditto-api", "LoadBalancer", false))
    yield* kubernetes.create(Kubernetes.Resources.NetworkPolicy, {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "ditto-baseline", namespace, labels: { ...podLabels, "dittofs.io/baseline-networkpolicy": "true" }, ownerReferences: owner },
      spec: { podSelector: { matchLabels: podLabels }, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }] }
    })
    const probe = (path: string, initialDelaySeconds: number, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path, port: 8080 },
      ...(initialDelaySeconds === 0 ? {} : { initialDelaySeconds }),
      periodSeconds,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold
    })
    const claim = (name: string, storage: string) => ({ metadata: { name }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } } })
    yield* kubernetes.create(Kubernetes.Resources.StatefulSet, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "ditto", namespace, ownerReferences: owner },
      spec: {
        replicas: 1,
        serviceName: "ditto-headless",
        selector: { matchLabels: podLabels },
        template: {
          metadata: { labels: podLabels, annotations: { "dittofs.io/config-hash": "reference-hash" } },
          spec: {
            securityContext: { fsGroup: 65532 },
            containers: [{
              name: "dittofs",
              image: "marmos91c/dittofs:latest",
              command: ["/app/dittofs"],
              args: ["start", "--foreground", "--config", "/config/config.yaml"],
              volumeMounts: [{ name: "metadata", mountPath: "/data/metadata" }, { name: "cache", mountPath: "/data/cache" }, { name: "config", mountPath: "/config" }],
              ports: [{ name: "api", containerPort: 8080, protocol: "TCP" }, nfs],
              env: [
                { name: "DITTOFS_CONTROLPLANE_SECRET", valueFrom: { secretKeyRef: { name: "ditto-jwt-secret", key: "jwt-secret" } } },
                { name: "DITTOFS_ADMIN_INITIAL_PASSWORD", valueFrom: { secretKeyRef: { name: "ditto-admin-credentials", key: "password", optional: true } } }
              ],
              livenessProbe: probe("/health", 15, 10, 3),
              readinessProbe: probe("/health/ready", 10, 5, 3),
              startupProbe: probe("/health", 0, 5, 30),
              lifecycle: { preStop: { exec: { command: ["/bin/sh", "-c", "sleep 5"] } } }
            }],
            volumes: [{ name: "config", configMap: { name: "ditto-config" } }]
          }
        },
        volumeClaimTemplates: [claim("metadata", "1Gi"), claim("cache", "5Gi")],
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" }
      }
    })
    yield* observeGeneration()
    yield* createPod(0)
  })

  it.effect("updates every reference object in place, keeps its data, reports the missing control-plane claim, then restarts the pod once", () =>
    Effect.gen(function*() {
      yield* referenceObjects
      const spec = specOf({ service: { type: "LoadBalancer" } })
      const before = new Map([...(yield* list(Kubernetes.Resources.Service)), ...(yield* list(Kubernetes.Resources.Secret))].map((object) => [object.metadata.name, object]))
      const apiNodePort = (yield* get(Kubernetes.Resources.Service, "ditto-api")).spec.ports?.[0]?.nodePort
      assert.isNumber(apiNodePort)
      const adoption = yield* pass(spec)
      assert.deepStrictEqual(everyChange(adoption), [
        "Update Secret ditto-jwt-secret",
        "Update Secret ditto-admin-credentials",
        "Update ConfigMap ditto-config",
        "Update StatefulSet ditto"
      ], "in place: no create, no delete; the Services and the baseline policy already are as wanted")
      assert.deepStrictEqual(adoption.foreign, [])
      assert.deepStrictEqual(adoption.blocked.map((finding) => `${finding.kind} ${finding.name}: ${finding.message.split(";")[0]}`), [
        "StatefulSet ditto: volume claim controlplane (1Gi) is wanted but missing"
      ])
      for (const [name, object] of before) {
        const now = name.startsWith("ditto-api") || name.startsWith("ditto-headless")
          ? yield* get(Kubernetes.Resources.Service, name)
          : yield* get(Kubernetes.Resources.Secret, name)
        assert.strictEqual(now.metadata.uid, object.metadata.uid, `${name} kept`)
      }
      assert.strictEqual((yield* get(Kubernetes.Resources.Service, "ditto-api")).spec.ports?.[0]?.nodePort, apiNodePort)
      assert.strictEqual(Buffer.from((yield* get(Kubernetes.Resources.Secret, "ditto-admin-credentials")).data?.["password"] ?? "", "base64").toString(), "reference-password-24chr")
      assert.strictEqual(Buffer.from((yield* get(Kubernetes.Resources.Secret, "ditto-jwt-secret")).data?.["jwt-secret"] ?? "", "base64").toString(), "R".repeat(32))

      const statefulSet = yield* get(Kubernetes.Resources.StatefulSet, "ditto")
      const container = statefulSet.spec.template.spec.containers[0]
      assert.deepStrictEqual(container?.ports?.map((port) => port.name), ["api", "adapter-nfs"], "the adapter port survives adoption")
      assert.isUndefined(container?.["command"])
      assert.notInclude(JSON.stringify(container?.["volumeMounts"]), "controlplane", "only existing claims are mounted")
      assert.notInclude((yield* get(Kubernetes.Resources.ConfigMap, "ditto-config")).data?.["config.yaml"] ?? "", "cache:")

      assert.deepStrictEqual(everyChange(yield* plan(spec)), [], "no restart before the controller saw the adopted template")
      yield* observeGeneration()
      const restart = yield* plan(spec)
      assert.deepStrictEqual(everyChange(restart), ["Delete Pod ditto-0"])
      assert.match(restart.pods[0]?.event.message ?? "", /config-hash refe/)
      yield* apply(restart)
      yield* recreateDeletedPods
      const settled = yield* plan(spec)
      assert.deepStrictEqual(everyChange(settled), [])
      assert.strictEqual(settled.blocked.length, 1, "still reported")
    }).pipe(Effect.provide(layer)))

  it.effect("the API Service follows the spec's default (ClusterIP), not the reference's LoadBalancer", () =>
    Effect.gen(function*() {
      yield* referenceObjects
      yield* pass(specOf())
      const api = yield* get(Kubernetes.Resources.Service, "ditto-api")
      assert.strictEqual(api.spec.type, "ClusterIP")
      assert.isUndefined(api.spec.ports?.[0]?.nodePort)
      assert.deepStrictEqual(everyChange(yield* plan(specOf())), [])
    }).pipe(Effect.provide(layer)))
})

describe("blocked changes", () => {
  it.effect("a storage size change is reported, not written; nothing else moves", () =>
    Effect.gen(function*() {
      yield* settle()
      const bigger = specOf({ storage: { metadataSize: "10Gi" } })
      const changed = yield* pass(bigger)
      assert.deepStrictEqual(everyChange(changed), [])
      assert.deepStrictEqual(changed.blocked.map((finding) => finding.message.split(";")[0]), ["volume claim metadata: storage 1Gi -> 10Gi"])
      const sameSize = specOf({ storage: { metadataSize: "1024Mi" } })
      assert.deepStrictEqual((yield* plan(sameSize)).blocked, [], "quantities compare by value")
    }).pipe(Effect.provide(layer)))

  it.effect("a StatefulSet with another selector or serviceName is reported, and its pods keep matching its selector", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const labels = { app: "legacy" }
      yield* kubernetes.create(Kubernetes.Resources.StatefulSet, {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "ditto", namespace, ownerReferences: [controller()] },
        spec: {
          serviceName: "legacy",
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: "dittofs", image: "old" }] } }
        }
      })
      const adopted = yield* pass(specOf())
      assert.deepStrictEqual(adopted.statefulSets.map((change) => change._tag), ["Update"], "accepted by the API server")
      assert.deepStrictEqual(
        adopted.blocked.filter((finding) => finding.kind === "StatefulSet").map((finding) => finding.message.split(" ")[0]),
        ["selector", "serviceName", "volume", "volume", "volume"]
      )
      assert.deepStrictEqual(everyChange(yield* plan(specOf())), [])
    }).pipe(Effect.provide(layer)))
})

describe("Workload.creationsEvent", () => {
  const note = (message: string) => ({ type: "Normal" as const, reason: "ThingCreated", message })

  it("is nothing for no creation, the creation's own Event for one", () => {
    assert.deepStrictEqual(Workload.creationsEvent([]), Option.none())
    assert.deepStrictEqual(Workload.creationsEvent([note("Created Secret s")]), Option.some(note("Created Secret s")))
  })

  it("is one WorkloadCreated Event naming every creation, in order, for several", () => {
    assert.deepStrictEqual(
      Workload.creationsEvent([note("Created Secret s"), { type: "Normal", reason: "OtherCreated", message: "Created ConfigMap c" }]),
      Option.some({ type: "Normal", reason: "WorkloadCreated", message: "Created Secret s; Created ConfigMap c" })
    )
  })

  it("keeps a message of exactly the limit, and cuts a longer one to the limit with an ellipsis", () => {
    const limit = Workload.creationsMessageLimit
    // "a…a; b…b": two messages and the separator make exactly `limit` characters
    const first = "a".repeat(limit - 10)
    const exact = Option.getOrThrow(Workload.creationsEvent([note(first), note("b".repeat(8))])).message
    assert.strictEqual(exact, `${first}; ${"b".repeat(8)}`)
    assert.strictEqual(exact.length, limit)
    const longer = Option.getOrThrow(Workload.creationsEvent([note(first), note("b".repeat(9))])).message
    assert.strictEqual(longer, `${first}; ${"b".repeat(7)}…`)
    assert.strictEqual(longer.length, limit)
  })
})
