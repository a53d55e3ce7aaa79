/**
 * The DittoFS contract suite: one body of tests that every `DittoFs` layer must pass, run against
 * the in-memory `DittoFsMemory` (every run) and against a real `dfs` through `DittoFsLive` (the
 * integration run). The fake is trusted only as far as this suite proves it.
 *
 * Contract: `dittoFsContract(name, subject)` registers a `describe(name)` whose tests share one
 * `subject` layer (built once, released after the last test). The subject provides `DittoFs` and
 * a `DittoFsContractServer`: a freshly booted server with the two default adapters (nfs, smb) and
 * an `admin` account, plus controls to stop and restart it. Tests create their own users (unique
 * names), so their order does not matter; the stop/start test restores the server. Tests run on
 * live services (real clock), since real servers run in real time.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, type Layer, Redacted } from "effect"
import type { Adapter } from "../../domain/Adapter.ts"
import * as DittoFs from "../../services/DittoFs.ts"

export interface DittoFsContractServerApi {
  readonly baseUrl: string
  readonly admin: DittoFs.Credentials
  /** Stops the server: every call must then fail with `Unreachable`. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same address, with its users and adapters kept. */
  readonly start: Effect.Effect<void>
}

export class DittoFsContractServer extends Context.Service<DittoFsContractServer, DittoFsContractServerApi>()(
  "@dittofs-operator/core/testing/DittoFsContractServer"
) {}

export interface DittoFsContractOptions {
  /** Time allowed to build the subject (boot a server); default 60 s. */
  readonly setupTimeout?: number
}

const operatorPassword = Redacted.make("contract-operator-password-1")

const reasonOf = <A>(effect: Effect.Effect<A, DittoFs.DittoFsError>): Effect.Effect<DittoFs.ErrorReason | "succeeded"> =>
  effect.pipe(
    Effect.as("succeeded" as const),
    Effect.catchTag("DittoFsError", (error) => Effect.succeed(error.reason))
  )

const findAdapter = (adapters: ReadonlyArray<Adapter>, type: string): Adapter => {
  const adapter = adapters.find((candidate) => candidate.type === type)
  assert.isDefined(adapter, `adapter ${type} in ${JSON.stringify(adapters)}`)
  return adapter
}

let userCounter = 0
/** A user name no other test of this run uses (the server may outlive one test). */
const uniqueUserName = (purpose: string) => `contract-${purpose}-${++userCounter}`

export const dittoFsContract = (
  name: string,
  subject: Layer.Layer<DittoFs.DittoFs | DittoFsContractServer, unknown>,
  options: DittoFsContractOptions = {}
): void =>
  layer(subject, { excludeTestServices: true, timeout: options.setupTimeout ?? 60_000 })(name, (it) => {
    const adminSession = Effect.gen(function*() {
      const dittofs = yield* DittoFs.DittoFs
      const server = yield* DittoFsContractServer
      const token = yield* dittofs.login(server.baseUrl, server.admin)
      return { dittofs, server, adminToken: token.access_token }
    })

    /** Creates an operator user and logs it in. */
    const operatorSession = Effect.gen(function*() {
      const { adminToken, dittofs, server } = yield* adminSession
      const username = uniqueUserName("operator")
      yield* dittofs.createUser(server.baseUrl, adminToken, { username, password: operatorPassword, role: "operator" })
      const token = yield* dittofs.login(server.baseUrl, { username, password: operatorPassword })
      return { dittofs, server, adminToken, username, token }
    })

    it.effect("health answers on a running server", () =>
      Effect.gen(function*() {
        const dittofs = yield* DittoFs.DittoFs
        const server = yield* DittoFsContractServer
        yield* dittofs.health(server.baseUrl)
      }))

    it.effect("login as admin returns a token pair", () =>
      Effect.gen(function*() {
        const dittofs = yield* DittoFs.DittoFs
        const server = yield* DittoFsContractServer
        const token = yield* dittofs.login(server.baseUrl, server.admin)
        assert.isAbove(Redacted.value(token.access_token).length, 0)
        assert.isAbove(Redacted.value(token.refresh_token).length, 0)
        assert.isAbove(token.expires_in, 0)
      }))

    it.effect("a wrong password or an unknown user is Unauthorized", () =>
      Effect.gen(function*() {
        const dittofs = yield* DittoFs.DittoFs
        const server = yield* DittoFsContractServer
        assert.strictEqual(
          yield* reasonOf(dittofs.login(server.baseUrl, { username: server.admin.username, password: Redacted.make("wrong-password") })),
          "Unauthorized"
        )
        assert.strictEqual(
          yield* reasonOf(dittofs.login(server.baseUrl, { username: uniqueUserName("nobody"), password: Redacted.make("whatever-1") })),
          "Unauthorized"
        )
      }))

    it.effect("creating the operator user succeeds once, then Conflict", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server } = yield* adminSession
        const username = uniqueUserName("operator")
        const user = yield* dittofs.createUser(server.baseUrl, adminToken, {
          username,
          password: operatorPassword,
          role: "operator"
        })
        assert.strictEqual(user.username, username)
        assert.strictEqual(user.role, "operator")
        assert.strictEqual(
          yield* reasonOf(
            dittofs.createUser(server.baseUrl, adminToken, { username, password: operatorPassword, role: "operator" })
          ),
          "Conflict"
        )
      }))

    it.effect("the operator logs in, refreshes, and the refreshed token works", () =>
      Effect.gen(function*() {
        const { dittofs, server, token } = yield* operatorSession
        const refreshed = yield* dittofs.refresh(server.baseUrl, token.refresh_token)
        assert.isAbove(Redacted.value(refreshed.access_token).length, 0)
        assert.isAbove(refreshed.expires_in, 0)
        const list = yield* dittofs.listAdapters(server.baseUrl, refreshed.access_token)
        assert.isAbove(list.adapters.length, 0)
      }))

    it.effect("a refresh token stays valid after use (dfs revokes nothing on refresh)", () =>
      Effect.gen(function*() {
        const { dittofs, server, token } = yield* operatorSession
        yield* dittofs.refresh(server.baseUrl, token.refresh_token)
        const again = yield* dittofs.refresh(server.baseUrl, token.refresh_token)
        assert.isAbove(Redacted.value(again.access_token).length, 0)
      }))

    it.effect("tokens are not interchangeable: an access token does not refresh, a refresh token does not authorize", () =>
      Effect.gen(function*() {
        const { dittofs, server, token } = yield* operatorSession
        assert.strictEqual(yield* reasonOf(dittofs.refresh(server.baseUrl, token.access_token)), "Unauthorized")
        assert.strictEqual(yield* reasonOf(dittofs.listAdapters(server.baseUrl, token.refresh_token)), "Unauthorized")
      }))

    it.effect("a refresh token that was never issued is Unauthorized", () =>
      Effect.gen(function*() {
        const dittofs = yield* DittoFs.DittoFs
        const server = yield* DittoFsContractServer
        assert.strictEqual(yield* reasonOf(dittofs.refresh(server.baseUrl, Redacted.make("not-a-refresh-token"))), "Unauthorized")
      }))

    it.effect("admin and operator list the default adapters", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server, token } = yield* operatorSession
        for (const accessToken of [adminToken, token.access_token]) {
          const list = yield* dittofs.listAdapters(server.baseUrl, accessToken)
          assert.deepStrictEqual(list.rejected, [])
          assert.deepStrictEqual(list.adapters.map((adapter) => adapter.type).sort(), ["nfs", "smb"])
        }
      }))

    it.effect("an adapter switched off and on through the API shows in the list", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server } = yield* adminSession
        const before = findAdapter((yield* dittofs.listAdapters(server.baseUrl, adminToken)).adapters, "nfs")

        const stopped = yield* dittofs.updateAdapter(server.baseUrl, adminToken, "nfs", { enabled: false })
        assert.deepStrictEqual([stopped.enabled, stopped.running, stopped.port], [false, false, before.port])
        const offList = (yield* dittofs.listAdapters(server.baseUrl, adminToken)).adapters
        const off = findAdapter(offList, "nfs")
        assert.deepStrictEqual([off.enabled, off.running, off.port], [false, false, before.port])
        assert.isTrue(findAdapter(offList, "smb").enabled, "the other adapter is untouched")

        const started = yield* dittofs.updateAdapter(server.baseUrl, adminToken, "nfs", { enabled: true })
        assert.deepStrictEqual([started.enabled, started.running, started.port], [true, true, before.port])
        const on = findAdapter((yield* dittofs.listAdapters(server.baseUrl, adminToken)).adapters, "nfs")
        assert.deepStrictEqual([on.enabled, on.running, on.port], [true, true, before.port])
      }))

    it.effect("updating an adapter type the server does not have is NotFound", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server } = yield* adminSession
        assert.strictEqual(
          yield* reasonOf(dittofs.updateAdapter(server.baseUrl, adminToken, "webdav", { enabled: false })),
          "NotFound"
        )
      }))

    it.effect("the operator token is Forbidden from admin calls", () =>
      Effect.gen(function*() {
        const { dittofs, server, token, username } = yield* operatorSession
        const operatorToken = token.access_token
        assert.strictEqual(
          yield* reasonOf(dittofs.createUser(server.baseUrl, operatorToken, {
            username: uniqueUserName("forbidden"),
            password: operatorPassword,
            role: "user"
          })),
          "Forbidden"
        )
        assert.strictEqual(
          yield* reasonOf(dittofs.updateAdapter(server.baseUrl, operatorToken, "nfs", { enabled: false })),
          "Forbidden"
        )
        assert.strictEqual(yield* reasonOf(dittofs.deleteUser(server.baseUrl, operatorToken, username)), "Forbidden")
      }))

    it.effect("a token the server never issued is Unauthorized", () =>
      Effect.gen(function*() {
        const dittofs = yield* DittoFs.DittoFs
        const server = yield* DittoFsContractServer
        assert.strictEqual(yield* reasonOf(dittofs.listAdapters(server.baseUrl, Redacted.make("not-a-token"))), "Unauthorized")
      }))

    it.effect("a deleted user can neither log in nor refresh; deleting it again is NotFound", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server, token, username } = yield* operatorSession
        yield* dittofs.deleteUser(server.baseUrl, adminToken, username)
        assert.strictEqual(
          yield* reasonOf(dittofs.login(server.baseUrl, { username, password: operatorPassword })),
          "Unauthorized"
        )
        assert.strictEqual(yield* reasonOf(dittofs.refresh(server.baseUrl, token.refresh_token)), "Unauthorized")
        assert.strictEqual(yield* reasonOf(dittofs.deleteUser(server.baseUrl, adminToken, username)), "NotFound")
      }))

    it.effect("a deleted user's access token keeps working until it expires (stateless JWT)", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server, token, username } = yield* operatorSession
        yield* dittofs.deleteUser(server.baseUrl, adminToken, username)
        const list = yield* dittofs.listAdapters(server.baseUrl, token.access_token)
        assert.isAbove(list.adapters.length, 0)
      }))

    it.effect("a stopped server is Unreachable; restarted, it keeps its users", () =>
      Effect.gen(function*() {
        const { adminToken, dittofs, server, username } = yield* operatorSession
        yield* server.stop
        const whileStopped = yield* Effect.all([
          reasonOf(dittofs.health(server.baseUrl)),
          reasonOf(dittofs.login(server.baseUrl, server.admin)),
          reasonOf(dittofs.listAdapters(server.baseUrl, adminToken))
        ]).pipe(Effect.ensuring(server.start))
        assert.deepStrictEqual(whileStopped, ["Unreachable", "Unreachable", "Unreachable"])
        yield* dittofs.health(server.baseUrl)
        const token = yield* dittofs.login(server.baseUrl, { username, password: operatorPassword })
        assert.isAbove(Redacted.value(token.access_token).length, 0)
      }))
  })

