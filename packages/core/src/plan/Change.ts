/**
 * A plan is a list of changes, each with the Kubernetes Event it emits once applied.
 *
 * Contract: plans are values; only the executor writes. `diffByKey` is the one diff used for
 * every set of per-adapter objects: it creates what is desired and missing, updates what drifted
 * (its `update` returns `None` when nothing did) and deletes what is managed but not desired —
 * including extra copies of a desired key, keeping the one with the desired name.
 */
import { Option, Order } from "effect"
import type { ObjectMeta } from "../domain/Kubernetes.ts"

/** The Kubernetes Event a change emits once applied: its type, reason and message. */
export interface EventNote {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly message: string
}

/**
 * One change of a plan: create, update or delete an object, with the Event it emits. A delete
 * carries the observed object, whose uid is the delete's precondition.
 */
export type Change<A> =
  | { readonly _tag: "Create"; readonly object: A; readonly event: EventNote }
  | { readonly _tag: "Update"; readonly object: A; readonly event: EventNote }
  /** `object` is the observed one: its uid and resourceVersion are the delete's preconditions. */
  | { readonly _tag: "Delete"; readonly object: A; readonly event: EventNote }

/** A list of changes, applied in order by the executor. */
export type Plan<A> = ReadonlyArray<Change<A>>

/** A `Normal` Event note. */
export const normal = (reason: string, message: string): EventNote => ({ type: "Normal", reason, message })

/**
 * The inputs of {@link diffByKey}: desired state by key, the observed objects, and how to key,
 * name, build and update them.
 */
export interface DiffByKey<Desired, A extends { readonly metadata: ObjectMeta }> {
  /** Desired state by key, in the order changes should be listed. */
  readonly desired: ReadonlyArray<readonly [key: string, Desired]>
  /** Observed objects the plan may touch (already filtered by labels and ownership). */
  readonly observed: ReadonlyArray<A>
  /** The key of an observed object (e.g. its adapter-type label). */
  readonly keyOf: (object: A) => string
  /** The name the object of a desired key must have. */
  readonly nameOf: (desired: Desired) => string
  /** The create of a desired key that has no object. */
  readonly create: (desired: Desired) => Change<A>
  /** The update of an object that drifted from its desired state; `None` when it did not. */
  readonly update: (observed: A, desired: Desired) => Option.Option<Change<A>>
  /** The delete of an object no longer desired, or an extra copy of a desired key. */
  readonly remove: (observed: A) => Change<A>
}

/**
 * The one diff used for every set of per-adapter objects: creates what is desired and missing,
 * updates what drifted and deletes what is managed but not desired, including extra copies of a
 * desired key.
 */
export const diffByKey = <Desired, A extends { readonly metadata: ObjectMeta }>(
  diff: DiffByKey<Desired, A>
): Plan<A> => {
  const observedByKey = new Map<string, Array<A>>()
  for (const object of diff.observed) {
    const key = diff.keyOf(object)
    observedByKey.set(key, [...(observedByKey.get(key) ?? []), object])
  }
  const changes: Array<Change<A>> = []
  const desiredKeys = new Set<string>()
  for (const [key, desired] of diff.desired) {
    desiredKeys.add(key)
    const candidates = observedByKey.get(key) ?? []
    const name = diff.nameOf(desired)
    const kept = candidates.find((object) => object.metadata.name === name)
      ?? [...candidates].sort((a, b) => Order.String(a.metadata.name, b.metadata.name))[0]
    if (kept === undefined) {
      changes.push(diff.create(desired))
      continue
    }
    for (const extra of candidates) if (extra !== kept) changes.push(diff.remove(extra))
    Option.map(diff.update(kept, desired), (change) => changes.push(change))
  }
  const undesired = diff.observed
    .filter((object) => !desiredKeys.has(diff.keyOf(object)))
    .sort((a, b) => Order.String(a.metadata.name, b.metadata.name))
  for (const object of undesired) changes.push(diff.remove(object))
  return changes
}

/**
 * An object a plan leaves alone, and why: an object of one of the operator's names that another
 * owner controls, or a wanted change Kubernetes forbids (an immutable field).
 */
export interface Finding {
  readonly kind: string
  readonly name: string
  readonly message: string
}
