import { assert, describe, it } from "@effect/vitest"
import { Option, Schema } from "effect"
import { Quantity } from "../../src/index.ts"

const Text = Schema.Union([
  Schema.Literals(["1", "1.0", "1000m", "1k", "1e3", "1024Mi", "1Gi", "0.5", "500m", "5e-1", "+1", "-1", "0", ".5", "1.", "1Ki", "1e101", "x", ""]),
  Schema.String
])

describe("Quantity", () => {
  it("compares by value, as the API server stores quantities in canonical form", () => {
    assert.isTrue(Quantity.equal("1024Mi", "1Gi"))
    assert.isTrue(Quantity.equal("0.5", "500m"))
    assert.isTrue(Quantity.equal("1e3", "1k"))
    assert.isTrue(Quantity.equal(2, "2"))
    assert.isTrue(Quantity.equal("5e-1", "500m"))
    assert.isFalse(Quantity.equal("1G", "1Gi"))
    assert.isFalse(Quantity.equal("1Gi", "2Gi"))
    assert.isFalse(Quantity.equal("bogus", "1"))
    assert.isTrue(Quantity.equal("bogus", "bogus"))
  })

  it("rejects what the API server rejects, and absurd exponents", () => {
    for (const text of ["", "x", "1Kb", "1 Gi", "--1", "1e101", "Gi"]) assert.isTrue(Option.isNone(Quantity.parse(text)), text)
  })

  it.prop("equal is an equivalence relation", { a: Text, b: Text, c: Text }, ({ a, b, c }) => {
    assert.isTrue(Quantity.equal(a, a))
    assert.strictEqual(Quantity.equal(a, b), Quantity.equal(b, a))
    if (Quantity.equal(a, b) && Quantity.equal(b, c)) assert.isTrue(Quantity.equal(a, c))
  }, { arbitrary: { runs: 1000 } })
})
