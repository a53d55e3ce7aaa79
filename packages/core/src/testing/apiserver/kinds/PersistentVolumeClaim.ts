/**
 * `v1` PersistentVolumeClaim, and the claim spec a StatefulSet's `volumeClaimTemplates` share.
 *
 * Contract:
 * - A claim needs at least one supported access mode and a `resources.requests.storage`;
 *   quantities are stored canonical (a bad one is a 400); volumeMode defaults to Filesystem.
 * - On create the StorageObjectInUseProtection admission plugin adds the
 *   `kubernetes.io/pvc-protection` finalizer (no controller of this control plane removes it:
 *   a deleted claim stays, marked for deletion, until the finalizer is taken off); status starts
 *   as `{ phase: Pending }` (no volume controller binds it).
 * - After creation the spec is immutable, except `volumeName` while it is unset and
 *   `storageClassName` while it is unset; the answer is a 422 whose message starts as the API
 *   server's (it then lists a diff of the specs, which is the fake's own).
 */
import { Option } from "effect"
import { canonical } from "../../../domain/Json.ts"
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf, type JsonObject } from "../Json.ts"
import { accept, type AdmissionRequest, define, reject } from "../Kind.ts"
import * as ResourceList from "../ResourceList.ts"
import { defaultResources } from "./PodSpec.ts"

const accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]

export const protectionFinalizer = "kubernetes.io/pvc-protection"

/** The 400 detail when a quantity of the claim spec does not parse. */
export const claimSpecError = (spec: JsonObject): Option.Option<string> => {
  const resources = fieldsOf(spec["resources"])
  for (const list of [resources["requests"], resources["limits"]]) {
    if (list !== undefined && Option.isNone(ResourceList.canonicalResourceList(list))) return Option.some(ResourceList.quantityError)
  }
  return Option.none()
}

/** The claim spec's defaults: volumeMode Filesystem, canonical quantities. */
export const defaultClaimSpec = (spec: JsonObject): Record<string, unknown> => ({
  ...spec,
  ...(spec["resources"] === undefined ? {} : { resources: defaultResources(spec["resources"]) }),
  volumeMode: spec["volumeMode"] ?? "Filesystem"
})

/** The field errors of a claim spec, at `path` (`spec`, `spec.volumeClaimTemplates[0].spec`). */
export const claimSpecErrors = (spec: JsonObject, path: string): ReadonlyArray<string> => {
  const errors: Array<string> = []
  const modes = Array.isArray(spec["accessModes"]) ? spec["accessModes"] : []
  if (modes.length === 0) errors.push(`${path}.accessModes: Required value: at least 1 access mode is required`)
  for (const mode of modes) {
    if (!accessModes.includes(String(mode))) {
      errors.push(`${path}.accessModes: Unsupported value: ${JSON.stringify(mode)}: supported values: ${accessModes.map((value) => JSON.stringify(value)).join(", ")}`)
    }
  }
  if (modes.includes("ReadWriteOncePod") && modes.some((mode) => mode !== "ReadWriteOncePod" && accessModes.includes(String(mode)))) {
    errors.push(`${path}.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes`)
  }
  const storage = fieldsOf(fieldsOf(spec["resources"])["requests"])["storage"]
  if (storage === undefined) errors.push(`${path}.resources[storage]: Required value`)
  else if (storage === "0") errors.push(`${path}.resources[storage]: Invalid value: "0": must be greater than zero`)
  const mode = spec["volumeMode"]
  if (mode !== undefined && mode !== "Filesystem" && mode !== "Block") {
    errors.push(`${path}.volumeMode: Unsupported value: ${JSON.stringify(mode)}: supported values: "Block", "Filesystem"`)
  }
  return errors
}

const immutableMessage = "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"

const decode = (object: AnyObject) => claimSpecError(fieldsOf(object["spec"]))

const admit = (request: AdmissionRequest) => {
  const spec = defaultClaimSpec(fieldsOf(request.object["spec"]))
  const errors = [...claimSpecErrors(spec, "spec")]
  Option.match(request.previous, {
    onNone: () => undefined,
    onSome: (old) => {
      const oldSpec = fieldsOf(old["spec"])
      // What may still be set once: volumeName (by the binder) and storageClassName.
      const comparable = {
        ...spec,
        ...(oldSpec["volumeName"] === undefined ? { volumeName: undefined } : {}),
        ...(oldSpec["storageClassName"] === undefined ? { storageClassName: undefined } : {})
      }
      const before = { ...oldSpec, ...(oldSpec["volumeName"] === undefined ? { volumeName: undefined } : {}), ...(oldSpec["storageClassName"] === undefined ? { storageClassName: undefined } : {}) }
      if (canonical(comparable) !== canonical(before)) errors.push(`${immutableMessage}\n${canonical(before)} -> ${canonical(comparable)}`)
    }
  })
  if (errors.length > 0) return reject(errors)
  const finalizers = request.object.metadata.finalizers ?? []
  const metadata = Option.isNone(request.previous) && !finalizers.includes(protectionFinalizer)
    ? { ...request.object.metadata, finalizers: [...finalizers, protectionFinalizer] }
    : request.object.metadata
  return accept(request, { ...request.object, metadata, spec })
}

export const kind = define({
  decode,
  admit,
  initialStatus: () => ({ phase: "Pending" })
})
