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

export const compare = (a: ContainerPort, b: ContainerPort): number => compareKeys(keyOf(a), keyOf(b))

export const sort = (ports: ReadonlyArray<ContainerPort>): Array<ContainerPort> =>
  [...ports].sort(compare)

export const equal = (a: ReadonlyArray<ContainerPort>, b: ReadonlyArray<ContainerPort>): boolean => {
  if (a.length !== b.length) return false
  const left = a.map(keyOf).sort(compareKeys)
  const right = b.map(keyOf).sort(compareKeys)
  return left.every((key, index) => {
    const other = right[index]
    return other !== undefined && compareKeys(key, other) === 0
  })
}

export const isAdapterPort = (port: ContainerPort): boolean => (port.name ?? "").startsWith(adapterPortPrefix)

export interface Partitioned {
  readonly static: ReadonlyArray<ContainerPort>
  readonly dynamic: ReadonlyArray<ContainerPort>
}

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

export const desired = (
  current: ReadonlyArray<ContainerPort>,
  active: ReadonlyArray<ActiveAdapters.Active>
): Array<ContainerPort> => [
  ...partition(current).static,
  ...sort(active.map(ofAdapter))
]

export const plan = (
  current: ReadonlyArray<ContainerPort>,
  active: ReadonlyArray<ActiveAdapters.Active>
): Option.Option<Array<ContainerPort>> => {
  const wanted = desired(current, active)
  return equal(current, wanted) ? Option.none() : Option.some(wanted)
}

