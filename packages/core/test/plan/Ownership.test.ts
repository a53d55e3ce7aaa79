/**
 * Ownership, case by case (the ownership law covers it in bulk): the controller reference the
 * operator writes, the test it applies before an update or a delete, and the claim on an object
 * of one of its names.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { K8s } from "../../src/index.ts"
import * as Ownership from "../../src/plan/Ownership.ts"
import { makeServer, namespace } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const ours = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", name: "ditto", uid: "uid-ditto", controller: true }
const marker = "dittofs.io/adapter-service"
const labelled = { [marker]: "true", instance: "ditto" }

const meta = (overrides: Partial<K8s.ObjectMeta> = {}): K8s.ObjectMeta => ({ name: "ditto-config", namespace: "storage", ...overrides })

describe("Ownership", () => {
  it.effect("identifies a server by namespace, name and uid, an unknown uid as empty", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      assert.deepStrictEqual(Ownership.identityOf({ ...server, metadata: { ...server.metadata, uid: "u1" } }), { namespace, name: server.metadata.name, uid: "u1" })
      assert.strictEqual(Ownership.identityOf(server).uid, "")
    }))

  it("writes a controller reference that blocks the owner's deletion", () => {
    assert.deepStrictEqual(Ownership.controllerReference(server), { ...ours, blockOwnerDeletion: true })
  })

  it("is controlled by the server only through a controller reference with its uid", () => {
    assert.isTrue(Ownership.isControlledBy(meta({ ownerReferences: [ours] }), server))
    assert.isFalse(Ownership.isControlledBy(meta({ ownerReferences: [{ ...ours, controller: false }] }), server), "an owner, not the controller")
    assert.isFalse(Ownership.isControlledBy(meta({ ownerReferences: [{ ...ours, uid: "uid-other" }] }), server), "another server of the same name")
    assert.isFalse(Ownership.isControlledBy(meta(), server), "no owner")
    assert.isFalse(Ownership.isControlledBy(meta({ ownerReferences: [{ ...ours, uid: "" }] }), { ...server, uid: "" }), "a server without a uid controls nothing")
  })

  it("manages an object only with the marker label, the instance label and the controller reference", () => {
    const managed = (labels: Record<string, string>, ownerReferences = [ours]) => Ownership.isManagedBy(meta({ labels, ownerReferences }), server, marker)
    assert.isTrue(managed(labelled))
    assert.isFalse(managed({ ...labelled, [marker]: "false" }), "marker not true")
    assert.isFalse(managed({ instance: "ditto" }), "no marker")
    assert.isFalse(managed({ ...labelled, instance: "other" }), "another instance")
    assert.isFalse(managed(labelled, []), "not controlled")
  })

  it("reads the adapter type label, empty when missing", () => {
    assert.strictEqual(Ownership.adapterTypeOf({ labels: { "dittofs.io/adapter-type": "nfs" } }), "nfs")
    assert.strictEqual(Ownership.adapterTypeOf({}), "")
  })

  it("claims an object of its name: absent, ours, ours terminating, or foreign", () => {
    const object = (metadata: K8s.ObjectMeta) => ({ metadata })
    const claimOf = (observed: ReadonlyArray<{ readonly metadata: K8s.ObjectMeta }>) => Ownership.claim(observed, "ditto-config", server)._tag
    assert.strictEqual(claimOf([]), "Absent")
    assert.strictEqual(claimOf([object(meta({ name: "other", ownerReferences: [ours] }))]), "Absent", "another name")
    assert.strictEqual(claimOf([object(meta({ namespace: "elsewhere", ownerReferences: [ours] }))]), "Absent", "another namespace")
    assert.strictEqual(claimOf([object(meta({ ownerReferences: [ours] }))]), "Ours")
    const { namespace: _namespace, ...withoutNamespace } = meta({ ownerReferences: [ours] })
    assert.strictEqual(claimOf([object(withoutNamespace)]), "Ours", "no namespace is the server's")
    assert.strictEqual(claimOf([object(meta({ ownerReferences: [ours], deletionTimestamp: "2026-11-30T00:00:00Z" }))]), "Terminating")
    assert.strictEqual(claimOf([object(meta({ ownerReferences: [{ ...ours, uid: "uid-other" }] }))]), "Foreign")
    const found = Ownership.claim([object(meta({ ownerReferences: [ours], uid: "x" }))], "ditto-config", server)
    assert.strictEqual(found._tag === "Ours" ? found.object.metadata.uid : undefined, "x", "the object found")
  })
})
