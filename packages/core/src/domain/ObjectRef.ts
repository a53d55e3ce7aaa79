/**
 * How the operator names one namespaced object: an `ObjectRef` (namespace and name) and its key
 * `namespace/name` — the key of the work queue, of the reflectors' stores and of the logs.
 *
 * Contract (total, pure): the namespace of an object that has none is `defaultNamespace`, here
 * and nowhere else; `parse(key(ref))` is `ref` for every ref whose namespace has no `/`.
 */
export interface ObjectRef {
  readonly namespace: string
  readonly name: string
}

/** The namespace of an object whose metadata names none (the API server's own default). */
export const defaultNamespace = "default"

export const of = (metadata: { readonly name: string; readonly namespace?: string | undefined }): ObjectRef => ({
  namespace: metadata.namespace ?? defaultNamespace,
  name: metadata.name
})

export const key = (ref: ObjectRef): string => `${ref.namespace}/${ref.name}`

/** The key of an object, from its metadata. */
export const keyOf = (object: { readonly metadata: { readonly name: string; readonly namespace?: string | undefined } }): string =>
  key(of(object.metadata))

/** The ref a key names; `undefined` for a string that is not `namespace/name`. */
export const parse = (text: string): ObjectRef | undefined => {
  const slash = text.indexOf("/")
  if (slash <= 0 || slash === text.length - 1) return undefined
  return { namespace: text.slice(0, slash), name: text.slice(slash + 1) }
}
