/**
 * Which DittoServer an object belongs to: the controller owner reference the operator writes on
 * everything it creates, and the test it applies before touching an object.
 *
 * Contract: the operator updates or deletes only objects that carry its labels AND whose
 * controller owner reference is the DittoServer's uid; anything else is never touched.
 */
import * as DittoServer from "../domain/DittoServer.ts"
import * as ObjectRef from "../domain/ObjectRef.ts"
import type { ObjectMeta, OwnerReference, StringMap } from "../domain/Kubernetes.ts"
import { labels, labelValue } from "./Naming.ts"

/** What a plan needs to know of the DittoServer it works for. */
export interface ServerIdentity extends ObjectRef.ObjectRef {
  readonly uid: string
}

/** The identity of a DittoServer: namespace, name and uid. */
export const identityOf = (server: DittoServer.DittoServer): ServerIdentity => ({
  ...ObjectRef.of(server.metadata),
  uid: server.metadata.uid ?? ""
})

/**
 * The controller owner reference to a server, with `blockOwnerDeletion` so the garbage collector
 * deletes its objects after it.
 */
export const controllerReference = (server: ServerIdentity): OwnerReference => ({
  apiVersion: DittoServer.apiVersion,
  kind: DittoServer.kind,
  name: server.name,
  uid: server.uid,
  controller: true,
  blockOwnerDeletion: true
})

/** Whether the object's controller owner reference is the server (by uid). */
export const isControlledBy = (metadata: ObjectMeta, server: ServerIdentity): boolean =>
  server.uid !== "" && (metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === server.uid)

/**
 * Whether a plan may update or delete an object: it carries the marker label (`"true"`), the
 * server's instance label, and the server as controller owner.
 */
export const isManagedBy = (metadata: ObjectMeta, server: ServerIdentity, markerLabel: string): boolean =>
  metadata.labels?.[markerLabel] === "true"
  && metadata.labels[labels.instance] === labelValue(server.name)
  && isControlledBy(metadata, server)

/** The adapter type label of a per-adapter object ("" when missing). */
export const adapterTypeOf = (metadata: { readonly labels?: StringMap }): string => metadata.labels?.[labels.adapterType] ?? ""

/**
 * What the operator may do with the object of one of its names, found among the observed ones.
 * - `Absent`: create it;
 * - `Ours`: the server is its controller, whoever created it (labels do not matter): update it
 *   in place, never delete and recreate it;
 * - `Terminating`: ours, but being deleted: leave it, it is created again once gone;
 * - `Foreign`: anything else of that name: never written, reported.
 */
export type Claim<A> =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Ours"; readonly object: A }
  | { readonly _tag: "Terminating"; readonly object: A }
  | { readonly _tag: "Foreign"; readonly object: A }

/**
 * Whose the object of that name is: absent, the server's, the server's but being deleted, or
 * someone else's.
 */
export const claim = <A extends { readonly metadata: ObjectMeta }>(
  observed: ReadonlyArray<A>,
  name: string,
  server: ServerIdentity
): Claim<A> => {
  const object = observed.find((candidate) =>
    candidate.metadata.name === name && (candidate.metadata.namespace ?? server.namespace) === server.namespace)
  if (object === undefined) return { _tag: "Absent" }
  if (!isControlledBy(object.metadata, server)) return { _tag: "Foreign", object }
  return object.metadata.deletionTimestamp === undefined ? { _tag: "Ours", object } : { _tag: "Terminating", object }
}
