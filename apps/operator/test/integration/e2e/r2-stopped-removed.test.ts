/**
 * Requirement 2, end to end: when an adapter is stopped (`PUT {"enabled":false}`) or removed
 * (`DELETE /api/v1/adapters/{type}`) through the DittoFS API, its Service, its NetworkPolicy and
 * its container port are gone within one polling cycle: by the pass of the first poll that sees
 * the change: the operator sends the deletes when dfs has answered exactly one more poll than
 * before the change (dfs's own count, `pollStamps`, which the machine's load cannot blur, unlike
 * a wall-clock bound); the other adapter's objects are untouched. Latencies are printed (the
 * benchmark measures them).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  adapterPolls,
  awaitExposed,
  awaitPolls,
  e2e,
  expectExposed,
  eventually,
  pollStamps,
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
      const stamps = yield* pollStamps
      const suite = yield* setup({ suite: "r2", pollingInterval: "2s", wrap: stamps.wrap })
      yield* stamps.watch(suite.dfs)
      const before = yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const bound = withinOneCycle(suite)

      // toggled right after a poll, so no poll is in flight: the next one is the first to see it
      let polls = yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 1, "10 seconds")
      yield* setAdapterEnabled(suite.dfs, "smb", false)
      const [stopped, afterStop] = yield* timedMillis(
        eventually("smb unexposed", expectExposed(suite, ["nfs"]), { timeout: "10 seconds", interval: "25 millis" })
      )
      yield* Effect.logInfo(`R2: adapter stopped → Service, NetworkPolicy and container port gone in ${stopped.toFixed(0)} ms (one cycle: ${bound} ms)`)
      for (const kind of ["Service", "NetworkPolicy"]) {
        assert.strictEqual(yield* stamps.at(`delete ${kind}/${suite.name}-adapter-smb`), polls + 1, `stop → ${kind} deleted by the pass of the first poll that saw it`)
      }
      const nfsOnly = (objects: ReadonlyArray<{ readonly metadata: { readonly name: string } }>) =>
        objects.filter((object) => object.metadata.name.endsWith("-nfs"))
      assert.deepStrictEqual(versions(afterStop.services), versions(nfsOnly(before.services)), "the nfs Service is untouched")
      assert.deepStrictEqual(versions(afterStop.policies), versions(nfsOnly(before.policies)), "the nfs NetworkPolicy is untouched")

      polls = yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 1, "10 seconds")
      yield* removeAdapter(suite.dfs, "nfs")
      const [removed, afterRemove] = yield* timedMillis(
        eventually("nfs unexposed", expectExposed(suite, []), { timeout: "10 seconds", interval: "25 millis" })
      )
      yield* Effect.logInfo(`R2: adapter removed → Service, NetworkPolicy and container port gone in ${removed.toFixed(0)} ms (one cycle: ${bound} ms)`)
      for (const kind of ["Service", "NetworkPolicy"]) {
        assert.strictEqual(yield* stamps.at(`delete ${kind}/${suite.name}-adapter-nfs`), polls + 1, `removal → ${kind} deleted by the pass of the first poll that saw it`)
      }
      assert.deepStrictEqual(afterRemove.services, [])
      assert.deepStrictEqual(afterRemove.policies, [])
    })), 60_000)
})
