/**
 * `v1` Pod, as kube-apiserver v1.36 admits it in a control plane without kubelets.
 *
 * Contract:
 * - Create: at least one container, each with a unique DNS-1123 label name and an image; the
 *   PodSpec defaults (`PodSpec`), plus the Pod-only ones (requests from limits where absent,
 *   `enableServiceLinks: true`) and the admission plugins' (Priority: `priority: 0`,
 *   `preemptionPolicy: PreemptLowerPriority`; DefaultTolerationSeconds: the not-ready and
 *   unreachable NoExecute tolerations for 300 s). Status starts as `{ phase: Pending, qosClass }`.
 *   Generation 1, bumped by spec changes.
 * - Update: the spec may change only in its containers' images, activeDeadlineSeconds and added
 *   tolerations (a 422 whose message starts as the API server's; the diff after it is the
 *   fake's own); re-sending the object as first sent is a no-op. Status goes through
 *   `updateStatus` only, which also takes labels and annotations, not owner references, keeps
 *   the QoS class, and gives conditions `null` timestamps when they have none.
 * - Delete (graceful): a Pod that is not bound to a node (`spec.nodeName` unset) or has
 *   terminated is marked for deletion with a grace period of 0 (a Modified event) and deleted;
 *   a bound one is only marked (`deletionTimestamp` after its grace period) and stays, since no
 *   kubelet confirms it.
 * - Nothing schedules, runs or readies a Pod: its status changes only through `updateStatus`.
 */
import { Option } from "effect"
import { canonical } from "../../../domain/Json.ts"
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf, type JsonObject } from "../Json.ts"
import { accept, type AdmissionRequest, define, reject } from "../Kind.ts"
import { defaultPodSpec, resourceErrors, resourcesError } from "./PodSpec.ts"

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

const updatableFields = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
].join(",")

const defaultTolerations = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }
] as const

const listOf = (value: unknown): ReadonlyArray<JsonObject> => Array.isArray(value) ? value.map(fieldsOf) : []

/** Requests default to the limits they lack (Pods only, not pod templates). */
const requestsFromLimits = (container: JsonObject): JsonObject => {
  const resources = fieldsOf(container["resources"])
  const limits = resources["limits"]
  if (limits === undefined) return container
  return { ...container, resources: { ...resources, requests: { ...fieldsOf(limits), ...fieldsOf(resources["requests"]) } } }
}

/** DefaultTolerationSeconds: a Pod that does not tolerate not-ready / unreachable nodes gets 300 s. */
const withDefaultTolerations = (tolerations: ReadonlyArray<JsonObject>): ReadonlyArray<JsonObject> => {
  const tolerates = (key: string) =>
    tolerations.some((toleration) =>
      (toleration["key"] === key || (toleration["key"] ?? "") === "") && (toleration["effect"] === "NoExecute" || (toleration["effect"] ?? "") === "")
    )
  return [...tolerations, ...defaultTolerations.filter((toleration) => !tolerates(toleration.key))]
}

const defaultSpec = (spec: JsonObject, previous: Option.Option<JsonObject>): Record<string, unknown> => {
  const withRequests = { ...spec, containers: listOf(spec["containers"]).map(requestsFromLimits) }
  const defaulted = defaultPodSpec(spec["initContainers"] === undefined
    ? withRequests
    : { ...withRequests, initContainers: listOf(spec["initContainers"]).map(requestsFromLimits) })
  const old = Option.getOrElse(previous, (): JsonObject => ({}))
  return {
    ...defaulted,
    enableServiceLinks: spec["enableServiceLinks"] ?? true,
    priority: spec["priority"] ?? old["priority"] ?? 0,
    preemptionPolicy: spec["preemptionPolicy"] ?? old["preemptionPolicy"] ?? "PreemptLowerPriority",
    tolerations: withDefaultTolerations(listOf(spec["tolerations"]))
  }
}

const containerErrors = (spec: JsonObject): ReadonlyArray<string> => {
  const containers = listOf(spec["containers"])
  if (containers.length === 0) return ["spec.containers: Required value"]
  const errors: Array<string> = []
  const names = new Set<string>()
  containers.forEach((container, i) => {
    const name = container["name"]
    if (typeof name !== "string" || name === "") errors.push(`spec.containers[${i}].name: Required value`)
    else if (names.has(name)) errors.push(`spec.containers[${i}].name: Duplicate value: ${JSON.stringify(name)}`)
    else if (name.length > 63 || !dns1123Label.test(name)) {
      errors.push(`spec.containers[${i}].name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`)
    }
    if (typeof name === "string") names.add(name)
    if (typeof container["image"] !== "string" || container["image"] === "") errors.push(`spec.containers[${i}].image: Required value`)
  })
  return errors
}

/** What an update may not change: the spec with the mutable fields taken from the old one. */
const frozenErrors = (spec: JsonObject, old: JsonObject): ReadonlyArray<string> => {
  const containers = listOf(spec["containers"])
  const oldContainers = listOf(old["containers"])
  if (containers.length !== oldContainers.length) return ["spec.containers: Forbidden: pod updates may not add or remove containers"]
  const oldTolerations = listOf(old["tolerations"]).map(canonical)
  const tolerations = listOf(spec["tolerations"]).map(canonical)
  if (!oldTolerations.every((toleration) => tolerations.includes(toleration))) {
    return [`spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds`]
  }
  const munged = {
    ...spec,
    containers: containers.map((container, i) => ({ ...container, image: oldContainers[i]?.["image"] })),
    ...(spec["initContainers"] === undefined ? {} : {
      initContainers: listOf(spec["initContainers"]).map((container, i) => ({ ...container, image: listOf(old["initContainers"])[i]?.["image"] }))
    }),
    activeDeadlineSeconds: old["activeDeadlineSeconds"],
    tolerations: old["tolerations"]
  }
  return canonical(munged) === canonical(old)
    ? []
    : [`spec: Forbidden: pod updates may not change fields other than ${updatableFields}\n${canonical(old)} -> ${canonical(munged)}`]
}

const admit = (request: AdmissionRequest) => {
  const oldSpec = Option.map(request.previous, (old) => fieldsOf(old["spec"]))
  const spec = defaultSpec(fieldsOf(request.object["spec"]), oldSpec)
  const errors = [
    ...containerErrors(spec),
    ...resourceErrors(spec, "spec"),
    ...Option.match(oldSpec, { onNone: () => [], onSome: (old) => frozenErrors(spec, old) })
  ]
  return errors.length > 0 ? reject(errors) : accept(request, { ...request.object, spec })
}

/** The cpu and memory requests and limits of every container: what the QoS class is computed from. */
const qosClass = (pod: AnyObject): string => {
  const spec = fieldsOf(pod["spec"])
  const containers = [...listOf(spec["containers"]), ...listOf(spec["initContainers"])]
  const set = (list: unknown) => Object.entries(fieldsOf(list)).filter(([name, value]) => (name === "cpu" || name === "memory") && value !== "0")
  const any = containers.some((container) => {
    const resources = fieldsOf(container["resources"])
    return set(resources["requests"]).length > 0 || set(resources["limits"]).length > 0
  })
  if (!any) return "BestEffort"
  const guaranteed = containers.every((container) => {
    const resources = fieldsOf(container["resources"])
    const limits = fieldsOf(resources["limits"])
    const requests = fieldsOf(resources["requests"])
    return ["cpu", "memory"].every((name) => limits[name] !== undefined && (requests[name] ?? limits[name]) === limits[name])
  })
  return guaranteed ? "Guaranteed" : "Burstable"
}

/**
 * A status write: owner references stay as stored (old kubelets corrupted them), the QoS class is
 * backfilled, a condition's timestamps are `null` when not given (Go's zero time).
 */
const admitStatus = (request: AdmissionRequest) => {
  const old = Option.getOrUndefined(request.previous)
  const status = fieldsOf(request.object["status"])
  const conditions = status["conditions"]
  const ownerReferences = old?.metadata.ownerReferences
  const { ownerReferences: _sent, ...metadata } = request.object.metadata
  return accept(request, {
    ...request.object,
    metadata: { ...metadata, ...(ownerReferences === undefined ? {} : { ownerReferences }) },
    status: {
      ...status,
      ...(conditions === undefined ? {} : {
        conditions: listOf(conditions).map((condition) => ({ lastProbeTime: null, lastTransitionTime: null, ...condition }))
      }),
      ...(status["qosClass"] === undefined || status["qosClass"] === "" ? { qosClass: fieldsOf(old?.["status"])["qosClass"] } : {})
    }
  })
}

const gracePeriodSeconds = (pod: AnyObject): number => {
  const spec = fieldsOf(pod["spec"])
  const phase = fieldsOf(pod["status"])["phase"]
  if (typeof spec["nodeName"] !== "string" || spec["nodeName"] === "" || phase === "Succeeded" || phase === "Failed") return 0
  const period = spec["terminationGracePeriodSeconds"]
  return typeof period === "number" ? Math.max(period, 0) : 30
}

export const kind = define({
  generation: true,
  decode: (pod) => resourcesError(fieldsOf(pod["spec"])),
  admit,
  initialStatus: (pod) => ({ phase: "Pending", qosClass: qosClass(pod) }),
  admitStatus,
  deletion: { _tag: "Graceful", gracePeriodSeconds }
})
