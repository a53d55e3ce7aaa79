/**
 * The whole workload of one DittoServer, planned from its spec and what is observed: the
 * ConfigMap, the generated Secrets, the headless, API and metrics Services, the StatefulSet, the
 * baseline NetworkPolicy, and the managed pod restarts.
 *
 * Contract (total, pure, never mutates its input):
 * - Ownership: an observed object with one of the workload's names (`Naming.workloadNames`)
 *   whose controller owner reference is this server's uid is the server's, whoever created it
 *   (the reference operator, an older version, a user): it is updated IN PLACE, never deleted
 *   and recreated. Any other object of such a name is foreign: never written, listed in
 *   `foreign`; the rest of the workload is still planned. An object of ours being deleted is
 *   left alone (it is created again once gone).
 * - Writes never clobber others' fields: an update is the observed object with only the
 *   operator's fields laid over it (see each kind's module), and is planned only when that
 *   differs canonically from the observed object — a converged workload plans nothing, and an
 *   object the API server defaulted does not look drifted.
 * - Wanted changes Kubernetes forbids (immutable fields) are listed in `blocked`, never written.
 * - Everything created carries the server's controller owner reference, so the garbage
 *   collector removes it with the server.
 * - Managed restarts (`ManagedRestarts`): a pod is restarted only when its restart hash is not
 *   the template's, once the StatefulSet (and the ConfigMap it mounts) need no change, so an
 *   adapter-port change never restarts the server.
 * - Apply order: Secrets and the ConfigMap before the StatefulSet (its pods read them), the
 *   Services and the NetworkPolicy in any order, pod deletes last.
 */
import { Option } from "effect"
import type * as DittoServer from "../domain/DittoServer.ts"
import type {
  ConfigMap,
  ContainerPort,
  NetworkPolicy,
  ObjectMeta,
  Pod,
  Secret,
  Service,
  StatefulSet
} from "../domain/Kubernetes.ts"
import * as BaselineNetworkPolicy from "./BaselineNetworkPolicy.ts"
import type * as Change from "./Change.ts"
import * as ConfigFile from "./ConfigFile.ts"
import * as ManagedRestarts from "./ManagedRestarts.ts"
import { workloadNames } from "./Naming.ts"
import { differs } from "./OwnedFields.ts"
import { claim, type ServerIdentity } from "./Ownership.ts"
import * as ServerConfigMap from "./ServerConfigMap.ts"
import * as ServerSecrets from "./ServerSecrets.ts"
import * as ServerServices from "./ServerServices.ts"
import * as ServerStatefulSet from "./ServerStatefulSet.ts"

/**
 * What the cluster holds of a server's workload: its ConfigMap, StatefulSet, Services, Secrets,
 * NetworkPolicies and pods.
 */
export interface Observed {
  readonly configMap: Option.Option<ConfigMap>
  readonly statefulSet: Option.Option<StatefulSet>
  readonly services: ReadonlyArray<Service>
  readonly secrets: ReadonlyArray<Secret>
  readonly networkPolicies: ReadonlyArray<NetworkPolicy>
  readonly pods: ReadonlyArray<Pod>
}

/**
 * What the workload is planned from: the server, its spec, the adapter ports to declare, the
 * generated secrets and the observed objects.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  /**
   * The adapter container ports to declare: `Some` from a successful poll, or `None` to keep the
   * observed StatefulSet's `adapter-*` ports.
   */
  readonly adapterPorts: Option.Option<ReadonlyArray<ContainerPort>>
  readonly observed: Observed
  /** Random values for Secrets this pass may create (`ServerSecrets.generatedFrom`). */
  readonly generated: ServerSecrets.Generated
}

/**
 * The workload plan, kind by kind, with the foreign objects and the blocked changes reported and
 * the configuration hash.
 */
export interface Plan {
  readonly configMaps: Change.Plan<ConfigMap>
  readonly secrets: Change.Plan<Secret>
  readonly services: Change.Plan<Service>
  readonly statefulSets: Change.Plan<StatefulSet>
  readonly networkPolicies: Change.Plan<NetworkPolicy>
  /** Deletes only: the managed restarts. */
  readonly pods: Change.Plan<Pod>
  /** Objects of the workload's names the server does not control: left untouched. */
  readonly foreign: ReadonlyArray<Change.Finding>
  /** Wanted changes Kubernetes forbids (immutable fields): not planned. */
  readonly blocked: ReadonlyArray<Change.Finding>
  /** SHA-256 of the rendered `config.yaml`: the pod template's `dittofs.io/config-hash`. */
  readonly configHash: string
}

/** Whether the plan changes nothing in the cluster. */
export const isEmpty = (plan: Plan): boolean =>
  [plan.configMaps, plan.secrets, plan.services, plan.statefulSets, plan.networkPolicies, plan.pods]
    .every((changes) => changes.length === 0)

interface Overlaid<A> {
  readonly object: A
  readonly blocked: ReadonlyArray<Change.Finding>
}

/** How one object of the workload is kept: its name, whether it is wanted, how it is built. */
interface ObjectRules<A> {
  readonly kind: string
  readonly name: string
  readonly wanted: boolean
  readonly desired: () => A
  readonly overlay: (observed: A) => Overlaid<A>
  readonly created: (object: A) => Change.EventNote
  readonly updated: (observed: A, next: A) => Change.EventNote
  /** The Event of deleting it when it is no longer wanted; without it, it is left alone. */
  readonly deleted?: (observed: A) => Change.EventNote
}

interface ObjectOutcome<A> {
  readonly changes: Change.Plan<A>
  readonly foreign: ReadonlyArray<Change.Finding>
  readonly blocked: ReadonlyArray<Change.Finding>
  /** The observed object when it is the server's (terminating or not). */
  readonly ours: Option.Option<A>
}

const controllerOf = (metadata: ObjectMeta): string => {
  const controller = (metadata.ownerReferences ?? []).find((ref) => ref.controller === true)
  return controller === undefined ? "no controller" : `controlled by ${controller.kind} ${controller.name} (uid ${controller.uid})`
}

const planObject = <A extends { readonly metadata: ObjectMeta }>(
  server: ServerIdentity,
  observed: ReadonlyArray<A>,
  rules: ObjectRules<A>
): ObjectOutcome<A> => {
  const found = claim(observed, rules.name, server)
  const nothing = { changes: [], foreign: [], blocked: [] }
  switch (found._tag) {
    case "Absent": {
      if (!rules.wanted) return { ...nothing, ours: Option.none() }
      const object = rules.desired()
      return { ...nothing, changes: [{ _tag: "Create", object, event: rules.created(object) }], ours: Option.none() }
    }
    case "Foreign":
      return {
        ...nothing,
        foreign: rules.wanted
          ? [{
            kind: rules.kind,
            name: rules.name,
            message: `${rules.kind} ${rules.name} exists with ${controllerOf(found.object.metadata)}, not DittoServer ${server.name}; left untouched`
          }]
          : [],
        ours: Option.none()
      }
    case "Terminating":
      return { ...nothing, ours: Option.some(found.object) }
    case "Ours": {
      const ours = Option.some(found.object)
      if (!rules.wanted) {
        return rules.deleted === undefined
          ? { ...nothing, ours }
          : { ...nothing, changes: [{ _tag: "Delete", object: found.object, event: rules.deleted(found.object) }], ours }
      }
      const { blocked, object } = rules.overlay(found.object)
      const changes: Change.Plan<A> = differs(found.object, object)
        ? [{ _tag: "Update", object, event: rules.updated(found.object, object) }]
        : []
      return { changes, foreign: [], blocked, ours }
    }
  }
}

const combine = <A>(outcomes: ReadonlyArray<ObjectOutcome<A>>) => ({
  changes: outcomes.flatMap((outcome) => outcome.changes),
  foreign: outcomes.flatMap((outcome) => outcome.foreign),
  blocked: outcomes.flatMap((outcome) => outcome.blocked)
})

const unblocked = <A>(object: A): Overlaid<A> => ({ object, blocked: [] })

/**
 * Plans the whole workload from the spec: creates what is missing, lays the operator's fields over
 * what it owns, reports foreign objects and changes Kubernetes forbids, and plans managed restarts.
 * Total and pure.
 */
export const plan = (input: Input): Plan => {
  const { generated, server, spec } = input
  const names = workloadNames(server.name)
  const config = ConfigFile.render(spec)

  const configMapInput = { server, name: names.configMap, config }
  const configMap = planObject(server, Option.toArray(input.observed.configMap), {
    kind: ServerConfigMap.kind,
    name: names.configMap,
    wanted: true,
    desired: () => ServerConfigMap.desired(configMapInput),
    overlay: (observed) => unblocked(ServerConfigMap.overlay(configMapInput, observed)),
    created: ServerConfigMap.createdEvent,
    updated: ServerConfigMap.updatedEvent
  })

  const secretsInput = { server, spec, names, generated }
  const secrets = combine((["jwt", "admin"] as const).map((role) =>
    planObject(server, input.observed.secrets, {
      kind: ServerSecrets.kind,
      name: ServerSecrets.nameOf(names, role),
      wanted: ServerSecrets.wanted(spec, role),
      desired: () => ServerSecrets.desired(secretsInput, role),
      overlay: (observed) => unblocked(ServerSecrets.overlay(secretsInput, role, observed)),
      created: (secret) => ServerSecrets.createdEvent(role, secret),
      updated: (observed) => ServerSecrets.updatedEvent(secretsInput, role, observed)
    })
  ))

  const servicesInput = { server, spec, names }
  const services = combine((["headless", "api", "metrics"] as const).map((role) =>
    planObject(server, input.observed.services, {
      kind: ServerServices.kind,
      name: ServerServices.nameOf(names, role),
      wanted: ServerServices.wanted(spec, role),
      desired: () => ServerServices.desired(servicesInput, role),
      overlay: (observed) => ServerServices.overlay(servicesInput, role, observed),
      created: ServerServices.createdEvent,
      updated: ServerServices.updatedEvent,
      deleted: ServerServices.deletedEvent
    })
  ))

  const statefulSetInput = { server, spec, names, configHash: config.hash, adapterPorts: input.adapterPorts }
  const statefulSet = planObject(server, Option.toArray(input.observed.statefulSet), {
    kind: ServerStatefulSet.kind,
    name: names.statefulSet,
    wanted: true,
    desired: () => ServerStatefulSet.desired(statefulSetInput),
    overlay: (observed) => ServerStatefulSet.overlay(statefulSetInput, observed),
    created: ServerStatefulSet.createdEvent,
    updated: (observed, next) => ServerStatefulSet.updatedEvent(statefulSetInput, observed, next)
  })

  const baselineInput = { server, spec, name: names.baselineNetworkPolicy }
  const networkPolicy = planObject(server, input.observed.networkPolicies, {
    kind: BaselineNetworkPolicy.kind,
    name: names.baselineNetworkPolicy,
    wanted: true,
    desired: () => BaselineNetworkPolicy.desired(baselineInput),
    overlay: (observed) => unblocked(BaselineNetworkPolicy.overlay(baselineInput, observed)),
    created: BaselineNetworkPolicy.createdEvent,
    updated: BaselineNetworkPolicy.updatedEvent
  })

  // a pod recreated now must find the StatefulSet and the ConfigMap it mounts as wanted
  const settled = statefulSet.changes.length === 0 && configMap.changes.length === 0
  const pods = ManagedRestarts.plan({
    strategy: spec.rollout.strategy,
    statefulSet: settled ? Option.filter(statefulSet.ours, (observed) => observed.metadata.deletionTimestamp === undefined) : Option.none(),
    pods: input.observed.pods
  })

  const all = [configMap, secrets, services, statefulSet, networkPolicy]
  return {
    configMaps: configMap.changes,
    secrets: secrets.changes,
    services: services.changes,
    statefulSets: statefulSet.changes,
    networkPolicies: networkPolicy.changes,
    pods,
    foreign: all.flatMap((outcome) => outcome.foreign),
    blocked: all.flatMap((outcome) => outcome.blocked),
    configHash: config.hash
  }
}

/** Every change of the plan, kind by kind, in apply order (for logs and tests). */
export const changes = (plan: Plan): ReadonlyArray<{ readonly kind: string; readonly change: Change.Change<{ readonly metadata: ObjectMeta }> }> => [
  ...plan.secrets.map((change) => ({ kind: ServerSecrets.kind, change })),
  ...plan.configMaps.map((change) => ({ kind: ServerConfigMap.kind, change })),
  ...plan.services.map((change) => ({ kind: ServerServices.kind, change })),
  ...plan.statefulSets.map((change) => ({ kind: ServerStatefulSet.kind, change })),
  ...plan.networkPolicies.map((change) => ({ kind: BaselineNetworkPolicy.kind, change })),
  ...plan.pods.map((change) => ({ kind: "Pod", change }))
]

/** The longest message of a `WorkloadCreated` Event; a longer list ends with "…". */
export const creationsMessageLimit = 1024

/**
 * The one Event announcing the workload objects a pass created: the creation's own Event when
 * it is the only one, else `WorkloadCreated` whose message is their messages in order, joined
 * by "; " (a new server's six objects make one Event, not six writes to the API server).
 */
export const creationsEvent = (created: ReadonlyArray<Change.EventNote>): Option.Option<Change.EventNote> => {
  if (created.length <= 1) return Option.fromUndefinedOr(created[0])
  const message = created.map((note) => note.message).join("; ")
  return Option.some({
    type: "Normal",
    reason: "WorkloadCreated",
    message: message.length <= creationsMessageLimit ? message : `${message.slice(0, creationsMessageLimit - 1)}…`
  })
}
