/**
 * The core's Event recorder on the real API server (KubernetesLive): a repeat is one PUT over the
 * Event as the recorder remembers it (its name, resourceVersion, count and first timestamp, not
 * the API server's answer), and the API server keeps what that PUT does not carry (uid, creation
 * time, managedFields); after someone else's change, the repeat bumps the current Event.
 */
import { assert, describe, it } from "@effect/vitest"
import { Events, Kubernetes } from "@dittofs-operator/core"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import * as EventRecorder from "../../../../packages/core/src/services/EventRecorder.ts"
import * as KubernetesLive from "../../src/live/KubernetesLive.ts"

const kubeconfigPath = inject("kubeconfigPath")
const layer = Layer.provideMerge(EventRecorder.layer({ instance: "event-recorder-test" }), KubernetesLive.layer({ kubeconfigPath }))

describe("EventRecorder on the API server", () => {
  it.live("counts repeats on one Event, keeps what the API server set, and bumps the current Event after someone else's change", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const events = yield* Events.Events
      const name = `recorder-${randomUUID().slice(0, 8)}`
      const regarding = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", namespace: "default", name, uid: `uid-${name}` }
      const note = { type: "Normal" as const, reason: "AdapterServiceCreated", message: `Created NodePort Service ${name}-adapter-nfs` }
      const about = Effect.map(
        kubernetes.list(Kubernetes.Resources.Event, "default"),
        (all) => all.filter((event) => event.involvedObject.name === name)
      )
      yield* events.emit(regarding, note)
      const [first] = yield* about
      if (first === undefined) return assert.fail("no Event")
      yield* events.emit(regarding, note)
      yield* events.emit(regarding, note)
      const [third, ...more] = yield* about
      assert.strictEqual(more.length, 0, "one Event")
      assert.strictEqual(third?.count, 3)
      assert.deepStrictEqual(
        [third?.metadata.uid, third?.metadata.creationTimestamp, third?.firstTimestamp, third?.message],
        [first.metadata.uid, first.metadata.creationTimestamp, first.firstTimestamp, note.message]
      )
      const managedFields = third?.metadata["managedFields"]
      assert.isTrue(Array.isArray(managedFields) && managedFields.length > 0, "the API server kept its managedFields")
      // someone else's change: the remembered resourceVersion is stale, the repeat bumps theirs
      if (third === undefined) return
      yield* kubernetes.update(Kubernetes.Resources.Event, { ...third, count: 7 })
      yield* events.emit(regarding, note)
      assert.deepStrictEqual((yield* about).map((event) => event.count), [8])
    }).pipe(Effect.provide(layer)), 60_000)
})
