import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { ActiveAdapters, Naming } from "../../src/index.ts"
import { deepFreeze, ValidAdapter } from "../fixtures.ts"

const Adapters = Schema.Array(ValidAdapter)
const options = { reservedPorts: [8080, 9090] }

describe("ActiveAdapters.select", () => {
  it("keeps enabled and running adapters, keyed and sorted by sanitized type", () => {
    const result = ActiveAdapters.select([
      { type: "SMB", enabled: true, running: true, port: 12445 },
      { type: "nfs", enabled: true, running: true, port: 12049 },
      { type: "webdav", enabled: true, running: false, port: 8000 },
      { type: "s3", enabled: false, running: true, port: 9000 }
    ], options)
    assert.deepStrictEqual(result.active, [
      { type: "nfs", sanitizedType: "nfs", port: 12049, portName: "adapter-nfs" },
      { type: "SMB", sanitizedType: "smb", port: 12445, portName: "adapter-smb" }
    ])
    assert.deepStrictEqual(result.conflicts, [])
  })

  it("reports, never throws: duplicate types, duplicate ports, reserved ports", () => {
    const result = ActiveAdapters.select([
      { type: "nfs", enabled: true, running: true, port: 12049 },
      { type: "NFS", enabled: true, running: true, port: 2049 },
      { type: "webdav", enabled: true, running: true, port: 2049 },
      { type: "api-clash", enabled: true, running: true, port: 8080 }
    ], options)
    // "NFS" sorts before "nfs", so it wins the type and its port 2049; nfs's 12049 stays free.
    assert.deepStrictEqual(result.active.map((adapter) => adapter.type), ["NFS"])
    assert.deepStrictEqual(result.conflicts.map((conflict) => conflict.message), [
      "adapter api-clash reports port 8080, which is reserved for the server itself",
      "adapters NFS and nfs both map to type nfs; NFS is exposed",
      "adapters NFS and webdav both report port 2049; NFS is exposed"
    ])
    assert.deepStrictEqual(result.conflicts.map((conflict) => [conflict.reason, conflict.adapter.type]).sort(), [
      ["DuplicatePort", "webdav"],
      ["DuplicateType", "nfs"],
      ["ReservedPort", "api-clash"]
    ])
  })

  it("reports two types whose hashed port names collide", () => {
    // Both shorten to "adapter-ab-xxxx" with different hashes unless their sanitized types match;
    // find a real collision among generated names to keep the test honest.
    const seen = new Map<string, string>()
    let pair: readonly [string, string] | undefined
    for (let i = 0; pair === undefined && i < 200_000; i++) {
      const type = `abcdefgh-${i}`
      const name = Naming.adapterPortName(type)
      const other = seen.get(name)
      if (other !== undefined) pair = [other, type]
      seen.set(name, type)
    }
    assert.isDefined(pair)
    if (pair === undefined) return
    const result = ActiveAdapters.select([
      { type: pair[0], enabled: true, running: true, port: 1001 },
      { type: pair[1], enabled: true, running: true, port: 1002 }
    ], options)
    assert.strictEqual(result.active.length, 1)
    assert.deepStrictEqual(result.conflicts.map((conflict) => conflict.reason), ["PortNameCollision"])
    assert.deepStrictEqual(result.conflicts.map((conflict) => conflict.message), [
      `adapters ${pair[0]} and ${pair[1]} share port name ${Naming.adapterPortName(pair[0])}; ${pair[0]} is exposed`
    ])
  })

  it("breaks ties by type, then port, then id: the first one is exposed, the others reported", () => {
    const result = ActiveAdapters.select([
      { id: "b", type: "nfs", enabled: true, running: true, port: 2049 },
      { id: "a", type: "nfs", enabled: true, running: true, port: 2049 },
      { type: "nfs", enabled: true, running: true, port: 1 }
    ], options)
    assert.deepStrictEqual(result.active.map((a) => a.port), [1])
    assert.deepStrictEqual(result.conflicts.map((c) => [c.reason, c.adapter.id]), [["DuplicateType", "a"], ["DuplicateType", "b"]])
  })

  it("breaks a tie between an adapter without an id and one with an id for the one without, in any order", () => {
    const withoutId = { type: "nfs", enabled: true, running: true, port: 2049 }
    const withId = { ...withoutId, id: "0001" }
    for (const adapters of [[withoutId, withId], [withId, withoutId]]) {
      const result = ActiveAdapters.select(adapters, options)
      assert.deepStrictEqual(result.active.map((a) => a.port), [2049])
      assert.deepStrictEqual(result.conflicts.map((c) => [c.reason, c.adapter.id]), [["DuplicateType", "0001"]])
    }
  })

  it.prop("is order-independent, unique by type, port and port name, and accounts for every active adapter", { adapters: Adapters }, ({ adapters }) => {
    const input = deepFreeze(adapters)
    const result = ActiveAdapters.select(input, options)
    assert.deepStrictEqual(ActiveAdapters.select([...input].reverse(), options), result)
    const keys = (f: (a: (typeof result.active)[number]) => unknown) => new Set(result.active.map(f)).size
    assert.strictEqual(keys((a) => a.sanitizedType), result.active.length)
    assert.strictEqual(keys((a) => a.port), result.active.length)
    assert.strictEqual(keys((a) => a.portName), result.active.length)
    assert.isTrue(result.active.every((a) => !options.reservedPorts.includes(a.port)))
    const enabledAndRunning = input.filter((a) => a.enabled && a.running).length
    assert.strictEqual(result.active.length + result.conflicts.length, enabledAndRunning)
  }, { arbitrary: { runs: 300 } })
})
