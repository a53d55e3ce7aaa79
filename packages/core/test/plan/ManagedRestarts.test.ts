/**
 * Managed restarts, clause by clause of the module's contract: no delete unless the strategy is
 * Managed, the StatefulSet is `OnDelete`, has a uid and a wanted restart hash, and its controller
 * has seen its generation; none while a pod of it terminates; then the first stale pod by name of
 * those it controls, with an Event that says which hash changed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { type K8s, ManagedRestarts } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const restartHash = "dittofs.io/restart-hash"
const configHash = "dittofs.io/config-hash"

const statefulSet = (overrides: {
  readonly uid?: string | undefined
  readonly strategy?: "OnDelete" | "RollingUpdate"
  readonly wanted?: string | undefined
  readonly config?: string
  readonly generation?: number | undefined
  readonly observedGeneration?: number | undefined
} = {}): K8s.StatefulSet => {
  const has = (key: keyof typeof overrides) => Object.hasOwn(overrides, key)
  const uid = has("uid") ? overrides.uid : "sts-uid"
  const wanted = has("wanted") ? overrides.wanted : "new-restart-hash"
  const generation = has("generation") ? overrides.generation : 2
  const observedGeneration = has("observedGeneration") ? overrides.observedGeneration : 2
  return deepFreeze({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "ditto", namespace: "storage", ...(uid === undefined ? {} : { uid }), ...(generation === undefined ? {} : { generation }) },
    spec: {
      serviceName: "ditto-headless",
      selector: { matchLabels: { app: "dittofs-server", instance: "ditto" } },
      updateStrategy: { type: overrides.strategy ?? "OnDelete" },
      template: {
        metadata: { annotations: { [configHash]: overrides.config ?? "config-b-0123456789", ...(wanted === undefined ? {} : { [restartHash]: wanted }) } },
        spec: { containers: [{ name: "dittofs", image: "dittofs" }] }
      }
    },
    ...(observedGeneration === undefined ? {} : { status: { observedGeneration, replicas: 1 } })
  })
}

const pod = (name: string, options: { readonly hash?: string; readonly config?: string; readonly owner?: string; readonly controller?: boolean; readonly terminating?: boolean } = {}): K8s.Pod =>
  deepFreeze({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "storage",
      uid: `uid-${name}`,
      annotations: { [configHash]: options.config ?? "config-b-0123456789", ...(options.hash === undefined ? {} : { [restartHash]: options.hash }) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "ditto", uid: options.owner ?? "sts-uid", controller: options.controller ?? true }],
      ...(options.terminating === true ? { deletionTimestamp: "2026-11-30T00:00:00Z" } : {})
    },
    spec: { containers: [{ name: "dittofs", image: "dittofs" }] }
  })

const deleted = (input: Partial<ManagedRestarts.Input>) =>
  ManagedRestarts.plan({ strategy: "Managed", statefulSet: Option.some(statefulSet()), pods: [], ...input })
    .map((change) => [change._tag, change.object.metadata.name, change.event.reason, change.event.message])

describe("ManagedRestarts.plan", () => {
  const stale = pod("ditto-0", { hash: "old-restart-hash" })

  it("restarts a pod whose restart hash differs, saying which hash changed", () => {
    assert.deepStrictEqual(deleted({ pods: [stale] }), [
      ["Delete", "ditto-0", "PodRestarted", "Restarted pod ditto-0: pod template changed (restart-hash old-rest -> new-rest)"]
    ])
    assert.deepStrictEqual(deleted({ pods: [pod("ditto-0", { hash: "new-restart-hash" })] }), [], "an up-to-date pod stays")
  })

  it("names a configuration change by its config hash, and a missing hash as none", () => {
    assert.deepStrictEqual(deleted({ pods: [pod("ditto-0", { hash: "old-restart-hash", config: "config-a-0123456789" })] })[0]?.[3],
      "Restarted pod ditto-0: configuration changed (config-hash config-a -> config-b)")
    assert.deepStrictEqual(deleted({ pods: [pod("ditto-0")] })[0]?.[3], "Restarted pod ditto-0: pod template changed (restart-hash none -> new-rest)")
  })

  it("restarts nothing unless the strategy is Managed and the StatefulSet OnDelete", () => {
    assert.deepStrictEqual(deleted({ strategy: "RollingUpdate", pods: [stale] }), [])
    assert.deepStrictEqual(deleted({ statefulSet: Option.none(), pods: [stale] }), [])
    assert.deepStrictEqual(deleted({ statefulSet: Option.some(statefulSet({ strategy: "RollingUpdate" })), pods: [stale] }), [])
  })

  it("restarts nothing for a StatefulSet without a uid or without a wanted restart hash", () => {
    assert.deepStrictEqual(deleted({ statefulSet: Option.some(statefulSet({ uid: undefined })), pods: [stale] }), [])
    assert.deepStrictEqual(deleted({ statefulSet: Option.some(statefulSet({ wanted: undefined })), pods: [stale] }), [])
  })

  it("waits until the StatefulSet controller has seen the template", () => {
    const seen = (generation: number | undefined, observedGeneration: number | undefined) =>
      deleted({ statefulSet: Option.some(statefulSet({ generation, observedGeneration })), pods: [stale] }).length
    assert.deepStrictEqual([seen(3, 2), seen(3, 3), seen(3, 4), seen(undefined, 3), seen(3, undefined)], [0, 1, 1, 0, 0])
  })

  it("restarts only pods the StatefulSet controls, none while one terminates, one at a time and the first by name", () => {
    assert.deepStrictEqual(deleted({ pods: [pod("other-0", { hash: "x", owner: "other-uid" }), pod("loose-0", { hash: "x", controller: false })] }), [])
    const alsoOwned = { ...stale, metadata: { ...stale.metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "cm-uid" }, ...(stale.metadata.ownerReferences ?? [])] } }
    assert.deepStrictEqual(deleted({ pods: [alsoOwned] }).length, 1, "another, non-controller owner besides")
    assert.deepStrictEqual(deleted({ pods: [stale, pod("ditto-1", { hash: "new-restart-hash", terminating: true })] }), [])
    assert.deepStrictEqual(deleted({ pods: [pod("other-0", { hash: "x", owner: "other-uid", terminating: true }), stale] }).length, 1, "another's terminating pod does not hold it back")
    assert.deepStrictEqual(
      deleted({ pods: [pod("ditto-2", { hash: "old" }), pod("ditto-0", { hash: "new-restart-hash" }), pod("ditto-1", { hash: "old" })] }).map(([, name]) => name),
      ["ditto-1"]
    )
  })

  it("carries the observed pod, whose uid is the delete's precondition", () => {
    const [change] = ManagedRestarts.plan({ strategy: "Managed", statefulSet: Option.some(statefulSet()), pods: [stale] })
    assert.strictEqual(change?.object, stale)
  })
})
