/**
 * A DittoServer whose spec does not decode: say so, and never hold it hostage.
 *
 * Contract:
 * - A Warning Event `InvalidSpec` carries the decoder's message; the status says `Failed`, with a
 *   False `Ready` condition of reason `InvalidSpec` (written only when it changes). Nothing else
 *   is read or written: no workload object is touched on the strength of a spec we cannot read.
 * - One marked for deletion loses the operator's finalizer at once (its DittoFS account cannot be
 *   found without a spec; a Warning says it was left), so deletion is never blocked.
 * - The next edit of the spec brings the server back to the normal pass.
 */
import { Clock, Effect, Option, Schema } from "effect"
import * as DittoServer from "../domain/DittoServer.ts"
import { type AnyObject, referenceTo, timestamp } from "../domain/Kubernetes.ts"
import * as Status from "../plan/Status.ts"
import { Events } from "../services/Events.ts"
import { Kubernetes, raw, Resources } from "../services/Kubernetes.ts"
import { type Action, awaitChange } from "./Action.ts"
import * as Finalizer from "./Finalizer.ts"

const decodeStatus = Schema.decodeUnknownOption(DittoServer.Status)

/**
 * The pass over a DittoServer whose spec does not decode: a Warning Event `InvalidSpec` and the
 * phase `Failed`, nothing else touched; marked for deletion, its finalizer goes at once.
 */
export const reconcile = Effect.fn("reconcileInvalidSpec")(function*(
  object: AnyObject,
  message: string
): Effect.fn.Return<Action, never, Kubernetes | Events> {
  const kubernetes = yield* Kubernetes
  const events = yield* Events
  const regarding = referenceTo(object)
  yield* events.emit(regarding, { type: "Warning", reason: "InvalidSpec", message: `The DittoServer spec is invalid: ${message}` })
  const resource = raw(Resources.DittoServer)
  if (object.metadata.deletionTimestamp !== undefined) {
    const finalizers = object.metadata.finalizers ?? []
    if (!finalizers.includes(Finalizer.name)) return awaitChange
    yield* events.emit(regarding, {
      type: "Warning",
      reason: "CleanupSkipped",
      message: "The DittoFS operator account was left in place: the spec is invalid"
    })
    const released = yield* Effect.result(kubernetes.update(resource, {
      ...object,
      metadata: { ...object.metadata, finalizers: finalizers.filter((name) => name !== Finalizer.name) }
    }))
    if (released._tag === "Failure") yield* Effect.logWarning("could not remove the finalizer").pipe(Effect.annotateLogs({ reason: released.failure.reason }))
    return awaitChange
  }
  const current = Option.getOrUndefined(decodeStatus(object["status"]))
  const next = Status.next(current, {
    facts: [{ type: "Ready", status: "False", reason: "InvalidSpec", message }],
    adapters: Option.none(),
    generation: object.metadata.generation,
    now: timestamp(yield* Clock.currentTimeMillis),
    phase: "Failed"
  })
  if (!Status.equal(current, next)) {
    const written = yield* Effect.result(kubernetes.patchStatus(resource, object, { ...object, status: next }))
    if (written._tag === "Failure") yield* Effect.logWarning("could not write the Failed status").pipe(Effect.annotateLogs({ reason: written.failure.reason }))
  }
  return awaitChange
})
