/**
 * The DittoFS container's ports: static ones (`api`, `metrics`, anything a user added) and one
 * dynamic `adapter-<type>` port per active adapter.
 *
 * Contract (total, pure, never mutates its arguments):
 * - `sort` returns a new array in a total order (name, containerPort, protocol with missing =
 *   TCP, hostPort, hostIP); idempotent.
 * - `equal` is an equivalence relation: same ports regardless of order, missing protocol = TCP.
 * - `partition` splits by the `adapter-` name prefix, order kept.
 * - `desired` keeps the static ports exactly as they are and appends the adapter ports sorted.
 * - `plan` is `None` whenever the current ports already equal the desired ones: no write, so no
 *   rolling restart.
 */
import { Option, Order } from "effect"
import type { ContainerPort } from "../domain/Kubernetes.ts"
import type * as ActiveAdapters from "./ActiveAdapters.ts"
import { adapterPortPrefix } from "./Naming.ts"

interface PortKey {
  readonly name: string
  readonly containerPort: number
  readonly protocol: string
  readonly hostPort: number
  readonly hostIP: string
}

/** The fields that identify a port, with Kubernetes' defaults made explicit. */
const keyOf = (port: ContainerPort): PortKey => ({
  name: port.name ?? "",
  containerPort: port.containerPort,
  protocol: port.protocol ?? "TCP",
  hostPort: port.hostPort ?? 0,
  hostIP: port.hostIP ?? ""
})


const compareKeys = (a: PortKey, b: PortKey): number =>
  Order.String(a.name, b.name)
  || Order.Number(a.containerPort, b.containerPort)
  || Order.String(a.protocol, b.protocol)
  || Order.Number(a.hostPort, b.hostPort)
  || Order.String(a.hostIP, b.hostIP)

/**
 * A total order of container ports: by name, port, protocol (missing = TCP), host port and host IP.
 */
export const compare = (a: ContainerPort, b: ContainerPort): number => compareKeys(keyOf(a), keyOf(b))

/** The ports in the order of {@link compare}, as a new array. Idempotent. */
export const sort = (ports: ReadonlyArray<ContainerPort>): Array<ContainerPort> =>
  [...ports].sort(compare)

/**
 * Whether two port lists hold the same ports, whatever their order (a missing protocol is TCP). An
 * equivalence relation.
 */
export const equal = (a: ReadonlyArray<ContainerPort>, b: ReadonlyArray<ContainerPort>): boolean => {
  if (a.length !== b.length) return false
  const left = a.map(keyOf).sort(compareKeys)
  const right = b.map(keyOf).sort(compareKeys)
  return left.every((key, index) => {
    const other = right[index]
    return other !== undefined && compareKeys(key, other) === 0
  })
}

/** Whether a port is an adapter port (named `adapter-…`): the operator's to add and remove. */
export const isAdapterPort = (port: ContainerPort): boolean =>
  port.name !== undefined && port.name.startsWith(adapterPortPrefix)

/** A port list split into the static ports (kept as they are) and the adapter ports. */
export interface Partitioned {
  readonly static: ReadonlyArray<ContainerPort>
  readonly dynamic: ReadonlyArray<ContainerPort>
}

/** Splits ports into static and adapter ports, keeping their order. */
export const partition = (ports: ReadonlyArray<ContainerPort>): Partitioned => ({
  static: ports.filter((port) => !isAdapterPort(port)),
  dynamic: ports.filter(isAdapterPort)
})

/** The container port that exposes one active adapter. */
export const ofAdapter = (adapter: ActiveAdapters.Active): ContainerPort => ({
  name: adapter.portName,
  containerPort: adapter.port,
  protocol: "TCP"
})

/**
 * The ports a container should have: its static ports as they are, then one sorted port per active
 * adapter.
 */
export const desired = (
  current: ReadonlyArray<ContainerPort>,
  active: ReadonlyArray<ActiveAdapters.Active>
): Array<ContainerPort> => [
  ...partition(current).static,
  ...sort(active.map(ofAdapter))
]

/**
 * The container's new ports, or `None` when they are {@link equal} to the current ones (no needless
 * write, no restart).
 */
export const plan = (
  current: ReadonlyArray<ContainerPort>,
  active: ReadonlyArray<ActiveAdapters.Active>
): Option.Option<Array<ContainerPort>> => {
  const wanted = desired(current, active)
  return equal(current, wanted) ? Option.none() : Option.some(wanted)
}

