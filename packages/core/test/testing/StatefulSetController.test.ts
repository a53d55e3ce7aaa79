/**
 * The StatefulSet controller's test double (`KubernetesMemory.Control.runStatefulSetController`):
 * what a pass leaves in the cluster — pods, claims, the StatefulSet's status — for the update
 * strategies and scaling. No pass, no pod: that half is the contract suite's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { StatefulSet } from "../../src/domain/Kubernetes.ts"
import { Kubernetes, Resources } from "../../src/services/Kubernetes.ts"
import { KubernetesMemory } from "../../src/testing/index.ts"

const statefulSet = (updateStrategy: StatefulSet["spec"]["updateStrategy"] = { type: "RollingUpdate" }): StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "nas", namespace: "ns", labels: { app: "nas" } },
  spec: {
    replicas: 2,
    serviceName: "nas",
    selector: { matchLabels: { app: "nas" } },
    updateStrategy,
    template: { metadata: { labels: { app: "nas" } }, spec: { containers: [{ name: "dfs", image: "marmos91c/dittofs:0.29.0" }] } },
    volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }]
  }
})

const pods = Effect.flatMap(Kubernetes, (kubernetes) => kubernetes.list(Resources.Pod, "ns"))

const withImage = (set: StatefulSet, image: string): StatefulSet => ({
  ...set,
  spec: { ...set.spec, template: { ...set.spec.template, spec: { containers: [{ name: "dfs", image }] } } }
})

describe("StatefulSetController (test double)", () => {
  it.effect("creates the pods and claims of a StatefulSet, Running and Ready, and reports them in its status", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const control = yield* KubernetesMemory.Control
      const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet())
      yield* control.runStatefulSetController("ns", "nas")
      const [first, second] = yield* pods
      assert.deepStrictEqual([first?.metadata.name, second?.metadata.name], ["nas-0", "nas-1"])
      const revision = first?.metadata.labels?.["controller-revision-hash"] ?? ""
      assert.match(revision, /^nas-[bcdfghjklmnpqrstvwxz2456789]+$/)
      assert.deepStrictEqual(first?.metadata.labels, {
        app: "nas",
        "controller-revision-hash": revision,
        "statefulset.kubernetes.io/pod-name": "nas-0",
        "apps.kubernetes.io/pod-index": "0"
      })
      assert.deepStrictEqual(first?.metadata.ownerReferences, [{
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: "nas",
        uid: created.metadata.uid ?? "",
        controller: true,
        blockOwnerDeletion: true
      }])
      assert.deepStrictEqual([first?.spec["hostname"], first?.spec["subdomain"]], ["nas-0", "nas"])
      assert.deepStrictEqual(first?.spec["volumes"], [{ name: "data", persistentVolumeClaim: { claimName: "data-nas-0" } }])
      assert.strictEqual(first?.status?.phase, "Running")
      assert.isTrue((first?.status?.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True"))
      const claims = yield* kubernetes.list(Resources.PersistentVolumeClaim, "ns")
      assert.deepStrictEqual(claims.map((claim) => claim.metadata.name), ["data-nas-0", "data-nas-1"])
      const status = (yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")).status
      assert.deepStrictEqual(status, {
        replicas: 2,
        availableReplicas: 2,
        readyReplicas: 2,
        currentReplicas: 2,
        updatedReplicas: 2,
        currentRevision: revision,
        updateRevision: revision,
        observedGeneration: 1,
        collisionCount: 0
      })
      // A second pass changes nothing.
      const before = (yield* pods).map((pod) => pod.metadata.resourceVersion)
      yield* control.runStatefulSetController("ns", "nas")
      assert.deepStrictEqual((yield* pods).map((pod) => pod.metadata.resourceVersion), before)
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("rolls pods to a new template with RollingUpdate, and scales down from the highest ordinal", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const control = yield* KubernetesMemory.Control
      yield* kubernetes.create(Resources.StatefulSet, statefulSet())
      yield* control.runStatefulSetController("ns", "nas")
      const oldRevision = (yield* pods)[0]?.metadata.labels?.["controller-revision-hash"]
      const current = yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")
      yield* kubernetes.update(Resources.StatefulSet, withImage(current, "marmos91c/dittofs:0.30.0"))
      yield* control.runStatefulSetController("ns", "nas")
      const rolled = yield* pods
      assert.deepStrictEqual(rolled.map((pod) => pod.spec.containers[0]?.image), ["marmos91c/dittofs:0.30.0", "marmos91c/dittofs:0.30.0"])
      const newRevision = rolled[0]?.metadata.labels?.["controller-revision-hash"]
      assert.notStrictEqual(newRevision, oldRevision)
      const status = (yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")).status
      assert.deepStrictEqual([status?.currentRevision, status?.updateRevision, status?.observedGeneration], [newRevision, newRevision, 2])

      const scaled = yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")
      yield* kubernetes.update(Resources.StatefulSet, { ...scaled, spec: { ...scaled.spec, replicas: 1 } })
      yield* control.runStatefulSetController("ns", "nas")
      assert.deepStrictEqual((yield* pods).map((pod) => pod.metadata.name), ["nas-0"])
      assert.deepStrictEqual((yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")).status?.replicas, 1)
      // Claims outlive their pods (retention policy Retain).
      assert.strictEqual((yield* kubernetes.list(Resources.PersistentVolumeClaim, "ns")).length, 2)
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("keeps pods at their revision with OnDelete until they are deleted", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const control = yield* KubernetesMemory.Control
      yield* kubernetes.create(Resources.StatefulSet, statefulSet({ type: "OnDelete" }))
      yield* control.runStatefulSetController("ns", "nas")
      const oldRevision = (yield* pods)[0]?.metadata.labels?.["controller-revision-hash"] ?? ""
      yield* kubernetes.update(Resources.StatefulSet, withImage(yield* kubernetes.get(Resources.StatefulSet, "ns", "nas"), "marmos91c/dittofs:0.30.0"))
      yield* control.runStatefulSetController("ns", "nas")
      assert.deepStrictEqual((yield* pods).map((pod) => pod.spec.containers[0]?.image), ["marmos91c/dittofs:0.29.0", "marmos91c/dittofs:0.29.0"])
      const waiting = (yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")).status
      assert.strictEqual(waiting?.currentRevision, oldRevision)
      assert.notStrictEqual(waiting?.updateRevision, oldRevision)
      assert.strictEqual(waiting?.updatedReplicas, undefined)
      yield* kubernetes.delete(Resources.Pod, "ns", "nas-1")
      yield* control.runStatefulSetController("ns", "nas")
      assert.deepStrictEqual((yield* pods).map((pod) => pod.spec.containers[0]?.image), ["marmos91c/dittofs:0.29.0", "marmos91c/dittofs:0.30.0"])
      assert.strictEqual((yield* kubernetes.get(Resources.StatefulSet, "ns", "nas")).status?.updatedReplicas, 1)
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("leaves the pods to the garbage collector when the StatefulSet goes", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      yield* kubernetes.create(Resources.StatefulSet, statefulSet())
      yield* (yield* KubernetesMemory.Control).runStatefulSetController("ns", "nas")
      yield* kubernetes.delete(Resources.StatefulSet, "ns", "nas")
      assert.deepStrictEqual(yield* pods, [])
    }).pipe(Effect.provide(KubernetesMemory.layer())))
})
