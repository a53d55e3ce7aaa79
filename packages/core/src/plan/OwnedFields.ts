/**
 * The operator's fields laid over an observed object (controller-runtime's CreateOrUpdate with a
 * mutate function): an update is the observed object with only what the operator owns set, so
 * fields of users, of other controllers and of API-server defaulting survive every write.
 *
 * Contract (total, pure, never mutates its arguments):
 * - `keepEquivalent` returns the observed value when it means the same as the desired one (so a
 *   value the API server normalized is not drift), else the desired one;
 * - `mergeMap` sets the operator's pairs and keeps every other pair;
 * - `overlayNamed` returns the observed list unchanged when its owned items already are the
 *   desired ones (in order, each equivalent); otherwise the desired items (each kept as observed
 *   when equivalent) followed by the foreign items in their observed order;
 * - `differs` compares canonically (key order never matters): an update is planned only when
 *   the overlay `differs` from the observed object.
 */
import * as Json from "../domain/Json.ts"
import type { StringMap } from "../domain/Kubernetes.ts"

/** Whether two values are equal as canonical JSON. */
export const canonicalEqual = (a: unknown, b: unknown): boolean => Json.equal(a, b)

/** Whether the next object differs from the observed one (as canonical JSON). */
export const differs = (observed: unknown, next: unknown): boolean => !canonicalEqual(observed, next)

/**
 * The observed value when it is equivalent to the desired one (so a value the API server normalized
 * is no drift), else the desired one.
 */
export const keepEquivalent = <A>(
  observed: A | undefined,
  desired: A,
  equivalent: (observed: A, desired: A) => boolean = canonicalEqual
): A => (observed !== undefined && equivalent(observed, desired) ? observed : desired)

/** The observed map with the operator's pairs set and every other pair kept. */
export const mergeMap = (observed: StringMap | undefined, ours: StringMap): StringMap => ({ ...observed, ...ours })

/** An item of a Kubernetes list keyed by name (env var, volume, volume mount, container). */
export type Named = { readonly name: string } & { readonly [key: string]: unknown }

const isRecord = (value: unknown): value is { readonly [key: string]: unknown } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The named items of a list read from an object (anything else in it is dropped). */
export const namedItems = (value: unknown): ReadonlyArray<Named> =>
  Array.isArray(value)
    ? value.filter((item): item is Named => isRecord(item) && typeof item["name"] === "string")
    : []

/**
 * A named list with the owned items desired and the foreign ones kept: the observed list when its
 * owned items already are the desired ones, else the desired items followed by the foreign ones in
 * their observed order.
 */
export const overlayNamed = <A extends Named>(
  observed: ReadonlyArray<A>,
  desired: ReadonlyArray<A>,
  owned: (name: string) => boolean,
  equivalent: (observed: A, desired: A) => boolean = canonicalEqual
): ReadonlyArray<A> => {
  const ours = observed.filter((item) => owned(item.name))
  const inPlace = ours.length === desired.length && ours.every((item, index) => {
    const wanted = desired[index]
    return wanted !== undefined && item.name === wanted.name && equivalent(item, wanted)
  })
  if (inPlace) return observed
  return [
    ...desired.map((wanted) => keepEquivalent(ours.find((item) => item.name === wanted.name), wanted, equivalent)),
    ...observed.filter((item) => !owned(item.name))
  ]
}

/** The object without one key (for optional fields under `exactOptionalPropertyTypes`). */
export const withoutKey = <A extends object, K extends keyof A>(object: A, key: K): Omit<A, K> => {
  const { [key]: _removed, ...rest } = object
  return rest
}
