import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { Auth, Credentials, DittoFs, Kubernetes, Ownership } from "../../src/index.ts"
import { forgetTokens } from "../../src/reconcile/Auth.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { makeServer, namespace } from "../fixtures.ts"
import { admin, adminCredentials, adminPasswordRef, adminSecret, adminSecretName, baseUrl, events, setup, testLayer } from "./harness.ts"

/** The server's own DittoFS account (namespace `storage`, server `ditto`). */
const account = "k8s-operator.storage.ditto"

const reveal = (secret: Redacted.Redacted<string> | undefined): string | undefined =>
  secret === undefined ? undefined : Redacted.value(secret)

/** The stored credentials with their secrets revealed, so that assertions compare values. */
const stored = Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Secret, namespace, "ditto-operator-credentials")).pipe(
  Effect.map(Credentials.fromSecret),
  Effect.map((credentials) => {
    if (credentials === undefined) return undefined
    const { accessToken, password, refreshToken, ...rest } = credentials
    return {
      ...rest,
      password: Redacted.value(password),
      ...(accessToken === undefined ? {} : { accessToken: Redacted.value(accessToken) }),
      ...(refreshToken === undefined ? {} : { refreshToken: Redacted.value(refreshToken) })
    }
  })
)

const credentialsSecret = Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Secret, namespace, "ditto-operator-credentials"))

/** Whether the stored password still opens the server's DittoFS account. */
const storedPasswordWorks = Effect.gen(function*() {
  const credentials = yield* stored
  const login = DittoFs.DittoFs.use((d) => d.login(baseUrl, { username: account, password: Redacted.make(credentials?.password ?? "") }))
  return (yield* Effect.result(login))._tag === "Success"
})

const session = Effect.gen(function*() {
  const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
  return yield* Auth.ensureSession(server, baseUrl)
})

describe("forgetTokens", () => {
  it.effect("drops the stored tokens and keeps the password, once", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      const before = yield* stored
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      yield* forgetTokens(server)
      assert.deepStrictEqual(yield* stored, { username: account, password: before?.password ?? "" })
      const secret = Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Secret, namespace, "ditto-operator-credentials"))
      const version = (yield* secret).metadata.resourceVersion
      yield* forgetTokens(server)
      assert.strictEqual((yield* secret).metadata.resourceVersion, version, "nothing left to forget: no write")
    }).pipe(Effect.provide(testLayer())))

  it.effect("leaves a Secret that holds no token exactly as it is", () =>
    Effect.gen(function*() {
      const server = yield* setup()
      // a password and the URL it is for, but no token
      const written = yield* Kubernetes.Kubernetes.use((k) =>
        k.create(
          Kubernetes.Resources.Secret,
          Credentials.toSecret(Ownership.identityOf(server), { username: account, password: Redacted.make("p4ssword"), serverUrl: baseUrl })
        )
      )
      yield* forgetTokens(server)
      assert.deepStrictEqual(yield* credentialsSecret, written)
    }).pipe(Effect.provide(testLayer())))
})

/**
 * Injects a failure of a Kubernetes call into the next session: the pass fails with that reason
 * and changes neither the DittoFS accounts, the credentials Secret, the stored password nor the
 * Events.
 */
const failsChangingNothing = (fault: KubernetesMemory.Fault) =>
  Effect.gen(function*() {
    const control = yield* DittoFsMemory.Control
    const users = yield* control.users(baseUrl)
    const before = yield* credentialsSecret
    yield* (yield* KubernetesMemory.Control).failNext(fault)
    const error = yield* Effect.flip(session)
    assert.deepStrictEqual([error._tag, error.reason], ["KubernetesError", fault.reason])
    assert.deepStrictEqual(yield* control.users(baseUrl), users)
    assert.deepStrictEqual(yield* credentialsSecret, before)
    assert.isTrue(yield* storedPasswordWorks)
    assert.deepStrictEqual((yield* events).map((e) => e.reason), ["AuthProvisioned"])
  })

describe("ensureSession", () => {
  it.effect("provisions the operator account with the admin credentials and stores its tokens", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const outcome = yield* session
      assert.strictEqual(outcome._tag, "Authenticated")
      const users = yield* (yield* DittoFsMemory.Control).users(baseUrl)
      assert.deepStrictEqual(users.map((u) => [u.username, u.role]), [["admin", "admin"], [account, "operator"]])
      const credentials = yield* stored
      assert.strictEqual(credentials?.username, account)
      assert.strictEqual(credentials?.serverUrl, baseUrl)
      if (outcome._tag === "Authenticated") assert.strictEqual(reveal(outcome.session.accessToken), credentials?.accessToken)
      // the stored session works for what the operator needs
      const list = yield* DittoFs.DittoFs.use((d) => d.listAdapters(baseUrl, Redacted.make(credentials?.accessToken ?? "")))
      assert.strictEqual(list.adapters.length, 1)
      const recorded = yield* events
      assert.deepStrictEqual(recorded.map((e) => [e.reason, e.type, e.message]), [
        ["AuthProvisioned", "Normal", `Provisioned DittoFS operator account ${account}`]
      ])
      assert.isFalse(recorded.some((e) => (e.message ?? "").includes(credentials?.accessToken ?? "-") || (e.message ?? "").includes(credentials?.password ?? "-")))
    }).pipe(Effect.provide(testLayer())))

  it.effect("reuses its tokens until 80 % of their lifetime, then refreshes them", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      const first = yield* stored
      yield* TestClock.adjust("11 minutes")
      yield* session
      assert.deepStrictEqual(yield* stored, first, "nothing written before 80 %")
      yield* TestClock.adjust("1 minute")
      const refreshed = yield* session
      const second = yield* stored
      assert.notStrictEqual(second?.accessToken, first?.accessToken)
      assert.strictEqual(second?.password, first?.password)
      assert.strictEqual(refreshed._tag === "Authenticated" && reveal(refreshed.session.accessToken), second?.accessToken)
    }).pipe(Effect.provide(testLayer())))

  it.effect("logs in again when the refresh token is refused, re-provisions when the account is gone", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      const control = yield* DittoFsMemory.Control
      const provisioned = yield* stored
      const user = (yield* control.users(baseUrl)).find((u) => u.username === account)
      yield* control.failNext(baseUrl, "refresh", "Unauthorized")
      yield* TestClock.adjust("13 minutes")
      assert.strictEqual((yield* session)._tag, "Authenticated")
      const afterLogin = yield* stored
      // a login with the stored password: the same DittoFS account, the same password, new tokens
      assert.deepStrictEqual((yield* control.users(baseUrl)).filter((u) => u.username === account), [user])
      assert.strictEqual(afterLogin?.password, provisioned?.password)
      assert.notStrictEqual(afterLogin?.accessToken, provisioned?.accessToken)
      assert.deepStrictEqual((yield* events).map((e) => e.reason), ["AuthProvisioned"])
      // the account is deleted by someone: the stored password no longer works
      const adminToken = yield* DittoFs.DittoFs.use((d) => d.login(baseUrl, adminCredentials))
      yield* DittoFs.DittoFs.use((d) => d.deleteUser(baseUrl, adminToken.access_token, account))
      yield* TestClock.adjust("20 minutes")
      yield* control.failNext(baseUrl, "refresh", "Unauthorized")
      assert.strictEqual((yield* session)._tag, "Authenticated")
      assert.notStrictEqual((yield* stored)?.password, afterLogin?.password, "a new account with a new password")
    }).pipe(Effect.provide(testLayer())))

  it.effect("replaces an existing operator account whose password it does not know", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const adminToken = yield* DittoFs.DittoFs.use((d) => d.login(baseUrl, adminCredentials))
      yield* DittoFs.DittoFs.use((d) => d.createUser(baseUrl, adminToken.access_token, { username: account, password: Redacted.make("unknown"), role: "user" }))
      assert.strictEqual((yield* session)._tag, "Authenticated")
      const users = yield* (yield* DittoFsMemory.Control).users(baseUrl)
      assert.deepStrictEqual(users.find((u) => u.username === account)?.role, "operator")
    }).pipe(Effect.provide(testLayer())))

  it.effect("three servers on one DittoFS each keep an account of their own, and none invalidates another's", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const kubernetes = yield* Kubernetes.Kubernetes
      for (const name of ["nas-b", "nas-c"]) {
        yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* makeServer(adminPasswordRef, name))
      }
      const servers = ["ditto", "nas-b", "nas-c"]
      const passOf = (name: string) =>
        Effect.flatMap(kubernetes.get(Kubernetes.Resources.DittoServer, namespace, name), (server) => Auth.ensureSession(server, baseUrl))
      // two rounds: the second must find every account as the first left it
      for (let round = 0; round < 2; round++) {
        for (const name of servers) assert.strictEqual((yield* passOf(name))._tag, "Authenticated", `${name}, round ${round}`)
      }
      const control = yield* DittoFsMemory.Control
      assert.deepStrictEqual(
        (yield* control.users(baseUrl)).map((u) => [u.username, u.role]).sort(),
        [["admin", "admin"], ["k8s-operator.storage.ditto", "operator"], ["k8s-operator.storage.nas-b", "operator"], [
          "k8s-operator.storage.nas-c",
          "operator"
        ]]
      )
      // each server's stored password still opens its own account
      const dittofs = yield* DittoFs.DittoFs
      for (const name of servers) {
        const secret = yield* kubernetes.get(Kubernetes.Resources.Secret, namespace, `${name}-operator-credentials`)
        const credentials = Credentials.fromSecret(secret)
        assert.strictEqual(credentials?.username, `k8s-operator.storage.${name}`)
        const token = yield* dittofs.login(baseUrl, { username: credentials?.username ?? "", password: credentials?.password ?? Redacted.make("") })
        assert.isNotEmpty(Redacted.value(token.access_token))
      }
      assert.deepStrictEqual((yield* events).filter((e) => e.reason === "AuthProvisioned").length, 3, "one account each, never replaced")
    }).pipe(Effect.provide(testLayer())))

  it.effect("keeps using stored credentials of the reference operator's shared account while they work", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const dittofs = yield* DittoFs.DittoFs
      const adminToken = yield* dittofs.login(baseUrl, adminCredentials)
      const legacy = { username: "k8s-operator", password: Redacted.make("legacy-password"), role: "operator" } as const
      yield* dittofs.createUser(baseUrl, adminToken.access_token, legacy)
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Secret, Credentials.toSecret(Ownership.identityOf(server), { username: legacy.username, password: legacy.password })))
      assert.strictEqual((yield* session)._tag, "Authenticated")
      assert.deepStrictEqual((yield* stored)?.username, "k8s-operator")
      assert.deepStrictEqual((yield* (yield* DittoFsMemory.Control).users(baseUrl)).map((u) => u.username).sort(), ["admin", "k8s-operator"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("neither reads nor writes a credentials Secret it does not control", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const theirs = yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Secret, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ditto-operator-credentials", namespace },
          data: { username: Buffer.from("admin").toString("base64"), password: Buffer.from(admin.password).toString("base64") }
        })
      )
      const outcome = yield* session
      assert.deepStrictEqual(outcome._tag === "Failed" && [outcome.reason, outcome.message], [
        "CredentialsSecretNotOwned",
        "Secret ditto-operator-credentials exists and is not controlled by this DittoServer"
      ])
      assert.deepStrictEqual(yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Secret, namespace, "ditto-operator-credentials")), theirs)
      assert.deepStrictEqual((yield* (yield* DittoFsMemory.Control).users(baseUrl)).map((u) => u.username), ["admin"])
      assert.strictEqual((yield* (yield* DittoFsMemory.Control).requests(baseUrl)).login, undefined, "its password was not tried")
    }).pipe(Effect.provide(testLayer())))

  it.effect("DittoFS unreachable: Unreachable, and nothing written", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      const outcome = yield* session
      assert.strictEqual(outcome._tag, "Unreachable")
      const secrets = yield* Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Secret, namespace))
      assert.deepStrictEqual(secrets.map((s) => s.metadata.name), ["ditto-admin"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("keeps using a still-valid token when a refresh cannot reach DittoFS", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      const before = yield* stored
      yield* TestClock.adjust("13 minutes")
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "refresh", "Unreachable")
      const outcome = yield* session
      assert.strictEqual(outcome._tag === "Authenticated" && reveal(outcome.session.accessToken), before?.accessToken)
      assert.deepStrictEqual(yield* stored, before)
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* TestClock.adjust("3 minutes")
      assert.strictEqual((yield* session)._tag, "Unreachable", "once expired, the token is not used")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a wrong admin password or a missing admin Secret fails with a reason", () =>
    Effect.gen(function*() {
      yield* setup()
      const missing = yield* session
      assert.deepStrictEqual(missing._tag === "Failed" && missing.reason, "AdminCredentialsMissing")
      yield* adminSecret("wrong")
      const wrong = yield* session
      assert.deepStrictEqual(wrong._tag === "Failed" && wrong.reason, "AuthenticationFailed")
    }).pipe(Effect.provide(testLayer())))

  it.effect("takes the admin username from the Secret, else from the spec, else 'admin'", () =>
    Effect.gen(function*() {
      const control = yield* DittoFsMemory.Control
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* control.addServer(baseUrl, { adminUsername: "root", adminPassword: admin.password })
      yield* setup({ identity: { admin: { username: "root" } } })
      const adminSecret = (data: Record<string, string>) =>
        kubernetes.create(Kubernetes.Resources.Secret, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ditto-admin-credentials", namespace },
          data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]))
        })
      // the Secret's username wins over the spec's
      yield* adminSecret({ username: "admin", password: admin.password })
      const wrongUser = yield* session
      assert.deepStrictEqual(wrongUser._tag === "Failed" && [wrongUser.reason, wrongUser.message], [
        "AuthenticationFailed",
        "POST /api/v1/auth/login: Unauthorized: Invalid credentials"
      ])
      // without one, the spec's
      yield* kubernetes.delete(Kubernetes.Resources.Secret, namespace, "ditto-admin-credentials")
      yield* adminSecret({ password: admin.password })
      assert.strictEqual((yield* session)._tag, "Authenticated")
      assert.deepStrictEqual((yield* control.users(baseUrl)).map((u) => u.username), ["root", account])
    }).pipe(Effect.provide(testLayer())))

  it.effect("an admin Secret without the password key fails, naming the key", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Secret, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ditto-admin", namespace },
          data: { username: Buffer.from("admin").toString("base64") }
        })
      )
      const outcome = yield* session
      assert.deepStrictEqual(outcome._tag === "Failed" && [outcome.reason, outcome.message], [
        "AdminCredentialsMissing",
        "Secret ditto-admin has no key password"
      ])
      const missing = yield* Effect.gen(function*() {
        yield* Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.Secret, namespace, "ditto-admin"))
        return yield* session
      })
      assert.deepStrictEqual(missing._tag === "Failed" && missing.message, "admin credentials Secret ditto-admin not found")
    }).pipe(Effect.provide(testLayer())))

  it.effect("says when the token is due for a refresh: at 80 % of its lifetime, or in 30 s while a refresh cannot reach DittoFS", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const refreshAt = (outcome: Auth.Outcome) => (outcome._tag === "Authenticated" ? outcome.refreshAt : undefined)
      assert.strictEqual(refreshAt(yield* session), 720_000, "provisioned at 0, a 900 s token")
      yield* TestClock.adjust("5 minutes")
      assert.strictEqual(refreshAt(yield* session), 720_000, "used as stored")
      yield* TestClock.adjust("8 minutes")
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "refresh", "Timeout")
      assert.strictEqual(refreshAt(yield* session), 780_000 + 30_000, "retried 30 s later")
      yield* TestClock.adjust("110 seconds")
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "refresh", "ServerError")
      assert.strictEqual(refreshAt(yield* session), 900_000, "but not after the token expires")
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(refreshAt(yield* session), 900_000 + 720_000, "expired, then refreshed: a new token")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a login refused for another reason than the password fails without replacing the account", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      const control = yield* DittoFsMemory.Control
      const before = yield* control.users(baseUrl)
      yield* TestClock.adjust("16 minutes")
      yield* control.failNext(baseUrl, "refresh", "Unauthorized")
      yield* control.failNext(baseUrl, "login", "Forbidden")
      const outcome = yield* session
      assert.deepStrictEqual(outcome._tag === "Failed" && [outcome.reason, outcome.message], [
        "AuthenticationFailed",
        "POST /api/v1/auth/login: Forbidden: injected fault: login"
      ])
      assert.deepStrictEqual(yield* control.users(baseUrl), before)
    }).pipe(Effect.provide(testLayer())))

  it.effect("reads a user-supplied admin password from spec.identity.admin.passwordSecretRef", () =>
    Effect.gen(function*() {
      yield* setup({ identity: { admin: { username: "admin", passwordSecretRef: { name: "my-admin", key: "pw" } } } })
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Secret, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "my-admin", namespace },
          data: { pw: Buffer.from(Redacted.value(adminCredentials.password)).toString("base64") }
        })
      )
      assert.strictEqual((yield* session)._tag, "Authenticated")
    }).pipe(Effect.provide(testLayer())))

  it.effect("logs in as 'admin' when neither the admin Secret nor the spec names the admin", () =>
    Effect.gen(function*() {
      yield* setup({ identity: {} })
      yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Secret, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ditto-admin-credentials", namespace },
          data: { password: Buffer.from(admin.password).toString("base64") }
        })
      )
      assert.strictEqual((yield* session)._tag, "Authenticated")
      assert.deepStrictEqual((yield* (yield* DittoFsMemory.Control).users(baseUrl)).map((u) => u.username), ["admin", account])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a failed read of the admin Secret fails the pass: it is not reported as a missing Secret", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "get", kind: "Secret", name: adminSecretName, reason: "Forbidden" })
      const error = yield* Effect.flip(session)
      assert.deepStrictEqual([error._tag, error.reason], ["KubernetesError", "Forbidden"])
      assert.deepStrictEqual((yield* (yield* DittoFsMemory.Control).users(baseUrl)).map((u) => u.username), ["admin"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a failed read of its credentials Secret fails the pass and leaves the account and its password as they are", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session
      yield* failsChangingNothing({ verb: "get", kind: "Secret", name: "ditto-operator-credentials", reason: "Unavailable" })
    }).pipe(Effect.provide(testLayer())))

  it.effect("an account creation that fails for another reason than an existing account deletes nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const adminToken = yield* DittoFs.DittoFs.use((d) => d.login(baseUrl, adminCredentials))
      yield* DittoFs.DittoFs.use((d) => d.createUser(baseUrl, adminToken.access_token, { username: account, password: Redacted.make("unknown"), role: "user" }))
      const control = yield* DittoFsMemory.Control
      const users = yield* control.users(baseUrl)
      yield* control.failNext(baseUrl, "createUser", "ServerError")
      const outcome = yield* session
      assert.deepStrictEqual(outcome._tag === "Unreachable" && [outcome.error.operation, outcome.error.reason], ["POST /api/v1/users", "ServerError"])
      assert.deepStrictEqual(yield* control.users(baseUrl), users, "the existing account is still there, as it was")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a credentials write the apiserver refuses as Unauthorized fails the pass: no reason to replace the account", () =>
    Effect.gen(function*() {
      const server = yield* setup()
      yield* adminSecret()
      yield* session
      // tokens dropped: the next pass logs in with the stored password and stores the new tokens
      yield* forgetTokens(server)
      yield* failsChangingNothing({ verb: "update", kind: "Secret", name: "ditto-operator-credentials", reason: "Unauthorized" })
    }).pipe(Effect.provide(testLayer())))

  it.effect("uses a token whose refresh cannot reach DittoFS until the millisecond before it expires, not at its expiry", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* session // at 0: a 900 s token
      const control = yield* DittoFsMemory.Control
      yield* TestClock.adjust(Duration.millis(899_999))
      yield* control.failNext(baseUrl, "refresh", "Timeout")
      const lastMillisecond = yield* session
      assert.deepStrictEqual(lastMillisecond._tag === "Authenticated" && lastMillisecond.refreshAt, 900_000)
      yield* TestClock.adjust("1 millis")
      yield* control.failNext(baseUrl, "refresh", "Timeout")
      const atExpiry = yield* session
      assert.deepStrictEqual(atExpiry._tag === "Unreachable" && atExpiry.error.reason, "Timeout")
    }).pipe(Effect.provide(testLayer())))
})
