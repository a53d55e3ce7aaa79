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

describe("overlayNamed, case by case", () => {
  it("reorders owned items that are all there but out of order", () => {
    const observed = deepFreeze([{ name: "b", value: "1" }, { name: "a", value: "1" }])
    assert.deepStrictEqual(OwnedFields.overlayNamed(observed, [{ name: "a", value: "1" }, { name: "b", value: "1" }], owned), [
      { name: "a", value: "1" },
      { name: "b", value: "1" }
    ])
  })

  it("adds a missing owned item and drops an unwanted one", () => {
    const observed = deepFreeze([{ name: "a", value: "1" }, { name: "c", value: "1" }])
    assert.deepStrictEqual(OwnedFields.overlayNamed(observed, [{ name: "a", value: "1" }], owned), [{ name: "a", value: "1" }])
    assert.deepStrictEqual(OwnedFields.overlayNamed(deepFreeze([{ name: "a", value: "1" }]), [{ name: "a", value: "1" }, { name: "b", value: "2" }], owned), [
      { name: "a", value: "1" },
      { name: "b", value: "2" }
    ])
  })

  it("keeps an owned item as observed when the given equivalence says it means the same", () => {
    const kept = { name: "a", value: "1", defaulted: true }
    const sameName = (a: { readonly name: string }, b: { readonly name: string }) => a.name === b.name
    const [first] = OwnedFields.overlayNamed([{ name: "b", value: "1" }, kept], [{ name: "a", value: "2" }, { name: "b", value: "1" }], owned, sameName)
    assert.strictEqual(first, kept)
  })

  it("matches owned items by name even when the given equivalence would take any item for any other", () => {
    const anything = () => true
    assert.deepStrictEqual(OwnedFields.overlayNamed(deepFreeze([{ name: "b", value: "1" }]), [{ name: "a", value: "1" }], owned, anything), [{ name: "a", value: "1" }])
  })
})

describe("keepEquivalent, mergeMap, namedItems, differs, withoutKey", () => {
  it("keeps the observed value only when there is one and it is equivalent", () => {
    const observed = { port: 80, protocol: "TCP" }
    assert.strictEqual(OwnedFields.keepEquivalent(observed, { protocol: "TCP", port: 80 }), observed, "key order is no difference")
    const desired = { port: 81 }
    assert.strictEqual(OwnedFields.keepEquivalent<object>(observed, desired), desired)
    assert.strictEqual(OwnedFields.keepEquivalent(undefined, desired), desired)
    assert.strictEqual(OwnedFields.keepEquivalent<object>(observed, desired, () => true), observed, "a given equivalence")
    assert.strictEqual(OwnedFields.keepEquivalent<object>(undefined, desired, () => true), desired, "nothing observed is never equivalent")
  })

  it("sets the operator's pairs and keeps the others", () => {
    assert.deepStrictEqual(OwnedFields.mergeMap({ a: "1", b: "1" }, { b: "2", c: "3" }), { a: "1", b: "2", c: "3" })
    assert.deepStrictEqual(OwnedFields.mergeMap(undefined, { c: "3" }), { c: "3" })
  })

  it("reads only named records from a list, and nothing from anything else", () => {
    assert.deepStrictEqual(OwnedFields.namedItems([{ name: "a" }, { name: 1 }, null, ["name"], "a", { value: "x" }, { name: "b", value: 2 }]), [
      { name: "a" },
      { name: "b", value: 2 }
    ])
    assert.deepStrictEqual(OwnedFields.namedItems({ name: "a" }), [])
    assert.deepStrictEqual(OwnedFields.namedItems(undefined), [])
  })

  it("differs canonically, and removes one key", () => {
    assert.isFalse(OwnedFields.differs({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }))
    assert.isTrue(OwnedFields.differs({ a: 1, b: [1, 2] }, { a: 1, b: [2, 1] }))
    assert.deepStrictEqual(OwnedFields.withoutKey({ a: 1, b: 2 }, "a"), { b: 2 })
  })
})
