/**
 * Fault, end to end: access tokens expire mid-run. dfs issues 8-second access tokens (dfs v0.29
 * has no minimum lifetime); the operator refreshes before expiry (the credentials Secret's tokens
 * change while the first token is still valid, through `POST /api/v1/auth/refresh`), never polls
 * with an expired token (dfs answered no adapter list with 401), and keeps following adapter
 * changes after the first token has expired (dfs now rejects it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import {
  adapterPolls,
  awaitExposed,
  awaitPolls,
  credentialsSecret,
  dfsRequests,
  dfsStatusWith,
  e2e,
  ensure,
  eventually,
  expectCondition,
  pollStamps,
  secretValue,
  setAdapterEnabled,
  setup,
  timedMillis,
  tokenTimes
} from "./support.ts"

describe("Fault: token expiry mid-run", () => {
  it.live("the operator refreshes its token before expiry and keeps following adapter changes after the first token expired", () =>
    e2e(Effect.gen(function*() {
      const stamps = yield* pollStamps
      const suite = yield* setup({ suite: "token", pollingInterval: "1s", accessTokenDuration: "8s", wrap: stamps.wrap })
      yield* stamps.watch(suite.dfs)
      yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const first = yield* credentialsSecret(suite)
      const firstAccess = secretValue(first, "access-token") ?? ""
      const firstRefresh = secretValue(first, "refresh-token") ?? ""
      const lifetime = yield* tokenTimes(firstAccess)
      assert.strictEqual(lifetime.expiresAt - lifetime.issuedAt, 8000, "dfs issues 8 s access tokens")

      const refreshed = yield* eventually(
        "new tokens in the credentials Secret",
        Effect.flatMap(credentialsSecret(suite), (secret) =>
          Effect.as(ensure(secretValue(secret, "access-token") !== firstAccess, "same access token"), secret)),
        { timeout: "15 seconds", interval: "100 millis" }
      )
      const seenAt = yield* Clock.currentTimeMillis
      assert.isBelow(seenAt, lifetime.expiresAt, "refreshed before the first token expired")
      assert.notStrictEqual(secretValue(refreshed, "refresh-token"), firstRefresh, "a new refresh token too")
      assert.isAtLeast(yield* dfsRequests(suite.dfs, "POST", "/api/v1/auth/refresh", 200), 1, "through the refresh endpoint")

      // Past the first token's expiry: dfs rejects it; the operator keeps working.
      yield* eventually(
        "dfs rejects the first access token",
        Effect.flatMap(dfsStatusWith(suite.dfs, "/api/v1/auth/me", firstAccess), (status) => ensure(status === 401, `HTTP ${status}`)),
        { timeout: "15 seconds", interval: "200 millis" }
      )
      // each change followed by the pass of the first poll that sees it (toggled right after a poll;
      // dfs's own count when the operator wrote, which the machine's load cannot blur)
      let polls = yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 1, "10 seconds")
      yield* setAdapterEnabled(suite.dfs, "smb", false)
      const [stopped] = yield* timedMillis(awaitExposed(suite, ["nfs"], "10 seconds"))
      assert.strictEqual(yield* stamps.at(`delete Service/${suite.name}-adapter-smb`), polls + 1, "stop followed within one cycle")
      polls = yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 1, "10 seconds")
      yield* setAdapterEnabled(suite.dfs, "smb", true)
      const [started] = yield* timedMillis(awaitExposed(suite, ["nfs", "smb"], "10 seconds"))
      assert.strictEqual(yield* stamps.at(`create Service/${suite.name}-adapter-smb`), polls + 1, "start followed within one cycle")
      yield* Effect.logInfo(`fault: after expiry, stop followed in ${stopped.toFixed(0)} ms, start in ${started.toFixed(0)} ms`)
      yield* expectCondition(suite, "Authenticated", "True")

      const current = secretValue(yield* credentialsSecret(suite), "access-token") ?? ""
      assert.notStrictEqual(current, firstAccess)
      assert.strictEqual(yield* dfsStatusWith(suite.dfs, "/api/v1/adapters", current), 200, "the stored token is valid")
      assert.strictEqual(yield* dfsRequests(suite.dfs, "GET", "/api/v1/adapters", 401), 0, "no poll with an expired token")
    })), 60_000)
})
