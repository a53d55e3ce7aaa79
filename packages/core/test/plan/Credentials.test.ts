import { assert, describe, it } from "@effect/vitest"
import { Redacted, Schema } from "effect"
import { Credentials } from "../../src/index.ts"

const server = { name: "ditto", namespace: "storage", uid: "u-1" }
const url = "http://ditto-api.storage.svc.cluster.local:8080"
const full: Credentials.Stored = {
  username: "k8s-operator",
  password: Redacted.make("pw"),
  accessToken: Redacted.make("a"),
  refreshToken: Redacted.make("r"),
  serverUrl: url,
  issuedAt: 1_000_000,
  expiresAt: 1_000_000 + 900_000
}

describe("Credentials", () => {
  it("names one DittoFS account per server, k8s-operator.<namespace>.<name>, within DittoFS's 255 chars", () => {
    assert.strictEqual(Credentials.accountName({ namespace: "storage", name: "ditto" }), "k8s-operator.storage.ditto")
    assert.strictEqual(Credentials.accountName({ namespace: "a", name: "b.c" }), "k8s-operator.a.b.c")
    const namespace = "n".repeat(63)
    const long = (last: string) => Credentials.accountName({ namespace, name: `${"x".repeat(252)}${last}` })
    assert.strictEqual(long("1").length, 255)
    assert.isTrue(long("1").startsWith(`k8s-operator.${namespace}.xxx`))
    // cut to 246 chars, then "-" and the first 8 hex digits of the full name's sha256 (`sha256sum`)
    assert.strictEqual(long("1").slice(-10), "x-16c3d1c3")
    assert.notStrictEqual(long("1"), long("2"), "names that differ only past the cut still get different accounts")
    const fits = Credentials.accountName({ namespace: "n", name: "y".repeat(255 - "k8s-operator.n.".length) })
    assert.strictEqual(fits, `k8s-operator.n.${"y".repeat(240)}`, "255 chars exactly: kept whole")
  })

  it("round-trips through the Secret, owned by the server", () => {
    const secret = Credentials.toSecret(server, full)
    assert.strictEqual(secret.metadata.name, "ditto-operator-credentials")
    assert.deepStrictEqual(secret.metadata.ownerReferences?.map((ref) => ref.uid), ["u-1"])
    const read = Credentials.fromSecret(secret)
    const revealed = (credentials: Credentials.Stored | undefined) =>
      credentials === undefined ? undefined : {
        ...credentials,
        password: Redacted.value(credentials.password),
        accessToken: credentials.accessToken === undefined ? undefined : Redacted.value(credentials.accessToken),
        refreshToken: credentials.refreshToken === undefined ? undefined : Redacted.value(credentials.refreshToken)
      }
    assert.deepStrictEqual(revealed(read), revealed(full))
    assert.strictEqual(Buffer.from(secret.data?.["access-token"] ?? "", "base64").toString(), "a")
  })

  it("keeps the password and the tokens redacted in every printed form", () => {
    const read = Credentials.fromSecret(Credentials.toSecret(server, { ...full, password: Redacted.make("hunter2-pw"), accessToken: Redacted.make("tok-3f9a") }))
    const printed = [String(read?.password), JSON.stringify(read), `${read?.accessToken}`, String(read?.accessToken)].join(" ")
    assert.notInclude(printed, "hunter2-pw")
    assert.notInclude(printed, "tok-3f9a")
    assert.include(printed, "<redacted>")
  })

  it("writes over the Secret it read: its other fields and labels kept, ours set, times as RFC 3339", () => {
    const observed = {
      apiVersion: "v1" as const,
      kind: "Secret" as const,
      metadata: { name: "ditto-operator-credentials", namespace: "storage", uid: "s-1", resourceVersion: "9", labels: { team: "x", app: "other" }, annotations: { a: "b" } },
      immutable: false,
      data: { stale: "eA==" }
    }
    const secret = Credentials.toSecret(server, { username: "u", password: Redacted.make("p"), issuedAt: 0, expiresAt: 1500 }, observed)
    assert.deepStrictEqual(secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "ditto-operator-credentials",
        namespace: "storage",
        uid: "s-1",
        resourceVersion: "9",
        labels: { team: "x", app: "dittofs-server", instance: "ditto" },
        annotations: { a: "b" },
        ownerReferences: [{ apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", name: "ditto", uid: "u-1", controller: true, blockOwnerDeletion: true }]
      },
      immutable: false,
      type: "Opaque",
      data: {
        username: Buffer.from("u").toString("base64"),
        password: Buffer.from("p").toString("base64"),
        "issued-at": Buffer.from("1970-01-01T00:00:00.000Z").toString("base64"),
        "expires-at": Buffer.from("1970-01-01T00:00:01.500Z").toString("base64")
      }
    })
    const read = Credentials.fromSecret(secret)
    assert.deepStrictEqual({ ...read, password: read === undefined ? undefined : Redacted.value(read.password) }, { username: "u", password: "p", issuedAt: 0, expiresAt: 1500 })
  })

  it("reads a Secret without username or password as absent, and junk times as missing", () => {
    const secret = Credentials.toSecret(server, full)
    const { password: _dropped, ...rest } = secret.data ?? {}
    assert.isUndefined(Credentials.fromSecret({ ...secret, data: rest }))
    const junk = Credentials.fromSecret({ ...secret, data: { ...secret.data, "expires-at": Buffer.from("soon").toString("base64") } })
    assert.isUndefined(junk?.expiresAt)
    assert.isUndefined(Credentials.fromSecret({ ...secret, data: { ...secret.data, password: "" } }), "an empty password is none")
    const noToken = Credentials.fromSecret({ ...secret, data: { ...secret.data, "access-token": "" } })
    assert.isFalse(noToken === undefined || "accessToken" in noToken, "an empty token is none")
  })

  it("decides: provision, login, refresh at 80 %, or use", () => {
    const at = (now: number, credentials: Credentials.Stored | undefined = full, serverUrl = url) =>
      Credentials.nextStep(credentials, serverUrl, now)._tag
    assert.strictEqual(Credentials.nextStep(undefined, url, 0)._tag, "Provision")
    assert.strictEqual(at(1_000_000), "Use")
    assert.strictEqual(at(1_000_000 + 719_999), "Use")
    assert.strictEqual(at(1_000_000 + 720_000), "Refresh")
    assert.strictEqual(at(1_000_000 + 900_000), "Refresh", "expired: refresh token still worth a try")
    assert.strictEqual(at(1_000_000, full, "http://moved:8080"), "Login", "tokens for another URL are not used")
    const { accessToken: _a, refreshToken: _r, ...passwordOnly } = full
    assert.strictEqual(at(1_000_000, passwordOnly), "Login")
    const { refreshToken: _r2, ...noRefreshToken } = full
    assert.strictEqual(at(1_000_000 + 720_000, noRefreshToken), "Login", "due, and nothing to refresh with")
    assert.strictEqual(at(1_000_000 + 900_000, noRefreshToken), "Login")
    assert.strictEqual(at(1_000_000 + 900_000, full, "http://moved:8080"), "Login", "a refresh token of another URL is not used")
    const { issuedAt: _i, ...noIssuedAt } = full
    assert.strictEqual(at(1_000_000, noIssuedAt), "Refresh", "an unknown age: refreshed")
    const { expiresAt: _e, ...noExpiry } = full
    assert.strictEqual(at(1_000_000, noExpiry), "Refresh")
    const backwards = { ...full, issuedAt: 2_000_000, expiresAt: 1_000_000 }
    assert.strictEqual(at(1_000_000, backwards), "Refresh", "a Secret whose times were set by hand: expired is expired")
    const { serverUrl: _u, ...noUrl } = full
    assert.strictEqual(at(1_000_000, noUrl), "Login")
    const use = Credentials.nextStep(full, url, 1_000_000)
    assert.deepStrictEqual(
      use._tag === "Use" ? { ...use, accessToken: Redacted.value(use.accessToken) } : use,
      { _tag: "Use", credentials: full, accessToken: "a", refreshAt: 1_720_000 }
    )
  })

  it.prop("refreshes exactly at 80 % of the token's lifetime", { issuedAt: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 40 })), seconds: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400 })) }, ({ issuedAt, seconds }) => {
    const due = Credentials.refreshDueAt(issuedAt, issuedAt + seconds * 1000)
    const credentials = { ...full, issuedAt, expiresAt: issuedAt + seconds * 1000 }
    assert.strictEqual(Credentials.nextStep(credentials, url, due - 1)._tag, "Use")
    assert.strictEqual(Credentials.nextStep(credentials, url, due)._tag, "Refresh")
    assert.approximately(due - issuedAt, seconds * 800, 1)
  })
})
