import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { adapterPortName, adapterResourceName, Naming, sanitizeAdapterType } from "../../src/index.ts"
import { AdapterType, HostileType, UnicodeText } from "../fixtures.ts"

const runs = { arbitrary: { runs: 500 } }

describe("sanitizeAdapterType", () => {
  it("follows the reference rule", () => {
    assert.strictEqual(sanitizeAdapterType("NFS"), "nfs")
    assert.strictEqual(sanitizeAdapterType("NFS v4!"), "nfs-v4")
    assert.strictEqual(sanitizeAdapterType("--a__b--"), "a-b")
    assert.strictEqual(sanitizeAdapterType("___"), "unknown")
    assert.strictEqual(sanitizeAdapterType(""), "unknown")
    assert.strictEqual(sanitizeAdapterType("Ünfs"), "nfs")
  })

  it("maps U+0130 to i, per code point like Go", () => {
    assert.strictEqual(sanitizeAdapterType("\u0130nfs"), "infs")
    assert.strictEqual(sanitizeAdapterType("\u212Anfs"), "knfs") // Kelvin sign lowers to k in both
    assert.strictEqual(sanitizeAdapterType("ΣΑΣ"), "unknown")
  })

  it.prop("is idempotent and yields [a-z0-9] runs joined by single dashes", { type: HostileType, text: UnicodeText }, ({ text, type }) => {
    for (const input of [type, text]) {
      const once = sanitizeAdapterType(input)
      assert.strictEqual(sanitizeAdapterType(once), once)
      assert.match(once, /^[a-z0-9]+(-[a-z0-9]+)*$/)
    }
  }, runs)
})

describe("adapterPortName", () => {
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["nfs", "adapter-nfs"],
    ["smb", "adapter-smb"],
    ["webdav", "adapter-webdav"],
    ["NFS v4!", "adapter-nfs-v4"],
    ["___", "adapter-unknown"],
    ["custom-adapter-a", "adapter-cu-1e31"],
    ["custom-adapter-b", "adapter-cu-c0bd"],
    ["s3gateway", "adapter-s3-3627"],
    ["kerberos-nfs", "adapter-ke-e9cd"],
    ["x-yyyyyyyy", "adapter-x-40c5"],
    ["custom-protocol-adapter-with-a-very-long-descriptive-name-x1", "adapter-cu-93be"],
    // the hash is of the sanitized type: other spellings of one type share its port name
    ["Custom-Adapter-A", "adapter-cu-1e31"],
    ["KERBEROS_NFS", "adapter-ke-e9cd"],
    ["\u0130nfs-gateway", "adapter-in-bc7c"]
  ]
  for (const [type, expected] of vectors) {
    it(`${JSON.stringify(type)} -> ${expected} (reference vector)`, () => {
      assert.strictEqual(adapterPortName(type), expected)
    })
  }

  it.prop("is a valid IANA service name of at most 15 chars", { type: HostileType, text: AdapterType }, ({ text, type }) => {
    for (const input of [type, text]) {
      const name = adapterPortName(input)
      assert.isAtMost(name.length, 15)
      assert.isTrue(Naming.isIanaServiceName(name), name)
      assert.isTrue(name.startsWith("adapter-"))
    }
  }, runs)

  it.prop("depends on the sanitized type only", { type: AdapterType }, ({ type }) => {
    assert.strictEqual(adapterPortName(type), adapterPortName(sanitizeAdapterType(type)))
  }, runs)
})

describe("adapterResourceName", () => {
  const ServerName = Schema.Union([
    Schema.Literals(["ditto", "a", "1st-server", "my.server", "x".repeat(63), "y".repeat(253), "Upper", ""]),
    Schema.String
  ])

  it("is <server>-adapter-<type> when that fits", () => {
    assert.strictEqual(adapterResourceName("ditto", "NFS"), "ditto-adapter-nfs")
  })

  it("shortens long and invalid names deterministically", () => {
    const long = adapterResourceName("x".repeat(60), "smb")
    assert.strictEqual(long, adapterResourceName("x".repeat(60), "smb"))
    assert.isAtMost(long.length, 63)
    assert.isTrue(Naming.isDns1035Label(adapterResourceName("my.server", "nfs")))
    assert.isTrue(Naming.isDns1035Label(adapterResourceName("1st", "nfs")))
  })

  it.prop("is always a DNS-1035 label of at most 63 chars", { server: ServerName, type: HostileType }, ({ server, type }) => {
    const name = adapterResourceName(server, type)
    assert.isTrue(Naming.isDns1035Label(name), name)
  }, runs)

  it.prop(
    "never gives two distinct sanitized types the same name",
    { server: ServerName, a: HostileType, b: HostileType },
    ({ a, b, server }) => {
      if (sanitizeAdapterType(a) === sanitizeAdapterType(b)) return
      assert.notStrictEqual(adapterResourceName(server, a), adapterResourceName(server, b))
    },
    runs
  )

  it("keeps distinct types distinct when both names are shortened", () => {
    const server = "s".repeat(60)
    const names = new Set(["nfs", "smb", "webdav", "nfs-v4", "s3gateway"].map((type) => adapterResourceName(server, type)))
    assert.strictEqual(names.size, 5)
  })
})

describe("labelValue", () => {
  it.prop("is always a valid label value, and the identity on valid ones", { text: Schema.String }, ({ text }) => {
    const value = Naming.labelValue(text)
    assert.isTrue(Naming.isLabelValue(value), value)
    if (Naming.isLabelValue(text)) assert.strictEqual(value, text)
  }, runs)

  it("shortens a 253-char server name to a valid instance label", () => {
    const value = Naming.labelValue("a".repeat(253))
    assert.isAtMost(value.length, 63)
    assert.notStrictEqual(value, Naming.labelValue(`${"a".repeat(252)}b`))
  })
})
