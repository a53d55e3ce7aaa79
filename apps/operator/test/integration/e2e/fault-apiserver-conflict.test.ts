/**
 * Fault, end to end: a real 409 from the apiserver. The operator's Kubernetes service is wrapped
 * so that, once, just before its StatefulSet update is sent, another writer annotates that
 * StatefulSet through the real apiserver; the operator's update then carries a stale
 * resourceVersion and the apiserver refuses it (Conflict). The operator retries on a fresh read
 * and converges: the container ports follow the adapter change and the other writer's annotation
 * is kept.
 */
import { assert, describe, it } from "@effect/vitest"
import { K8s, Kubernetes } from "@dittofs-operator/core"
import { Effect, Option, Ref, Result, Schema } from "effect"
import {
  adapterPolls,
  awaitExposed,
  awaitPolls,
  e2e,
  ensure,
  eventually,
  expectCondition,
  portNames,
  serverEvents,
  setAdapterEnabled,
  setup,
  statefulSet,
  timedMillis
} from "./support.ts"

const interloperKey = "e2e.dittofs.io/interloper"

const metadataOf = Schema.decodeUnknownOption(K8s.AnyObject)

/** Once armed, writes to the StatefulSet right before the operator's next StatefulSet update; records that update's outcome. */
const interloper = Effect.gen(function*() {
  const armed = yield* Ref.make(false)
  const outcomes = yield* Ref.make<ReadonlyArray<string>>([])
  const wrap = (kubernetes: Kubernetes.Api): Kubernetes.Api => ({
    ...kubernetes,
    update: (resource, object) =>
      Effect.gen(function*() {
        const target = Option.filter(metadataOf(object), () => resource.kind === "StatefulSet")
        if (Option.isNone(target) || !(yield* Ref.getAndSet(armed, false))) return yield* kubernetes.update(resource, object)
        const { name, namespace = "" } = target.value.metadata
        const current = yield* kubernetes.get(Kubernetes.Resources.StatefulSet, namespace, name)
        yield* kubernetes.update(Kubernetes.Resources.StatefulSet, {
          ...current,
          metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [interloperKey]: "was here" } }
        })
        const sent = yield* Effect.result(kubernetes.update(resource, object))
        yield* Ref.update(outcomes, (previous) => [...previous, Result.isSuccess(sent) ? "Success" : sent.failure.reason])
        return yield* Effect.fromResult(sent)
      })
  })
  return { wrap, arm: Ref.set(armed, true), outcomes: Ref.get(outcomes) }
})

describe("Fault: apiserver conflict on the StatefulSet update", () => {
  it.live("a real 409 on the StatefulSet update is retried and converges, keeping the other writer's annotation", () =>
    e2e(Effect.gen(function*() {
      const fault = yield* interloper
      const suite = yield* setup({ suite: "conflict", pollingInterval: "1s", wrap: fault.wrap })
      yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      yield* awaitPolls(suite.dfs, yield* adapterPolls(suite.dfs), 2, "10 seconds")
      const generation = (yield* statefulSet(suite)).metadata.generation ?? 0

      yield* fault.arm
      yield* setAdapterEnabled(suite.dfs, "smb", false)
      const [converged, sts] = yield* timedMillis(eventually(
        "container ports without smb, the interloper's annotation kept",
        Effect.flatMap(statefulSet(suite), (current) =>
          Effect.as(
            ensure(
              JSON.stringify(portNames(current)) === JSON.stringify(["api", "adapter-nfs"])
                && current.metadata.annotations?.[interloperKey] === "was here",
              () => `ports ${JSON.stringify(portNames(current))}, annotations ${JSON.stringify(current.metadata.annotations)}`
            ),
            current
          )),
        { timeout: "15 seconds" }
      ))
      const outcomes = yield* fault.outcomes
      yield* Effect.logInfo(`fault: StatefulSet update ${outcomes.join(", ")}; converged ${converged.toFixed(0)} ms after the adapter stopped`)
      assert.deepStrictEqual(outcomes, ["Conflict"], "the apiserver refused the operator's stale update")
      assert.strictEqual(sts.metadata.generation, generation + 1, "one spec write in the end")
      yield* awaitExposed(suite, ["nfs"], "5 seconds")
      yield* eventually("AdaptersSynced True", expectCondition(suite, "AdaptersSynced", "True"), { timeout: "10 seconds" })
      const warnings = (yield* serverEvents(suite)).filter((event) => event.type === "Warning")
      yield* Effect.logInfo(`fault: Warning Events: ${warnings.map((event) => `${event.reason}: ${event.message}`).join("; ")}`)
    })), 60_000)
})
