/**
 * The finalizer on the in-memory layers: set once, and on deletion the operator's DittoFS account
 * goes before the DittoServer does — or, when DittoFS stays unreachable, the finalizer goes anyway
 * after the cleanup timeout, with a Warning Event.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { DittoServerPass, Finalizer, Kubernetes } from "../../src/index.ts"
import { DittoFsMemory } from "../../src/testing/index.ts"
import { makeServer, namespace } from "../fixtures.ts"
import { adminPasswordRef, adminSecret, baseUrl, events, setup, testLayer } from "./harness.ts"

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
      assert.include(warning?.message ?? "", account)
    }).pipe(Effect.provide(testLayer())))
})
