/**
 * Fault, end to end: the DittoFS process is killed for several polling cycles. Meanwhile nothing
 * the operator manages is deleted or rewritten (same uids and resourceVersions; a spec change
 * made meanwhile is not applied yet) and `DittoFSReachable` is False. Once dfs is back, the
 * conditions recover and the change made meanwhile is applied.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes } from "@dittofs-operator/core"
import { Duration, Effect } from "effect"
import {
  adapterPolls,
  adapterServices,
  always,
  awaitExposed,
  awaitPolls,
  e2e,
  ensure,
  eventually,
  expectCondition,
  exposure,
  modify,
  pollStamps,
  setup,
  timedMillis,
  versions
} from "./support.ts"

describe("Fault: DittoFS down for several polling cycles", () => {
  it.live("while DittoFS is down nothing is deleted and DittoFSReachable is False; back up, the conditions recover and a change made meanwhile is applied", () =>
    e2e(Effect.gen(function*() {
      const stamps = yield* pollStamps
      const suite = yield* setup({ suite: "dfs-down", pollingInterval: "1s", wrap: stamps.wrap })
      yield* stamps.watch(suite.dfs)
      yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      // (Ready also needs a ready replica, which this plane without nodes never has)
      yield* eventually("synced", expectCondition(suite, "AdaptersSynced", "True"), { timeout: "10 seconds" })
      // A few healthy passes first (a long-running operator): no backoff carried into the outage.
      yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 2, "10 seconds")
      const before = yield* exposure(suite)

      yield* suite.dfs.stop
      const [noticed] = yield* timedMillis(
        eventually("DittoFSReachable False", expectCondition(suite, "DittoFSReachable", "False", "APIUnreachable"), { timeout: "10 seconds" })
      )
      yield* Effect.logInfo(`fault: DittoFS down noticed after ${noticed.toFixed(0)} ms`)
      yield* modify(Kubernetes.Resources.DittoServer, suite.namespace, suite.name, (server) => ({
        ...server,
        spec: { ...server.spec, adapterServices: { ...server.spec.adapterServices, annotations: { "made.while/down": "yes" } } }
      }))
      // Several polling cycles down: every object stays as it was, nothing is applied.
      yield* always(
        Effect.gen(function*() {
          const current = yield* exposure(suite)
          yield* ensure(
            JSON.stringify([versions(current.services), versions(current.policies), versions([current.statefulSet])])
              === JSON.stringify([versions(before.services), versions(before.policies), versions([before.statefulSet])]),
            "an adapter Service, NetworkPolicy or the StatefulSet changed while DittoFS was down"
          )
        }),
        { during: Duration.times(suite.interval, 3), interval: "200 millis" }
      )
      yield* expectCondition(suite, "DittoFSReachable", "False", "APIUnreachable")
      yield* expectCondition(suite, "AdaptersSynced", "False", "PollFailed")

      const pollsBeforeRestart = yield* adapterPolls(suite.dfs)
      yield* suite.dfs.start
      const [recovered] = yield* timedMillis(eventually(
        "recovery: conditions True and the change applied",
        Effect.gen(function*() {
          yield* expectCondition(suite, "DittoFSReachable", "True")
          yield* expectCondition(suite, "AdaptersSynced", "True")
          const services = yield* adapterServices(suite)
          yield* ensure(
            services.length === 2 && services.every((service) => service.metadata.annotations?.["made.while/down"] === "yes"),
            "the annotation made while DittoFS was down is not on both Services"
          )
          return services
        }),
        { timeout: "40 seconds", interval: "100 millis" }
      ))
      yield* Effect.logInfo(`fault: recovered ${recovered.toFixed(0)} ms after DittoFS came back`)
      // applied by the pass of the first poll dfs answered again (its log is appended across restarts)
      for (const service of ["nfs", "smb"]) {
        assert.strictEqual(yield* stamps.at(`update Service/${suite.name}-adapter-${service}`), pollsBeforeRestart + 1, `${service}'s Service`)
      }
      const after = yield* exposure(suite)
      assert.deepStrictEqual(
        after.services.map((service) => service.metadata.uid),
        before.services.map((service) => service.metadata.uid),
        "the same Services, updated in place"
      )
    })), 90_000)
})
