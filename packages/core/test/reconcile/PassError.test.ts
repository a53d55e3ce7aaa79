/**
 * The error policy: how soon each kind of failure is retried, against the rule written out by
 * hand (DittoFS within the polling interval, conflicts within a second, the rest within 5 minutes).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import {
  Action,
  ApplyFailed,
  AuthenticationFailed,
  DittoFsError,
  DittoFsUnavailable,
  errorPolicy,
  KubernetesError,
  ObserveFailed,
  PassFailed,
  TokenRejected
} from "../../src/index.ts"

const dittofsError = new DittoFsError({ reason: "Unreachable", message: "connect ECONNREFUSED", operation: "GET /api/v1/adapters" })
const kubernetesError = (reason: KubernetesError["reason"]) => new KubernetesError({ reason, message: "m", operation: "op" })
const failedWrite = (reason: KubernetesError["reason"]) =>
  ({ kind: "Service", change: "Update" as const, name: "x", error: kubernetesError(reason) })
const interval = Duration.seconds(10)

describe("errorPolicy", () => {
  it("retries DittoFS within one polling interval, whatever the interval", () => {
    for (const seconds of [2, 10, 30, 120]) {
      const pollingInterval = Duration.seconds(seconds)
      assert.deepStrictEqual(errorPolicy(new DittoFsUnavailable({ error: dittofsError, pollingInterval })).cap, pollingInterval)
      assert.deepStrictEqual(errorPolicy(new TokenRejected({ error: dittofsError, pollingInterval })).cap, pollingInterval)
    }
  })

  it("backs a permanent authentication failure off to 5 minutes", () => {
    assert.deepStrictEqual(errorPolicy(new AuthenticationFailed({ reason: "AuthenticationFailed", detail: "401" })).cap, Duration.minutes(5))
  })

  it("retries a stale write within a second and other Kubernetes failures within 5 minutes", () => {
    assert.deepStrictEqual(errorPolicy(new ObserveFailed({ error: kubernetesError("Conflict") })).cap, Duration.seconds(1))
    for (const reason of ["Unavailable", "Forbidden", "Invalid", "Timeout"] as const) {
      assert.deepStrictEqual(errorPolicy(new ObserveFailed({ error: kubernetesError(reason) })).cap, Duration.minutes(5), reason)
      assert.deepStrictEqual(errorPolicy(new ApplyFailed({ failures: [failedWrite(reason)] })).cap, Duration.minutes(5), reason)
    }
    assert.deepStrictEqual(
      errorPolicy(new ApplyFailed({ failures: [failedWrite("Forbidden"), failedWrite("Conflict")] })).cap,
      Duration.seconds(1)
    )
  })

  it("retries a pass with several failures as its most urgent one asks", () => {
    const pass = new PassFailed({
      errors: [
        new ApplyFailed({ failures: [failedWrite("Unavailable")] }),
        new DittoFsUnavailable({ error: dittofsError, pollingInterval: interval })
      ]
    })
    assert.deepStrictEqual(errorPolicy(pass).cap, interval)
    assert.deepStrictEqual(errorPolicy(new PassFailed({ errors: [] })), Action.defaultRetry)
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
