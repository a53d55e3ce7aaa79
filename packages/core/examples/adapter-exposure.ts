/**
 * The core library end to end, on its in-memory layers: a DittoServer whose DittoFS reports an
 * NFS and an SMB adapter; one reconcile pass exposes both; SMB stops; the next pass removes its
 * Service and container port. Run: `node packages/core/examples/adapter-exposure.ts`.
 */
import { Console, Effect, Layer, Redacted, Schema } from "effect"
import { AdapterExposurePhase, DittoFs, DittoServer, EventRecorder, Kubernetes } from "@dittofs-operator/core"
import { DittoFsMemory, KubernetesMemory } from "@dittofs-operator/core/testing"

const baseUrl = "http://nas-api.storage.svc.cluster.local:8080"

const program = Effect.gen(function*() {
  const kubernetes = yield* Kubernetes.Kubernetes
  const dittofs = yield* DittoFs.DittoFs

  // A DittoServer as a user would apply it (defaults filled in by decoding), and its StatefulSet.
  const server = yield* kubernetes.create(
    Kubernetes.Resources.DittoServer,
    yield* Schema.decodeEffect(DittoServer.DittoServer)({
      apiVersion: "dittofs.dittofs.com/v1alpha1",
      kind: "DittoServer",
      metadata: { name: "nas", namespace: "storage" },
      spec: { storage: { metadataSize: "1Gi" }, adapterServices: { type: "NodePort" } }
    })
  )
  yield* kubernetes.create(Kubernetes.Resources.StatefulSet, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "nas", namespace: "storage" },
    spec: {
      selector: { matchLabels: { app: "dittofs-server", instance: "nas" } },
      template: {
        metadata: { labels: { app: "dittofs-server", instance: "nas" } },
        spec: { containers: [{ name: "dittofs", image: "marmos91c/dittofs:latest", ports: [{ name: "api", containerPort: 8080 }] }] }
      }
    }
  })

  const token = yield* dittofs.login(baseUrl, { username: "admin", password: Redacted.make("secret") })
  const session = { baseUrl, accessToken: token.access_token }
  const show = Effect.gen(function*() {
    const services = yield* kubernetes.list(Kubernetes.Resources.Service, "storage")
    const sts = yield* kubernetes.get(Kubernetes.Resources.StatefulSet, "storage", "nas")
    yield* Console.log("  Services:", services.map((s) => `${s.metadata.name} ${s.spec.type} :${s.spec.ports?.[0]?.port}`))
    yield* Console.log("  ports:   ", sts.spec.template.spec.containers[0]?.ports?.map((p) => p.name))
  })

  const first = yield* AdapterExposurePhase.reconcile(server, session)
  yield* Console.log(`pass 1: ${first.plan.services.length} Service change(s)`)
  yield* show

  yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, [
    { type: "nfs", enabled: true, running: true, port: 12049 },
    { type: "smb", enabled: false, running: false, port: 12445 }
  ])
  const second = yield* AdapterExposurePhase.reconcile(server, session)
  yield* Console.log(`pass 2: ${second.plan.services.map((c) => c.event.message).join("; ")}`)
  yield* show
})

const layers = Layer.mergeAll(
  Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer()),
  DittoFsMemory.layer({
    [baseUrl]: {
      adminPassword: "secret",
      adapters: [
        { type: "nfs", enabled: true, running: true, port: 12049 },
        { type: "smb", enabled: true, running: true, port: 12445 }
      ]
    }
  })
)

Effect.runPromise(Effect.provide(program, layers))
