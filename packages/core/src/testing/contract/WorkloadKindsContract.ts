/**
 * The Kubernetes contract for the kinds of the operator's workload: ConfigMaps,
 * PersistentVolumeClaims, Pods, Leases, and what StatefulSets add to the base suite (update
 * strategy, claim templates, pod template defaults, immutable fields, no pods of their own).
 *
 * Contract of this part of the suite (registered by `kubernetesContract`, same rules): every
 * expectation is what kube-apiserver v1.36 answered in this project's control plane (no
 * kubelet, no scheduler, only the garbage-collector and namespace controllers running); a
 * refusal is checked by its reason and, where the API server's wording is stable, its message.
 */
import { assert, type Vitest } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { AnyObject, type ConfigMap, type Lease, type PersistentVolumeClaim, type Pod, type StatefulSet } from "../../domain/Kubernetes.ts"
import { Kubernetes, type Resource, Resources } from "../../services/Kubernetes.ts"
import { fieldsOf } from "../apiserver/Json.ts"
import { ContractNamespaces, type KubernetesContractTarget, outcome, rejection } from "./ContractTarget.ts"

const configMap = (namespace: string, name: string, data?: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  ...(data === undefined ? {} : { data })
})

const claim = (namespace: string, name: string, spec: NonNullable<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace },
  spec
})

const pod = (namespace: string, name: string, spec: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels: { app: name } },
  spec: { containers: [{ name: "dfs", image: "marmos91c/dittofs:0.29.0", ports: [{ name: "api", containerPort: 8080 }] }], ...spec }
})

const lease = (namespace: string, name: string, spec: Lease["spec"]): Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name, namespace },
  spec
})

const statefulSet = (namespace: string, name: string, spec: Partial<StatefulSet["spec"]> = {}): StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas: 1,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "dfs", image: "marmos91c/dittofs:0.29.0" }] }
    },
    ...spec
  }
})

const dataClaimTemplate = (storage: string) => ({
  metadata: { name: "data" },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } }
})

/** StatefulSets written and read as JSON, to send what our Schema would not let through. */
const RawStatefulSet: Resource<AnyObject> = { ...Resources.StatefulSet, schema: AnyObject }

const immutableStatefulSetMessage = (name: string) =>
  `StatefulSet.apps "${name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`

export const workloadKindsContract = (it: Vitest.MethodsNonLive<Kubernetes | ContractNamespaces>, target: KubernetesContractTarget): void => {
  const timeout = target.testTimeout

  it.effect("stores a ConfigMap's data, drops an empty one, and keeps no generation", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.ConfigMap, configMap(namespace, "config", { "config.yaml": "logging: {}\n" }))
      assert.deepStrictEqual(created.data, { "config.yaml": "logging: {}\n" })
      assert.isUndefined(created.metadata.generation)
      const changed = yield* kubernetes.update(Resources.ConfigMap, { ...created, data: { "config.yaml": "logging: {level: DEBUG}\n" } })
      assert.notStrictEqual(changed.metadata.resourceVersion, created.metadata.resourceVersion)
      assert.isUndefined(changed.metadata.generation)
      assert.deepStrictEqual(yield* kubernetes.update(Resources.ConfigMap, changed), changed)
      const emptied = yield* kubernetes.update(Resources.ConfigMap, { ...changed, data: {} })
      assert.notProperty(emptied, "data")
      const bare = yield* kubernetes.create(Resources.ConfigMap, configMap(namespace, "bare", {}))
      assert.notProperty(bare, "data")
      const binary = yield* kubernetes.create(Resources.ConfigMap, { ...configMap(namespace, "binary"), binaryData: { blob: "AAEC" } })
      assert.deepStrictEqual(binary["binaryData"], { blob: "AAEC" })
    }), timeout)

  it.effect("refuses ConfigMap keys the API server refuses, and changes to an immutable ConfigMap", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      assert.deepStrictEqual(yield* rejection(kubernetes.create(Resources.ConfigMap, configMap(namespace, "spaced", { "bad key": "x" }))), [
        "Invalid",
        `ConfigMap "spaced" is invalid: data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`
      ])
      const frozen = yield* kubernetes.create(Resources.ConfigMap, { ...configMap(namespace, "frozen", { a: "1" }), immutable: true })
      assert.deepStrictEqual(yield* rejection(kubernetes.update(Resources.ConfigMap, { ...frozen, data: { a: "2" } })), [
        "Invalid",
        "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
      ])
      const relabelled = yield* kubernetes.update(Resources.ConfigMap, { ...frozen, metadata: { ...frozen.metadata, labels: { a: "b" } } })
      assert.deepStrictEqual(relabelled.data, { a: "1" })
    }), timeout)

  it.effect("defaults a PersistentVolumeClaim: volumeMode, Pending, canonical quantities, the pvc-protection finalizer", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.PersistentVolumeClaim, claim(namespace, "data", {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "1024Mi" } }
      }))
      assert.deepStrictEqual(created.spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" })
      assert.deepStrictEqual(created.status, { phase: "Pending" })
      assert.deepStrictEqual(created.metadata.finalizers, ["kubernetes.io/pvc-protection"])
      assert.isUndefined(created.metadata.generation)
      // No controller of this control plane removes the finalizer: the claim stays, terminating.
      yield* kubernetes.delete(Resources.PersistentVolumeClaim, namespace, "data", { uid: created.metadata.uid ?? "" })
      const terminating = yield* kubernetes.get(Resources.PersistentVolumeClaim, namespace, "data")
      assert.isString(terminating.metadata.deletionTimestamp)
      yield* kubernetes.update(Resources.PersistentVolumeClaim, { ...terminating, metadata: { ...terminating.metadata, finalizers: [] } })
      assert.strictEqual(yield* outcome(kubernetes.get(Resources.PersistentVolumeClaim, namespace, "data")), "NotFound")
    }), timeout)

  it.effect("refuses an incomplete claim, a bad quantity, and spec changes after creation", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      assert.deepStrictEqual(
        yield* rejection(kubernetes.create(Resources.PersistentVolumeClaim, claim(namespace, "modeless", { resources: { requests: { storage: "1Gi" } } }))),
        ["Invalid", `PersistentVolumeClaim "modeless" is invalid: spec.accessModes: Required value: at least 1 access mode is required`]
      )
      assert.deepStrictEqual(
        yield* rejection(kubernetes.create(Resources.PersistentVolumeClaim, claim(namespace, "sizeless", { accessModes: ["ReadWriteOnce"] }))),
        ["Invalid", `PersistentVolumeClaim "sizeless" is invalid: spec.resources[storage]: Required value`]
      )
      assert.strictEqual(
        yield* outcome(kubernetes.create(Resources.PersistentVolumeClaim, claim(namespace, "huge", {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "10GB" } }
        }))),
        "BadRequest"
      )
      const created = yield* kubernetes.create(Resources.PersistentVolumeClaim, claim(namespace, "fixed", {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "1Gi" } }
      }))
      for (const spec of [
        { ...created.spec, resources: { requests: { storage: "2Gi" } } },
        { ...created.spec, accessModes: ["ReadWriteMany"] }
      ]) {
        const [reason, message] = yield* rejection(kubernetes.update(Resources.PersistentVolumeClaim, { ...created, spec }))
        assert.strictEqual(reason, "Invalid")
        assert.match(message, /^PersistentVolumeClaim "fixed" is invalid: spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims\n/)
      }
      const labelled = yield* kubernetes.update(Resources.PersistentVolumeClaim, { ...created, metadata: { ...created.metadata, labels: { tier: "data" } } })
      assert.deepStrictEqual(labelled.metadata.labels, { tier: "data" })
      // What may still be set once: a storage class and a volume while they are unset.
      const bound = yield* kubernetes.update(Resources.PersistentVolumeClaim, {
        ...labelled,
        spec: { ...labelled.spec, storageClassName: "fast", volumeName: "pv-1" }
      })
      assert.deepStrictEqual([bound.spec?.storageClassName, bound.spec?.["volumeName"]], ["fast", "pv-1"])
      assert.strictEqual(
        yield* outcome(kubernetes.update(Resources.PersistentVolumeClaim, { ...bound, spec: { ...bound.spec, storageClassName: "slow" } })),
        "Invalid"
      )
      // An update that leaves the finalizer out removes it, as any update of metadata does.
      yield* kubernetes.update(Resources.PersistentVolumeClaim, { ...bound, metadata: { ...bound.metadata, finalizers: [] } })
      assert.isUndefined((yield* kubernetes.get(Resources.PersistentVolumeClaim, namespace, "fixed")).metadata.finalizers)
    }), timeout)

  it.effect("defaults a Pod like the API server and leaves it Pending: nothing schedules it", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const draft = pod(namespace, "dfs")
      const created = yield* kubernetes.create(Resources.Pod, draft)
      assert.strictEqual(created.metadata.generation, 1)
      assert.deepStrictEqual(created.status, { phase: "Pending", qosClass: "BestEffort" })
      const spec = created.spec
      assert.deepStrictEqual(
        [spec["restartPolicy"], spec["terminationGracePeriodSeconds"], spec["dnsPolicy"], spec["securityContext"], spec["schedulerName"]],
        ["Always", 30, "ClusterFirst", {}, "default-scheduler"]
      )
      assert.deepStrictEqual([spec["enableServiceLinks"], spec["priority"], spec["preemptionPolicy"]], [true, 0, "PreemptLowerPriority"])
      assert.deepStrictEqual(spec["tolerations"], [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }
      ])
      assert.isUndefined(spec["nodeName"])
      assert.deepStrictEqual(spec.containers, [{
        name: "dfs",
        image: "marmos91c/dittofs:0.29.0",
        ports: [{ name: "api", containerPort: 8080, protocol: "TCP" }],
        resources: {},
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        imagePullPolicy: "IfNotPresent"
      }])
      // Re-sending the pod as first written changes nothing.
      const resent = yield* kubernetes.update(Resources.Pod, { ...draft, metadata: { ...draft.metadata, resourceVersion: created.metadata.resourceVersion ?? "" } })
      assert.strictEqual(resent.metadata.resourceVersion, created.metadata.resourceVersion)
      assert.strictEqual((yield* kubernetes.get(Resources.Pod, namespace, "dfs")).status?.phase, "Pending")

      const sized = yield* kubernetes.create(Resources.Pod, pod(namespace, "sized", {
        containers: [{ name: "dfs", image: "marmos91c/dittofs:latest", resources: { limits: { cpu: "0.5", memory: "1024Mi" } } }]
      }))
      assert.deepStrictEqual(sized.spec.containers[0]?.["resources"], {
        limits: { cpu: "500m", memory: "1Gi" },
        requests: { cpu: "500m", memory: "1Gi" }
      })
      assert.strictEqual(sized.spec.containers[0]?.["imagePullPolicy"], "Always")
      assert.deepStrictEqual(sized.status, { phase: "Pending", qosClass: "Guaranteed" })
    }), timeout)

  it.effect("writes a Pod's status only through updateStatus, and limits spec updates to images", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.Pod, { ...pod(namespace, "dfs"), status: { phase: "Running" } })
      assert.strictEqual(created.status?.phase, "Pending")
      const ignored = yield* kubernetes.update(Resources.Pod, { ...created, status: { phase: "Running" } })
      assert.strictEqual(ignored.metadata.resourceVersion, created.metadata.resourceVersion)
      // A status write of a built-in kind also takes the labels sent; it never takes the spec.
      const running = yield* kubernetes.updateStatus(Resources.Pod, {
        ...created,
        metadata: { ...created.metadata, labels: { app: "dfs", ready: "yes" } },
        spec: { ...created.spec, containers: created.spec.containers.map((container) => ({ ...container, image: "elsewhere" })) },
        status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] }
      })
      assert.deepStrictEqual(running.status, {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: null }],
        qosClass: "BestEffort"
      })
      assert.deepStrictEqual(running.metadata.labels, { app: "dfs", ready: "yes" })
      assert.strictEqual(running.spec.containers[0]?.image, "marmos91c/dittofs:0.29.0")
      assert.strictEqual(running.metadata.generation, 1)

      const [first, ...others] = running.spec.containers
      const retagged = yield* kubernetes.update(Resources.Pod, {
        ...running,
        spec: { ...running.spec, containers: [{ ...first, name: first?.name ?? "dfs", image: "marmos91c/dittofs:0.30.0" }, ...others] }
      })
      assert.strictEqual(retagged.spec.containers[0]?.image, "marmos91c/dittofs:0.30.0")
      assert.strictEqual(retagged.metadata.generation, 2)
      assert.strictEqual(retagged.status?.phase, "Running")
      const [reason, message] = yield* rejection(kubernetes.update(Resources.Pod, {
        ...retagged,
        spec: { ...retagged.spec, containers: retagged.spec.containers.map((container) => ({ ...container, ports: [{ name: "api", containerPort: 9090 }] })) }
      }))
      assert.strictEqual(reason, "Invalid")
      assert.isTrue(message.startsWith(
        "Pod \"dfs\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
      ), message)
    }), timeout)

  it.effect("deletes an unscheduled Pod at once, with a uid precondition; a bound one waits for a kubelet", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.Pod, pod(namespace, "dfs"))
      const listed = yield* kubernetes.listWithVersion(Resources.Pod, namespace)
      assert.deepStrictEqual(
        yield* rejection(kubernetes.delete(Resources.Pod, namespace, "dfs", { uid: "00000000-0000-4000-8000-ffffffffffff" })),
        [
          "Conflict",
          `Operation cannot be fulfilled on Pod "dfs": the UID in the precondition (00000000-0000-4000-8000-ffffffffffff) does not match the UID in record (${created.metadata.uid ?? ""}). The object might have been deleted and then recreated`
        ]
      )
      yield* kubernetes.delete(Resources.Pod, namespace, "dfs", { uid: created.metadata.uid ?? "" })
      assert.strictEqual(yield* outcome(kubernetes.get(Resources.Pod, namespace, "dfs")), "NotFound")
      // Deleted gracefully with a grace period of 0: marked (Modified), then gone.
      const changes = yield* kubernetes.watch(Resources.Pod, namespace, { resourceVersion: listed.resourceVersion, timeoutSeconds: 30 }).pipe(
        Stream.filter((event) => event._tag !== "Bookmark"),
        Stream.takeUntil((event) => event._tag === "Deleted"),
        Stream.runCollect
      )
      assert.deepStrictEqual(changes.map((change) => change._tag), ["Modified", "Deleted"])
      const [marked, deleted] = changes.flatMap((change) => "object" in change ? [change.object.metadata] : [])
      assert.deepStrictEqual([marked?.["deletionGracePeriodSeconds"], marked?.generation, typeof marked?.deletionTimestamp], [0, 2, "string"])
      assert.deepStrictEqual({ ...deleted, resourceVersion: "" }, { ...marked, resourceVersion: "" })
      // A pod bound to a node is deleted gracefully: only marked, until a kubelet confirms.
      const bound = yield* kubernetes.create(Resources.Pod, pod(namespace, "bound", { nodeName: "node-a" }))
      yield* kubernetes.delete(Resources.Pod, namespace, "bound", { uid: bound.metadata.uid ?? "" })
      const terminating = yield* kubernetes.get(Resources.Pod, namespace, "bound")
      assert.isString(terminating.metadata.deletionTimestamp)
      assert.strictEqual(terminating.metadata["deletionGracePeriodSeconds"], 30)
      assert.strictEqual(terminating.metadata.generation, 2)
    }), timeout)

  it.effect("takes a built-in kind's labels from a status write, and keeps Go's zero values in its status", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto"))
      const reported = yield* kubernetes.updateStatus(Resources.StatefulSet, {
        ...created,
        metadata: { ...created.metadata, labels: { app: "ditto", observed: "yes" }, annotations: { note: "status" } },
        spec: { ...created.spec, replicas: 5 },
        status: { replicas: 1, readyReplicas: 0, currentRevision: "", observedGeneration: 1 }
      })
      assert.deepStrictEqual(reported.status, { replicas: 1, availableReplicas: 0, observedGeneration: 1 })
      assert.deepStrictEqual(reported.metadata.labels, { app: "ditto", observed: "yes" })
      assert.deepStrictEqual(reported.metadata.annotations, { note: "status" })
      assert.strictEqual(reported.spec.replicas, 1)
      assert.deepStrictEqual(
        yield* rejection(kubernetes.updateStatus(Resources.StatefulSet, { ...reported, status: { replicas: 1, readyReplicas: 2 } })),
        ["Invalid", `StatefulSet.apps "ditto" is invalid: status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas`]
      )
    }), timeout)

  it.effect("creates and renews a Lease with its resourceVersion, MicroTimes stored in UTC", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.Lease, lease(namespace, "dittofs-operator", {
        holderIdentity: "operator-0",
        leaseDurationSeconds: 15,
        acquireTime: "2026-01-01T00:00:00.000000Z",
        renewTime: "2026-01-01T02:00:05.250000+02:00",
        leaseTransitions: 0,
        preferredHolder: null
      }))
      assert.deepStrictEqual(created.spec, {
        holderIdentity: "operator-0",
        leaseDurationSeconds: 15,
        acquireTime: "2026-01-01T00:00:00.000000Z",
        renewTime: "2026-01-01T00:00:05.250000Z",
        leaseTransitions: 0
      })
      assert.isUndefined(created.metadata.generation)
      const renewed = yield* kubernetes.update(Resources.Lease, { ...created, spec: { ...created.spec, renewTime: "2026-01-01T00:00:10.000000Z" } })
      assert.notStrictEqual(renewed.metadata.resourceVersion, created.metadata.resourceVersion)
      // A candidate that read the Lease before the renewal loses.
      assert.strictEqual(
        yield* outcome(kubernetes.update(Resources.Lease, { ...created, spec: { ...created.spec, holderIdentity: "operator-1", leaseTransitions: 1 } })),
        "Conflict"
      )
      assert.strictEqual((yield* kubernetes.get(Resources.Lease, namespace, "dittofs-operator")).spec.holderIdentity, "operator-0")
      assert.strictEqual(
        yield* outcome(kubernetes.update(Resources.Lease, { ...renewed, spec: { ...renewed.spec, renewTime: "2026-01-01T00:00:15Z" } })),
        "BadRequest"
      )
      assert.deepStrictEqual(
        yield* rejection(kubernetes.update(Resources.Lease, { ...renewed, spec: { ...renewed.spec, leaseDurationSeconds: 0 } })),
        ["Invalid", `Lease.coordination.k8s.io "dittofs-operator" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0`]
      )
    }), timeout)

  it.effect("defaults a StatefulSet's update strategy: RollingUpdate with partition 0 unless a type is given", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const strategyOf = (name: string, updateStrategy: unknown) => {
        const draft = statefulSet(namespace, name)
        return Effect.map(
          kubernetes.create(RawStatefulSet, updateStrategy === undefined ? draft : { ...draft, spec: { ...draft.spec, updateStrategy } }),
          (created) => fieldsOf(created["spec"])["updateStrategy"]
        )
      }
      assert.deepStrictEqual(yield* strategyOf("absent", undefined), { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
      assert.deepStrictEqual(yield* strategyOf("empty", {}), { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
      assert.deepStrictEqual(yield* strategyOf("rolling", { type: "RollingUpdate" }), { type: "RollingUpdate" })
      assert.deepStrictEqual(yield* strategyOf("partitioned", { type: "RollingUpdate", rollingUpdate: {} }), { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
      assert.deepStrictEqual(yield* strategyOf("on-delete", { type: "OnDelete" }), { type: "OnDelete" })
      assert.deepStrictEqual(yield* strategyOf("typeless", { rollingUpdate: { partition: 2 } }), { type: "RollingUpdate", rollingUpdate: { partition: 2 } })
      assert.deepStrictEqual(yield* rejection(strategyOf("mixed", { type: "OnDelete", rollingUpdate: { partition: 1 } })), [
        "Invalid",
        `StatefulSet.apps "mixed" is invalid: spec.updateStrategy.rollingUpdate: Invalid value: {"Partition":1,"MaxUnavailable":null}: only allowed for updateStrategy 'RollingUpdate'`
      ])
      assert.deepStrictEqual(yield* rejection(strategyOf("sideways", { type: "Sideways" })), [
        "Invalid",
        `StatefulSet.apps "sideways" is invalid: spec.updateStrategy: Invalid value: {"Type":"Sideways","RollingUpdate":null}: must be 'RollingUpdate' or 'OnDelete'`
      ])
    }), timeout)

  it.effect("refuses changes to a StatefulSet's selector, serviceName, podManagementPolicy and claim templates", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto", {
        volumeClaimTemplates: [dataClaimTemplate("1Gi")]
      }))
      const template = created.spec.template
      for (const spec of [
        { ...created.spec, serviceName: "elsewhere" },
        { ...created.spec, podManagementPolicy: "Parallel" },
        { ...created.spec, volumeClaimTemplates: [dataClaimTemplate("2Gi")] },
        {
          ...created.spec,
          selector: { matchLabels: { app: "ditto", tier: "data" } },
          template: { ...template, metadata: { labels: { app: "ditto", tier: "data" } } }
        }
      ]) {
        assert.deepStrictEqual(yield* rejection(kubernetes.update(Resources.StatefulSet, { ...created, spec })), ["Invalid", immutableStatefulSetMessage("ditto")])
      }
      // The templates as first sent (undefaulted, in another unit) are the same templates.
      const resent = yield* kubernetes.update(Resources.StatefulSet, {
        ...created,
        spec: { ...created.spec, volumeClaimTemplates: [dataClaimTemplate("1024Mi")] }
      })
      assert.strictEqual(resent.metadata.resourceVersion, created.metadata.resourceVersion)
    }), timeout)

  it.effect("defaults and checks a StatefulSet's claim templates on create", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto", {
        volumeClaimTemplates: [dataClaimTemplate("1024Mi")]
      }))
      assert.deepStrictEqual(created.spec.volumeClaimTemplates, [{
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
        status: { phase: "Pending" }
      }])
      assert.deepStrictEqual(
        yield* rejection(kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "modeless", {
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "1Gi" } } } }]
        }))),
        ["Invalid", `StatefulSet.apps "modeless" is invalid: spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required`]
      )
      assert.strictEqual(
        yield* outcome(kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "huge", { volumeClaimTemplates: [dataClaimTemplate("10GB")] }))),
        "BadRequest"
      )
    }), timeout)

  it.effect("defaults a pod template's probes, volumes, env and resources, so re-sending it is a no-op", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const draft = statefulSet(namespace, "ditto", {
        template: {
          metadata: { labels: { app: "ditto" } },
          spec: {
            containers: [{
              name: "dfs",
              image: "marmos91c/dittofs:0.29.0",
              env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
              readinessProbe: { httpGet: { port: "api" } },
              livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
              resources: { requests: { cpu: "0.1", memory: "512Mi" }, limits: { memory: "1024Mi" } },
              volumeMounts: [{ name: "config", mountPath: "/config" }]
            }],
            volumes: [{ name: "config", configMap: { name: "ditto-config" } }, { name: "scratch" }, { name: "secret", secret: { secretName: "ditto" } }]
          }
        }
      })
      const created = yield* kubernetes.create(Resources.StatefulSet, draft)
      const [container] = created.spec.template.spec.containers
      assert.deepStrictEqual(container?.["env"], [{ name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } }])
      assert.deepStrictEqual(container?.["readinessProbe"], {
        httpGet: { port: "api", path: "/", scheme: "HTTP" },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3
      })
      assert.deepStrictEqual(container?.["livenessProbe"], { tcpSocket: { port: 8080 }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 })
      assert.deepStrictEqual(container?.["resources"], { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } })
      assert.deepStrictEqual(created.spec.template.spec["volumes"], [
        { name: "config", configMap: { name: "ditto-config", defaultMode: 420 } },
        { name: "scratch", emptyDir: {} },
        { name: "secret", secret: { secretName: "ditto", defaultMode: 420 } }
      ])
      const resent = yield* kubernetes.update(Resources.StatefulSet, {
        ...draft,
        metadata: { ...draft.metadata, resourceVersion: created.metadata.resourceVersion ?? "" }
      })
      assert.strictEqual(resent.metadata.resourceVersion, created.metadata.resourceVersion)
      assert.strictEqual(resent.metadata.generation, 1)
    }), timeout)

  it.effect("stores resource quantities in canonical form, rounded up to milli units", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      const container = (name: string, resources: Record<string, Record<string, string>>) => ({ name, image: "marmos91c/dittofs:0.29.0", resources })
      const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto", {
        template: {
          metadata: { labels: { app: "ditto" } },
          spec: {
            containers: [
              container("a", { requests: { cpu: "0.0001", memory: "1000M", "ephemeral-storage": "1.5Gi" }, limits: { cpu: "2000m", memory: "1e9" } }),
              container("b", { requests: { cpu: "1000", memory: "0.5Mi" }, limits: { memory: "1024Ki", cpu: "1500" } })
            ]
          }
        }
      }))
      assert.deepStrictEqual(created.spec.template.spec.containers.map((item) => item["resources"]), [
        { requests: { cpu: "1m", memory: "1G", "ephemeral-storage": "1536Mi" }, limits: { cpu: "2", memory: "1e9" } },
        { requests: { cpu: "1k", memory: "512Ki" }, limits: { memory: "1Mi", cpu: "1500" } }
      ])
      // A request is never above its limit (compared by value, written canonical).
      assert.deepStrictEqual(
        yield* rejection(kubernetes.create(Resources.Pod, pod(namespace, "greedy", {
          containers: [container("dfs", { requests: { cpu: "1.5", memory: "1Gi" }, limits: { cpu: "1000m", memory: "1024Mi" } })]
        }))),
        ["Invalid", `Pod "greedy" is invalid: spec.containers[0].resources.requests: Invalid value: "1500m": must be less than or equal to cpu limit of 1`]
      )
    }), timeout)

  it.effect("creates no pods for a StatefulSet: no controller runs in the API server", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto", { replicas: 2, volumeClaimTemplates: [dataClaimTemplate("1Gi")] }))
      // Give a controller, were one running, the time to act (a no-op on the fake's TestClock).
      if (target.liveClock) yield* Effect.sleep("2 seconds")
      assert.deepStrictEqual(yield* kubernetes.list(Resources.Pod, namespace), [])
      assert.deepStrictEqual(yield* kubernetes.list(Resources.PersistentVolumeClaim, namespace), [])
      const stored = yield* kubernetes.get(Resources.StatefulSet, namespace, "ditto")
      assert.deepStrictEqual(stored.status, { replicas: 0, availableReplicas: 0 })
    }), timeout)
}
