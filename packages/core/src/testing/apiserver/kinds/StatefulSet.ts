/**
 * `apps/v1` StatefulSet: the defaults kube-apiserver fills in and what it refuses.
 *
 * Contract:
 * - Defaults: replicas 1, podManagementPolicy OrderedReady, updateStrategy RollingUpdate with
 *   partition 0 when no strategy type is given (an explicit `RollingUpdate` without
 *   `rollingUpdate` stays as sent; a partition is defaulted to 0 where `rollingUpdate` is given),
 *   revisionHistoryLimit 10, PVC retention policy Retain/Retain, claim templates with kind,
 *   apiVersion, volumeMode Filesystem, canonical quantities and status phase Pending, and the
 *   pod template's defaults (`PodSpec`); status starts as `{ replicas: 0, availableReplicas: 0 }`.
 * - Validation: a selector is required, not empty, and must match the template's labels;
 *   podManagementPolicy OrderedReady or Parallel; `rollingUpdate` only with the RollingUpdate
 *   strategy, its partition not negative; replicas not negative; the template's restartPolicy
 *   Always; container requests not above their limits; on create, a serviceName that is a
 *   DNS-1123 label and claim templates that are valid claim specs. A quantity that does not
 *   parse is a 400.
 * - An update may change only replicas, ordinals, template, updateStrategy,
 *   revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds: selector,
 *   serviceName, podManagementPolicy and volumeClaimTemplates are immutable.
 * - Status writes store Go's zero values as it marshals them (`replicas` and `availableReplicas`
 *   always, the other counters only when not zero) and refuse ready, current or updated replicas
 *   above `replicas`.
 * - No pods appear: the StatefulSet controller does not run in the API server
 *   (`StatefulSetController` plays it in tests that ask for it).
 */
import { Option } from "effect"
import { canonical } from "../../../domain/Json.ts"
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf, type JsonObject, withoutKeys } from "../Json.ts"
import { accept, type AdmissionRequest, define, reject } from "../Kind.ts"
import { claimSpecError, claimSpecErrors, defaultClaimSpec } from "./PersistentVolumeClaim.ts"
import { defaultPodSpec, resourceErrors, resourcesError } from "./PodSpec.ts"

/** Fields of a StatefulSet's spec that an update may change; any other change is forbidden. */
const mutableFields = [
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "revisionHistoryLimit",
  "persistentVolumeClaimRetentionPolicy",
  "minReadySeconds"
]

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

const claimTemplatesOf = (spec: JsonObject): ReadonlyArray<JsonObject> =>
  Array.isArray(spec["volumeClaimTemplates"]) ? spec["volumeClaimTemplates"].map(fieldsOf) : []

const decode = (object: AnyObject): Option.Option<string> => {
  const spec = fieldsOf(object["spec"])
  return Option.orElse(
    resourcesError(fieldsOf(fieldsOf(spec["template"])["spec"])),
    () => Option.firstSomeOf(claimTemplatesOf(spec).map((claim) => claimSpecError(fieldsOf(claim["spec"]))))
  )
}

const defaultUpdateStrategy = (strategy: JsonObject): Record<string, unknown> => {
  const type = strategy["type"] ?? "RollingUpdate"
  const rollingUpdate = strategy["type"] === undefined && strategy["rollingUpdate"] === undefined ? {} : strategy["rollingUpdate"]
  return {
    ...strategy,
    type,
    ...(type === "RollingUpdate" && rollingUpdate !== undefined
      ? { rollingUpdate: { ...fieldsOf(rollingUpdate), partition: fieldsOf(rollingUpdate)["partition"] ?? 0 } }
      : {})
  }
}

/** The update strategy's `rollingUpdate` as the API server prints it: its internal Go struct as JSON. */
const goRollingUpdate = (rollingUpdate: unknown): string => {
  const fields = fieldsOf(rollingUpdate)
  return `{"Partition":${JSON.stringify(fields["partition"] ?? null)},"MaxUnavailable":${JSON.stringify(fields["maxUnavailable"] ?? null)}}`
}

const specErrors = (spec: JsonObject, creating: boolean): ReadonlyArray<string> => {
  const errors: Array<string> = []
  const policy = spec["podManagementPolicy"]
  if (policy !== "OrderedReady" && policy !== "Parallel") {
    errors.push(`spec.podManagementPolicy: Invalid value: ${JSON.stringify(policy)}: must be 'OrderedReady' or 'Parallel'`)
  }
  const strategy = fieldsOf(spec["updateStrategy"])
  const rollingUpdate = strategy["rollingUpdate"]
  if (strategy["type"] === "OnDelete") {
    if (rollingUpdate !== undefined) {
      errors.push(`spec.updateStrategy.rollingUpdate: Invalid value: ${goRollingUpdate(rollingUpdate)}: only allowed for updateStrategy 'RollingUpdate'`)
    }
  } else if (strategy["type"] === "RollingUpdate") {
    const partition = fieldsOf(rollingUpdate)["partition"]
    if (typeof partition === "number" && partition < 0) {
      errors.push(`spec.updateStrategy.rollingUpdate.partition: Invalid value: ${partition}: must be greater than or equal to 0`)
    }
  } else {
    errors.push(`spec.updateStrategy: Invalid value: {"Type":${JSON.stringify(strategy["type"] ?? "")},"RollingUpdate":${rollingUpdate === undefined ? "null" : goRollingUpdate(rollingUpdate)}}: must be 'RollingUpdate' or 'OnDelete'`)
  }
  const retention = fieldsOf(spec["persistentVolumeClaimRetentionPolicy"])
  for (const key of ["whenDeleted", "whenScaled"]) {
    if (retention[key] !== "Retain" && retention[key] !== "Delete") {
      errors.push(`spec.persistentVolumeClaimRetentionPolicy.${key}: Unsupported value: ${JSON.stringify(retention[key])}: supported values: "Retain", "Delete"`)
    }
  }
  if (creating) {
    claimTemplatesOf(spec).forEach((claim, i) => errors.push(...claimSpecErrors(fieldsOf(claim["spec"]), `spec.volumeClaimTemplates[${i}].spec`)))
  }
  const replicas = spec["replicas"]
  if (typeof replicas === "number" && replicas < 0) errors.push(`spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`)
  const serviceName = spec["serviceName"]
  if (creating && typeof serviceName === "string" && serviceName !== "" && (serviceName.length > 63 || !dns1123Label.test(serviceName))) {
    errors.push(`spec.serviceName: Invalid value: ${JSON.stringify(serviceName)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`)
  }
  errors.push(...resourceErrors(fieldsOf(fieldsOf(spec["template"])["spec"]), "spec.template.spec"))
  const restartPolicy = fieldsOf(fieldsOf(spec["template"])["spec"])["restartPolicy"]
  if (restartPolicy !== "Always") {
    errors.push(`spec.template.spec.restartPolicy: Unsupported value: ${JSON.stringify(restartPolicy)}: supported values: "Always"`)
  }
  return errors
}

const admit = (request: AdmissionRequest) => {
  const spec = fieldsOf(request.object["spec"])
  const template = fieldsOf(spec["template"])
  const templateLabels = fieldsOf(fieldsOf(template["metadata"])["labels"])
  const selector = spec["selector"]
  const matchLabels = fieldsOf(fieldsOf(selector)["matchLabels"])
  if (selector === undefined || selector === null) return reject(["spec.selector: Required value"])
  if (Object.keys(matchLabels).length === 0 && fieldsOf(selector)["matchExpressions"] === undefined) {
    return reject(["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"])
  }
  if (!Object.entries(matchLabels).every(([key, value]) => templateLabels[key] === value)) {
    return reject([`spec.template.metadata.labels: Invalid value: ${JSON.stringify(templateLabels)}: \`selector\` does not match template \`labels\``])
  }
  const retention = fieldsOf(spec["persistentVolumeClaimRetentionPolicy"])
  const defaultedSpec: Record<string, unknown> = {
    ...spec,
    replicas: spec["replicas"] ?? 1,
    podManagementPolicy: spec["podManagementPolicy"] ?? "OrderedReady",
    updateStrategy: defaultUpdateStrategy(fieldsOf(spec["updateStrategy"])),
    revisionHistoryLimit: spec["revisionHistoryLimit"] ?? 10,
    persistentVolumeClaimRetentionPolicy: {
      ...retention,
      whenDeleted: retention["whenDeleted"] ?? "Retain",
      whenScaled: retention["whenScaled"] ?? "Retain"
    },
    ...(spec["volumeClaimTemplates"] === undefined ? {} : {
      volumeClaimTemplates: claimTemplatesOf(spec).map((claim) => ({
        kind: "PersistentVolumeClaim",
        apiVersion: "v1",
        ...claim,
        spec: defaultClaimSpec(fieldsOf(claim["spec"])),
        status: claim["status"] ?? { phase: "Pending" }
      }))
    }),
    template: { ...template, spec: defaultPodSpec(fieldsOf(template["spec"])) }
  }
  const errors = [...specErrors(defaultedSpec, Option.isNone(request.previous))]
  const changesImmutable = Option.exists(request.previous, (old) =>
    canonical(withoutKeys(fieldsOf(old["spec"]), mutableFields)) !== canonical(withoutKeys(defaultedSpec, mutableFields)))
  if (changesImmutable) {
    errors.push("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
  }
  return errors.length > 0 ? reject(errors) : accept(request, { ...request.object, spec: defaultedSpec })
}

/** Status fields Go writes even when zero; the other counters are dropped when zero (`omitempty`). */
const alwaysWritten = ["replicas", "availableReplicas"]
const omittedWhenZero = ["observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas"]
const omittedWhenEmpty = ["currentRevision", "updateRevision", "conditions"]

/** A status write: Go's zero values as it marshals them, and counters not above `replicas`. */
const admitStatus = (request: AdmissionRequest) => {
  const sent = fieldsOf(request.object["status"])
  const status = Object.fromEntries([
    ...alwaysWritten.map((key) => [key, sent[key] ?? 0] as const),
    ...Object.entries(sent).filter(([key, value]) =>
      !alwaysWritten.includes(key)
      && !(omittedWhenZero.includes(key) && value === 0)
      && !(omittedWhenEmpty.includes(key) && (value === "" || (Array.isArray(value) && value.length === 0)))
      && value !== null
    )
  ])
  const replicas = Number(status["replicas"])
  const errors = ["readyReplicas", "currentReplicas", "updatedReplicas"].flatMap((key) => {
    const value = status[key]
    return typeof value === "number" && value > replicas ? [`status.${key}: Invalid value: ${value}: cannot be greater than status.replicas`] : []
  })
  return errors.length > 0 ? reject(errors) : accept(request, { ...request.object, status })
}

export const kind = define({
  generation: true,
  decode,
  initialStatus: () => ({ replicas: 0, availableReplicas: 0 }),
  admit,
  admitStatus
})
