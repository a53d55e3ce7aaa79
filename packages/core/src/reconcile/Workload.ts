/**
 * The workload phase of a DittoServer pass: observe the server's ConfigMap, Secrets, Services,
 * StatefulSet, baseline NetworkPolicy and pods; plan them from the spec (`Workload.plan`) with the
 * running adapters' container ports; apply; and say what it saw as status facts.
 *
 * Contract:
 * - It is the only writer of the StatefulSet: a spec change and an adapter-port change land in
 *   the same single write. Without a successful poll the StatefulSet keeps the adapter ports it
 *   has (nothing is removed on the strength of a failed poll).
 * - It runs whether DittoFS answers or not: a server that has not started yet is still created.
 * - Objects of our names that belong to something else are never written: each is reported
 *   with a Warning Event `ForeignObject` (repeats are counted on one Event) and a False
 *   `WorkloadSynced` condition, and the rest of the workload is still applied. A change
 *   Kubernetes forbids (an immutable field) is reported the same way (`ChangeBlocked`).
 * - The objects a pass creates are announced by one Event (`Workload.creationsEvent`:
 *   `WorkloadCreated` listing them, or the creation's own Event when there is one); updates,
 *   deletes and failures have an Event each.
 * - Random values for generated Secrets are drawn here, used only when the Secret is missing.
 * - Facts: `ConfigReady` (the ConfigMap holds the rendered configuration), `WorkloadSynced`,
 *   `Available` (a ready replica, `Stopped` at 0 replicas) and `Progressing` (pods being created or
 *   restarted); the replica counts and the config hash go to the status.
 */
import { Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import type * as Adapter from "../domain/Adapter.ts"
import type * as DittoServer from "../domain/DittoServer.ts"
import { referenceTo, type StatefulSet } from "../domain/Kubernetes.ts"
import * as ActiveAdapters from "../plan/ActiveAdapters.ts"
import { reservedPorts } from "../plan/AdapterExposure.ts"
import type { Finding } from "../plan/Change.ts"
import * as ContainerPorts from "../plan/ContainerPorts.ts"
import { selectorLabels, workloadNames } from "../plan/Naming.ts"
import { identityOf, type ServerIdentity } from "../plan/Ownership.ts"
import * as ServerSecrets from "../plan/ServerSecrets.ts"
import type * as Status from "../plan/Status.ts"
import * as Workload from "../plan/Workload.ts"
import { Events } from "../services/Events.ts"
import { Kubernetes, type KubernetesError, type Resource, Resources } from "../services/Kubernetes.ts"
import * as Apply from "./Apply.ts"
import { ApplyFailed, ObserveFailed, type PhaseError } from "./PassError.ts"

/** Reads one object by name; absent is `None`. */
const find = <A>(resource: Resource<A>, namespace: string, name: string) =>
  Kubernetes.use((kubernetes) =>
    kubernetes.get(resource, namespace, name).pipe(
      Effect.asSome,
      Effect.catchIf((error: KubernetesError) => error.reason === "NotFound", () => Effect.succeedNone)
    )
  )

/** Reads the objects a server's workload consists of, by their names (and its pods by label). */
export const observeWorkload = (server: ServerIdentity): Effect.Effect<Workload.Observed, KubernetesError, Kubernetes> =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    const names = workloadNames(server.name)
    const { namespace } = server
    const [configMap, statefulSet, services, secrets, networkPolicy, pods] = yield* Effect.all([
      find(Resources.ConfigMap, namespace, names.configMap),
      find(Resources.StatefulSet, namespace, names.statefulSet),
      Effect.forEach([names.headlessService, names.apiService, names.metricsService], (name) => find(Resources.Service, namespace, name)),
      Effect.forEach([names.jwtSecret, names.adminCredentials], (name) => find(Resources.Secret, namespace, name)),
      find(Resources.NetworkPolicy, namespace, names.baselineNetworkPolicy),
      kubernetes.list(Resources.Pod, namespace, { labelSelector: selectorLabels(server.name) })
    ], { concurrency: 6 })
    return {
      configMap,
      statefulSet,
      services: services.flatMap(Option.toArray),
      secrets: secrets.flatMap(Option.toArray),
      networkPolicies: Option.toArray(networkPolicy),
      pods
    }
  })

const generate = Effect.sync(() => ServerSecrets.generatedFrom(randomBytes(ServerSecrets.randomBytesNeeded)))

/** Several messages in one condition message. */
const listed = (messages: ReadonlyArray<string>): string => messages.join("; ")

const describeFindings = (findings: ReadonlyArray<Finding>): string => listed(findings.map((finding) => finding.message))

/** What the status learns of the workload. */
export interface WorkloadStatus {
  readonly replicas: number
  readonly readyReplicas: number
  readonly availableReplicas: number
  readonly configHash: string
  /** Something of ours is held by another owner, or a wanted change is forbidden: a human must act. */
  readonly stuck: boolean
}

export interface WorkloadOutcome {
  readonly facts: ReadonlyArray<Status.ConditionFact>
  readonly errors: ReadonlyArray<PhaseError>
  readonly status: Option.Option<WorkloadStatus>
  readonly plan: Option.Option<Workload.Plan>
}

const availability = (spec: DittoServer.Spec, statefulSet: Option.Option<StatefulSet>): Status.ConditionFact => {
  if (spec.replicas === 0) return { type: "Available", status: "False", reason: "Stopped", message: "spec.replicas is 0" }
  const ready = Option.match(statefulSet, { onNone: () => 0, onSome: (sts) => sts.status?.readyReplicas ?? 0 })
  return ready >= 1
    ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: `${ready} ready replica(s)` }
    : { type: "Available", status: "False", reason: "NoReplicasAvailable", message: "no ready replica yet" }
}

const progressing = (
  spec: DittoServer.Spec,
  statefulSet: Option.Option<StatefulSet>,
  plan: Workload.Plan
): Status.ConditionFact => {
  const ready = Option.match(statefulSet, { onNone: () => 0, onSome: (sts) => sts.status?.readyReplicas ?? 0 })
  const generationSeen = Option.exists(statefulSet, (sts) => (sts.status?.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0))
  if (plan.statefulSets.length > 0 || !generationSeen) {
    return { type: "Progressing", status: "True", reason: "StatefulSetUpdating", message: "the StatefulSet is being created or updated" }
  }
  if (plan.pods.length > 0) {
    return { type: "Progressing", status: "True", reason: "RestartingPods", message: listed(plan.pods.map((change) => change.event.message)) }
  }
  if (ready < spec.replicas) {
    return { type: "Progressing", status: "True", reason: "ScalingReplicas", message: `${ready} of ${spec.replicas} replica(s) ready` }
  }
  return { type: "Progressing", status: "False", reason: "ReconcileComplete", message: "the workload is up to date" }
}

export const reconcileWorkload = Effect.fn("reconcileWorkload")(function*(
  server: DittoServer.DittoServer,
  adapters: Option.Option<Adapter.List>
): Effect.fn.Return<WorkloadOutcome, never, Kubernetes | Events> {
  const events = yield* Events
  const identity = identityOf(server)
  const observed = yield* Effect.result(observeWorkload(identity))
  if (observed._tag === "Failure") {
    return {
      facts: [{ type: "WorkloadSynced", status: "False", reason: "ObserveFailed", message: observed.failure.message }],
      errors: [new ObserveFailed({ error: observed.failure })],
      status: Option.none(),
      plan: Option.none()
    }
  }
  const active = Option.map(adapters, (list) =>
    ActiveAdapters.select(list.adapters, { reservedPorts: reservedPorts(server.spec, observed.success.statefulSet) }).active)
  const plan = Workload.plan({
    server: identity,
    spec: server.spec,
    adapterPorts: Option.map(active, (running) => running.map(ContainerPorts.ofAdapter)),
    observed: observed.success,
    generated: yield* generate
  })

  const regarding = referenceTo(server)
  const applied: ReadonlyArray<Apply.Applied> = [
    yield* Apply.applyCollectingCreations(Resources.Secret, regarding, plan.secrets, "ReconcileFailed"),
    yield* Apply.applyCollectingCreations(Resources.ConfigMap, regarding, plan.configMaps, "ReconcileFailed"),
    yield* Apply.applyCollectingCreations(Resources.Service, regarding, plan.services, "ReconcileFailed"),
    yield* Apply.applyCollectingCreations(Resources.StatefulSet, regarding, plan.statefulSets, "ReconcileFailed"),
    yield* Apply.applyCollectingCreations(Resources.NetworkPolicy, regarding, plan.networkPolicies, "ReconcileFailed"),
    yield* Apply.applyCollectingCreations(Resources.Pod, regarding, plan.pods, "ReconcileFailed")
  ]
  const failures = applied.flatMap((kind) => kind.failures)
  const created = Workload.creationsEvent(applied.flatMap((kind) => kind.creations))
  if (Option.isSome(created)) yield* events.emit(regarding, created.value)
  for (const finding of plan.foreign) {
    yield* events.emit(regarding, { type: "Warning", reason: "ForeignObject", message: finding.message })
  }
  for (const finding of plan.blocked) {
    yield* events.emit(regarding, { type: "Warning", reason: "ChangeBlocked", message: finding.message })
  }

  const configForeign = plan.foreign.filter((finding) => finding.kind === "ConfigMap")
  const configFailed = failures.filter((failure) => failure.kind === "ConfigMap")
  const configReady: Status.ConditionFact = configForeign.length > 0
    ? { type: "ConfigReady", status: "False", reason: "ForeignObject", message: describeFindings(configForeign) }
    : configFailed.length > 0
    ? { type: "ConfigReady", status: "False", reason: "ApplyFailed", message: listed(configFailed.map((f) => `${f.error.reason}: ${f.error.message}`)) }
    : { type: "ConfigReady", status: "True", reason: "ConfigValid", message: `config.yaml ${plan.configHash.slice(0, 12)}` }
  const synced: Status.ConditionFact = plan.foreign.length > 0
    ? { type: "WorkloadSynced", status: "False", reason: "ForeignObjects", message: describeFindings(plan.foreign) }
    : plan.blocked.length > 0
    ? { type: "WorkloadSynced", status: "False", reason: "ChangeBlocked", message: describeFindings(plan.blocked) }
    : failures.length > 0
    ? { type: "WorkloadSynced", status: "False", reason: "ApplyFailed", message: listed(failures.map((f) => `${f.change} ${f.kind} ${f.name}: ${f.error.reason}`)) }
    : { type: "WorkloadSynced", status: "True", reason: "WorkloadSynced", message: "every workload object is as the spec says" }

  const statefulSet = observed.success.statefulSet
  const counts = Option.match(statefulSet, {
    onNone: () => ({ readyReplicas: 0, availableReplicas: 0 }),
    onSome: (sts) => ({ readyReplicas: sts.status?.readyReplicas ?? 0, availableReplicas: sts.status?.availableReplicas ?? 0 })
  })
  return {
    facts: [configReady, synced, availability(server.spec, statefulSet), progressing(server.spec, statefulSet, plan)],
    errors: failures.length > 0 ? [new ApplyFailed({ failures })] : [],
    status: Option.some({
      replicas: server.spec.replicas,
      ...counts,
      configHash: plan.configHash,
      stuck: plan.foreign.length > 0 || plan.blocked.length > 0
    }),
    plan: Option.some(plan)
  }
})
