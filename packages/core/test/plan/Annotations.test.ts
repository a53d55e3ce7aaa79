import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Annotations } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const tracking = "dittofs.io/managed-annotations"
/** Annotation keys never hold a comma (the apiserver's key syntax), the tracking list's separator. */
const Key = Schema.Union([Schema.Literals(["a", "b", "c", "example.com/x", tracking]), Schema.String.check(Schema.isPattern(/^[^,]*$/))])
const Map = Schema.Record(Key, Schema.Union([Schema.Literals(["1", "2", ""]), Schema.String]))

describe("Annotations.sync", () => {
  it("sets desired pairs, drops stale tracked keys, keeps foreign ones, tracks sorted keys", () => {
    const synced = Annotations.sync(
      { [tracking]: "a,old", a: "0", old: "x", foreign: "kept" },
      { b: "2", a: "1" }
    )
    assert.deepStrictEqual(synced, { [tracking]: "a,b", a: "1", b: "2", foreign: "kept" })
  })

  it("never tracks its own tracking key, even when it is among the desired annotations", () => {
    assert.deepStrictEqual(Annotations.sync(undefined, { [tracking]: "user", a: "1" }), { [tracking]: "a", a: "1" })
    assert.strictEqual(Annotations.trackingValue({ [tracking]: "user", b: "2", a: "1" }), "a,b")
  })

  it("removes the tracking key when nothing is desired", () => {
    assert.deepStrictEqual(Annotations.sync({ [tracking]: "a", a: "1", other: "x" }, {}), { other: "x" })
  })

  it.prop("is idempotent, pure, and inSync is exactly 'sync changes nothing'", { current: Map, desired: Map }, ({ current, desired }) => {
    const frozen = deepFreeze({ ...current })
    const once = Annotations.sync(frozen, deepFreeze({ ...desired }))
    assert.deepStrictEqual(Annotations.sync(once, desired), once)
    assert.isTrue(Annotations.inSync(once, desired))
    assert.strictEqual(Annotations.inSync(frozen, desired), Annotations.mapsEqual(frozen, once))
    for (const [key, value] of Object.entries(desired)) if (key !== tracking) assert.strictEqual(once[key], value)
  }, { arbitrary: { runs: 300 } })
})
