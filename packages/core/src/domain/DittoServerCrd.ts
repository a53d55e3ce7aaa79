/**
 * The `DittoServer` CustomResourceDefinition, generated from the same Schemas the operator
 * decodes with (one source of truth for fields, enums, bounds, patterns and defaults).
 *
 * Contract: `make()` is pure and deterministic. `toStructural` rewrites Effect's JSON Schema
 * (draft 2020-12) into a Kubernetes structural schema: `$ref`s inlined, the open-struct rest
 * (`allOf: [{ additionalProperties: {} }]`) dropped so the apiserver prunes unknown fields,
 * int-or-string unions as `x-kubernetes-int-or-string`, other unions as their first member (with
 * the union's own default and description, e.g. a one-value enum's), the ±2^53 bounds of `Schema.Int` dropped,
 * maps kept as `additionalProperties`.
 */
import { Schema } from "effect"
import * as DittoServer from "./DittoServer.ts"

/** A JSON (Schema) object, as the CRD is written. */
export type JsonSchema = { readonly [key: string]: unknown }

const isRecord = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const keptKeywords = [
  "type", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
  "format", "description", "default", "required"
] as const

const safeBound = Number.MAX_SAFE_INTEGER

const resolve = (node: JsonSchema, definitions: JsonSchema): JsonSchema => {
  const ref = node["$ref"]
  if (typeof ref !== "string") return node
  const target = definitions[ref.replace(/^#\/(\$defs|definitions)\//, "")]
  return isRecord(target) ? resolve(target, definitions) : {}
}

/**
 * Rewrites one node of Effect's JSON Schema (draft 2020-12) into a Kubernetes structural schema:
 * `$ref`s inlined from `definitions`, open-struct rests dropped, int-or-string unions marked, other
 * unions as their first member.
 */
export const toStructural = (input: JsonSchema, definitions: JsonSchema = {}): JsonSchema => {
  const node = resolve(input, definitions)
  const out: Record<string, unknown> = {}
  for (const keyword of keptKeywords) {
    const value = node[keyword]
    if (value === undefined) continue
    if ((keyword === "minimum" && value === -safeBound) || (keyword === "maximum" && value === safeBound)) continue
    out[keyword] = value
  }
  const anyOf = node["anyOf"]
  if (Array.isArray(anyOf)) {
    // The union's own keywords (a default, a description) annotate whatever it becomes.
    const types = anyOf.filter(isRecord).map((member) => resolve(member, definitions)["type"])
    if (types.length === 2 && types.includes("integer") && types.includes("string")) {
      return { ...out, "x-kubernetes-int-or-string": true }
    }
    const first = anyOf.find(isRecord)
    return first === undefined ? { ...out, "x-kubernetes-preserve-unknown-fields": true } : { ...toStructural(first, definitions), ...out }
  }
  const properties = node["properties"]
  if (isRecord(properties)) {
    out["properties"] = Object.fromEntries(
      Object.entries(properties).map(([key, value]) => [key, isRecord(value) ? toStructural(value, definitions) : {}])
    )
  }
  const additional = node["additionalProperties"]
  if (isRecord(additional) && Object.keys(additional).length > 0) {
    out["additionalProperties"] = toStructural(additional, definitions)
  }
  const items = node["items"]
  if (isRecord(items)) out["items"] = toStructural(items, definitions)
  if (out["type"] === undefined && out["properties"] === undefined && out["items"] === undefined) {
    return { ...out, "x-kubernetes-preserve-unknown-fields": true }
  }
  if (out["type"] === "object" && out["properties"] === undefined && out["additionalProperties"] === undefined) {
    return { ...out, "x-kubernetes-preserve-unknown-fields": true }
  }
  return out
}

const structuralOf = (schema: Schema.Top): JsonSchema => {
  const document = Schema.toJsonSchemaDocument(schema)
  const definitions: JsonSchema = isRecord(document.definitions) ? document.definitions : {}
  return toStructural(document.schema, definitions)
}

/** Conditions are a map keyed by type, as `kubectl` and server-side apply expect. */
const withConditionsListMap = (status: JsonSchema): JsonSchema => {
  const properties = isRecord(status["properties"]) ? status["properties"] : {}
  const conditions = properties["conditions"]
  if (!isRecord(conditions)) return status
  return {
    ...status,
    properties: {
      ...properties,
      conditions: { ...conditions, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }
    }
  }
}

/** The CRD's name: `dittoservers.dittofs.dittofs.com`. */
export const name = `${DittoServer.plural}.${DittoServer.group}`

/**
 * What `kubectl get dittoservers` shows: the phase and the Ready condition, desired and ready
 * replicas (the reference operator's columns), the configuration hash with `-o wide`, the age.
 */
export const printerColumns: ReadonlyArray<JsonSchema> = [
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Pending, Running, Stopped or Deleting." },
  { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status", description: "The Ready condition." },
  { name: "Replicas", type: "integer", jsonPath: ".spec.replicas", description: "Desired server pods (0 or 1)." },
  { name: "ReadyReplicas", type: "integer", jsonPath: ".status.readyReplicas", description: "Server pods that are ready." },
  { name: "ConfigHash", type: "string", jsonPath: ".status.configHash", priority: 1, description: "Hash of the server's rendered configuration." },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }
]

/**
 * The `DittoServer` CustomResourceDefinition (apiextensions.k8s.io/v1), generated from the
 * `DittoServer` Schemas: status subresource, printer columns, and a structural OpenAPI schema with
 * the defaults and descriptions. Pure and deterministic.
 */
export const make = (): JsonSchema => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: name },
  spec: {
    group: DittoServer.group,
    names: {
      kind: DittoServer.kind,
      listKind: `${DittoServer.kind}List`,
      plural: DittoServer.plural,
      singular: "dittoserver",
      shortNames: ["ditto", "dittofs"]
    },
    scope: "Namespaced",
    versions: [
      {
        name: DittoServer.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: printerColumns,
        schema: {
          openAPIV3Schema: {
            type: "object",
            description: "A DittoFS server and the Kubernetes objects that expose it.",
            required: ["spec"],
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: structuralOf(DittoServer.Spec),
              status: withConditionsListMap(structuralOf(DittoServer.Status))
            }
          }
        }
      }
    ]
  }
})
