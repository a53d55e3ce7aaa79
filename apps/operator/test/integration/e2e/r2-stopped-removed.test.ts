/**
 * Requirement 2, end to end: when an adapter is stopped (`PUT {"enabled":false}`) or removed
 * (`DELETE /api/v1/adapters/{type}`) through the DittoFS API, its Service, its NetworkPolicy and
 * its container port are gone within one polling cycle (2 s here, plus a second of slack for the
 * pass and the observation); the other adapter's objects are untouched. Latencies are printed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  awaitExposed,
  e2e,
  expectExposed,
  eventually,
  removeAdapter,
  setAdapterEnabled,
  setup,
  timedMillis,
  versions,
  withinOneCycle
} from "./support.ts"

describe("R2: adapter stopped or removed → Service gone within one polling cycle", () => {
  it.live("a stopped adapter and a removed adapter lose their Service, NetworkPolicy and container port within one polling cycle", () =>
    e2e(Effect.gen(function*() {
      const suite = yield* setup({ suite: "r2", pollingInterval: "2s" })
      const before = yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const bound = withinOneCycle(suite)

      yield* setAdapterEnabled(suite.dfs, "smb", false)
      const [stopped, afterStop] = yield* timedMillis(
        eventually("smb unexposed", expectExposed(suite, ["nfs"]), { timeout: "10 seconds", interval: "25 millis" })
      )
      yield* Effect.logInfo(`R2: adapter stopped → Service, NetworkPolicy and container port gone in ${stopped.toFixed(0)} ms (bound ${bound} ms)`)
      assert.isAtMost(stopped, bound, "stop → gone within one polling cycle")
      const nfsOnly = (objects: ReadonlyArray<{ readonly metadata: { readonly name: string } }>) =>
        objects.filter((object) => object.metadata.name.endsWith("-nfs"))
      assert.deepStrictEqual(versions(afterStop.services), versions(nfsOnly(before.services)), "the nfs Service is untouched")
      assert.deepStrictEqual(versions(afterStop.policies), versions(nfsOnly(before.policies)), "the nfs NetworkPolicy is untouched")

      yield* removeAdapter(suite.dfs, "nfs")
      const [removed, afterRemove] = yield* timedMillis(
        eventually("nfs unexposed", expectExposed(suite, []), { timeout: "10 seconds", interval: "25 millis" })
      )
      yield* Effect.logInfo(`R2: adapter removed → Service, NetworkPolicy and container port gone in ${removed.toFixed(0)} ms (bound ${bound} ms)`)
      assert.isAtMost(removed, bound, "delete → gone within one polling cycle")
      assert.deepStrictEqual(afterRemove.services, [])
      assert.deepStrictEqual(afterRemove.policies, [])
    })), 60_000)
})
