/**
 * The workload, end to end, on a control plane that runs pods (statefulset controller,
 * kube-scheduler, kwok): apply one DittoServer with only its storage set (and the admin password
 * of the local `dfs` that plays the server) and the operator makes the whole workload, owned and
 * labelled as the reference's; the pod `nas-0` runs; an adapter toggle changes the Services, the
 * NetworkPolicies and the StatefulSet's declared ports with exactly one StatefulSet write and
 * **no pod recreated**; a configuration change recreates the pod exactly once; deleting the
 * DittoServer removes the operator's DittoFS account and, through the real garbage collector,
 * everything it owned.
 */
import { assert, layer } from "@effect/vitest"
import { DittoFs, type K8s, Kubernetes, Naming } from "@dittofs-operator/core"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import { WorkloadsPlane } from "../WorkloadsPlane.ts"
import {
  adapterPolls,
  awaitExposed,
  awaitPolls,
  credentialsSecret,
  dittoServer,
  ensure,
  eventually,
  expectCondition,
  expectGone,
  freshNamespace,
  modify,
  portNames,
  runOperator,
  secretValue,
  setAdapterEnabled,
  statefulSet,
  writeCounter
} from "./harness.ts"

const pod = (namespace: string) =>
  Kubernetes.Kubernetes.use((k) =>
    k.get(Kubernetes.Resources.Pod, namespace, "nas-0").pipe(
      Effect.asSome,
      Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeedNone)
    ))

const isReady = (current: K8s.Pod): boolean =>
  current.metadata.deletionTimestamp === undefined
  && (current.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")

/** Waits for a Running and Ready `nas-0` (other than `notUid`); returns its uid. */
const readyPod = (namespace: string, notUid?: string) =>
  eventually(
    `pod nas-0 Ready${notUid === undefined ? "" : " (a new one)"}`,
    Effect.flatMap(pod(namespace), (current) =>
      Effect.as(
        ensure(
          Option.isSome(current) && isReady(current.value) && current.value.metadata.uid !== notUid,
          () => `pod ${JSON.stringify(Option.map(current, (p) => [p.metadata.uid, p.status]))}`
        ),
        Option.match(current, { onNone: () => "", onSome: (p) => p.metadata.uid ?? "" })
      )),
    { timeout: "60 seconds", interval: "100 millis" }
  )

const ownedBy = (object: { readonly metadata: K8s.ObjectMeta }, uid: string) =>
  (object.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.kind === "DittoServer" && ref.uid === uid)

layer(WorkloadsPlane.layer, { excludeTestServices: true, timeout: "2 minutes" })("the workload on a plane that runs pods", (it) => {
  it.effect("apply a DittoServer: the whole workload, pod Running; adapter toggles recreate no pod; a config change recreates it once; deletion cleans up", () =>
    Effect.gen(function*() {
      const plane = yield* WorkloadsPlane
      const clients = Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath }), DittoFsLive.layer())
      yield* Effect.gen(function*() {
        const kubernetes = yield* Kubernetes.Kubernetes
        const namespace = yield* freshNamespace("e2e-workload")
        const dfs = yield* DittoFsServer.start({})
        const writes = yield* writeCounter
        const applied = yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
        const uid = applied.metadata.uid ?? ""
        yield* runOperator({ kubeconfigPath: plane.kubeconfigPath, namespace, wrap: writes.wrap })
        const suite = { namespace, name: "nas", dfs }

        // 1. The whole workload, owned and labelled; the pod runs; the server is Ready.
        const firstPod = yield* readyPod(namespace)
        yield* awaitExposed(suite, ["nfs", "smb"], "30 seconds")
        yield* eventually("Ready", expectCondition(suite, "Ready", "True"), { timeout: "30 seconds" })
        const names = Naming.workloadNames("nas")
        const configMap = yield* kubernetes.get(Kubernetes.Resources.ConfigMap, namespace, names.configMap)
        const jwt = yield* kubernetes.get(Kubernetes.Resources.Secret, namespace, names.jwtSecret)
        const headless = yield* kubernetes.get(Kubernetes.Resources.Service, namespace, names.headlessService)
        const api = yield* kubernetes.get(Kubernetes.Resources.Service, namespace, names.apiService)
        const baseline = yield* kubernetes.get(Kubernetes.Resources.NetworkPolicy, namespace, names.baselineNetworkPolicy)
        const sts = yield* statefulSet(suite)
        for (const object of [configMap, jwt, headless, api, baseline, sts]) {
          assert.isTrue(ownedBy(object, uid), `${object.kind} ${object.metadata.name} is owned by the DittoServer`)
        }
        assert.isDefined(configMap.data?.["config.yaml"])
        assert.strictEqual(api.spec.type, "ClusterIP")
        assert.strictEqual(headless.spec.clusterIP, "None")
        assert.deepStrictEqual(sts.spec.selector?.matchLabels, { app: "dittofs-server", instance: "nas" })
        assert.strictEqual(sts.spec.updateStrategy?.type, "OnDelete")
        assert.deepStrictEqual(portNames(sts), ["api", "adapter-nfs", "adapter-smb"])
        const server = yield* dittoServer(suite)
        assert.strictEqual(server.status?.phase, "Running")
        assert.strictEqual(server.status?.readyReplicas, 1)
        assert.strictEqual(server.status?.configHash, sts.spec.template.metadata?.annotations?.[Naming.annotations.configHash])

        // 2. Adapter toggles: one StatefulSet write each, the pod never recreated.
        for (const [type, enabled, expected] of [
          ["smb", false, ["api", "adapter-nfs"]],
          ["smb", true, ["api", "adapter-nfs", "adapter-smb"]]
        ] as const) {
          const before = yield* writes.snapshot
          yield* setAdapterEnabled(dfs, type, enabled)
          yield* eventually(
            `ports ${expected.join(",")}`,
            Effect.flatMap(statefulSet(suite), (current) =>
              ensure(JSON.stringify(portNames(current)) === JSON.stringify(expected), () => `ports ${JSON.stringify(portNames(current))}`)),
            { timeout: "10 seconds" }
          )
          yield* awaitExposed(suite, enabled ? ["nfs", "smb"] : ["nfs"], "10 seconds")
          yield* awaitPolls(dfs, yield* adapterPolls(dfs), 3, "15 seconds")
          const after = yield* writes.snapshot
          assert.strictEqual((after.get("update StatefulSet") ?? 0) - (before.get("update StatefulSet") ?? 0), 1, "one StatefulSet write")
          const current = yield* pod(namespace)
          assert.strictEqual(Option.getOrUndefined(current)?.metadata.uid, firstPod, "the pod was not recreated")
          assert.isUndefined(after.get("delete Pod"), "no pod deleted")
        }

        // 3. A configuration change (metrics on): the pod is recreated exactly once.
        yield* modify(Kubernetes.Resources.DittoServer, namespace, "nas", (current) => ({
          ...current,
          spec: { ...current.spec, metrics: { ...current.spec.metrics, enabled: true } }
        }))
        const secondPod = yield* readyPod(namespace, firstPod)
        yield* awaitPolls(dfs, yield* adapterPolls(dfs), 5, "20 seconds")
        assert.strictEqual(Option.getOrUndefined(yield* pod(namespace))?.metadata.uid, secondPod, "recreated once, not again")
        assert.strictEqual((yield* writes.snapshot).get("delete Pod"), 1)
        assert.deepStrictEqual(portNames(yield* statefulSet(suite)), ["api", "metrics", "adapter-nfs", "adapter-smb"])

        // 4. Deletion: the operator account goes from DittoFS, then everything the server owned.
        const credentials = yield* credentialsSecret(suite)
        const password = Redacted.make(secretValue(credentials, "password") ?? "")
        const username = `k8s-operator.${namespace}.nas`
        assert.strictEqual(secretValue(credentials, "username"), username, "the server's own account")
        const dittofs = yield* DittoFs.DittoFs
        yield* dittofs.login(dfs.baseUrl, { username, password })
        yield* kubernetes.delete(Kubernetes.Resources.DittoServer, namespace, "nas")
        const gone = <A>(resource: Parameters<typeof expectGone<A>>[0], name: string) =>
          eventually(`${resource.kind} ${name} gone`, expectGone(resource, namespace, name), { timeout: "30 seconds" })
        yield* gone(Kubernetes.Resources.DittoServer, "nas")
        const refused = yield* Effect.flip(dittofs.login(dfs.baseUrl, { username, password }))
        assert.strictEqual(refused.reason, "Unauthorized", "the operator account was deleted")
        yield* gone(Kubernetes.Resources.StatefulSet, "nas")
        yield* gone(Kubernetes.Resources.ConfigMap, names.configMap)
        yield* gone(Kubernetes.Resources.Service, names.apiService)
        yield* gone(Kubernetes.Resources.Service, "nas-adapter-nfs")
        yield* gone(Kubernetes.Resources.NetworkPolicy, names.baselineNetworkPolicy)
        const all = yield* writes.snapshot
        yield* Effect.logInfo(`workload e2e: writes ${JSON.stringify([...all])}`)
        // Status goes as merge patches, which carry no resourceVersion: none can be refused as stale.
        const statusWrites = [...all].filter(([key]) => key.includes("DittoServer/status"))
        assert.isAbove(all.get("patch DittoServer/status") ?? 0, 2, "the status was patched as the server went through its phases")
        assert.deepStrictEqual(statusWrites.filter(([key]) => key !== "patch DittoServer/status"), [], "every status write a patch, none refused")
      }).pipe(Effect.scoped, Effect.provide(clients))
    }), Duration.toMillis(Duration.minutes(3)))
})
