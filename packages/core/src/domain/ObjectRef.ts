/**
 * How the operator names one namespaced object: an `ObjectRef` (namespace and name) and its key
 * `namespace/name` — the key of the work queue, of the reflectors' stores and of the logs.
 *
 * Contract (total, pure):
 * - `of` addresses a namespaced object: one whose metadata names no namespace is in
 *   `defaultNamespace`, here and nowhere else.
 * - A key is the namespace as the object carries it, `/`, and its name: what the API server
 *   serves always names the namespace of a namespaced object, so `keyOf` and `key(of(..))` agree
 *   on them; a cluster-scoped object (no namespace) is keyed `/name`.
 * - `parse(key(ref))` is `ref` for every ref whose namespace has no `/`.
 */
export interface ObjectRef {
  readonly namespace: string
  readonly name: string
}

/** The namespace of an object whose metadata names none (the API server's own default). */
export const defaultNamespace = "default"

/**
 * The reference of an object from its metadata; a missing namespace is {@link defaultNamespace}.
 */
export const of = (metadata: { readonly name: string; readonly namespace?: string | undefined }): ObjectRef => ({
  namespace: metadata.namespace ?? defaultNamespace,
  name: metadata.name
})

/** The key of a reference, `namespace/name`, as in the work queue and the stores. */
export const key = (ref: ObjectRef): string => `${ref.namespace}/${ref.name}`

/** The key of an object named `name` in `namespace` (none: cluster-scoped). */
export const keyIn = (namespace: string | undefined, name: string): string => `${namespace ?? ""}/${name}`

/** The key of an object, from its metadata. */
export const keyOf = (object: { readonly metadata: { readonly name: string; readonly namespace?: string | undefined } }): string =>
  keyIn(object.metadata.namespace, object.metadata.name)

/** The ref a key names; `undefined` for a string that is not `namespace/name`. */
export const parse = (text: string): ObjectRef | undefined => {
  const slash = text.indexOf("/")
  if (slash <= 0 || slash === text.length - 1) return undefined
  return { namespace: text.slice(0, slash), name: text.slice(slash + 1) }
}
