/**
 * A DittoServer on the in-memory layers: a KubernetesMemory cluster holding the DittoServer and
 * its StatefulSet, a DittoFsMemory server, and Events recorded into the cluster.
 */
import { Effect, Layer, Redacted, Schedule } from "effect"
import { type Adapter, AdapterExposurePhase, DittoFs, DittoServer, type K8s, Kubernetes } from "../../src/index.ts"
import * as EventRecorder from "../../src/services/EventRecorder.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { makeServer, makeStatefulSet, namespace } from "../fixtures.ts"

export const baseUrl = "http://ditto-api.storage.svc.cluster.local:8080"
export const admin = { username: "admin", password: "admin-secret" }
/** The admin as the DittoFs service takes it. */
export const adminCredentials = { username: admin.username, password: Redacted.make(admin.password) }

export const adapter = (type: string, port: number, enabled = true): Adapter.Adapter => ({
  type,
  port,
  enabled,
  running: enabled
})

export const testLayer = (adapters: ReadonlyArray<Adapter.Adapter> = [adapter("nfs", 12049)]) =>
  Layer.mergeAll(
    Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer()),
    DittoFsMemory.layer({ [baseUrl]: { adminUsername: admin.username, adminPassword: admin.password, adapters } })
  )

/** Creates the DittoServer and its StatefulSet in the cluster; returns the stored server. */
export const setup = (spec: Record<string, unknown> = {}, ports?: ReadonlyArray<K8s.ContainerPort>) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const server = yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* makeServer({ ...adminPasswordRef, ...spec }))
    yield* kubernetes.create(
      Kubernetes.Resources.StatefulSet,
      makeStatefulSet({ name: server.metadata.name, uid: server.metadata.uid ?? "" }, ports)
    )
    return server
  })

/** The user's Secret holding the DittoFS admin password (`adminSecret` creates it). */
export const adminSecretName = "ditto-admin"

/** The spec's reference to the admin password: the user supplies it, the operator generates none. */
export const adminPasswordRef = { identity: { admin: { passwordSecretRef: { name: adminSecretName, key: "password" } } } }

/**
 * Creates only the DittoServer, reading the admin password from the user's Secret: the
 * operator's pass makes its workload.
 */
export const setupServer = (spec: Record<string, unknown> = {}) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    Effect.flatMap(makeServer({ ...adminPasswordRef, ...spec }), (server) => kubernetes.create(Kubernetes.Resources.DittoServer, server)))

/**
 * Plays the StatefulSet controller's part that the in-memory cluster has not: the StatefulSet
 * `name` has seen its generation and has `ready` ready replicas.
 */
export const markReady = (name = "ditto", ready = 1) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    Effect.flatMap(kubernetes.get(Kubernetes.Resources.StatefulSet, namespace, name), (sts) =>
      kubernetes.updateStatus(Kubernetes.Resources.StatefulSet, {
        ...sts,
        status: {
          ...sts.status,
          observedGeneration: sts.metadata.generation ?? 1,
          replicas: ready,
          readyReplicas: ready,
          availableReplicas: ready
        }
      })))

export const login = Effect.gen(function*() {
  const dittofs = yield* DittoFs.DittoFs
  const token = yield* dittofs.login(baseUrl, adminCredentials)
  return { baseUrl, accessToken: token.access_token } satisfies AdapterExposurePhase.DittoFsSession
})

/** One pass with a fresh read of the DittoServer, as the controller does. */
export const reconcileOnce = (name: string, session: AdapterExposurePhase.DittoFsSession) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, name)
    return yield* AdapterExposurePhase.reconcile(server, session)
  })

/** Reconciles forever, sleeping what each outcome's Action says (a minimal controller loop). */
export const reconcileLoop = (name: string, session: AdapterExposurePhase.DittoFsSession) =>
  reconcileOnce(name, session).pipe(
    Effect.flatMap((outcome) => outcome.action._tag === "Requeue" ? Effect.sleep(outcome.action.after) : Effect.never),
    Effect.repeat(Schedule.forever)
  )

export const services = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Service, namespace))
/** The adapter Services only (not the workload's headless and API Services). */
export const adapterServices = Kubernetes.Kubernetes.use((k) =>
  k.list(Kubernetes.Resources.Service, namespace, { labelSelector: { "dittofs.io/adapter-service": "true" } }))
export const policies = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.NetworkPolicy, namespace))
export const events = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Event, namespace))
export const statefulSet = (name: string) =>
  Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.StatefulSet, namespace, name))
export const containerPorts = (name: string) =>
  Effect.map(statefulSet(name), (sts) => sts.spec.template.spec.containers[0]?.ports ?? [])

export const pollingInterval = (server: DittoServer.DittoServer) => DittoServer.pollingInterval(server.spec)

/** The user's admin-password Secret (`adminPasswordRef`) the operator provisions its account with. */
export const adminSecret = (password = admin.password, name = adminSecretName) =>
  Kubernetes.Kubernetes.use((k) =>
    k.create(Kubernetes.Resources.Secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace },
      data: {
        username: Buffer.from(admin.username).toString("base64"),
        password: Buffer.from(password).toString("base64")
      }
    })
  )

/**
 * The cluster's `Kubernetes` service as it is, except that every status patch sent through
 * `counting` is recorded in `patches`: "no write" is then something a test can see even where the
 * API server would not bump the resourceVersion of a patch that changes nothing.
 */
export const countingStatusPatches = Kubernetes.Kubernetes.use((memory) => {
  const patches: Array<unknown> = []
  const counting = Kubernetes.Kubernetes.of({
    ...memory,
    patchStatus: (resource, previous, next) => Effect.andThen(Effect.sync(() => patches.push(next)), memory.patchStatus(resource, previous, next))
  })
  return Effect.succeed({ counting, patches })
})
