import { assert, describe, it } from "@effect/vitest"
import { K8s } from "../../src/index.ts"

const secret = (data: Record<string, string>): K8s.Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data })

describe("the Kubernetes helpers", () => {
  it("drop an object's managedFields and nothing else, and leave an object without them as it is", () => {
    const object = { apiVersion: "v1", kind: "Secret", metadata: { name: "a", labels: { app: "x" }, managedFields: [{ manager: "m" }] }, data: { k: "dg==" } }
    assert.deepStrictEqual<unknown>(K8s.withoutManagedFields(object), { apiVersion: "v1", kind: "Secret", metadata: { name: "a", labels: { app: "x" } }, data: { k: "dg==" } })
    assert.deepStrictEqual(object.metadata.managedFields, [{ manager: "m" }], "the argument is not changed")
    const bare = { metadata: { name: "b" }, data: {} }
    assert.strictEqual(K8s.withoutManagedFields(bare), bare)
  })

  it("refer to an object by apiVersion, kind, namespace (default: default), name and uid", () => {
    assert.deepStrictEqual(
      K8s.referenceTo({ apiVersion: "v1", kind: "Service", metadata: { name: "a", namespace: "ns", uid: "u" } }),
      { apiVersion: "v1", kind: "Service", namespace: "ns", name: "a", uid: "u" }
    )
    assert.deepStrictEqual(
      K8s.referenceTo({ apiVersion: "v1", kind: "Service", metadata: { name: "a" } }),
      { apiVersion: "v1", kind: "Service", namespace: "default", name: "a", uid: "" }
    )
  })

  it("read a Secret's text, and nothing from a missing key or a value that is not base64", () => {
    assert.strictEqual(K8s.secretText(secret({ a: Buffer.from("pässword").toString("base64") }), "a"), "pässword")
    assert.strictEqual(K8s.secretText(secret({ a: "" }), "a"), "")
    assert.isUndefined(K8s.secretText(secret({}), "a"))
    assert.isUndefined(K8s.secretText({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }, "a"))
    for (const junk of ["not base64!", "a=b", "YQ===", "éé"]) assert.isUndefined(K8s.secretText(secret({ a: junk }), "a"), junk)
  })

  it("write timestamps as Kubernetes does: RFC 3339, whole seconds, UTC", () => {
    assert.strictEqual(K8s.timestamp(0), "1970-01-01T00:00:00Z")
    assert.strictEqual(K8s.timestamp(1_767_225_599_999), "2025-12-31T23:59:59Z")
  })
})
