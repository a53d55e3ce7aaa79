/**
 * `apps/v1` StatefulSet: the defaults kube-apiserver fills in and the updates it refuses.
 *
 * Contract:
 * - Defaults: replicas 1, podManagementPolicy OrderedReady, updateStrategy RollingUpdate with
 *   partition 0, revisionHistoryLimit 10, PVC retention policy Retain/Retain, claim templates
 *   with kind, apiVersion, volumeMode Filesystem and status phase Pending, and the pod
 *   template's defaults (`PodSpec`); status starts as `{ replicas: 0, availableReplicas: 0 }`.
 * - A selector is required, not empty, and must match the template's labels.
 * - An update may change only replicas, ordinals, template, updateStrategy,
 *   revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds.
 * - No pods appear: the StatefulSet controller does not run in the API server.
 */
import { Option, Result } from "effect"
import { canonical } from "../../../domain/Json.ts"
import { type AnyObject, StatefulSet } from "../../../domain/Kubernetes.ts"
import { fieldsOf, withoutKeys } from "../Json.ts"
import { accept, type AdmissionRequest, decodeAs, define, reject } from "../Kind.ts"
import { defaultPodSpec } from "./PodSpec.ts"

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

const admit = (request: AdmissionRequest) => {
  const decoded = decodeAs(StatefulSet, request.object)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
  const statefulSet = decoded.success
  const spec = statefulSet.spec
  const templateLabels = spec.template.metadata?.labels ?? {}
  const selector = spec.selector?.matchLabels ?? {}
  if (spec.selector === undefined) return reject(["spec.selector: Required value"])
  if (Object.keys(selector).length === 0 && spec.selector["matchExpressions"] === undefined) {
    return reject(["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"])
  }
  if (!Object.entries(selector).every(([key, value]) => templateLabels[key] === value)) {
    return reject([`spec.template.metadata.labels: Invalid value: ${JSON.stringify(templateLabels)}: \`selector\` does not match template \`labels\``])
  }
  const updateStrategy = fieldsOf(spec["updateStrategy"] ?? { type: "RollingUpdate" })
  const strategyType = updateStrategy["type"] ?? "RollingUpdate"
  const retention = fieldsOf(spec["persistentVolumeClaimRetentionPolicy"])
  const claimTemplates = spec["volumeClaimTemplates"]
  const defaulted: AnyObject = {
    ...statefulSet,
    spec: {
      ...spec,
      replicas: spec.replicas ?? 1,
      podManagementPolicy: spec["podManagementPolicy"] ?? "OrderedReady",
      updateStrategy: {
        ...updateStrategy,
        type: strategyType,
        ...(strategyType === "RollingUpdate"
          ? { rollingUpdate: { ...fieldsOf(updateStrategy["rollingUpdate"]), partition: fieldsOf(updateStrategy["rollingUpdate"])["partition"] ?? 0 } }
          : {})
      },
      revisionHistoryLimit: spec["revisionHistoryLimit"] ?? 10,
      persistentVolumeClaimRetentionPolicy: {
        ...retention,
        whenDeleted: retention["whenDeleted"] ?? "Retain",
        whenScaled: retention["whenScaled"] ?? "Retain"
      },
      ...(Array.isArray(claimTemplates)
        ? {
          volumeClaimTemplates: claimTemplates.map((claim) => ({
            kind: "PersistentVolumeClaim",
            apiVersion: "v1",
            ...fieldsOf(claim),
            spec: { ...fieldsOf(fieldsOf(claim)["spec"]), volumeMode: fieldsOf(fieldsOf(claim)["spec"])["volumeMode"] ?? "Filesystem" },
            status: fieldsOf(claim)["status"] ?? { phase: "Pending" }
          }))
        }
        : {}),
      template: { ...spec.template, spec: defaultPodSpec(spec.template.spec) }
    }
  }
  const changesImmutable = Option.exists(request.previous, (old) =>
    canonical(withoutKeys(fieldsOf(old["spec"]), mutableFields))
      !== canonical(withoutKeys(fieldsOf(defaulted["spec"]), mutableFields)))
  if (changesImmutable) {
    return reject(["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"])
  }
  return accept(request, defaulted)
}

export const kind = define({
  generation: true,
  initialStatus: () => ({ replicas: 0, availableReplicas: 0 }),
  admit
})
