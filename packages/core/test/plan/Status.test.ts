import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Status } from "../../src/index.ts"

const up = (type: Status.ConditionType): Status.ConditionFact => ({ type, status: "True", reason: "Ok", message: "ok" })
const workloadUp = [up("ConfigReady"), up("WorkloadSynced"), up("Available")]
const down = (type: Status.ConditionType): Status.ConditionFact => ({ type, status: "False", reason: "Broken", message: "broken" })

describe("Status", () => {
  it("takes a Ready the pass states itself, and a phase and workload counts it knows", () => {
    const status = Status.next(undefined, {
      facts: [...workloadUp, up("DittoFSReachable"), up("Authenticated"), up("AdaptersSynced"), { ...down("Ready"), reason: "InvalidSpec" }],
      adapters: Option.none(),
      generation: 1,
      now: "T",
      phase: "Failed",
      workload: { replicas: 1, readyReplicas: 0, availableReplicas: 0, configHash: "abc" }
    })
    assert.strictEqual(status.conditions?.find((c) => c.type === "Ready")?.reason, "InvalidSpec")
    assert.deepStrictEqual([status.phase, status.replicas, status.readyReplicas, status.availableReplicas, status.configHash], ["Failed", 1, 0, 0, "abc"])
  })

  it("derives Ready from the other conditions and names those that fail", () => {
    const status = Status.next(undefined, {
      facts: [...workloadUp, up("DittoFSReachable"), down("Authenticated"), up("AdaptersSynced"), down("Progressing")],
      adapters: Option.none(),
      generation: 3,
      now: "2026-01-01T00:00:00Z"
    })
    const ready = status.conditions?.find((c) => c.type === "Ready")
    assert.deepStrictEqual([ready?.status, ready?.message], ["False", "Not ready: [NotAuthenticated]"], "Progressing does not gate Ready")
    assert.deepStrictEqual(status.conditions?.map((c) => c.type), [
      "ConfigReady",
      "WorkloadSynced",
      "Available",
      "DittoFSReachable",
      "Authenticated",
      "AdaptersSynced",
      "Progressing",
      "Ready"
    ])
    assert.strictEqual(status.observedGeneration, 3)
    assert.strictEqual(status.phase, "Pending")
  })

  it("moves lastTransitionTime only when a condition flips, and keeps the last known adapters", () => {
    const adapters = [{ type: "nfs", port: 12049, serviceName: "d-adapter-nfs", exposed: true }]
    const first = Status.next(undefined, {
      facts: [...workloadUp, up("DittoFSReachable"), up("Authenticated"), up("AdaptersSynced")],
      adapters: Option.some(adapters),
      generation: 1,
      now: "T1"
    })
    const same = Status.next(first, {
      facts: [...workloadUp, up("DittoFSReachable"), up("Authenticated"), { ...up("AdaptersSynced"), message: "2 exposed" }],
      adapters: Option.none(),
      generation: 1,
      now: "T2"
    })
    assert.isTrue(same.conditions?.every((c) => c.lastTransitionTime === "T1"))
    assert.deepStrictEqual(same.adapters, adapters)
    assert.strictEqual(same.phase, "Running")
    const flipped = Status.next(same, { facts: [down("DittoFSReachable")], adapters: Option.none(), generation: 1, now: "T3" })
    const times = Object.fromEntries((flipped.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]))
    assert.deepStrictEqual(times, {
      ConfigReady: "T1",
      WorkloadSynced: "T1",
      Available: "T1",
      DittoFSReachable: "T3",
      Authenticated: "T1",
      AdaptersSynced: "T1",
      Ready: "T3"
    })
  })

  it("keeps conditions and fields it does not maintain, sorted after its own", () => {
    const current = {
      replicas: 1,
      conditions: [
        { type: "Zeta", status: "True" as const, reason: "Z", message: "z", lastTransitionTime: "T0" },
        { type: "Alpha", status: "False" as const, reason: "A", message: "a", lastTransitionTime: "T0" }
      ]
    }
    const status = Status.next(current, { facts: [up("Authenticated")], adapters: Option.none(), generation: undefined, now: "T1" })
    assert.deepStrictEqual(status.conditions?.map((c) => c.type), ["Authenticated", "Ready", "Alpha", "Zeta"])
    assert.strictEqual(status.replicas, 1)
    assert.deepStrictEqual(status.adapters, [])
    assert.notProperty(status, "observedGeneration", "no generation, no observedGeneration")
    assert.isTrue(status.conditions?.every((c) => !("observedGeneration" in c)))
    const ready = status.conditions?.find((c) => c.type === "Ready")
    assert.deepStrictEqual([ready?.reason, ready?.message], [
      "ConditionsNotMet",
      "Not ready: [NotConfigReady NotWorkloadSynced NotAvailable NotDittoFSReachable NotAdaptersSynced]"
    ])
  })

  it("is Ready when every condition it maintains is True, whatever else is there", () => {
    const status = Status.next(undefined, {
      facts: [...workloadUp, up("DittoFSReachable"), up("Authenticated"), up("AdaptersSynced")],
      adapters: Option.none(),
      generation: 4,
      now: "T"
    })
    assert.deepStrictEqual(status.conditions?.find((c) => c.type === "Ready"), {
      type: "Ready",
      status: "True",
      reason: "AllConditionsMet",
      message: "All conditions are met",
      lastTransitionTime: "T",
      observedGeneration: 4
    })
    assert.strictEqual(status.phase, "Running")
  })

  it("says two statuses are equal regardless of key order", () => {
    const a = Status.next(undefined, { facts: [up("Authenticated")], adapters: Option.none(), generation: 1, now: "T" })
    const b = Object.fromEntries(Object.entries(a).reverse())
    assert.isTrue(Status.equal(a, b))
    assert.isFalse(Status.equal(a, { ...a, observedGeneration: 2 }))
    assert.isTrue(Status.equal(undefined, {}))
    assert.isFalse(Status.equal(undefined, a))
  })
})
