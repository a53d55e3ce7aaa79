import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { MergePatch } from "../../src/index.ts"

/** `value` with every `null` member of an object removed (what a merge patch can express). */
const withoutNullMembers = (value: unknown): unknown => {
  if (Array.isArray(value)) return value
  if (typeof value !== "object" || value === null) return value
  const result: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== null) Object.defineProperty(result, key, { value: withoutNullMembers(inner), enumerable: true, writable: true, configurable: true })
  }
  return result
}

describe("MergePatch.apply", () => {
  it("gives RFC 7386's results for its test cases (appendix A)", () => {
    const cases: ReadonlyArray<readonly [unknown, unknown, unknown]> = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [["a", "b"], ["c", "d"], ["c", "d"]],
      [{ a: "b" }, ["c"], ["c"]],
      [{ a: "foo" }, null, null],
      [{ a: "foo" }, "bar", "bar"],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }]
    ]
    for (const [target, patch, expected] of cases) {
      assert.deepStrictEqual(MergePatch.apply(target, patch), expected, JSON.stringify([target, patch]))
    }
  })

  it("changes neither the target nor the patch", () => {
    const target = { a: { b: 1, c: [1] }, d: 2 }
    const patch = { a: { b: null, e: 3 }, d: null }
    const [targetBefore, patchBefore] = [structuredClone(target), structuredClone(patch)]
    assert.deepStrictEqual(MergePatch.apply(target, patch), { a: { c: [1], e: 3 } })
    assert.deepStrictEqual([target, patch], [targetBefore, patchBefore])
  })

  it("sets a `__proto__` key as an own key, as JSON.parse reads it", () => {
    const patched = MergePatch.apply({}, JSON.parse(`{"__proto__":{"polluted":1}}`))
    assert.deepStrictEqual(Object.keys(patched as object), ["__proto__"])
    assert.strictEqual(({} as { polluted?: number }).polluted, undefined)
  })
})

describe("MergePatch.between", () => {
  it.prop("is a patch that turns `from` into `to`", { from: Schema.Json, to: Schema.Json }, ({ from, to }) => {
    const expected = withoutNullMembers(to)
    assert.deepStrictEqual(MergePatch.apply(from, MergePatch.between(from, expected)), expected)
  })

  it.prop("names only the keys whose values differ", { from: Schema.JsonObject, to: Schema.JsonObject }, ({ from, to }) => {
    const target = withoutNullMembers(to) as Record<string, unknown>
    const patch = MergePatch.between(from, target) as Record<string, unknown>
    /** An own key's value (`__proto__` included, which `object[key]` would read from the prototype). */
    const own = (object: object, key: string): unknown => Object.getOwnPropertyDescriptor(object, key)?.value
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) assert.isFalse(Object.hasOwn(target, key), `${key} removed but kept`)
      else assert.notDeepEqual(own(from, key), own(target, key), `${key} patched but equal`)
    }
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(target, key)) assert.strictEqual(own(patch, key), null, `${key} dropped but not removed`)
    }
  })

  it("is empty between equal objects, and replaces arrays whole", () => {
    assert.deepStrictEqual(MergePatch.between({ a: { b: [1, 2] } }, { a: { b: [1, 2] } }), {})
    assert.deepStrictEqual(MergePatch.between({ a: [1, 2], b: 1 }, { a: [1, 3], b: 1 }), { a: [1, 3] })
    assert.deepStrictEqual(MergePatch.between({ a: { b: 1, c: 2 } }, { a: { b: 1 } }), { a: { c: null } })
    assert.deepStrictEqual(MergePatch.between({ a: 1 }, { a: { b: 1 } }), { a: { b: 1 } })
  })
})
