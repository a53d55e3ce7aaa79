/**
 * What kube-apiserver does to a custom resource with its CRD's structural schema
 * (`openAPIV3Schema`).
 *
 * Contract:
 * - `pruneAndDefault`: fields the schema does not declare are dropped (unless
 *   `x-kubernetes-preserve-unknown-fields`), missing fields with a `default` are filled in
 *   (the default itself pruned and defaulted). Pure; the value is not mutated.
 */
import { fieldsOf, type JsonObject } from "./Json.ts"

export const pruneAndDefault = (schema: JsonObject, value: unknown): unknown => {
  if (Array.isArray(value)) {
    const items = schema["items"]
    return items === undefined ? value : value.map((item) => pruneAndDefault(fieldsOf(items), item))
  }
  if (value === null || typeof value !== "object") return value
  const properties = schema["properties"] === undefined ? undefined : fieldsOf(schema["properties"])
  const additional = schema["additionalProperties"] === undefined || typeof schema["additionalProperties"] === "boolean"
    ? undefined
    : fieldsOf(schema["additionalProperties"])
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true
  const kept: Array<readonly [string, unknown]> = []
  for (const [key, inner] of Object.entries(value)) {
    const declared = properties?.[key]
    if (declared !== undefined) kept.push([key, pruneAndDefault(fieldsOf(declared), inner)])
    else if (additional !== undefined) kept.push([key, pruneAndDefault(additional, inner)])
    else if (preserve) kept.push([key, inner])
  }
  const result: Record<string, unknown> = Object.fromEntries(kept)
  for (const [key, declared] of Object.entries(properties ?? {})) {
    const fallback = fieldsOf(declared)["default"]
    if (!(key in result) && fallback !== undefined) result[key] = pruneAndDefault(fieldsOf(declared), structuredClone(fallback))
  }
  return result
}
