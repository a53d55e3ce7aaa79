/**
 * A reflector's source on the in-memory API server: the list and the watch see the same
 * namespace and label selector, the watch resumes from the version given, and the API server
 * closes it after `watchTimeoutSeconds` (the reflector reopens it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Kubernetes } from "@dittofs-operator/core"
import { KubernetesMemory } from "@dittofs-operator/core/testing"
import * as KubernetesSource from "../../../src/runtime/KubernetesSource.ts"

const secret = (namespace: string, name: string, labels: Record<string, string>) =>
  Kubernetes.Kubernetes.use((k) =>
    k.create(Kubernetes.Resources.Secret, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace, labels }, data: { a: "YQ==" } }))

describe("KubernetesSource.listWatch", () => {
  it.effect("lists and watches one namespace and label selector, from the version given, until the server's timeout", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* secret("ns", "ours", { app: "dittofs-server" })
      yield* secret("ns", "theirs", { app: "other" })
      yield* secret("elsewhere", "ours-too", { app: "dittofs-server" })
      const source = KubernetesSource.listWatch(kubernetes, Kubernetes.Resources.Secret, "ns", { labelSelector: { app: "dittofs-server" } })
      const listed = yield* source.list
      assert.deepStrictEqual(listed.items.map((s) => s.metadata.name), ["ours"])

      const watching = yield* Effect.forkChild(Stream.runCollect(source.watch(listed.resourceVersion)))
      yield* secret("ns", "later", { app: "dittofs-server" })
      yield* secret("ns", "not-selected", { app: "other" })
      yield* secret("elsewhere", "not-here", { app: "dittofs-server" })
      yield* TestClock.adjust(`${KubernetesSource.watchTimeoutSeconds - 1} seconds`)
      assert.isUndefined(fiberDone(watching), "still open just before the timeout")
      yield* TestClock.adjust("1 second")
      assert.isDefined(fiberDone(watching), "closed by the server at the timeout")
      const events = yield* Fiber.join(watching)
      assert.deepStrictEqual(
        events.flatMap((event) => (event._tag === "Bookmark" ? [] : [`${event._tag} ${event.object.metadata.name}`])),
        ["Added later"],
        "only what changed after the version, in the namespace, matching the selector"
      )
    }).pipe(Effect.provide(KubernetesMemory.layer())))
})

const fiberDone = <A, E>(fiber: Fiber.Fiber<A, E>) => fiber.pollUnsafe()
