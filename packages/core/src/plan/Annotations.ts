/**
 * Annotations the operator manages on an object next to those of users and other controllers.
 *
 * Contract (total, pure): the keys the operator wrote are tracked in
 * `dittofs.io/managed-annotations` (desired keys byte-sorted, joined by `,`; absent when none).
 * `sync` drops tracked keys that are no longer desired, sets the desired pairs, rewrites the
 * tracking key and keeps every foreign annotation; `sync` is idempotent, and `inSync` is exactly
 * "sync changes nothing".
 */
import { Order } from "effect"
import type { StringMap } from "../domain/Kubernetes.ts"
import { annotations } from "./Naming.ts"

const trackingKey = annotations.managedAnnotations

/** The desired annotations without the operator's own tracking key. */
const managedPairs = (desired: StringMap): Array<[string, string]> =>
  Object.entries(desired).filter(([key]) => key !== trackingKey).sort(([a], [b]) => Order.String(a, b))

/** The value of the tracking annotation for a desired set: its keys, byte-sorted, joined by `,`. */
export const trackingValue = (desired: StringMap): string => managedPairs(desired).map(([key]) => key).join(",")

/**
 * The annotations with the desired pairs set, the formerly managed ones no longer desired dropped
 * and every foreign one kept. Idempotent.
 */
export const sync = (current: StringMap | undefined, desired: StringMap): StringMap => {
  const result = new Map(Object.entries(current ?? {}))
  const tracked = (current?.[trackingKey] ?? "").split(",").filter((key) => key !== "")
  const pairs = managedPairs(desired)
  // a tracked key still desired is set again right after: dropping every tracked key drops exactly
  // the ones no longer desired
  for (const key of tracked) result.delete(key)
  for (const [key, value] of pairs) result.set(key, value)
  if (pairs.length === 0) result.delete(trackingKey)
  else result.set(trackingKey, trackingValue(desired))
  return Object.fromEntries(result)
}

/** Whether two maps hold the same pairs (a missing map is empty). */
export const mapsEqual = (a: StringMap | undefined, b: StringMap | undefined): boolean => {
  const left = Object.entries(a ?? {})
  const right = b ?? {}
  return left.length === Object.keys(right).length
    && left.every(([key, value]) => Object.hasOwn(right, key) && right[key] === value)
}

/** Whether every pair of `subset` is in `map` (labels the operator owns among those of others). */
export const includes = (map: StringMap | undefined, subset: StringMap): boolean =>
  Object.entries(subset).every(([key, value]) => map !== undefined && Object.hasOwn(map, key) && map[key] === value)

/** Whether {@link sync} would change nothing. */
export const inSync = (current: StringMap | undefined, desired: StringMap): boolean =>
  mapsEqual(current, sync(current, desired))
