/**
 * Custom resources, one kind per CustomResourceDefinition, driven by the CRD's structural schema
 * (`StructuralSchema`), on create, update and status writes: unknown fields pruned, defaults
 * filled in, then the object validated against the schema (a 422 `Invalid` listing the field
 * errors). `apiVersion`, `kind` and `metadata` are neither pruned nor defaulted. Custom resources
 * keep a generation; a status write changes their status only (metadata and spec as stored).
 */
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf, type JsonObject } from "../Json.ts"
import { accept, type AdmissionRequest, define, type Kind, reject } from "../Kind.ts"
import { pruneAndDefault, validate } from "../StructuralSchema.ts"

/** The CRD's group and plural (where its kind is registered) and its kind. */
export interface Definition {
  readonly group: string
  readonly plural: string
  readonly kind: Kind
}

const structural = (schema: JsonObject, object: AnyObject): AnyObject => {
  const { apiVersion, kind, metadata, ...rest } = object
  return { ...fieldsOf(pruneAndDefault(schema, rest)), apiVersion, kind, metadata }
}

/** The kind a CustomResourceDefinition (as JSON) serves, from its first version's schema. */
export const fromDefinition = (definition: JsonObject): Definition => {
  const spec = fieldsOf(definition["spec"])
  const versions = spec["versions"]
  const served = Array.isArray(versions) ? fieldsOf(versions[0]) : {}
  const schema = fieldsOf(fieldsOf(served["schema"])["openAPIV3Schema"])
  const admit = (request: AdmissionRequest) => {
    const object = structural(schema, request.object)
    const errors = validate(schema, object)
    return errors.length === 0 ? accept(request, object) : reject(errors)
  }
  return {
    group: String(spec["group"]),
    plural: String(fieldsOf(spec["names"])["plural"]),
    kind: define({ generation: true, admit, statusWrite: "StatusOnly", admitStatus: admit })
  }
}
