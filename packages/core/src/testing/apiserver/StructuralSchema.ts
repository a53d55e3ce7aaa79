/**
 * What kube-apiserver does to a custom resource with its CRD's structural schema
 * (`openAPIV3Schema`): prune, default, validate.
 *
 * Contract:
 * - `pruneAndDefault`: fields the schema does not declare are dropped (unless
 *   `x-kubernetes-preserve-unknown-fields`); a `null` where the schema declares a field is
 *   replaced by the field's `default`, or dropped when it has none; missing fields with a
 *   `default` are filled in (the default itself pruned and defaulted). Pure.
 * - `validate`: the field errors kube-apiserver reports for the schema's `type`, `enum`,
 *   `pattern`, `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`, `required`
 *   and `x-kubernetes-list-type: map` keys, worded as the API server words them
 *   (`spec.replicas: Invalid value: 2: spec.replicas in body should be less than or equal to 1`).
 *   Per value, in the API server's order: type, pattern and lengths, bounds, items, enum,
 *   properties, then required. (Across sibling properties the API server's order is not
 *   stable: it walks a Go map; here it is the schema's order.)
 */
import { fieldsOf, isJsonObject, type JsonObject } from "./Json.ts"

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
    const declared = properties?.[key] ?? additional
    if (declared !== undefined) {
      // A null where a (non-nullable) field is declared: its default, or nothing.
      if (inner === null && fieldsOf(declared)["nullable"] !== true) continue
      kept.push([key, pruneAndDefault(fieldsOf(declared), inner)])
    } else if (preserve) kept.push([key, inner])
  }
  const result: Record<string, unknown> = Object.fromEntries(kept)
  for (const [key, declared] of Object.entries(properties ?? {})) {
    const fallback = fieldsOf(declared)["default"]
    if (!(key in result) && fallback !== undefined) result[key] = pruneAndDefault(fieldsOf(declared), structuredClone(fallback))
  }
  return result
}

/** A JSON value as Go's `%v`/`%q` prints it in a field error. */
const printed = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  return JSON.stringify(value)
}

/** The JSON type name kube-openapi gives a decoded value. */
const typeName = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number"
  if (typeof value === "object") return "object"
  return typeof value
}

const hasType = (expected: string, value: unknown): boolean => {
  const actual = typeName(value)
  return actual === expected || (expected === "number" && actual === "integer")
}

const numberOf = (value: unknown): number | undefined => typeof value === "number" ? value : undefined

const child = (path: string, key: string): string => path === "" ? key : `${path}.${key}`

/** The field errors of a value against its schema, at `path` (`""` for the root). */
export const validate = (schema: JsonObject, value: unknown, path = ""): ReadonlyArray<string> => {
  const errors: Array<string> = []
  const field = path === "" ? "<root>" : path
  const type = schema["type"]
  if (typeof type === "string" && !hasType(type, value) && !(value === null && schema["nullable"] === true)) {
    const actual = typeName(value)
    errors.push(`${field}: Invalid value: "${actual}": ${path} in body must be of type ${type}: "${actual}"`)
  }
  if (typeof value === "string") {
    const pattern = schema["pattern"]
    if (typeof pattern === "string" && !new RegExp(pattern, "u").test(value)) {
      errors.push(`${field}: Invalid value: ${printed(value)}: ${path} in body should match '${pattern}'`)
    }
    const maxLength = numberOf(schema["maxLength"])
    if (maxLength !== undefined && [...value].length > maxLength) errors.push(`${field}: Too long: may not be more than ${maxLength} bytes`)
    const minLength = numberOf(schema["minLength"])
    if (minLength !== undefined && [...value].length < minLength) {
      errors.push(`${field}: Invalid value: ${printed(value)}: ${path} in body should be at least ${minLength} chars long`)
    }
  }
  if (typeof value === "number") {
    // kube-openapi's number validator repeats a fractional integer's type error, without a path.
    if (type === "integer" && !Number.isInteger(value)) {
      errors.push(`<nil>: Invalid value: "": Checked value must be of type integer (default format) in ${path}`)
    }
    const maximum = numberOf(schema["maximum"])
    if (maximum !== undefined && value > maximum) {
      errors.push(`${field}: Invalid value: ${printed(value)}: ${path} in body should be less than or equal to ${maximum}`)
    }
    const minimum = numberOf(schema["minimum"])
    if (minimum !== undefined && value < minimum) {
      errors.push(`${field}: Invalid value: ${printed(value)}: ${path} in body should be greater than or equal to ${minimum}`)
    }
  }
  if (Array.isArray(value)) {
    const items = schema["items"]
    if (isJsonObject(items)) value.forEach((item, i) => errors.push(...validate(items, item, `${path}[${i}]`)))
    const minItems = numberOf(schema["minItems"])
    if (minItems !== undefined && value.length < minItems) {
      errors.push(`${field}: Invalid value: ${value.length}: ${path} in body should have at least ${minItems} items`)
    }
    const maxItems = numberOf(schema["maxItems"])
    if (maxItems !== undefined && value.length > maxItems) errors.push(`${field}: Too many: ${value.length}: must have at most ${maxItems} items`)
  }
  const allowed = schema["enum"]
  if (Array.isArray(allowed) && !allowed.some((candidate) => JSON.stringify(candidate) === JSON.stringify(value))) {
    const supported = allowed.map((candidate) => JSON.stringify(typeof candidate === "string" ? candidate : JSON.stringify(candidate))).join(", ")
    errors.push(`${field}: Unsupported value: ${printed(value)}: supported values: ${supported}`)
  }
  if (isJsonObject(value)) {
    const properties = fieldsOf(schema["properties"])
    const additional = schema["additionalProperties"]
    for (const [key, inner] of Object.entries(value)) {
      const declared = properties[key]
      if (isJsonObject(declared)) errors.push(...validate(declared, inner, child(path, key)))
      else if (isJsonObject(additional)) errors.push(...validate(additional, inner, child(path, key)))
    }
    const required = schema["required"]
    if (Array.isArray(required)) {
      for (const key of required) if (typeof key === "string" && !(key in value)) errors.push(`${child(path, key)}: Required value`)
    }
  }
  if (Array.isArray(value) && schema["x-kubernetes-list-type"] === "map") {
    const keys = Array.isArray(schema["x-kubernetes-list-map-keys"]) ? schema["x-kubernetes-list-map-keys"].map(String) : []
    const seen = new Set<string>()
    value.forEach((item, i) => {
      const identity = Object.fromEntries(keys.map((key) => [key, fieldsOf(item)[key]]))
      const text = JSON.stringify(identity)
      if (seen.has(text)) errors.push(`${path}[${i}]: Duplicate value: ${text}`)
      seen.add(text)
    })
  }
  return errors
}
