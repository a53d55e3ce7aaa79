import { assert, describe, it } from "@effect/vitest"
import { DittoFs, Kubernetes } from "../../src/index.ts"

describe("error classification", () => {
  it("maps Kubernetes API statuses to reasons", () => {
    const cases: ReadonlyArray<readonly [number, Kubernetes.ErrorReason]> = [
      [400, "BadRequest"], [401, "Unauthorized"], [403, "Forbidden"], [404, "NotFound"], [409, "Conflict"],
      [410, "Gone"], [422, "Invalid"], [429, "TooManyRequests"], [500, "Unavailable"], [503, "Unavailable"],
      [504, "Timeout"], [418, "BadRequest"]
    ]
    for (const [status, reason] of cases) assert.strictEqual(Kubernetes.reasonOfStatus(status), reason, String(status))
  })

  it("tells AlreadyExists from a stale write by the Status reason of a 409", () => {
    assert.strictEqual(Kubernetes.reasonOfStatus(409, "AlreadyExists"), "AlreadyExists")
    assert.strictEqual(Kubernetes.reasonOfStatus(409, "Conflict"), "Conflict")
    assert.strictEqual(Kubernetes.reasonOfStatus(422, "AlreadyExists"), "Invalid")
  })

  it("maps DittoFS statuses to reasons, by status only", () => {
    const cases: ReadonlyArray<readonly [number, DittoFs.ErrorReason]> = [
      [400, "BadRequest"], [413, "BadRequest"], [422, "BadRequest"], [401, "Unauthorized"], [403, "Forbidden"],
      [404, "NotFound"], [409, "Conflict"], [500, "ServerError"], [502, "ServerError"], [504, "ServerError"]
    ]
    for (const [status, reason] of cases) assert.strictEqual(DittoFs.reasonOfStatus(status), reason, String(status))
  })

  it("treats only unreachable, timed-out and server errors as transient", () => {
    const transient = DittoFs.ErrorReason.literals.filter((reason) =>
      DittoFs.isTransient(new DittoFs.DittoFsError({ reason, message: "", operation: "" }))
    )
    assert.deepStrictEqual(transient, ["Unreachable", "Timeout", "ServerError"])
  })

  it("names resources the way kubectl would", () => {
    assert.strictEqual(Kubernetes.describe(Kubernetes.Resources.StatefulSet, "ns", "x"), "apps/v1 StatefulSet ns/x")
    assert.strictEqual(Kubernetes.apiVersionOf(Kubernetes.Resources.Service), "v1")
  })
})
