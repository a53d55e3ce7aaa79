/**
 * The failures of the in-memory API server, worded as kube-apiserver words its Status messages.
 *
 * Contract: each constructor gives a `KubernetesError` with the reason the live layer would
 * classify from the real server's answer (a 500 is `Unavailable`), and the real message.
 */
import type { AnyObject } from "../../domain/Kubernetes.ts"
import * as Kubernetes from "../../services/Kubernetes.ts"
import { qualifiedKind, qualifiedResource, type ResourceId } from "./Resource.ts"

export const failure = (reason: Kubernetes.ErrorReason, message: string, operation: string): Kubernetes.KubernetesError =>
  new Kubernetes.KubernetesError({ reason, message, operation })

export const notFound = (resource: ResourceId, name: string, operation: string): Kubernetes.KubernetesError =>
  failure("NotFound", `${qualifiedResource(resource)} "${name}" not found`, operation)

export const alreadyExists = (resource: ResourceId, name: string, operation: string): Kubernetes.KubernetesError =>
  failure("AlreadyExists", `${qualifiedResource(resource)} "${name}" already exists`, operation)

/** `Kind "name" is invalid: detail` (one field error) or `[detail, detail]` (several). */
export const invalidMessage = (resource: ResourceId, name: string, details: ReadonlyArray<string>): string =>
  `${qualifiedKind(resource)} "${name}" is invalid: ${details.length === 1 ? details[0] : `[${details.join(", ")}]`}`

export const invalid = (resource: ResourceId, name: string, details: ReadonlyArray<string>, operation: string): Kubernetes.KubernetesError =>
  failure("Invalid", invalidMessage(resource, name, details), operation)

export const conflict = (resource: ResourceId, name: string, operation: string): Kubernetes.KubernetesError =>
  failure(
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    operation
  )

export const preconditionFailed = (
  resource: ResourceId,
  name: string,
  field: "UID" | "ResourceVersion",
  expected: string,
  actual: string,
  operation: string
): Kubernetes.KubernetesError =>
  failure(
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": Precondition failed: ${field} in precondition: ${expected}, ${field} in object meta: ${actual}`,
    operation
  )

/** A body the API server cannot decode into its kind (400): `Pod in version "v1" cannot be handled as a Pod: ...`. */
export const badRequest = (object: AnyObject, detail: string, operation: string): Kubernetes.KubernetesError =>
  failure(
    "BadRequest",
    `${object.kind} in version "${object.apiVersion.slice(object.apiVersion.indexOf("/") + 1)}" cannot be handled as a ${object.kind}: ${detail}`,
    operation
  )

/** A failed delete precondition of a kind with graceful deletion (Pods): the API server's other wording. */
export const gracefulPreconditionFailed = (
  resource: ResourceId,
  name: string,
  field: "UID" | "ResourceVersion",
  expected: string,
  actual: string,
  operation: string
): Kubernetes.KubernetesError =>
  failure(
    "Conflict",
    `Operation cannot be fulfilled on ${resource.kind} "${name}": the ${field} in the precondition (${expected}) does not match the ${field} in record (${actual}). ${
      field === "UID" ? "The object might have been deleted and then recreated" : "The object might have been modified"
    }`,
    operation
  )
