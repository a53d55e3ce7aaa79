/**
 * How the in-memory API server identifies a kind, keys its objects, and names both in messages.
 *
 * Contract: a kind is identified by group and plural (as in a REST path); `qualifiedResource`
 * and `qualifiedKind` spell them as kube-apiserver's Status messages do (`statefulsets.apps`,
 * `StatefulSet.apps`; the core group has no suffix).
 */
import type { Resource } from "../../services/Kubernetes.ts"

export interface ResourceId {
  readonly group: string
  readonly plural: string
  readonly kind: string
  readonly statusSubresource: boolean
}

export const idOf = (resource: Resource<unknown>): ResourceId => ({
  group: resource.group,
  plural: resource.plural,
  kind: resource.kind,
  statusSubresource: resource.statusSubresource
})

/** `group/plural`: the key of a kind in the kind table. */
export const kindKey = (resource: { readonly group: string; readonly plural: string }): string => `${resource.group}/${resource.plural}`

/** The storage key of an object. */
export const keyOf = (resource: ResourceId, namespace: string, name: string): string =>
  `${kindKey(resource)}/${namespace}/${name}`

export const sameKind = (a: { readonly group: string; readonly plural: string }, b: { readonly group: string; readonly plural: string }): boolean =>
  a.group === b.group && a.plural === b.plural

/** `services`, `statefulsets.apps`: how the API server names a resource in its messages. */
export const qualifiedResource = (resource: ResourceId): string =>
  resource.group === "" ? resource.plural : `${resource.plural}.${resource.group}`

/** `Service`, `StatefulSet.apps`: how the API server names a kind in validation messages. */
export const qualifiedKind = (resource: ResourceId): string =>
  resource.group === "" ? resource.kind : `${resource.kind}.${resource.group}`
