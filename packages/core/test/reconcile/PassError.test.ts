/**
 * The error policy: how soon each kind of failure is retried, against the rule written out by
 * hand (DittoFS within the polling interval, conflicts within a second, the rest within 5 minutes).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import { Action, DittoFs, Kubernetes, PassError } from "../../src/index.ts"

const dittofsError = new DittoFs.DittoFsError({ reason: "Unreachable", message: "connect ECONNREFUSED", operation: "GET /api/v1/adapters" })
const kubernetesError = (reason: Kubernetes.KubernetesError["reason"]) => new Kubernetes.KubernetesError({ reason, message: "m", operation: "op" })
const failedWrite = (reason: Kubernetes.KubernetesError["reason"]) =>
  ({ kind: "Service", change: "Update" as const, name: "x", error: kubernetesError(reason) })
const interval = Duration.seconds(10)

describe("errorPolicy", () => {
  it("retries DittoFS within one polling interval, whatever the interval", () => {
    for (const seconds of [2, 10, 30, 120]) {
      const pollingInterval = Duration.seconds(seconds)
      assert.deepStrictEqual(PassError.errorPolicy(new PassError.DittoFsUnavailable({ error: dittofsError, pollingInterval })).cap, pollingInterval)
      assert.deepStrictEqual(PassError.errorPolicy(new PassError.TokenRejected({ error: dittofsError, pollingInterval })).cap, pollingInterval)
    }
  })

  it("backs a permanent authentication failure off to 5 minutes", () => {
    assert.deepStrictEqual(PassError.errorPolicy(new PassError.AuthenticationFailed({ reason: "AuthenticationFailed", detail: "401" })).cap, Duration.minutes(5))
  })

  it("retries a stale write within a second and other Kubernetes failures within 5 minutes", () => {
    assert.deepStrictEqual(PassError.errorPolicy(new PassError.ObserveFailed({ error: kubernetesError("Conflict") })).cap, Duration.seconds(1))
    for (const reason of ["Unavailable", "Forbidden", "Invalid", "Timeout"] as const) {
      assert.deepStrictEqual(PassError.errorPolicy(new PassError.ObserveFailed({ error: kubernetesError(reason) })).cap, Duration.minutes(5), reason)
      assert.deepStrictEqual(PassError.errorPolicy(new PassError.ApplyFailed({ failures: [failedWrite(reason)] })).cap, Duration.minutes(5), reason)
    }
    assert.deepStrictEqual(
      PassError.errorPolicy(new PassError.ApplyFailed({ failures: [failedWrite("Forbidden"), failedWrite("Conflict")] })).cap,
      Duration.seconds(1)
    )
  })

  it("retries a pass with several failures as its most urgent one asks", () => {
    const pass = new PassError.PassFailed({
      errors: [
        new PassError.ApplyFailed({ failures: [failedWrite("Unavailable")] }),
        new PassError.DittoFsUnavailable({ error: dittofsError, pollingInterval: interval })
      ]
    })
    assert.deepStrictEqual(PassError.errorPolicy(pass).cap, interval)
    assert.deepStrictEqual(PassError.errorPolicy(new PassError.PassFailed({ errors: [] })), Action.defaultRetry)
  })
})

describe("Action.shortest", () => {
  it("keeps the earliest requeue, and waits for a change only when nobody asked for one", () => {
    const r = (s: number) => Action.requeue(Duration.seconds(s))
    assert.deepStrictEqual(Action.shortest([r(30), Action.awaitChange, r(5), r(10)]), r(5))
    assert.deepStrictEqual(Action.shortest([Action.awaitChange, Action.awaitChange]), Action.awaitChange)
    assert.deepStrictEqual(Action.shortest([]), Action.awaitChange)
  })
})

describe("the errors' messages (what the logs and the Warning Events say)", () => {
  it("name what failed, why, and every failed change", () => {
    assert.strictEqual(
      new PassError.AuthenticationFailed({ reason: "AuthenticationFailed", detail: "401 from POST /api/v1/auth/login" }).message,
      "authentication with DittoFS failed: AuthenticationFailed: 401 from POST /api/v1/auth/login"
    )
    assert.strictEqual(new PassError.ObserveFailed({ error: kubernetesError("Forbidden") }).message, "op: Forbidden: m")
    const applied = new PassError.ApplyFailed({ failures: [failedWrite("Conflict"), { ...failedWrite("Invalid"), change: "Create" as const, name: "y" }] })
    assert.strictEqual(applied.message, "Update Service x: Conflict: m; Create Service y: Invalid: m")
    assert.strictEqual(
      new PassError.PassFailed({ errors: [new PassError.ObserveFailed({ error: kubernetesError("Timeout") }), applied] }).message,
      "ObserveFailed: op: Timeout: m; ApplyFailed: Update Service x: Conflict: m; Create Service y: Invalid: m"
    )
  })
})
