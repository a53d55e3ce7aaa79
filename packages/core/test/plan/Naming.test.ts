import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Naming } from "../../src/index.ts"
import { AdapterType, HostileType, UnicodeText } from "../fixtures.ts"

const runs = { arbitrary: { runs: 500 } }

describe("sanitizeAdapterType", () => {
  it("follows the reference rule", () => {
    assert.strictEqual(Naming.sanitizeAdapterType("NFS"), "nfs")
    assert.strictEqual(Naming.sanitizeAdapterType("NFS v4!"), "nfs-v4")
    assert.strictEqual(Naming.sanitizeAdapterType("--a__b--"), "a-b")
    assert.strictEqual(Naming.sanitizeAdapterType("___"), "unknown")
    assert.strictEqual(Naming.sanitizeAdapterType(""), "unknown")
    assert.strictEqual(Naming.sanitizeAdapterType("Ünfs"), "nfs")
  })

  it("maps U+0130 to i, per code point like Go", () => {
    assert.strictEqual(Naming.sanitizeAdapterType("\u0130nfs"), "infs")
    assert.strictEqual(Naming.sanitizeAdapterType("\u212Anfs"), "knfs") // Kelvin sign lowers to k in both
    assert.strictEqual(Naming.sanitizeAdapterType("ΣΑΣ"), "unknown")
  })

  it.prop("is idempotent and yields [a-z0-9] runs joined by single dashes", { type: HostileType, text: UnicodeText }, ({ text, type }) => {
    for (const input of [type, text]) {
      const once = Naming.sanitizeAdapterType(input)
      assert.strictEqual(Naming.sanitizeAdapterType(once), once)
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
      assert.strictEqual(Naming.adapterPortName(type), expected)
    })
  }

  it.prop("is a valid IANA service name of at most 15 chars", { type: HostileType, text: AdapterType }, ({ text, type }) => {
    for (const input of [type, text]) {
      const name = Naming.adapterPortName(input)
      assert.isAtMost(name.length, 15)
      assert.isTrue(Naming.isIanaServiceName(name), name)
      assert.isTrue(name.startsWith("adapter-"))
    }
  }, runs)

  it.prop("depends on the sanitized type only", { type: AdapterType }, ({ type }) => {
    assert.strictEqual(Naming.adapterPortName(type), Naming.adapterPortName(Naming.sanitizeAdapterType(type)))
  }, runs)
})

describe("adapterResourceName", () => {
  const ServerName = Schema.Union([
    Schema.Literals(["ditto", "a", "1st-server", "my.server", "x".repeat(63), "y".repeat(253), "Upper", ""]),
    Schema.String
  ])

  it("is <server>-adapter-<type> when that fits", () => {
    assert.strictEqual(Naming.adapterResourceName("ditto", "NFS"), "ditto-adapter-nfs")
  })

  // Expected values computed by hand: lowercased, [^a-z0-9-] -> "-", runs of "-" collapsed and
  // trimmed, an "x" in front of a leading digit, cut to 54 chars, trailing "-" dropped, then "-" and
  // 8 hex of sha256("<server>\0<sanitized type>") (from `printf '1st\0nfs' | sha256sum`).
  const shortened: ReadonlyArray<readonly [server: string, type: string, name: string]> = [
    ["1st", "nfs", "x1st-adapter-nfs-653ae672"],
    ["my.server", "nfs", "my-server-adapter-nfs-406647d7"],
    ["my..server", "nfs", "my-server-adapter-nfs-c6eb711d"],
    ["_1", "nfs", "x1-adapter-nfs-858b8ae3"],
    ["Upper", "nfs", "upper-adapter-nfs-f01fbc68"],
    ["x".repeat(60), "smb", `${"x".repeat(54)}-8e08edb4`],
    [`a-${"b".repeat(51)}`, "nfs", `a-${"b".repeat(51)}-a8a8f5e5`]
  ]
  for (const [server, type, name] of shortened) {
    it(`shortens ${JSON.stringify(server.length > 12 ? `${server.slice(0, 12)}…` : server)} + ${type} to a valid label (vector)`, () => {
      assert.strictEqual(Naming.adapterResourceName(server, type), name)
    })
  }

  it("shortens long and invalid names deterministically", () => {
    const long = Naming.adapterResourceName("x".repeat(60), "smb")
    assert.strictEqual(long, Naming.adapterResourceName("x".repeat(60), "smb"))
    assert.isAtMost(long.length, 63)
    assert.isTrue(Naming.isDns1035Label(Naming.adapterResourceName("my.server", "nfs")))
    assert.isTrue(Naming.isDns1035Label(Naming.adapterResourceName("1st", "nfs")))
  })

  it.prop("is always a DNS-1035 label of at most 63 chars", { server: ServerName, type: HostileType }, ({ server, type }) => {
    const name = Naming.adapterResourceName(server, type)
    assert.isTrue(Naming.isDns1035Label(name), name)
  }, runs)

  it.prop(
    "never gives two distinct sanitized types the same name",
    { server: ServerName, a: HostileType, b: HostileType },
    ({ a, b, server }) => {
      if (Naming.sanitizeAdapterType(a) === Naming.sanitizeAdapterType(b)) return
      assert.notStrictEqual(Naming.adapterResourceName(server, a), Naming.adapterResourceName(server, b))
    },
    runs
  )

  it("keeps distinct types distinct when both names are shortened", () => {
    const server = "s".repeat(60)
    const names = new Set(["nfs", "smb", "webdav", "nfs-v4", "s3gateway"].map((type) => Naming.adapterResourceName(server, type)))
    assert.strictEqual(names.size, 5)
  })
})

describe("the validators", () => {
  it("accept only IANA service names", () => {
    for (const name of ["a", "adapter-nfs", "a1", "1a", "abcdefghijklmno", "a-b-c"]) assert.isTrue(Naming.isIanaServiceName(name), name)
    for (const name of ["", "abcdefghijklmnop", "-a", "a-", "a--b", "A", "a_b", "123", "a.b", " a"]) {
      assert.isFalse(Naming.isIanaServiceName(name), name)
    }
  })

  it("accept only DNS-1035 labels", () => {
    for (const name of ["a", "a-b", "a1", "a".repeat(63)]) assert.isTrue(Naming.isDns1035Label(name), name)
    for (const name of ["", "-a", "a-", "1a", "A", "a.b", "a_b", "a".repeat(64)]) assert.isFalse(Naming.isDns1035Label(name), name)
  })

  it("accept only DNS-1123 labels", () => {
    for (const name of ["a", "0", "1a", "a-b", "a--b", "a".repeat(63)]) assert.isTrue(Naming.isDns1123Label(name), name)
    for (const name of ["", "-a", "a-", "A", "a.b", "a_b", "a".repeat(64)]) assert.isFalse(Naming.isDns1123Label(name), name)
  })

  it("accept only DNS subdomains", () => {
    for (const name of ["a", "1st.server", "a-b.c-d", "a".repeat(253)]) assert.isTrue(Naming.isDnsSubdomain(name), name)
    for (const name of ["", "A", "-a", "a-", "a..b", ".a", "a.", "a_b", "a".repeat(254)]) assert.isFalse(Naming.isDnsSubdomain(name), name)
  })

  it("accept only label values", () => {
    for (const value of ["", "a", "A.b_c-1", "1", "a".repeat(63)]) assert.isTrue(Naming.isLabelValue(value), value)
    for (const value of ["-a", "a-", ".a", "a b", "ü", "a".repeat(64)]) assert.isFalse(Naming.isLabelValue(value), value)
  })
})

describe("labelValue", () => {
  // by hand: [^-A-Za-z0-9_.] -> "-", leading non-alphanumerics dropped, cut to 54, trailing
  // non-alphanumerics dropped, then "-" and 8 hex of sha256(text) (or those 8 alone)
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["my server!", "my-server-3d35dc79"],
    ["--a b", "a-b-1bf08e04"],
    ["!!!", "e84c538e"],
    ["nfs (v4)!", "nfs--v4-a7a5e3d3"],
    ["\u00fc", "607474ca"],
    ["a".repeat(70), `${"a".repeat(54)}-6bd5e503`]
  ]
  for (const [text, value] of vectors) {
    it(`${JSON.stringify(text.slice(0, 12))} -> ${value.slice(0, 20)} (vector)`, () => {
      assert.strictEqual(Naming.labelValue(text), value)
    })
  }

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
