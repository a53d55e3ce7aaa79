/**
 * Kubernetes Events about a DittoServer: every Service, NetworkPolicy and container-port change
 * the operator makes is announced with one.
 *
 * Contract: `emit` never fails — an Event that cannot be recorded is logged and dropped, it never
 * fails the reconcile that caused it. Repeats of the same (object, type, reason, message) are
 * aggregated by the layer (a count on one Event), so a flapping adapter does not flood the
 * namespace.
 */
import { Context, type Effect } from "effect"
import type { ObjectReference } from "../domain/Kubernetes.ts"
import type { EventNote } from "../plan/Change.ts"

/** Emits Kubernetes Events about an object. */
export interface Api {
  /** Emits (or counts a repeat of) an Event about the object; never fails: a failed write is logged. */
  readonly emit: (regarding: ObjectReference, note: EventNote) => Effect.Effect<void>
}

/** The Events service: see `EventRecorder.layer`. */
export class Events extends Context.Service<Events, Api>()("@dittofs-operator/core/Events") {}
