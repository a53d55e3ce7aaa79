/**
 * The baseline NetworkPolicy: the API port (and the metrics port while metrics are on) from
 * anywhere; the operator's labels, selector, policy types and ingress laid over what was
 * observed, rules that mean the same kept as they were; Events that say which ports.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { BaselineNetworkPolicy, DittoServer, type K8s } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const specWith = (metrics: boolean) =>
  Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, controlPlane: { port: 8080 }, metrics: { enabled: metrics, port: 9090 } })
const input = (metrics = false) => ({ server, spec: specWith(metrics), name: "ditto-baseline" })
const selector = { app: "dittofs-server", instance: "ditto" }

const observed = (spec: Partial<K8s.NetworkPolicy["spec"]> = {}, labels: Record<string, string> = {}): K8s.NetworkPolicy =>
  deepFreeze({
    ...BaselineNetworkPolicy.desired(input()),
    metadata: { ...BaselineNetworkPolicy.desired(input()).metadata, uid: "uid-policy", resourceVersion: "3", labels: { ...BaselineNetworkPolicy.desired(input()).metadata.labels, ...labels } },
    spec: { ...BaselineNetworkPolicy.desired(input()).spec, ...spec }
  })

describe("BaselineNetworkPolicy", () => {
  it("admits TCP to the API port, and to the metrics port only while metrics are on", () => {
    assert.deepStrictEqual(BaselineNetworkPolicy.ingress(specWith(false)), [{ ports: [{ protocol: "TCP", port: 8080 }] }])
    assert.deepStrictEqual(BaselineNetworkPolicy.ingress(specWith(true)), [{ ports: [{ protocol: "TCP", port: 8080 }, { protocol: "TCP", port: 9090 }] }])
    const policy = BaselineNetworkPolicy.desired(input(true))
    assert.deepStrictEqual(policy.metadata.labels, { ...selector, "dittofs.io/baseline-networkpolicy": "true" })
    assert.deepStrictEqual(policy.spec.podSelector, { matchLabels: selector })
    assert.deepStrictEqual(policy.spec.policyTypes, ["Ingress"])
    assert.deepStrictEqual(policy.metadata.ownerReferences?.map((ref) => [ref.uid, ref.controller]), [["uid-ditto", true]])
  })

  it("leaves a policy as it is when it already says the same, a missing protocol meaning TCP", () => {
    const same = observed({ ingress: [{ ports: [{ port: 8080 }] }] }, { team: "storage" })
    assert.deepStrictEqual(BaselineNetworkPolicy.overlay(input(), same), same)
  })

  it("lays its labels, selector, policy types and ingress over a drifted policy, keeping the rest", () => {
    const drifted = observed({
      podSelector: { matchLabels: { app: "other" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "UDP", port: 8080 }] }],
      egress: [{}]
    }, { team: "storage", "dittofs.io/baseline-networkpolicy": "false" })
    const next = BaselineNetworkPolicy.overlay(input(true), drifted)
    assert.deepStrictEqual(next.spec, {
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 8080 }, { protocol: "TCP", port: 9090 }] }],
      egress: [{}]
    })
    assert.deepStrictEqual(next.metadata.labels, { ...selector, team: "storage", "dittofs.io/baseline-networkpolicy": "true" })
    assert.deepStrictEqual([next.metadata.uid, next.metadata.resourceVersion], ["uid-policy", "3"])
  })

  it("says which ports in its Events", () => {
    const before = observed()
    const after = BaselineNetworkPolicy.desired(input(true))
    assert.deepStrictEqual(BaselineNetworkPolicy.createdEvent(after), {
      type: "Normal",
      reason: "NetworkPolicyCreated",
      message: "Created NetworkPolicy ditto-baseline admitting TCP 8080,9090"
    })
    assert.strictEqual(BaselineNetworkPolicy.updatedEvent(before, after).message, "Updated NetworkPolicy ditto-baseline (ports 8080 -> 8080,9090)")
    assert.strictEqual(BaselineNetworkPolicy.updatedEvent(before, before).message, "Updated NetworkPolicy ditto-baseline: selector, labels or policy types")
    assert.strictEqual(BaselineNetworkPolicy.updatedEvent(before, before).reason, "NetworkPolicyUpdated")
    assert.strictEqual(BaselineNetworkPolicy.createdEvent(observed({ ingress: [] })).message, "Created NetworkPolicy ditto-baseline admitting TCP none")
    assert.strictEqual(BaselineNetworkPolicy.createdEvent(observed({ ingress: [{ ports: [{ protocol: "TCP" }] }, {}] })).message, "Created NetworkPolicy ditto-baseline admitting TCP all")
  })
})
