/**
 * JSON objects as the in-memory API server reads them: the fields of values the Schemas leave
 * open (a pod template's spec, claim templates, CRD schemas, ...).
 *
 * Contract: total and pure; no argument is ever mutated.
 */
export type JsonObject = Readonly<Record<string, unknown>>

export const isJsonObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === "object" && !Array.isArray(value)

const empty: JsonObject = Object.freeze({})

/** A JSON object's fields, read-only (empty for anything else). */
export const fieldsOf = (value: unknown): JsonObject => isJsonObject(value) ? value : empty

/** The object without the given keys. */
export const withoutKeys = (object: JsonObject, keys: ReadonlyArray<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)))
