/**
 * Shared strings: one copy of each short string value the stores hold. A thousand servers'
 * objects repeat the same values (apiVersions, kinds, label values, condition reasons, a second's
 * timestamps) thousands of times, and JSON.parse makes a new string for each occurrence: at 1,000
 * servers the duplicates were 9.6 MiB of a 58 MiB heap.
 *
 * Contract:
 * - `share(value)` returns a value equal to `value` (same JSON, same key order), made of fresh
 *   plain objects and arrays, whose strings of at most `maxLength` characters are the table's
 *   copies; longer strings, numbers, booleans and null are kept as they are. The input is not
 *   changed.
 * - The table is bounded: two generations of at most `capacity` strings each. A string is looked
 *   up in the current generation, then in the previous one (a hit there moves it to the current);
 *   when the current generation is full it becomes the previous one and the old previous one is
 *   dropped. A string seen at least once per generation stays shared; a one-off value (a name, a
 *   uid) passes through and is forgotten, so churn cannot grow the table.
 * - Each reflector's writer fiber calls it on the way into its store; it keeps no other state.
 */

export interface SharedStrings {
  /** `value` with its short strings replaced by the table's equal copies. */
  readonly share: <A>(value: A) => A
  /** How many distinct strings the table holds (both generations). */
  readonly size: () => number
}

export interface Options {
  /** Strings per generation (default 16,384). */
  readonly capacity?: number
  /** Longer strings are kept as they are (default 64 characters). */
  readonly maxLength?: number
}

export const make = (options: Options = {}): SharedStrings => {
  const capacity = options.capacity ?? 16_384
  const maxLength = options.maxLength ?? 64
  let current = new Map<string, string>()
  let previous = new Map<string, string>()

  const canonical = (text: string): string => {
    const hit = current.get(text)
    if (hit !== undefined) return hit
    const kept = previous.get(text) ?? text
    previous.delete(text)
    if (current.size >= capacity) {
      previous = current
      current = new Map()
    }
    current.set(kept, kept)
    return kept
  }

  const shareUnknown = (value: unknown): unknown => {
    if (typeof value === "string") return value.length <= maxLength ? canonical(value) : value
    if (Array.isArray(value)) return value.map(shareUnknown)
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {}
      for (const [key, field] of Object.entries(value)) {
        // an own "__proto__" (JSON.parse makes one) stays a property, not the copy's prototype
        if (key === "__proto__") Object.defineProperty(copy, key, { value: shareUnknown(field), enumerable: true, writable: true, configurable: true })
        else copy[key] = shareUnknown(field)
      }
      return copy
    }
    return value
  }

  return {
    // equal JSON in, equal JSON out: the copy has the type of its input
    share: <A>(value: A): A => shareUnknown(value) as A,
    size: () => current.size + previous.size
  }
}
