/**
 * The workloads plane really runs a StatefulSet's pod lifecycle (statefulset controller,
 * kube-scheduler, kwok, one simulated Node), which is what the operator's `OnDelete` proofs stand
 * on: a StatefulSet with a volumeClaimTemplate gets pod `<name>-0` Running and Ready and
 * `readyReplicas: 1` although its claim stays Pending; under `OnDelete` a template change leaves
 * the running pod alone (same UID) and a deleted pod comes back new (new UID) with the new
 * template. The plane is this file's own (see `WorkloadsPlane.ts` for why not the run's).
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { always, ensure, eventually, timedMillis } from "./e2e/harness.ts"
import {
  awaitReadyPod,
  call,
  clientsOf,
  configOf,
  createStatefulSet,
  deletePod,
  freshNamespace,
  readPod,
  readStatefulSet,
  setConfig,
  statefulSetOf
} from "./StatefulSetPods.ts"
import { WorkloadsPlane } from "./WorkloadsPlane.ts"

layer(WorkloadsPlane.layer, { excludeTestServices: true, timeout: "2 minutes" })("workloads plane: a StatefulSet's pod lifecycle", (it) => {
  it.effect("the simulated Node is Ready and untainted; a StatefulSet with a Pending claim gets <name>-0 Running and Ready and readyReplicas 1", () =>
    Effect.gen(function*() {
      const plane = yield* WorkloadsPlane
      const clients = clientsOf(plane.kubeconfigPath)
      const [nodeName] = plane.nodes
      assert.strictEqual(nodeName, "kwok-node-0")
      const node = yield* call("read Node", () => clients.core.readNode({ name: "kwok-node-0" }))
      assert.deepStrictEqual(node.spec?.taints ?? [], [], "no not-ready taint: no node-lifecycle controller would remove it")
      assert.strictEqual(node.metadata?.labels?.type, "kwok")
      assert.strictEqual(node.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake")
      assert.include((node.status?.conditions ?? []).filter((c) => c.status === "True").map((c) => c.type), "Ready")

      const namespace = yield* freshNamespace(clients, "workloads")
      const [readyMillis, pod] = yield* timedMillis(
        Effect.andThen(createStatefulSet(clients, namespace, statefulSetOf("web", "v1")), awaitReadyPod(clients, namespace, "web", { timeout: "30 seconds" }))
      )
      yield* Effect.logInfo(`pod web-0 Running and Ready ${readyMillis.toFixed(0)} ms after the StatefulSet was created`)
      assert.strictEqual(pod.spec?.nodeName, "kwok-node-0")
      assert.isDefined(pod.status?.podIP, "kwok gives the pod an IP")
      assert.deepStrictEqual(
        (pod.spec?.volumes ?? []).flatMap((volume) => volume.persistentVolumeClaim === undefined ? [] : [volume.persistentVolumeClaim.claimName]),
        ["data-web-0"]
      )
      const claim = yield* call("read PVC data-web-0", () => clients.core.readNamespacedPersistentVolumeClaim({ namespace, name: "data-web-0" }))
      assert.strictEqual(claim.status?.phase, "Pending", "no provisioner: the claim stays Pending and the pod runs anyway")

      const set = yield* eventually(
        "StatefulSet web readyReplicas 1",
        Effect.flatMap(readStatefulSet(clients, namespace, "web"), (current) =>
          Effect.as(ensure(current.status?.readyReplicas === 1, () => `status ${JSON.stringify(current.status)}`), current)),
        { timeout: "10 seconds" }
      )
      assert.strictEqual(set.status?.availableReplicas, 1)
    }).pipe(Effect.scoped))

  it.effect("under OnDelete a template change keeps the pod (same UID); deleting it brings a new pod (new UID) with the new template", () =>
    Effect.gen(function*() {
      const plane = yield* WorkloadsPlane
      const clients = clientsOf(plane.kubeconfigPath)
      const namespace = yield* freshNamespace(clients, "workloads")
      yield* createStatefulSet(clients, namespace, statefulSetOf("web", "v1"))
      const first = yield* awaitReadyPod(clients, namespace, "web", { timeout: "30 seconds" })
      const firstUid = first.metadata?.uid ?? ""
      assert.notStrictEqual(firstUid, "")
      assert.strictEqual(configOf(first), "v1")

      // The controller has seen the new template once it names a new update revision.
      const changed = yield* setConfig(clients, namespace, "web", "v2")
      const set = yield* eventually(
        "StatefulSet web observes the new template",
        Effect.flatMap(readStatefulSet(clients, namespace, "web"), (current) =>
          Effect.as(
            ensure(
              current.status?.observedGeneration === changed.metadata?.generation &&
                current.status?.updateRevision !== undefined &&
                current.status.updateRevision !== current.status.currentRevision,
              () => `status ${JSON.stringify(current.status)}`
            ),
            current
          )),
        { timeout: "10 seconds" }
      )
      const newRevision = set.status?.updateRevision ?? ""
      yield* always(
        Effect.flatMap(readPod(clients, namespace, "web-0"), (pod) =>
          ensure(pod.metadata?.uid === firstUid && configOf(pod) === "v1", () => `web-0 is ${pod.metadata?.uid} with config ${configOf(pod)}`)),
        { during: "3 seconds", interval: "100 millis" }
      )

      const [recreatedMillis, second] = yield* timedMillis(
        Effect.andThen(deletePod(clients, namespace, "web-0"), awaitReadyPod(clients, namespace, "web", { timeout: "30 seconds", notUid: firstUid }))
      )
      yield* Effect.logInfo(`pod web-0 recreated Running and Ready ${recreatedMillis.toFixed(0)} ms after its deletion was requested`)
      assert.notStrictEqual(second.metadata?.uid, firstUid)
      assert.strictEqual(configOf(second), "v2")
      assert.strictEqual(second.metadata?.labels?.["controller-revision-hash"], newRevision)
      assert.deepStrictEqual(second.spec?.containers[0]?.env, [{ name: "DITTOFS_CONFIG", value: "v2" }])
    }).pipe(Effect.scoped))
})
