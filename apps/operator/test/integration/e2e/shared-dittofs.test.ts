/**
 * Several DittoServers pointed at one real `dfs` (a shared control plane, or a migration), as a
 * user would set it up: each gets a DittoFS account of its own, so no pass replaces or
 * invalidates another server's, all of them converge and stay authenticated, and deleting one
 * removes only its account.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoFs, Kubernetes } from "@dittofs-operator/core"
import { Effect, Redacted } from "effect"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import {
  always,
  awaitExposed,
  credentialsSecret,
  e2e,
  eventually,
  expectCondition,
  expectGone,
  freshNamespace,
  kubeconfigPath,
  runOperator,
  secretValue,
  type ServerRef
} from "./support.ts"

const names = ["nas-a", "nas-b", "nas-c"]

describe("several DittoServers on one DittoFS", () => {
  it.live("each keeps its own account: all three converge and stay authenticated; deleting one removes only its account", () =>
    e2e(Effect.gen(function*() {
      const namespace = yield* freshNamespace("e2e-shared")
      const dfs = yield* DittoFsServer.start({})
      for (const name of names) {
        yield* Sample.apply({ name, namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
      }
      yield* runOperator({ kubeconfigPath, namespace })
      const servers: ReadonlyArray<ServerRef> = names.map((name) => ({ namespace, name }))

      for (const server of servers) {
        yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")
        yield* eventually(`${server.name} Authenticated`, expectCondition(server, "Authenticated", "True"), { timeout: "10 seconds" })
      }
      // several polling cycles later, nobody has taken anybody's account over
      yield* always(
        Effect.forEach(servers, (server) => expectCondition(server, "Authenticated", "True"), { discard: true }),
        { during: "4 seconds", interval: "500 millis" }
      )

      const dittofs = yield* DittoFs.DittoFs
      const accountOf = (server: ServerRef) =>
        Effect.map(credentialsSecret(server), (secret) => ({
          username: secretValue(secret, "username") ?? "",
          password: Redacted.make(secretValue(secret, "password") ?? "")
        }))
      const accounts = yield* Effect.forEach(servers, accountOf)
      assert.deepStrictEqual(accounts.map((account) => account.username), names.map((name) => `k8s-operator.${namespace}.${name}`))
      for (const account of accounts) yield* dittofs.login(dfs.baseUrl, account)

      yield* Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.DittoServer, namespace, "nas-a"))
      yield* eventually("nas-a gone", expectGone(Kubernetes.Resources.DittoServer, namespace, "nas-a"), { timeout: "30 seconds" })
      const refused = yield* Effect.flip(dittofs.login(dfs.baseUrl, accounts[0]!))
      assert.strictEqual(refused.reason, "Unauthorized", "nas-a's account went with it")
      for (const account of accounts.slice(1)) yield* dittofs.login(dfs.baseUrl, account)
      yield* always(
        Effect.forEach(servers.slice(1), (server) => expectCondition(server, "Authenticated", "True"), { discard: true }),
        { during: "3 seconds", interval: "500 millis" }
      )
    })), { timeout: 120_000 })
})
