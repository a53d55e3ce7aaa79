/**
 * JSON values compared by content.
 *
 * Contract:
 * - `canonical` serializes with object keys sorted at every level, so two values that are equal
 *   as JSON give the same string whatever their key order.
 * - `equal(a, b)` is `canonical(a) === canonical(b)` without building either string: keys in any
 *   order, a key whose value JSON leaves out (`undefined`, a function) as absent, such a value in
 *   an array as `null`, a non-finite number as `null`. A value with a `toJSON` method is compared
 *   through `canonical`.
 */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)

type Fields = { readonly [key: string]: unknown }

/** Values JSON leaves out of an object (and writes as `null` in an array). */
const omitted = (value: unknown): boolean => value === undefined || typeof value === "function" || typeof value === "symbol"

const isFields = (value: unknown): value is Fields => typeof value === "object" && value !== null && !Array.isArray(value)

const hasToJson = (value: unknown): boolean =>
  typeof value === "object" && value !== null && "toJSON" in value && typeof value.toJSON === "function"

/** What JSON writes for a value that is neither an object nor an array. */
const scalar = (value: unknown): unknown => (typeof value === "number" && !Number.isFinite(value) ? null : value)

/** Whether two values are equal as JSON (see the contract). */
export const equal = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (hasToJson(a) || hasToJson(b)) return canonical(a) === canonical(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    const inArray = (item: unknown) => (omitted(item) ? null : item)
    return a.every((item, index) => equal(inArray(item), inArray(b[index])))
  }
  if (isFields(a) || isFields(b)) {
    if (!isFields(a) || !isFields(b)) return false
    const keysA = Object.keys(a).filter((key) => !omitted(a[key]))
    if (keysA.length !== Object.keys(b).filter((key) => !omitted(b[key])).length) return false
    return keysA.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]))
  }
  if (omitted(a) || omitted(b)) return omitted(a) && omitted(b)
  return scalar(a) === scalar(b)
}
