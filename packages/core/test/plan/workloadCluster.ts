/**
 * The workload planner against the in-memory API server (`KubernetesMemory`, held to the same
 * contract suite as a real kube-apiserver): observe what the planner reads, apply what it plans
 * (with the API server's defaulting, allocation and immutability checks taking part), and the
 * stand-ins for the StatefulSet controller (observedGeneration, pods from the template).
 */
import { Effect, Option, Schema } from "effect"
import { Apply, DittoServer, type K8s, Kubernetes, Naming, type Ownership, Workload } from "../../src/index.ts"
import type { Resource } from "../../src/services/Kubernetes.ts"
import { KubernetesMemory } from "../../src/testing/index.ts"

export const namespace = "storage"
export const server: Ownership.ServerIdentity = { name: "ditto", namespace, uid: "uid-ditto" }
export const generated = { jwtSecret: "j".repeat(32), adminPassword: "p".repeat(24) }

export const controller = (identity: Ownership.ServerIdentity = server): K8s.OwnerReference => ({
  apiVersion: DittoServer.apiVersion,
  kind: DittoServer.kind,
  name: identity.name,
  uid: identity.uid,
  controller: true,
  blockOwnerDeletion: true
})

/** A decoded spec (CRD defaults applied) from the fields given; `storage.metadataSize` 1Gi. */
export const specOf = (fields: Record<string, unknown> = {}): DittoServer.Spec =>
  Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })

/** A fresh in-memory cluster for each test that provides it. */
export const layer = KubernetesMemory.layer()

const getOption = <A>(resource: Resource<A>, name: string) =>
  Kubernetes.Kubernetes.use((k) => k.get(resource, namespace, name)).pipe(
    Effect.asSome,
    Effect.catchIf((error: Kubernetes.KubernetesError) => error.reason === "NotFound", () => Effect.succeed(Option.none<A>()))
  )

export const observe = (identity: Ownership.ServerIdentity = server) =>
  Effect.gen(function*() {
    const names = Naming.workloadNames(identity.name)
    const kubernetes = yield* Kubernetes.Kubernetes
    return {
      configMap: yield* getOption(Kubernetes.Resources.ConfigMap, names.configMap),
      statefulSet: yield* getOption(Kubernetes.Resources.StatefulSet, names.statefulSet),
      services: yield* kubernetes.list(Kubernetes.Resources.Service, namespace),
      secrets: yield* kubernetes.list(Kubernetes.Resources.Secret, namespace),
      networkPolicies: yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, namespace),
      pods: yield* kubernetes.list(Kubernetes.Resources.Pod, namespace)
    } satisfies Workload.Observed
  })

/** Applies every change in the documented order; any rejected write fails the test. */
export const apply = (plan: Workload.Plan) =>
  Effect.gen(function*() {
    for (const change of plan.secrets) yield* Apply.change(Kubernetes.Resources.Secret, change)
    for (const change of plan.configMaps) yield* Apply.change(Kubernetes.Resources.ConfigMap, change)
    for (const change of plan.services) yield* Apply.change(Kubernetes.Resources.Service, change)
    for (const change of plan.statefulSets) yield* Apply.change(Kubernetes.Resources.StatefulSet, change)
    for (const change of plan.networkPolicies) yield* Apply.change(Kubernetes.Resources.NetworkPolicy, change)
    for (const change of plan.pods) yield* Apply.change(Kubernetes.Resources.Pod, change)
  })

export interface PassOptions {
  readonly identity?: Ownership.ServerIdentity
  readonly adapterPorts?: Option.Option<ReadonlyArray<K8s.ContainerPort>>
}

export const plan = (spec: DittoServer.Spec, options: PassOptions = {}) =>
  Effect.map(observe(options.identity), (observed) =>
    Workload.plan({
      server: options.identity ?? server,
      spec,
      adapterPorts: options.adapterPorts ?? Option.none(),
      observed,
      generated
    }))

/** Observe, plan, apply: one workload pass. Returns the plan it applied. */
export const pass = (spec: DittoServer.Spec, options: PassOptions = {}) =>
  Effect.tap(plan(spec, options), apply)

/** The StatefulSet controller has seen the latest spec. */
export const observeGeneration = (name = server.name) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const statefulSet = yield* kubernetes.get(Kubernetes.Resources.StatefulSet, namespace, Naming.workloadNames(name).statefulSet)
    return yield* kubernetes.updateStatus(Kubernetes.Resources.StatefulSet, {
      ...statefulSet,
      status: { ...statefulSet.status, observedGeneration: statefulSet.metadata.generation ?? 0 }
    })
  })

/** A pod the StatefulSet controller would create now, from the current template. */
export const createPod = (ordinal = 0, name = server.name) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const statefulSet = yield* kubernetes.get(Kubernetes.Resources.StatefulSet, namespace, Naming.workloadNames(name).statefulSet)
    const template = statefulSet.spec.template
    return yield* kubernetes.create(Kubernetes.Resources.Pod, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${statefulSet.metadata.name}-${ordinal}`,
        namespace,
        ...(template.metadata?.labels === undefined ? {} : { labels: template.metadata.labels }),
        ...(template.metadata?.annotations === undefined ? {} : { annotations: template.metadata.annotations }),
        ownerReferences: [{
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          name: statefulSet.metadata.name,
          uid: statefulSet.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true
        }]
      },
      spec: template.spec
    })
  })

/** The StatefulSet controller's answer to a pod deletion under OnDelete: the pod again, from the current template. */
export const recreateDeletedPods = Effect.gen(function*() {
  const pods = yield* Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Pod, namespace))
  if (pods.length === 0) yield* createPod(0)
})

export const get = <A>(resource: Resource<A>, name: string) => Kubernetes.Kubernetes.use((k) => k.get(resource, namespace, name))

export const list = <A>(resource: Resource<A>) => Kubernetes.Kubernetes.use((k) => k.list(resource, namespace))
