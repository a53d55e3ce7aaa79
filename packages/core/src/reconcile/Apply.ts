/**
 * The executor: the only code that writes the changes of a plan, announcing each with its Event.
 *
 * Contract: every change is attempted, one failure does not stop the others (one bad adapter
 * never blocks the rest); each failure is returned with the change, and announced with a Warning
 * Event. A delete whose object is already gone counts as done. A caller may announce a plan's
 * creations together instead (`applyCollectingCreations`): a new server's workload is
 * six objects, and one Event says so. Deletes carry the observed uid as
 * a precondition, so a newer object of the same name is never deleted.
 */
import { Effect } from "effect"
import type { ObjectMeta, ObjectReference } from "../domain/Kubernetes.ts"
import * as ObjectRef from "../domain/ObjectRef.ts"
import type { Change, EventNote, Plan } from "../plan/Change.ts"
import { Events } from "../services/Events.ts"
import { Kubernetes, type KubernetesError, type Resource } from "../services/Kubernetes.ts"

/** A change that failed: the kind, the change's tag, the object's name and the error. */
export interface FailedChange {
  readonly kind: string
  readonly change: Change<unknown>["_tag"]
  readonly name: string
  readonly error: KubernetesError
}

/**
 * Applies one change. A delete carries the observed uid as its precondition, and one whose object
 * is already gone counts as done.
 */
export const change = <A extends { readonly metadata: ObjectMeta }>(
  resource: Resource<A>,
  change: Change<A>
): Effect.Effect<void, KubernetesError, Kubernetes> =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    switch (change._tag) {
      case "Create":
        return yield* Effect.asVoid(kubernetes.create(resource, change.object))
      case "Update":
        return yield* Effect.asVoid(kubernetes.update(resource, change.object))
      case "Delete": {
        const { metadata } = change.object
        const preconditions = metadata.uid === undefined ? {} : { uid: metadata.uid }
        return yield* kubernetes.delete(resource, ObjectRef.of(metadata).namespace, metadata.name, preconditions).pipe(
          Effect.catchIf((error) => error.reason === "NotFound", () => Effect.void)
        )
      }
    }
  })

/** What applying a plan did: the changes that failed, and the Events of creations left to the caller. */
export interface Applied {
  readonly failures: ReadonlyArray<FailedChange>
  /** The Events of the successful creations, when the caller announces them itself (`applyCollectingCreations`). */
  readonly creations: ReadonlyArray<EventNote>
}

const apply = <A extends { readonly metadata: ObjectMeta }>(
  resource: Resource<A>,
  regarding: ObjectReference,
  plan: Plan<A>,
  failureReason: string,
  collectCreations: boolean
): Effect.Effect<Applied, never, Kubernetes | Events> =>
  Effect.gen(function*() {
    const events = yield* Events
    const failures: Array<FailedChange> = []
    const creations: Array<EventNote> = []
    for (const planned of plan) {
      const applied = yield* Effect.result(change(resource, planned))
      if (applied._tag === "Success") {
        yield* Effect.logInfo(planned.event.message).pipe(
          Effect.annotateLogs({ object: `${regarding.namespace}/${regarding.name}`, reason: planned.event.reason })
        )
        if (collectCreations && planned._tag === "Create") creations.push(planned.event)
        else yield* events.emit(regarding, planned.event)
        continue
      }
      const failure: FailedChange = {
        kind: resource.kind,
        change: planned._tag,
        name: planned.object.metadata.name,
        error: applied.failure
      }
      failures.push(failure)
      yield* Effect.logWarning(`${planned._tag} ${resource.kind} ${failure.name} failed`).pipe(
        Effect.annotateLogs({ reason: applied.failure.reason, message: applied.failure.message })
      )
      yield* events.emit(regarding, {
        type: "Warning",
        reason: failureReason,
        message: `Failed to ${planned._tag.toLowerCase()} ${resource.kind} ${failure.name}: ${applied.failure.reason}: ${applied.failure.message}`
      })
    }
    return { failures, creations }
  })

/** Applies every change of the plan, announcing each success with its Event; returns those that failed. */
export const plan = <A extends { readonly metadata: ObjectMeta }>(
  resource: Resource<A>,
  regarding: ObjectReference,
  plan: Plan<A>,
  failureReason: string
): Effect.Effect<ReadonlyArray<FailedChange>, never, Kubernetes | Events> =>
  Effect.map(apply(resource, regarding, plan, failureReason, false), (applied) => applied.failures)

/**
 * Applies every change of the plan like `plan`, except that the successful creations are
 * not announced: their Events are returned, for the caller to announce them together (updates,
 * deletes and failures are announced each, as by `plan`).
 */
export const applyCollectingCreations = <A extends { readonly metadata: ObjectMeta }>(
  resource: Resource<A>,
  regarding: ObjectReference,
  plan: Plan<A>,
  failureReason: string
): Effect.Effect<Applied, never, Kubernetes | Events> => apply(resource, regarding, plan, failureReason, true)
