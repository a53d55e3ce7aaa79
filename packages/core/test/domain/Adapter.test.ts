import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { Adapter } from "../../src/index.ts"
import { deepFreeze, RawAdapter } from "../fixtures.ts"

describe("Adapter.decodeList", () => {
  it("decodes the dfs body, keeping unknown fields out", () => {
    const decoded = Adapter.decodeList([
      { id: "a1", type: "nfs", enabled: true, running: true, port: 12049, config: {}, created_at: "x", updated_at: "y" }
    ])
    assert.deepStrictEqual(decoded, Result.succeed({
      adapters: [{ id: "a1", type: "nfs", enabled: true, running: true, port: 12049 }],
      rejected: []
    }))
  })

  for (const body of [null, undefined, {}, { adapters: [] }, "[]", 42, true]) {
    it(`rejects a body that is not an array: ${JSON.stringify(body)}`, () => {
      const decoded = Adapter.decodeList(body)
      assert.isTrue(Result.isFailure(decoded))
      if (Result.isFailure(decoded)) assert.strictEqual(decoded.failure._tag, "MalformedAdapterList")
    })
  }

  it("accepts an empty list as a (successful, authoritative) empty list", () => {
    assert.deepStrictEqual(Adapter.decodeList([]), Result.succeed({ adapters: [], rejected: [] }))
  })

  it("rejects invalid entries with their index and reason, keeping the valid ones", () => {
    const decoded = Adapter.decodeList([
      { type: "nfs", enabled: true, running: true, port: 0 },
      { type: "smb", enabled: true, running: true, port: 12445 },
      { type: "", enabled: true, running: true, port: 1 },
      { type: "x", enabled: "yes", running: true, port: 1 },
      { type: "y", enabled: true, running: true, port: 70000 },
      { type: "z", enabled: true, running: true, port: 1.5 },
      "nfs",
      null
    ])
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) {
      assert.deepStrictEqual(decoded.success.adapters.map((adapter) => adapter.type), ["smb"])
      assert.deepStrictEqual(decoded.success.rejected.map((rejected) => rejected.index), [0, 2, 3, 4, 5, 6, 7])
      assert.isTrue(decoded.success.rejected.every((rejected) => rejected.reason.length > 0))
    }
  })

  it.prop("accounts for every entry of any array, valid or hostile", { body: Schema.Array(Schema.Union([RawAdapter, Schema.Unknown])) }, ({ body }) => {
    const input = deepFreeze(body)
    const decoded = Adapter.decodeList(input)
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) {
      assert.strictEqual(decoded.success.adapters.length + decoded.success.rejected.length, input.length)
      assert.isTrue(decoded.success.adapters.every((adapter) => Number.isInteger(adapter.port) && adapter.port >= 1 && adapter.port <= 65535 && adapter.type !== ""))
    }
  }, { arbitrary: { runs: 300 } })

  it.prop("never succeeds on a non-array", { body: Schema.Union([Schema.Record(Schema.String, Schema.Unknown), Schema.String, Schema.Finite, Schema.Null]) }, ({ body }) => {
    assert.isTrue(Result.isFailure(Adapter.decodeList(body)))
  })
})
