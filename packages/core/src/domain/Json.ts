/**
 * JSON values compared by content.
 *
 * Contract: `canonical` serializes with object keys sorted at every level, so two values that
 * are equal as JSON give the same string whatever their key order.
 */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)
