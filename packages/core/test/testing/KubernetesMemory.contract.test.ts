/**
 * The Kubernetes contract suite against the in-memory API server: the fake must behave like the
 * real one (the same suite runs against kube-apiserver in the integration run). After it, what
 * only the fake can be made to do on demand: compact its event log, bound it, inject faults, and
 * show its bookmark schedule on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Cause, Effect, Fiber, Layer, Option, Queue, Ref, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { Secret } from "../../src/domain/Kubernetes.ts"
import { Kubernetes, type KubernetesError, Resources } from "../../src/services/Kubernetes.ts"
import { ContractNamespaces, kubernetesContract } from "../../src/testing/contract/KubernetesContract.ts"
import * as KubernetesMemory from "../../src/testing/KubernetesMemory.ts"

/** Namespaces need no creating in the fake: a fresh name is a fresh namespace. */
const namespaces = Layer.effect(
  ContractNamespaces,
  Effect.map(Ref.make(0), (counter) =>
    ContractNamespaces.of({
      fresh: Effect.map(Ref.updateAndGet(counter, (n) => n + 1), (n) => `contract-${n}`)
    }))
)

kubernetesContract("KubernetesMemory", {
  layer: Layer.merge(KubernetesMemory.layer(), namespaces),
  // The fake collects garbage synchronously: a check that fails once has failed for good.
  settle: Schedule.recurs(0),
  liveClock: false
})

const secret = (name: string): Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "ns" } })

/** What a watch from `resourceVersion` delivers until it ends or fails: `[event, name or version]`. */
const watched = (resourceVersion: string, count: number) =>
  Effect.flatMap(Kubernetes, (kubernetes) =>
    kubernetes.watch(Resources.Secret, "ns", { resourceVersion }).pipe(
      Stream.take(count),
      Stream.map((event) => event._tag === "Bookmark" ? [event._tag, event.resourceVersion] : [event._tag, event.object.metadata.name]),
      Stream.runCollect
    ))

const reasonOf = <A, E extends { readonly reason: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

describe("KubernetesMemory watch history", () => {
  it.effect("compact makes every earlier resourceVersion Gone; a list after it starts a watch again", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const control = yield* KubernetesMemory.Control
      const before = yield* kubernetes.listWithVersion(Resources.Secret, "ns")
      yield* kubernetes.create(Resources.Secret, secret("a"))
      assert.deepStrictEqual(yield* watched(before.resourceVersion, 1), [["Added", "a"]])
      yield* control.compact
      assert.strictEqual(yield* reasonOf(watched(before.resourceVersion, 1)), "Gone")
      const after = yield* kubernetes.listWithVersion(Resources.Secret, "ns")
      assert.deepStrictEqual(after.items.map((item) => item.metadata.name), ["a"])
      yield* kubernetes.create(Resources.Secret, secret("b"))
      assert.deepStrictEqual(yield* watched(after.resourceVersion, 1), [["Added", "b"]])
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("keeps only the last historySize changes", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const start = yield* kubernetes.listWithVersion(Resources.Secret, "ns")
      const [a] = yield* Effect.forEach(["a", "b", "c", "d"], (name) => kubernetes.create(Resources.Secret, secret(name)))
      // The log holds b, c and d: from a's version on, nothing is missing; from before it, a is.
      assert.strictEqual(yield* reasonOf(watched(start.resourceVersion, 1)), "Gone")
      assert.deepStrictEqual(yield* watched(a?.metadata.resourceVersion ?? "", 3), [["Added", "b"], ["Added", "c"], ["Added", "d"]])
    }).pipe(Effect.provide(KubernetesMemory.layer({ historySize: 3 }))))

  it.effect("starts from the current objects for resourceVersion 0", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      yield* kubernetes.create(Resources.Secret, secret("b"))
      yield* kubernetes.create(Resources.Secret, secret("a"))
      const watching = yield* Effect.forkChild(watched("0", 3))
      yield* kubernetes.create(Resources.Secret, secret("c"))
      assert.deepStrictEqual(yield* Fiber.join(watching), [["Added", "a"], ["Added", "b"], ["Added", "c"]])
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("sends a bookmark every minute and 2 seconds before the timeout, then ends", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const start = yield* kubernetes.listWithVersion(Resources.Secret, "ns")
      const events = yield* Queue.unbounded<string, KubernetesError | Cause.Done>()
      yield* kubernetes.watch(Resources.Secret, "ns", { resourceVersion: start.resourceVersion, timeoutSeconds: 90 }).pipe(
        Stream.map((event) => event._tag === "Bookmark" ? `Bookmark@${event.resourceVersion}` : `${event._tag} ${event.object.metadata.name}`),
        Stream.runIntoQueue(events),
        Effect.forkChild
      )
      yield* kubernetes.create(Resources.Secret, secret("a"))
      assert.strictEqual(yield* Queue.take(events), "Added a")
      // A change elsewhere moves the cluster on: the bookmark says the watch has seen up to it.
      const elsewhere = yield* kubernetes.create(Resources.Secret, { ...secret("b"), metadata: { name: "b", namespace: "other" } })
      yield* TestClock.adjust("60 seconds")
      assert.strictEqual(yield* Queue.take(events), `Bookmark@${elsewhere.metadata.resourceVersion}`)
      const c = yield* kubernetes.create(Resources.Secret, secret("c"))
      assert.strictEqual(yield* Queue.take(events), "Added c")
      yield* TestClock.adjust("27 seconds")
      assert.isTrue(Option.isNone(yield* Queue.poll(events)))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Queue.take(events), `Bookmark@${c.metadata.resourceVersion}`)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* Effect.flip(Queue.take(events)))._tag, "Done")
    }).pipe(Effect.provide(KubernetesMemory.layer())))

  it.effect("fails a watch with an injected fault as it opens", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const control = yield* KubernetesMemory.Control
      const start = yield* kubernetes.listWithVersion(Resources.Secret, "ns")
      yield* control.failNext({ verb: "watch", kind: "Secret", reason: "Unavailable" })
      assert.strictEqual(yield* reasonOf(watched(start.resourceVersion, 1)), "Unavailable")
      yield* kubernetes.create(Resources.Secret, secret("a"))
      assert.deepStrictEqual(yield* watched(start.resourceVersion, 1), [["Added", "a"]])
    }).pipe(Effect.provide(KubernetesMemory.layer())))
})
