/**
 * Fault, end to end: the kube-apiserver is killed (SIGKILL) mid-run and started again on the
 * same etcd, on a control plane of the test's own. Meanwhile an adapter stops. The operator never
 * exits: its watches resume or relist, it converges (the stopped adapter's Service and
 * NetworkPolicy go, the other adapter's stay the same objects), it makes no duplicate, and it
 * still follows the next change.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes, Naming } from "@dittofs-operator/core"
import { Effect, Layer } from "effect"
import * as ControlPlane from "../../../../../scripts/launch/ControlPlane.ts"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import { awaitExposed, eventually, expectExposed, runOperator, setAdapterEnabled } from "./harness.ts"

describe("Fault: kube-apiserver restart", () => {
  it.live("the operator survives a killed kube-apiserver, converges once it is back, and makes no duplicates", () =>
    Effect.gen(function*() {
      const plane = yield* ControlPlane.start({ crdFiles: yield* ControlPlane.defaultCrdFiles })
      const clients = Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath }), DittoFsLive.layer())
      yield* Effect.gen(function*() {
        const namespace = "default"
        const dfs = yield* DittoFsServer.start({})
        yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
        const server = { namespace, name: "nas" }
        yield* runOperator({ kubeconfigPath: plane.kubeconfigPath, namespace })
        const before = yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")

        yield* plane.killApiServer
        yield* setAdapterEnabled(dfs, "smb", false)
        yield* Effect.sleep("5 seconds") // several polls and retries against a dead apiserver
        yield* plane.startApiServer

        const after = yield* awaitExposed(server, ["nfs"], "60 seconds")
        const nfs = (exposed: typeof before) => exposed.services.find((service) => service.metadata.name === "nas-adapter-nfs")?.metadata.uid
        assert.strictEqual(nfs(after), nfs(before), "nfs's Service is the same object")
        const kubernetes = yield* Kubernetes.Kubernetes
        const ours = { labelSelector: { [Naming.labels.instance]: "nas" } }
        const [services, secrets, statefulSets] = yield* Effect.all([
          kubernetes.list(Kubernetes.Resources.Service, namespace, ours),
          kubernetes.list(Kubernetes.Resources.Secret, namespace, ours),
          kubernetes.list(Kubernetes.Resources.StatefulSet, namespace)
        ])
        const names = (objects: ReadonlyArray<{ readonly metadata: { readonly name: string } }>) => objects.map((o) => o.metadata.name)
        assert.strictEqual(new Set(names(services)).size, services.length)
        assert.deepStrictEqual(names(statefulSets), [Naming.workloadNames("nas").statefulSet], "one StatefulSet")
        assert.strictEqual(secrets.filter((s) => s.metadata.name === Naming.workloadNames("nas").operatorCredentials).length, 1)

        // still running: the next change is followed
        yield* setAdapterEnabled(dfs, "smb", true)
        yield* eventually("smb back", expectExposed(server, ["nfs", "smb"]), { timeout: "30 seconds" })
      }).pipe(Effect.scoped, Effect.provide(clients))
    }).pipe(Effect.scoped), { timeout: 240_000 })
})
