/**
 * Which adapters the cluster must expose: the enabled and running ones, keyed by sanitized type.
 *
 * Contract (total, pure): conflicts are resolved deterministically — candidates are ordered by
 * (sanitized type, type, port, id) and the first one wins — and reported, never thrown:
 * - `DuplicateType`: two adapters sanitize to the same type (`NFS` and `nfs`);
 * - `DuplicatePort`: two adapters report the same port;
 * - `PortNameCollision`: two sanitized types hash to the same 15-char port name;
 * - `ReservedPort`: the port is a static port of the server (API, metrics): never exposed
 *   through an adapter Service.
 * The result does not depend on the order of the input list.
 */
import { Order } from "effect"
import type { Adapter } from "../domain/Adapter.ts"
import { adapterPortName, sanitizeAdapterType } from "./Naming.ts"

/**
 * An adapter the cluster must expose, with the names derived from its type: its sanitized type and
 * its container port name.
 */
export interface Active {
  /** The type as DittoFS reports it. */
  readonly type: string
  readonly sanitizedType: string
  readonly port: number
  readonly portName: string
}

/**
 * Why an adapter was left out: two sanitize to one type, two share a port, two port names hash
 * alike, or its port is one of the server's own.
 */
export type ConflictReason = "DuplicateType" | "DuplicatePort" | "PortNameCollision" | "ReservedPort"

/**
 * An adapter left out of the active set, with the reason and a message for the status and Events.
 */
export interface Conflict {
  readonly reason: ConflictReason
  /** The adapter left out. */
  readonly adapter: Adapter
  readonly message: string
}

/** The adapters to expose, sorted by sanitized type, and the ones left out with why. */
export interface ActiveAdapters {
  /** Sorted by sanitized type. */
  readonly active: ReadonlyArray<Active>
  readonly conflicts: ReadonlyArray<Conflict>
}

/** What {@link select} must respect besides the adapters themselves. */
export interface Options {
  /** Ports of the server that no adapter may take (API, metrics). */
  readonly reservedPorts: ReadonlyArray<number>
}

/** Whether DittoFS reports the adapter both enabled and running: only those are exposed. */
export const isActive = (adapter: Adapter): boolean => adapter.enabled && adapter.running

/**
 * The enabled and running adapters, keyed by sanitized type, with every conflict resolved
 * deterministically (first by sanitized type, type, port, id wins) and reported. Total and pure;
 * the result does not depend on the input's order.
 */
export const select = (
  adapters: ReadonlyArray<Adapter>,
  options: Options
): ActiveAdapters => {
  const candidates = adapters
    .filter(isActive)
    .map((adapter) => ({ adapter, sanitizedType: sanitizeAdapterType(adapter.type) }))
    .sort((a, b) =>
      Order.String(a.sanitizedType, b.sanitizedType)
      || Order.String(a.adapter.type, b.adapter.type)
      || a.adapter.port - b.adapter.port
      || Order.String(a.adapter.id ?? "", b.adapter.id ?? "")
    )
  const reserved = new Set(options.reservedPorts)
  const byType = new Map<string, Adapter>()
  const byPort = new Map<number, Adapter>()
  const byPortName = new Map<string, Adapter>()
  const active: Array<Active> = []
  const conflicts: Array<Conflict> = []
  for (const { adapter, sanitizedType } of candidates) {
    const portName = adapterPortName(adapter.type)
    const conflict = (reason: ConflictReason, message: string) => conflicts.push({ reason, adapter, message })
    const sameType = byType.get(sanitizedType)
    const samePort = byPort.get(adapter.port)
    const samePortName = byPortName.get(portName)
    if (reserved.has(adapter.port)) {
      conflict("ReservedPort", `adapter ${adapter.type} reports port ${adapter.port}, which is reserved for the server itself`)
    } else if (sameType !== undefined) {
      conflict("DuplicateType", `adapters ${sameType.type} and ${adapter.type} both map to type ${sanitizedType}; ${sameType.type} is exposed`)
    } else if (samePort !== undefined) {
      conflict("DuplicatePort", `adapters ${samePort.type} and ${adapter.type} both report port ${adapter.port}; ${samePort.type} is exposed`)
    } else if (samePortName !== undefined) {
      conflict("PortNameCollision", `adapters ${samePortName.type} and ${adapter.type} share port name ${portName}; ${samePortName.type} is exposed`)
    } else {
      byType.set(sanitizedType, adapter)
      byPort.set(adapter.port, adapter)
      byPortName.set(portName, adapter)
      active.push({ type: adapter.type, sanitizedType, port: adapter.port, portName })
    }
  }
  return { active, conflicts }
}
