/**
 * Fault, end to end: a conflict storm. Another writer bumps the StatefulSet and the DittoServer
 * (an annotation with a counter) every 150 ms while an adapter stops. The operator converges (the
 * adapter's Service goes, the StatefulSet's ports follow) with a bounded number of refused writes,
 * and never drops the other writer's change: once the storm is over, both objects carry the last
 * value it wrote.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes, Naming } from "@dittofs-operator/core"
import { Effect, Fiber, Ref } from "effect"
import {
  awaitExposed,
  e2e,
  ensure,
  eventually,
  expectExposed,
  modify,
  portNames,
  setAdapterEnabled,
  setup,
  statefulSet,
  writeCounter
} from "./support.ts"

const stormKey = "e2e.dittofs.io/storm"

describe("Fault: conflict storm", () => {
  it.live("another writer bumping the StatefulSet and the DittoServer all along: the operator converges and keeps every change of theirs", () =>
    e2e(Effect.gen(function*() {
      const writes = yield* writeCounter
      const suite = yield* setup({ suite: "storm", pollingInterval: "1s", wrap: writes.wrap })
      yield* awaitExposed(suite, ["nfs", "smb"], "30 seconds")
      const before = yield* writes.snapshot

      const written = yield* Ref.make(0)
      const bump = <A extends { readonly metadata: { readonly annotations?: Readonly<Record<string, string>> } }>(value: number) =>
        (object: A): A => ({ ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [stormKey]: String(value) } } })
      const storm = yield* Effect.forkChild(Effect.forever(Effect.gen(function*() {
        const value = yield* Ref.updateAndGet(written, (n) => n + 1)
        yield* modify(Kubernetes.Resources.StatefulSet, suite.namespace, Naming.workloadNames(suite.name).statefulSet, bump(value))
        yield* modify(Kubernetes.Resources.DittoServer, suite.namespace, suite.name, bump(value))
        yield* Effect.sleep("150 millis")
      })))

      yield* setAdapterEnabled(suite.dfs, "smb", false)
      yield* eventually("smb unexposed during the storm", expectExposed(suite, ["nfs"]), { timeout: "30 seconds" })
      yield* Effect.sleep("3 seconds") // the storm goes on over three more polls
      yield* Fiber.interrupt(storm)
      const last = String(yield* Ref.get(written))

      // the other writer's last change is on both objects, and stays there
      yield* Effect.sleep("2 seconds")
      const sts = yield* statefulSet(suite)
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, suite.namespace, suite.name))
      // a bump whose update was refused and retried may have landed after the one counted last
      assert.oneOf(sts.metadata.annotations?.[stormKey], [last, String(Number(last) - 1)], "the StatefulSet keeps the other writer's annotation")
      assert.oneOf(server.metadata.annotations?.[stormKey], [last, String(Number(last) - 1)], "the DittoServer keeps it too")
      yield* ensure(!portNames(sts).includes("adapter-smb"), "the ports followed the stop")

      const counts = yield* writes.snapshot
      const refused = [...counts].filter(([key]) => key.endsWith("→ Conflict") && (before.get(key) ?? 0) < (counts.get(key) ?? 0))
        .reduce((sum, [key, n]) => sum + n - (before.get(key) ?? 0), 0)
      yield* Effect.logInfo(`storm: ${last} bumps of each object; the operator's writes refused meanwhile: ${refused}`)
      assert.isAtMost(refused, 60, "bounded retries, not a livelock")
    })), { timeout: 120_000 })
})
