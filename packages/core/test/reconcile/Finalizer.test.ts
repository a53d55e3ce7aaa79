/**
 * The finalizer on the in-memory layers: set once, and on deletion the operator's DittoFS account
 * goes before the DittoServer does — or, when DittoFS stays unreachable, the finalizer goes anyway
 * after the cleanup timeout, with a Warning Event.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { DittoFs, DittoServerPass, Finalizer, Kubernetes } from "../../src/index.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { makeServer, namespace } from "../fixtures.ts"
import { capture, lines } from "../Logs.ts"
import { adminCredentials, adminPasswordRef, adminSecret, baseUrl, events, setup, testLayer } from "./harness.ts"

/** The server's own DittoFS account (namespace `storage`, server `ditto`). */
const account = "k8s-operator.storage.ditto"

const stored = Kubernetes.Kubernetes.use((k) =>
  k.get(Kubernetes.Resources.DittoServer, namespace, "ditto").pipe(
    Effect.asSome,
    Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeedNone)
  ))
const pass = Effect.flatMap(Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto")), (server) =>
  DittoServerPass.reconcile(server, { apiUrlOverride: baseUrl }))
const deleteServer = Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.DittoServer, namespace, "ditto"))
const userNames = Effect.gen(function*() {
  const users = yield* (yield* DittoFsMemory.Control).users(baseUrl)
  return users.map((user) => user.username).sort()
})
/** A server whose first pass provisioned its account, then marked for deletion. */
const provisionedThenDeleted = Effect.gen(function*() {
  yield* setup()
  yield* adminSecret()
  yield* pass
  yield* deleteServer
})
const warnings = Effect.map(lines, (all) => all.filter(([level]) => level === "WARN"))
const eventReasons = Effect.map(events, (list) => list.map((event) => event.reason))

describe("the finalizer", () => {
  it.effect("is added by the first pass, once", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const first = Option.getOrThrow(yield* stored)
      assert.deepStrictEqual(first.metadata.finalizers, [Finalizer.name])
      yield* pass
      assert.deepStrictEqual(Option.getOrThrow(yield* stored).metadata.finalizers, [Finalizer.name])
    }).pipe(Effect.provide(testLayer())))

  it.effect("on deletion, removes the operator account from DittoFS, then lets the DittoServer go", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      assert.deepStrictEqual(yield* userNames, ["admin", account])
      yield* deleteServer
      assert.isTrue(Option.isSome(yield* stored), "held by the finalizer")
      const action = yield* pass
      assert.deepStrictEqual(action, { _tag: "AwaitChange" })
      assert.deepStrictEqual(yield* userNames, ["admin"])
      assert.isTrue(Option.isNone(yield* stored), "gone once the finalizer is removed")
      assert.include(yield* eventReasons, "OperatorAccountDeleted")
    }).pipe(Effect.provide(testLayer())))

  it.effect("on deletion, removes only its own account: another server's on the same DittoFS stays", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* makeServer(adminPasswordRef, "nas-b"))
      yield* pass
      yield* Effect.flatMap(kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "nas-b"), (server) =>
        DittoServerPass.reconcile(server, { apiUrlOverride: baseUrl }))
      assert.deepStrictEqual(yield* userNames, ["admin", account, "k8s-operator.storage.nas-b"])
      yield* deleteServer
      yield* pass
      assert.deepStrictEqual(yield* userNames, ["admin", "k8s-operator.storage.nas-b"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a server that never got an account is let go at once", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* Effect.flip(pass)
      yield* deleteServer
      yield* pass
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(testLayer())))

  it.effect("DittoFS unreachable: says Deleting, retries every 5 s, and gives up after 60 s with a Warning", () =>
    Effect.gen(function*() {
      // a wall-clock time, as in a cluster: the wait is measured from the deletion mark
      yield* TestClock.setTime(Date.parse("2026-05-01T10:00:00Z"))
      yield* setup()
      yield* adminSecret()
      yield* pass
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* deleteServer
      const first = yield* pass
      assert.strictEqual(first._tag, "Requeue")
      assert.deepStrictEqual(first, { _tag: "Requeue", after: Finalizer.cleanupRetry })
      const held = Option.getOrThrow(yield* stored)
      assert.strictEqual(held.status?.phase, "Deleting")
      assert.deepStrictEqual(held.metadata.finalizers, [Finalizer.name])
      yield* TestClock.adjust("59 seconds")
      yield* pass
      assert.isTrue(Option.isSome(yield* stored), "still waiting before the timeout")
      assert.notInclude(yield* eventReasons, "CleanupTimeout")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* pass, { _tag: "AwaitChange" })
      assert.isTrue(Option.isNone(yield* stored), "deletion is never blocked for ever")
      const warning = (yield* events).find((event) => event.reason === "CleanupTimeout")
      assert.strictEqual(warning?.type, "Warning")
      assert.strictEqual(
        warning?.message,
        `Gave up deleting DittoFS account ${account} after 1m: Unreachable: connect ECONNREFUSED ${baseUrl}`
      )
      const retries = (yield* lines).filter(([, message]) => message === "could not delete the DittoFS operator account yet; retrying")
      assert.deepStrictEqual(retries.map(([level, , annotations]) => [level, annotations["server"]]), [["WARN", "storage/ditto"], ["WARN", "storage/ditto"]])
      assert.strictEqual(retries[0]?.[2]["reason"], `Unreachable: connect ECONNREFUSED ${baseUrl}`)
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("names the deleted account in its Event", () =>
    Effect.gen(function*() {
      yield* provisionedThenDeleted
      yield* pass
      const deleted = (yield* events).filter((event) => event.reason === "OperatorAccountDeleted")
      assert.deepStrictEqual(deleted.map((event) => [event.type, event.message]), [["Normal", `Deleted DittoFS account ${account}`]])
    }).pipe(Effect.provide(testLayer())))

  it.effect("an account already gone from DittoFS counts as deleted", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const dittofs = yield* DittoFs.DittoFs
      const token = yield* dittofs.login(baseUrl, adminCredentials)
      yield* dittofs.deleteUser(baseUrl, token.access_token, account)
      yield* deleteServer
      assert.deepStrictEqual(yield* pass, { _tag: "AwaitChange" })
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(testLayer())))

  it.effect("an account DittoFS fails to delete is retried, not taken as deleted", () =>
    Effect.gen(function*() {
      yield* provisionedThenDeleted
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "deleteUser", "ServerError")
      assert.deepStrictEqual(yield* pass, { _tag: "Requeue", after: Finalizer.cleanupRetry })
      assert.deepStrictEqual(yield* userNames, ["admin", account])
      assert.isTrue(Option.isSome(yield* stored), "held until the account is gone")
      yield* pass
      assert.deepStrictEqual(yield* userNames, ["admin"])
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(testLayer())))

  it.effect("a credentials Secret that cannot be read is a failed cleanup, retried: the account is not forgotten", () =>
    Effect.gen(function*() {
      yield* provisionedThenDeleted
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "get", kind: "Secret", reason: "Unavailable" })
      assert.deepStrictEqual(yield* pass, { _tag: "Requeue", after: Finalizer.cleanupRetry })
      assert.deepStrictEqual(yield* userNames, ["admin", account], "not deleted yet")
      yield* pass
      assert.deepStrictEqual(yield* userNames, ["admin"])
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(testLayer())))

  it.effect("keeps the other finalizers: only its own goes", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const kubernetes = yield* Kubernetes.Kubernetes
      const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
      yield* kubernetes.update(Kubernetes.Resources.DittoServer, {
        ...server,
        metadata: { ...server.metadata, finalizers: ["example.com/backup", ...(server.metadata.finalizers ?? [])] }
      })
      yield* deleteServer
      yield* pass
      assert.deepStrictEqual(Option.getOrThrow(yield* stored).metadata.finalizers, ["example.com/backup"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a finalizer that cannot be removed is logged and retried; a conflict is re-read, not a failure", () =>
    Effect.gen(function*() {
      yield* provisionedThenDeleted
      const control = yield* KubernetesMemory.Control
      yield* control.failNext({ verb: "update", kind: "DittoServer", reason: "Unavailable" })
      assert.deepStrictEqual(yield* pass, { _tag: "Requeue", after: Finalizer.cleanupRetry })
      assert.isTrue(Option.isSome(yield* stored), "still held")
      assert.deepStrictEqual(
        (yield* warnings).map(([, message, annotations]) => [message, annotations["server"], annotations["reason"]]),
        [["could not remove the finalizer; retrying", "storage/ditto", "Unavailable"]]
      )
      yield* control.failNext({ verb: "update", kind: "DittoServer", reason: "Conflict" })
      assert.deepStrictEqual(yield* pass, { _tag: "AwaitChange" })
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("a server already let go of (gone when the finalizer is removed) is done", () =>
    Effect.gen(function*() {
      yield* provisionedThenDeleted
      const kubernetes = yield* Kubernetes.Kubernetes
      const marked = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
      // another writer removes the finalizer first: the object is gone
      yield* kubernetes.update(Kubernetes.Resources.DittoServer, { ...marked, metadata: { ...marked.metadata, finalizers: [] } })
      assert.isTrue(Option.isNone(yield* stored))
      assert.deepStrictEqual(yield* Finalizer.finalize(marked, baseUrl), { _tag: "AwaitChange" })
      assert.deepStrictEqual(yield* warnings, [], "no warning")
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("a server without the operator's finalizer is not finalized: its account stays", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      const foreign = { ...server, metadata: { ...server.metadata, finalizers: ["example.com/backup"] } }
      assert.deepStrictEqual(yield* Finalizer.finalize(foreign, baseUrl), { _tag: "AwaitChange" })
      assert.deepStrictEqual(yield* userNames, ["admin", account])
    }).pipe(Effect.provide(testLayer())))
})

describe("Finalizer.ensure", () => {
  it.effect("a failure other than a conflict is the caller's: nothing is retried", () =>
    Effect.gen(function*() {
      yield* setup()
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "DittoServer", reason: "Unavailable" })
      const error = yield* Effect.flip(Finalizer.ensure(server))
      assert.strictEqual(error.reason, "Unavailable")
      assert.deepStrictEqual(Option.getOrThrow(yield* stored).metadata.finalizers, undefined)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a conflict is re-read and the finalizer added to the current object", () =>
    Effect.gen(function*() {
      yield* setup()
      const server = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "DittoServer", reason: "Conflict" })
      const written = yield* Finalizer.ensure(server)
      assert.deepStrictEqual(written.metadata.finalizers, [Finalizer.name])
      assert.deepStrictEqual(Option.getOrThrow(yield* stored).metadata.finalizers, [Finalizer.name])
    }).pipe(Effect.provide(testLayer())))
})
