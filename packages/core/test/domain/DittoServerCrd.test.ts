import { assert, describe, it } from "@effect/vitest"
import * as DittoServerCrd from "../../src/domain/DittoServerCrd.ts"

const visit = (node: unknown, path: string, check: (node: Record<string, unknown>, path: string) => void): void => {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return
  const record = Object.fromEntries(Object.entries(node))
  check(record, path)
  for (const [key, value] of Object.entries(record)) visit(value, `${path}.${key}`, check)
}

describe("the DittoServer CRD", () => {
  const generated = DittoServerCrd.make()

  it("is structural: no anyOf/allOf/$ref left, every schema node typed or int-or-string", () => {
    visit(generated, "crd", (node, path) => {
      for (const forbidden of ["anyOf", "allOf", "oneOf", "$ref", "$defs"]) {
        assert.notProperty(node, forbidden, `${path} has ${forbidden}`)
      }
    })
  })

  it("publishes the spec's defaults, enums and bounds", () => {
    const text = JSON.stringify(generated)
    for (const fragment of [
      `"default":"LoadBalancer"`,
      `"enum":["ClusterIP","NodePort","LoadBalancer"]`,
      `"default":"30s"`,
      `"pattern":"^[0-9]+(Gi|Mi|Ti)$"`,
      `"minimum":1,"maximum":65535`,
      `"default":8080`,
      `"x-kubernetes-list-map-keys":["type"]`
    ]) assert.include(text, fragment)
  })

  it("lists the printer columns and short names kubectl shows", () => {
    const spec = Object.fromEntries(Object.entries(generated["spec"] ?? {}))
    const [version] = Array.isArray(spec["versions"]) ? spec["versions"] : []
    const columns = Array.isArray(version?.["additionalPrinterColumns"]) ? version["additionalPrinterColumns"] : []
    assert.deepStrictEqual(
      columns.map((column: Record<string, unknown>) => [column["name"], column["type"], column["jsonPath"], column["priority"] ?? 0]),
      [
        ["Phase", "string", ".status.phase", 0],
        ["Ready", "string", `.status.conditions[?(@.type=="Ready")].status`, 0],
        ["Replicas", "integer", ".spec.replicas", 0],
        ["ReadyReplicas", "integer", ".status.readyReplicas", 0],
        ["ConfigHash", "string", ".status.configHash", 1],
        ["Age", "date", ".metadata.creationTimestamp", 0]
      ]
    )
    assert.deepStrictEqual(Object.fromEntries(Object.entries(spec["names"] ?? {}))["shortNames"], ["ditto", "dittofs"])
  })

  it("keeps a union's own default and description (a one-value enum's default)", () => {
    assert.deepStrictEqual(DittoServerCrd.toStructural({ anyOf: [{ type: "string", enum: ["memory"] }], default: "memory", description: "d" }), {
      type: "string",
      enum: ["memory"],
      default: "memory",
      description: "d"
    })
  })

  it("rewrites int-or-string unions and drops the ±2^53 bounds of Schema.Int", () => {
    assert.deepStrictEqual(DittoServerCrd.toStructural({ anyOf: [{ type: "integer" }, { type: "string" }] }), { "x-kubernetes-int-or-string": true })
    assert.deepStrictEqual(DittoServerCrd.toStructural({ type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 }), { type: "integer" })
    assert.deepStrictEqual(
      DittoServerCrd.toStructural({ $ref: "#/$defs/X" }, { X: { type: "object", properties: { a: { type: "string" } }, allOf: [{ type: "object", additionalProperties: {} }] } }),
      { type: "object", properties: { a: { type: "string" } } }
    )
  })
})
