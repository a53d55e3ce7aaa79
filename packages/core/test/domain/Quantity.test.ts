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

  it("orders quantities by value", () => {
    assert.deepStrictEqual(Quantity.compare("1500m", "1"), Option.some(1))
    assert.deepStrictEqual(Quantity.compare("1Gi", "1024Mi"), Option.some(0))
    assert.deepStrictEqual(Quantity.compare("1G", "1Gi"), Option.some(-1))
    assert.isTrue(Option.isNone(Quantity.compare("x", "1")))
  })

  it("writes quantities as kube-apiserver stores them (checked on v1.36 by the contract suite)", () => {
    const vectors: ReadonlyArray<readonly [string, string, string]> = [
      // input, stored as is, stored in a ResourceList (rounded up to milli units)
      ["1Gi", "1Gi", "1Gi"],
      ["1024Mi", "1Gi", "1Gi"],
      ["1536Mi", "1536Mi", "1536Mi"],
      ["1.5Gi", "1536Mi", "1536Mi"],
      ["0.5Gi", "512Mi", "512Mi"],
      ["0.5Mi", "512Ki", "512Ki"],
      ["1024Ki", "1Mi", "1Mi"],
      ["512", "512", "512"],
      ["0.5", "500m", "500m"],
      ["1.5", "1500m", "1500m"],
      ["2000m", "2", "2"],
      ["1000M", "1G", "1G"],
      ["1000", "1k", "1k"],
      ["1e9", "1e9", "1e9"],
      ["1E3", "1e3", "1e3"],
      ["100n", "100n", "1m"],
      ["0.0001", "100u", "1m"],
      ["0", "0", "0"],
      ["-1Gi", "-1Gi", "-1Gi"]
    ]
    for (const [input, stored, listed] of vectors) {
      assert.deepStrictEqual([input, Quantity.canonical(input), Quantity.canonical(input, -3)], [input, Option.some(stored), Option.some(listed)])
    }
    assert.isTrue(Option.isNone(Quantity.canonical("10GB")))
  })

  it.prop("canonical is idempotent and keeps the value", { text: Text }, ({ text }) => {
    const once = Quantity.canonical(text)
    if (Option.isNone(once)) return
    assert.deepStrictEqual(Quantity.canonical(once.value), once)
    assert.isTrue(Quantity.equal(once.value, text) || Option.exists(Quantity.compare(once.value, text), (order) => order > 0))
  }, { arbitrary: { runs: 500 } })

  it.prop("equal is an equivalence relation", { a: Text, b: Text, c: Text }, ({ a, b, c }) => {
    assert.isTrue(Quantity.equal(a, a))
    assert.strictEqual(Quantity.equal(a, b), Quantity.equal(b, a))
    if (Quantity.equal(a, b) && Quantity.equal(b, c)) assert.isTrue(Quantity.equal(a, c))
  }, { arbitrary: { runs: 1000 } })
})
