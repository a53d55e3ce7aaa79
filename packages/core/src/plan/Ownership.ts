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

export const identityOf = (server: DittoServer.DittoServer): ServerIdentity => ({
  ...ObjectRef.of(server.metadata),
  uid: server.metadata.uid ?? ""
})

export const controllerReference = (server: ServerIdentity): OwnerReference => ({
  apiVersion: DittoServer.apiVersion,
  kind: DittoServer.kind,
  name: server.name,
  uid: server.uid,
  controller: true,
  blockOwnerDeletion: true
})

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
