/**
 * Shared strings: the value that comes out is the value that went in, and the table stays
 * within its two generations whatever goes through it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Kubernetes } from "@dittofs-operator/core"
import * as SharedStrings from "../../../src/runtime/SharedStrings.ts"

const R = Kubernetes.Resources

describe("SharedStrings", () => {
  for (const resource of [R.StatefulSet, R.DittoServer, R.Service]) {
    it.prop(
      `${resource.kind}: sharing gives an equal value, key order included, in fresh objects, and leaves the input as it was`,
      { value: resource.schema },
      ({ value }) => {
        const before = JSON.stringify(value)
        const table = SharedStrings.make({ capacity: 8, maxLength: 16 })
        const shared = table.share(value)
        assert.strictEqual(JSON.stringify(shared), before)
        assert.strictEqual(JSON.stringify(value), before)
        assert.notStrictEqual(shared, value)
        assert.isAtMost(table.size(), 16)
      },
      { arbitrary: { runs: 50 } }
    )
  }

  for (const resource of [R.StatefulSet, R.DittoServer]) {
    it.prop(
      `${resource.kind}: with room for all, the table holds each distinct short string of what it shared, nested ones included`,
      { value: resource.schema },
      ({ value }) => {
        // the specification: every string value JSON.parse meets, keys aside
        const short = new Set<string>()
        JSON.parse(JSON.stringify(value), (_key, field: unknown) => {
          if (typeof field === "string" && field.length <= 16) short.add(field)
          return field
        })
        const table = SharedStrings.make({ capacity: 1_000_000, maxLength: 16 })
        table.share(value)
        assert.strictEqual(table.size(), short.size)
      },
      { arbitrary: { runs: 50 } }
    )
  }

  it("keeps what is seen once per generation, drops the rest when a generation fills, and never holds long strings", () => {
    const table = SharedStrings.make({ capacity: 3, maxLength: 4 })
    const sizes = (values: ReadonlyArray<string>) => values.map((value) => (table.share(value), table.size()))
    assert.deepStrictEqual(sizes(["a", "b", "c", "a"]), [1, 2, 3, 3], "a string held is not held twice")
    assert.deepStrictEqual(sizes(["d"]), [4], "a full generation becomes the previous one")
    assert.deepStrictEqual(sizes(["a", "e"]), [4, 5], "a hit in the previous generation moves it to the current one")
    assert.deepStrictEqual(sizes(["f"]), [4], "b and c, not seen in a generation, are dropped; a is kept")
    assert.deepStrictEqual(sizes(["a", "b"]), [4, 5])
    assert.deepStrictEqual(sizes(["longer", "12345"]), [5, 5], "longer than maxLength")
    assert.deepStrictEqual(table.share({ n: 1, t: true, z: null, s: ["abcd", "abcde"] }), { n: 1, t: true, z: null, s: ["abcd", "abcde"] })
    assert.strictEqual(table.size(), 4, "abcd starts a generation: f, a, b are the previous one")
    const parsed = JSON.parse(`{"__proto__": {"x": "y"}, "k": "v"}`)
    assert.strictEqual(JSON.stringify(table.share(parsed)), JSON.stringify(parsed), "an own __proto__ stays a property")
  })

  it.prop(
    "holds at most two generations, whatever strings go through it",
    { values: Schema.Array(Schema.String), capacity: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })) },
    ({ capacity, values }) => {
      const table = SharedStrings.make({ capacity, maxLength: 8 })
      for (const value of values) {
        assert.strictEqual(table.share(value), value)
        assert.isAtMost(table.size(), 2 * capacity)
      }
    },
    { arbitrary: { runs: 200 } }
  )
})
