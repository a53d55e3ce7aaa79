/**
 * The whole adapter-exposure plan of one DittoServer: its adapter Services, its adapter
 * NetworkPolicies and its StatefulSet's container ports, from one poll of DittoFS.
 *
 * Contract (total, pure):
 * - A failed or undecodable poll yields the empty plan: nothing is created, updated or deleted.
 * - A successful poll is authoritative, an empty list included: every adapter Service goes.
 * - The API and metrics ports and the StatefulSet's static ports are reserved: no adapter
 *   reporting one of them is exposed (reported as a conflict).
 * - The StatefulSet is changed only when its container ports really differ (`None` otherwise).
 */
import { Option, Result } from "effect"
import type * as Adapter from "../domain/Adapter.ts"
import type * as DittoServer from "../domain/DittoServer.ts"
import type { Container, NetworkPolicy, Service, StatefulSet } from "../domain/Kubernetes.ts"
import * as ActiveAdapters from "./ActiveAdapters.ts"
import * as AdapterServices from "./AdapterServices.ts"
import * as Change from "./Change.ts"
import * as ContainerPorts from "./ContainerPorts.ts"
import * as NetworkPolicies from "./NetworkPolicies.ts"
import type { ServerIdentity } from "./Ownership.ts"
import * as ServerPod from "./ServerPod.ts"
import * as ServerStatefulSet from "./ServerStatefulSet.ts"

/** The DittoFS container in the server's pod template. */
export const serverContainerName = ServerPod.containerName

/**
 * What the cluster holds for the server's adapters: the managed adapter Services and
 * NetworkPolicies, and the server's StatefulSet if it exists.
 */
export interface Observed {
  readonly services: ReadonlyArray<Service>
  readonly networkPolicies: ReadonlyArray<NetworkPolicy>
  readonly statefulSet: Option.Option<StatefulSet>
}

/**
 * Everything the exposure plan is decided from: the server, its spec, the adapter poll (its decoded
 * list, or why it failed) and the observed objects.
 */
export interface Input<E> {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  /** The poll of `GET /api/v1/adapters`: its decoded list, or why it failed. */
  readonly poll: Result.Result<Adapter.List, E>
  readonly observed: Observed
}

/**
 * The exposure plan: the active adapters and conflicts, the Service and NetworkPolicy changes, and
 * the StatefulSet's new container ports when they change.
 */
export interface Plan {
  readonly active: ActiveAdapters.ActiveAdapters
  readonly services: Change.Plan<Service>
  readonly networkPolicies: Change.Plan<NetworkPolicy>
  /** The StatefulSet with its new container ports, when they change. */
  readonly statefulSet: Option.Option<Change.Change<StatefulSet>>
}

/** The plan that changes nothing (what a failed poll gives). */
export const empty: Plan = {
  active: { active: [], conflicts: [] },
  services: [],
  networkPolicies: [],
  statefulSet: Option.none()
}

/** Whether the plan changes nothing in the cluster. */
export const isEmpty = (plan: Plan): boolean =>
  plan.services.length === 0 && plan.networkPolicies.length === 0 && Option.isNone(plan.statefulSet)

/** The index of the DittoFS container: the one named `dittofs`, else the first. */
export const serverContainerIndex = ServerStatefulSet.serverContainerIndex

const containerOf = (statefulSet: StatefulSet): Container | undefined => {
  const containers = statefulSet.spec.template.spec.containers
  return containers[serverContainerIndex(containers)]
}

/** The StatefulSet with new ports on its DittoFS container; every other field as observed. */
export const withContainerPorts = (statefulSet: StatefulSet, ports: Container["ports"] & {}): StatefulSet => {
  const containers = statefulSet.spec.template.spec.containers
  const index = serverContainerIndex(containers)
  return {
    ...statefulSet,
    spec: {
      ...statefulSet.spec,
      template: {
        ...statefulSet.spec.template,
        spec: {
          ...statefulSet.spec.template.spec,
          containers: containers.map((container, i) => (i === index ? { ...container, ports } : container))
        }
      }
    }
  }
}

const planStatefulSet = (
  statefulSet: StatefulSet,
  active: ActiveAdapters.ActiveAdapters
): Option.Option<Change.Change<StatefulSet>> => {
  const container = containerOf(statefulSet)
  if (container === undefined) return Option.none()
  const current = container.ports ?? []
  return Option.map(ContainerPorts.plan(current, active.active), (ports) => {
    const { dynamic, static: staticPorts } = ContainerPorts.partition(ports)
    return {
      _tag: "Update",
      object: withContainerPorts(statefulSet, ports),
      event: Change.normal(
        "ContainerPortsUpdated",
        `Updated StatefulSet container ports (${staticPorts.length} static + ${dynamic.length} dynamic)`
      )
    } as const
  })
}

/**
 * The ports no adapter may take: the API and metrics ports of the spec and the StatefulSet's static
 * container ports.
 */
export const reservedPorts = (spec: DittoServer.Spec, statefulSet: Option.Option<StatefulSet>): Array<number> => {
  const staticPorts = Option.match(Option.flatMapNullishOr(statefulSet, containerOf), {
    onNone: () => [],
    onSome: (container) => ContainerPorts.partition(container.ports ?? []).static.map((port) => port.containerPort)
  })
  return [spec.controlPlane.port, spec.metrics.port, ...staticPorts]
}

/**
 * Plans the adapter Services, NetworkPolicies and container ports from the poll. A failed or
 * malformed poll plans nothing; a successful empty list is authoritative. Total and pure.
 */
export const plan = <E>(input: Input<E>): Plan => {
  if (Result.isFailure(input.poll)) return empty
  const active = ActiveAdapters.select(input.poll.success.adapters, {
    reservedPorts: reservedPorts(input.spec, input.observed.statefulSet)
  })
  return {
    active,
    services: AdapterServices.plan({
      server: input.server,
      spec: input.spec.adapterServices,
      active: active.active,
      observed: input.observed.services
    }),
    networkPolicies: NetworkPolicies.plan({
      server: input.server,
      active: active.active,
      observed: input.observed.networkPolicies
    }),
    statefulSet: Option.flatMap(input.observed.statefulSet, (statefulSet) => planStatefulSet(statefulSet, active))
  }
}
