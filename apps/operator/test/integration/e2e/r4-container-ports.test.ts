/**
 * Requirement 4, end to end: the StatefulSet's container ports follow the active adapters
 * (`adapter-<type>` added on start, removed on stop), its static port (`api`) stays
 * exactly as they were, and it is written only when the set of ports really changes:
 * - ten idle polling cycles (1 s) write nothing at all: every resourceVersion is unchanged, the
 *   StatefulSet's `metadata.generation` too, and the operator sent no write (a write that changes
 *   nothing leaves no trace in the cluster, so the operator's writes are also counted, by a
 *   wrapper around its Kubernetes service);
 * - each adapter change bumps the generation exactly once, with exactly one StatefulSet write
 *   and no follow-up write;
 * - the same ports in another order (reordered by the test) cause no write.
 */
import { assert, describe, it } from "@effect/vitest"
import { type K8s, Kubernetes } from "@dittofs-operator/core"
import { Effect } from "effect"
import {
  adapterPolls,
  countsSince,
  awaitExposed,
  awaitPolls,
  containerPorts,
  credentialsSecret,
  dittoServer,
  e2e,
  ensure,
  eventually,
  exposure,
  modify,
  setAdapterEnabled,
  setup,
  statefulSet,
  type Suite,
  versions,
  writeCounter
} from "./support.ts"

/** Every object the operator writes for the server, as `uid@resourceVersion` by kind and name. */
const snapshot = (suite: Suite) =>
  Effect.gen(function*() {
    const current = yield* exposure(suite)
    return {
      services: versions(current.services),
      policies: versions(current.policies),
      statefulSet: versions([current.statefulSet]),
      secret: versions([yield* credentialsSecret(suite)]),
      dittoServer: versions([yield* dittoServer(suite)])
    }
  })

const generationOf = (sts: K8s.StatefulSet): number => sts.metadata.generation ?? 0

describe("R4: container ports follow the adapters; the StatefulSet is written only on a real change", () => {
  it.live("container ports follow start/stop, static ports are untouched, idle cycles write nothing, and each adapter change bumps the generation exactly once", () =>
    e2e(Effect.gen(function*() {
      const writes = yield* writeCounter
      const suite = yield* setup({ suite: "r4", pollingInterval: "1s", wrap: writes.wrap })
      const initial = yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const staticPorts = containerPorts(initial.statefulSet).filter((port) => !(port.name ?? "").startsWith("adapter-"))
      assert.deepStrictEqual(staticPorts.map((port) => port.name), ["api"])
      assert.deepStrictEqual(containerPorts(initial.statefulSet).slice(0, 1), staticPorts, "static ports first, as stored")

      // Settle (the first passes write the status), then ten idle cycles.
      yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 2, "10 seconds")
      const settled = yield* snapshot(suite)
      const generation = generationOf(yield* statefulSet(suite))
      const idleStart = yield* writes.snapshot
      yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 10, "20 seconds")
      assert.deepStrictEqual(yield* snapshot(suite), settled, "ten idle polling cycles changed nothing")
      assert.strictEqual(generationOf(yield* statefulSet(suite)), generation)
      assert.deepStrictEqual(Object.fromEntries(countsSince(idleStart, yield* writes.snapshot)), {}, "the operator sent no write in ten idle cycles")

      /** After an adapter change: the expected ports, static ones first and untouched, one generation more, then no further write. */
      const expectPorts = (adapters: ReadonlyArray<string>, expectedGeneration: number, since: ReadonlyMap<string, number>) =>
        Effect.gen(function*() {
          const sts = yield* eventually(
            `container ports for ${JSON.stringify(adapters)}`,
            Effect.flatMap(statefulSet(suite), (current) => {
              const names = containerPorts(current).map((port) => port.name)
              const expected = ["api", ...adapters.map((type) => `adapter-${type}`)]
              return Effect.as(ensure(JSON.stringify(names) === JSON.stringify(expected), () => `ports ${JSON.stringify(names)}`), current)
            }),
            { timeout: "10 seconds" }
          )
          assert.deepStrictEqual(containerPorts(sts).slice(0, 1), staticPorts, "static ports untouched")
          assert.strictEqual(generationOf(sts), expectedGeneration, "one generation bump per adapter change")
          yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 2, "10 seconds")
          const later = yield* statefulSet(suite)
          assert.strictEqual(later.metadata.resourceVersion, sts.metadata.resourceVersion, "no follow-up write")
          assert.strictEqual(countsSince(since, yield* writes.snapshot).get("update StatefulSet"), 1, "exactly one StatefulSet write")
        })

      const beforeStop = yield* writes.snapshot
      yield* setAdapterEnabled(suite.dfs, "smb", false)
      yield* expectPorts(["nfs"], generation + 1, beforeStop)
      const beforeStart = yield* writes.snapshot
      yield* setAdapterEnabled(suite.dfs, "smb", true)
      yield* expectPorts(["nfs", "smb"], generation + 2, beforeStart)

      // The same ports in another order are the same set: the operator does not write.
      const beforeReorder = yield* writes.snapshot
      const reordered = yield* modify(Kubernetes.Resources.StatefulSet, suite.namespace, suite.name, (sts) => ({
        ...sts,
        spec: {
          ...sts.spec,
          template: {
            ...sts.spec.template,
            spec: {
              ...sts.spec.template.spec,
              containers: sts.spec.template.spec.containers.map((container) => ({
                ...container,
                ports: [...(container.ports ?? [])].reverse()
              }))
            }
          }
        }
      }))
      yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 2, "10 seconds")
      const after = yield* statefulSet(suite)
      assert.strictEqual(after.metadata.resourceVersion, reordered.metadata.resourceVersion, "reordered ports are not rewritten")
      assert.isUndefined(countsSince(beforeReorder, yield* writes.snapshot).get("update StatefulSet"), "no StatefulSet write")
      assert.deepStrictEqual(
        containerPorts(after).map((port) => port.name),
        ["adapter-smb", "adapter-nfs", "api"]
      )
    })), 90_000)
})
