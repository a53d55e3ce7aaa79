import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { ServerSecrets } from "../../src/index.ts"

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
