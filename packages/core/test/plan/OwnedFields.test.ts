import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { OwnedFields } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const Item = Schema.Struct({ name: Schema.Literals(["a", "b", "c", "x", "y"]), value: Schema.Literals(["1", "2"]) })
const owned = (name: string) => name === "a" || name === "b" || name === "c"

describe("overlayNamed", () => {
  it("keeps foreign items, after the owned ones, when the owned ones change", () => {
    const observed = deepFreeze([{ name: "x", value: "1" }, { name: "a", value: "1" }, { name: "y", value: "1" }])
    assert.deepStrictEqual(OwnedFields.overlayNamed(observed, [{ name: "a", value: "2" }, { name: "b", value: "1" }], owned), [
      { name: "a", value: "2" },
      { name: "b", value: "1" },
      { name: "x", value: "1" },
      { name: "y", value: "1" }
    ])
  })

  it("returns the observed list itself when the owned items already are the desired ones", () => {
    const observed = deepFreeze([{ name: "x", value: "1" }, { name: "a", value: "1" }])
    assert.strictEqual(OwnedFields.overlayNamed(observed, [{ name: "a", value: "1" }], owned), observed)
  })

  it.prop("is idempotent, keeps every foreign item and yields exactly the desired owned items", {
    observed: Schema.Array(Item),
    desired: Schema.Array(Item)
  }, ({ desired: raw, observed }) => {
    const desired = raw.filter((item, index) => owned(item.name) && raw.findIndex((other) => other.name === item.name) === index)
    const once = OwnedFields.overlayNamed(deepFreeze(observed), deepFreeze(desired), owned)
    assert.deepStrictEqual(OwnedFields.overlayNamed(once, desired, owned), once)
    assert.deepStrictEqual(once.filter((item) => owned(item.name)), desired)
    assert.deepStrictEqual(once.filter((item) => !owned(item.name)), observed.filter((item) => !owned(item.name)))
  }, { arbitrary: { runs: 500 } })
})
