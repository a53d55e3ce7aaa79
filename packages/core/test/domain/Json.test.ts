import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Json } from "../../src/index.ts"

/** The same value with every object's keys in reverse order (equal as JSON). */
const reversedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(Object.entries(value).reverse().map(([key, inner]) => [key, reversedKeys(inner)]))
}

/** The same value with a key JSON leaves out added to every object (equal as JSON). */
const withOmittedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withOmittedKeys)
  if (typeof value !== "object" || value === null) return value
  return { ...Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withOmittedKeys(inner)])), "(left out)": undefined }
}

/** The specification: equal as canonical JSON text. */
const asText = (a: unknown, b: unknown) => Json.canonical(a) === Json.canonical(b)

describe("Json.equal", () => {
  it.prop("agrees with comparing canonical JSON text", { a: Schema.Json, b: Schema.Json }, ({ a, b }) => {
    assert.strictEqual(Json.equal(a, b), asText(a, b))
  })

  it.prop("ignores key order and keys JSON leaves out, and sees any other change", { a: Schema.Json }, ({ a }) => {
    assert.isTrue(Json.equal(a, reversedKeys(a)))
    assert.isTrue(Json.equal(withOmittedKeys(a), a))
    const changed = { wrapped: a }
    assert.strictEqual(Json.equal(changed, { wrapped: [a] }), asText(changed, { wrapped: [a] }))
    assert.isFalse(Json.equal({ wrapped: a, extra: 1 }, { wrapped: a }))
  })

  it("treats what JSON cannot write as JSON does", () => {
    const cases: ReadonlyArray<readonly [unknown, unknown]> = [
      [Number.NaN, null],
      [Number.POSITIVE_INFINITY, null],
      [[undefined], [null]],
      [[() => 1], [null]],
      [{ a: undefined }, {}],
      [{ a: () => 1, b: 2 }, { b: 2 }],
      [-0, 0],
      [undefined, () => 1],
      [undefined, null],
      [{}, []],
      [[1, 2], [2, 1]],
      [{ a: [] }, { a: {} }],
      [{ a: 1 }, { b: 1 }],
      [{ a: "1" }, { a: 1 }],
      [new Date(0), "1970-01-01T00:00:00.000Z"],
      [{ at: new Date(0) }, { at: new Date(1) }]
    ]
    for (const [a, b] of cases) {
      assert.strictEqual(Json.equal(a, b), asText(a, b), `${String(Json.canonical(a))} vs ${String(Json.canonical(b))}`)
      assert.strictEqual(Json.equal(b, a), asText(a, b), "symmetric")
    }
  })
})
