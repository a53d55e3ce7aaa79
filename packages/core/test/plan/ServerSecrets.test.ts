import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { DittoServer, type K8s, Naming, ServerSecrets } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

describe("ServerSecrets.generatedFrom", () => {
  it.prop("32 alphanumerics and a 24-char base64url password, a pure function of the bytes", {
    bytes: Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 255 }))).check(Schema.isMaxLength(80))
  }, ({ bytes }) => {
    const generated = ServerSecrets.generatedFrom(Uint8Array.from(bytes))
    assert.match(generated.jwtSecret, /^[A-Za-z0-9]{32}$/)
    assert.match(generated.adminPassword, /^[A-Za-z0-9_-]{24}$/)
    assert.deepStrictEqual(ServerSecrets.generatedFrom(Uint8Array.from(bytes)), generated)
  })

  it("reads randomBytesNeeded bytes: the JWT key from the first 32, the password from the next 18", () => {
    const bytes = Uint8Array.from({ length: ServerSecrets.randomBytesNeeded }, (_, i) => i)
    const generated = ServerSecrets.generatedFrom(bytes)
    assert.strictEqual(generated.jwtSecret, "abcdefghijklmnopqrstuvwxyzABCDEF")
    assert.strictEqual(generated.adminPassword, Buffer.from(bytes.slice(32)).toString("base64url"))
    assert.notStrictEqual(ServerSecrets.generatedFrom(bytes.map((byte) => byte ^ 1)).adminPassword, generated.adminPassword)
  })
})

describe("ServerSecrets: the generated Secrets", () => {
  const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
  const names = Naming.workloadNames("ditto")
  const specOf = (fields: Record<string, unknown> = {}) => Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })
  const input = { server, spec: specOf(), names, generated: { jwtSecret: "j".repeat(32), adminPassword: "p".repeat(24) } }
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

  it("are wanted only while the spec names none of the user's", () => {
    assert.deepStrictEqual([ServerSecrets.wanted(specOf(), "jwt"), ServerSecrets.wanted(specOf(), "admin")], [true, true])
    const own = specOf({ identity: { jwt: { secretRef: { name: "j", key: "k" } }, admin: { passwordSecretRef: { name: "a", key: "p" } } } })
    assert.deepStrictEqual([ServerSecrets.wanted(own, "jwt"), ServerSecrets.wanted(own, "admin")], [false, false])
    assert.deepStrictEqual([ServerSecrets.wanted(specOf({ identity: { admin: { username: "root" } } }), "admin")], [true], "an admin without a password Secret")
    assert.deepStrictEqual([ServerSecrets.nameOf(names, "jwt"), ServerSecrets.nameOf(names, "admin")], ["ditto-jwt-secret", "ditto-admin-credentials"])
  })

  it("hold the generated values, base64, as Opaque Secrets owned by the server", () => {
    const jwt = ServerSecrets.desired(input, "jwt")
    const admin = ServerSecrets.desired(input, "admin")
    assert.deepStrictEqual(jwt.data, { "jwt-secret": b64("j".repeat(32)) })
    assert.deepStrictEqual(admin.data, { username: b64("admin"), password: b64("p".repeat(24)) })
    assert.deepStrictEqual([jwt.type, jwt.metadata.labels, jwt.metadata.ownerReferences?.[0]?.uid], ["Opaque", { app: "dittofs-server", instance: "ditto" }, "uid-ditto"])
  })

  it("never rotate a value, fill only a key missing or empty, merge labels, and say which", () => {
    const observed: K8s.Secret = deepFreeze({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "ditto-admin-credentials", namespace: "storage", labels: { team: "x" } },
      type: "Opaque",
      data: { username: b64("root"), password: "", extra: "kept" }
    })
    const next = ServerSecrets.overlay(input, "admin", observed)
    assert.deepStrictEqual(next.data, { username: b64("root"), password: b64("p".repeat(24)), extra: "kept" })
    assert.deepStrictEqual(next.metadata.labels, { team: "x", app: "dittofs-server", instance: "ditto" })
    assert.deepStrictEqual(ServerSecrets.missingKeys(input, "admin", observed), ["password"])
    assert.deepStrictEqual(ServerSecrets.updatedEvent(input, "admin", observed), {
      type: "Normal",
      reason: "SecretUpdated",
      message: "Updated Secret ditto-admin-credentials: filled missing key(s) password"
    })
    const { data: _data, ...empty } = observed
    assert.deepStrictEqual(ServerSecrets.missingKeys(input, "admin", empty), ["username", "password"])
    assert.strictEqual(
      ServerSecrets.updatedEvent(input, "admin", empty).message,
      "Updated Secret ditto-admin-credentials: filled missing key(s) username, password"
    )
    const full = { ...observed, data: { username: b64("root"), password: b64("secret") } }
    const labelled = ServerSecrets.overlay(input, "admin", full)
    assert.strictEqual(labelled.data, full.data, "nothing filled: the data as observed")
    assert.strictEqual(ServerSecrets.updatedEvent(input, "admin", full).message, "Updated Secret ditto-admin-credentials: labels")
  })

  it("announce what they hold", () => {
    assert.deepStrictEqual(ServerSecrets.createdEvent("jwt", ServerSecrets.desired(input, "jwt")), {
      type: "Normal",
      reason: "SecretCreated",
      message: "Created Secret ditto-jwt-secret holding the generated JWT signing key"
    })
    assert.strictEqual(ServerSecrets.createdEvent("admin", ServerSecrets.desired(input, "admin")).message, "Created Secret ditto-admin-credentials holding the generated admin credentials")
  })
})
