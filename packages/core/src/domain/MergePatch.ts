/**
 * JSON merge patches (RFC 7386): the patch that turns one JSON value into another, and the
 * result of applying a patch.
 *
 * Contract:
 * - `apply(target, patch)` is RFC 7386's MergePatch: a patch that is not an object replaces the
 *   target; an object patch sets each of its keys in the target (recursively), and a `null`
 *   value removes the key. Arrays are values: they replace, never merge.
 * - `between(from, to)` is a patch with `apply(from, between(from, to))` equal to `to` for every
 *   `to` without `null` values inside objects (a merge patch cannot set a key to `null`). It
 *   names only what differs: keys `to` drops are `null`, keys with equal values are left out;
 *   equal objects give `{}`.
 * - `ofStatus(previous, next)` is `between` of two encoded objects' `status` (a missing status
 *   read as `{}`): the body of a status subresource merge patch is `{ status: ofStatus(...) }`.
 * - None mutates its arguments.
 */

import * as Json from "./Json.ts"

type JsonObject = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Sets an own key, `__proto__` included (as `JSON.parse` would). */
const set = (object: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

/** The value `patch` makes of `target`. */
export const apply = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else set(result, key, apply(Object.hasOwn(result, key) ? result[key] : undefined, value))
  }
  return result
}

/** The smallest merge patch that turns `from` into `to`. */
export const between = (from: unknown, to: unknown): unknown => {
  if (!isObject(to) || !isObject(from)) return to
  const patch: Record<string, unknown> = {}
  for (const key of Object.keys(from)) {
    if (!Object.hasOwn(to, key)) set(patch, key, null)
  }
  for (const [key, value] of Object.entries(to)) {
    const had = Object.hasOwn(from, key)
    if (had && Json.equal(from[key], value)) continue
    set(patch, key, had && isObject(from[key]) && isObject(value) ? between(from[key], value) : value)
  }
  return patch
}

/** The merge patch from one encoded object's `status` to another's. */
export const ofStatus = (previous: unknown, next: unknown): unknown => {
  const statusOf = (object: unknown) => (isObject(object) && Object.hasOwn(object, "status") ? object["status"] : undefined) ?? {}
  return between(statusOf(previous), statusOf(next))
}
