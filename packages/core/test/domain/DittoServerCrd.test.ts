import { assert, describe, it } from "@effect/vitest"
import { crd, toStructural } from "../../src/domain/DittoServerCrd.ts"

const visit = (node: unknown, path: string, check: (node: Record<string, unknown>, path: string) => void): void => {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return
  const record = Object.fromEntries(Object.entries(node))
  check(record, path)
  for (const [key, value] of Object.entries(record)) visit(value, `${path}.${key}`, check)
}

describe("the DittoServer CRD", () => {
  const generated = crd()

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
      `"minimum":1,"maximum":65535,"default":8080`,
      `"x-kubernetes-list-map-keys":["type"]`
    ]) assert.include(text, fragment)
  })

  it("rewrites int-or-string unions and drops the ±2^53 bounds of Schema.Int", () => {
    assert.deepStrictEqual(toStructural({ anyOf: [{ type: "integer" }, { type: "string" }] }), { "x-kubernetes-int-or-string": true })
    assert.deepStrictEqual(toStructural({ type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 }), { type: "integer" })
    assert.deepStrictEqual(
      toStructural({ $ref: "#/$defs/X" }, { X: { type: "object", properties: { a: { type: "string" } }, allOf: [{ type: "object", additionalProperties: {} }] } }),
      { type: "object", properties: { a: { type: "string" } } }
    )
  })
})
