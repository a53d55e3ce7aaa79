/**
 * `KubernetesMemory`: an in-memory Kubernetes API server behind the core's `Kubernetes` service,
 * for deterministic tests.
 *
 * Contract: it behaves like kube-apiserver (v1.36) for everything the operator uses, and the
 * Kubernetes contract suite (run here and against a real apiserver) is what proves it:
 * - `resourceVersion` from one cluster-wide counter, bumped by every write that changes the
 *   object (a no-op update keeps it) and by every deletion; a stale one on update is a 409
 *   Conflict; a create that carries one fails (the API server answers 500);
 * - `metadata.generation` on StatefulSets, NetworkPolicies and custom resources: 1 on create,
 *   bumped when anything but metadata and status changes, and when a delete marks the object
 *   for deletion; Services, Secrets and Events have none;
 * - the status subresource: `create` and `update` ignore the status sent (a StatefulSet starts
 *   with `{ replicas: 0, availableReplicas: 0 }`, a Service with `{ loadBalancer: {} }`),
 *   `updateStatus` changes only status;
 * - AlreadyExists, NotFound, uid/resourceVersion delete preconditions, finalizers (a delete sets
 *   `deletionTimestamp` and `deletionGracePeriodSeconds: 0`; no finalizer may be added from then
 *   on; the object goes when its last finalizer is removed, and that update answers with the
 *   object as sent, at its old resourceVersion);
 * - empty `labels`, `annotations`, `finalizers`, `ownerReferences` (and a Secret's `data`) are
 *   dropped, as Go's `omitempty` does;
 * - Service defaulting and validation: type ClusterIP, protocol TCP, targetPort = port,
 *   sessionAffinity (and its config for ClientIP), internalTrafficPolicy, ipFamilies and
 *   ipFamilyPolicy; an allocated clusterIP that never changes; nodePorts for NodePort and
 *   LoadBalancer, allocated from 30000-32767 without collisions, an explicit one honoured unless
 *   out of range or taken, kept across updates that omit them (matched by port name), dropped
 *   when the type becomes ClusterIP; ports required (except headless), named when several,
 *   without duplicates;
 * - StatefulSet defaulting and validation: the apps/v1 and pod template defaults the API server
 *   fills in (podManagementPolicy, updateStrategy, revisionHistoryLimit, PVC retention policy,
 *   restartPolicy, dnsPolicy, imagePullPolicy from the image tag, ...); a selector that matches
 *   the template's labels; updates limited to the mutable spec fields;
 * - custom resources (the DittoServer) stored as their CRD's structural schema makes them:
 *   undeclared fields pruned, declared defaults filled in;
 * - equality label selectors; owner references, with the garbage collector's cascade applied
 *   synchronously when `cascadeDeletion` is on (default);
 * - list-then-watch: every change is appended, with its revision and the object before and
 *   after, to a bounded event log (the last `historySize`, default 1000, changes; lists of all
 *   namespaces sort by `namespace/name`). `listWithVersion` answers the current revision.
 *   `watch` replays the logged changes after its resourceVersion, then follows new ones (a PubSub
 *   ticks every watch after each write), by the watch cache's rules: an object entering the label
 *   selector is `Added`, one leaving it `Deleted` (its previous state at the change's revision), a
 *   deletion `Deleted` with the last stored state (finalizers and all) at the deletion's
 *   revision. `""` and `"0"` start with the current objects as `Added`; a version older than the
 *   log's start (the fake's creation, or the last `compact`) fails with `Gone`, one that is not a
 *   number with `Unavailable` (the API server answers 500), a future one waits for its changes.
 *   A watch ends after `timeoutSeconds` (without it, 30 minutes) on the `Clock`, with a bookmark
 *   every minute and one 2 seconds before it ends; a watch that falls behind the log ends.
 * Deliberately stricter than the API server: an update without `resourceVersion` is rejected
 * (ours always send one), and Service names must be DNS-1035 labels (start with a letter), as
 * API servers before RelaxedServiceNameValidation (1.34) require. Namespaces are not modelled:
 * any namespace exists. The event log is one for the cluster, where each kind has its own watch
 * cache on a real server: a version from before a real cluster's start may still be served there
 * (for built-in kinds), never here.
 * Faults can be injected per verb, kind and name, and the event log compacted, through
 * `KubernetesMemoryControl`.
 */
import { canonical } from "../domain/Json.ts"
import { Clock, Context, Duration, Effect, Layer, Option, PubSub, Ref, Result, Schema, Stream } from "effect"
import { crd } from "../domain/DittoServerCrd.ts"
import {
  AnyObject,
  NetworkPolicy,
  type ObjectMeta,
  Secret,
  Service,
  type ServicePort,
  StatefulSet,
  type StringMap,
  timestamp
} from "../domain/Kubernetes.ts"
import {
  describe,
  Kubernetes,
  KubernetesError,
  type KubernetesErrorReason,
  type ListOptions,
  type ListResult,
  type Resource,
  type WatchEvent,
  type WatchOptions
} from "../services/Kubernetes.ts"

/** `list` covers `listWithVersion`; a `watch` fault fails the watch as it opens. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "updateStatus" | "delete"

export interface Fault {
  readonly verb: Verb
  readonly kind?: string
  readonly name?: string
  readonly reason: KubernetesErrorReason
  /** How many matching calls fail (default 1). */
  readonly times?: number
}

export interface KubernetesMemoryOptions {
  /** Delete dependents when their controller owner is deleted, like the garbage collector. */
  readonly cascadeDeletion?: boolean
  /** How many changes the event log keeps for watches (default 1000); older versions are Gone. */
  readonly historySize?: number
}

interface ResourceId {
  readonly group: string
  readonly plural: string
  readonly kind: string
  readonly statusSubresource: boolean
}

interface StoredObject {
  readonly resource: ResourceId
  readonly object: AnyObject
}

type ChangeType = "Added" | "Modified" | "Deleted"

/** One change in the event log: what every watch is served from. */
interface LogEntry {
  readonly revision: number
  readonly resource: ResourceId
  readonly namespace: string
  readonly type: ChangeType
  /** The object as stored at `revision`; for a deletion, its last state at that revision. */
  readonly object: AnyObject
  /** The object before the change (none for a creation). */
  readonly previous: AnyObject | undefined
}

interface ClusterState {
  readonly objects: ReadonlyMap<string, StoredObject>
  readonly revision: number
  /** The last `historySize` changes, oldest first. */
  readonly log: ReadonlyArray<LogEntry>
  /** Every change after this revision is in `log`; a watch from an older one is Gone. */
  readonly logStart: number
  readonly historySize: number
  readonly uids: number
  readonly clusterIPs: number
  readonly nodePorts: number
  readonly faults: ReadonlyArray<Fault & { readonly times: number }>
  readonly cascadeDeletion: boolean
}

const nodePortRange = { first: 30000, last: 32767 } as const

const initialRevision = 1000

const emptyState = (cascadeDeletion: boolean, historySize: number): ClusterState => ({
  objects: new Map(),
  revision: initialRevision,
  log: [],
  logStart: initialRevision,
  historySize,
  uids: 0,
  clusterIPs: 10,
  nodePorts: nodePortRange.first,
  faults: [],
  cascadeDeletion
})

const keyOf = (resource: ResourceId, namespace: string, name: string): string =>
  `${resource.group}/${resource.plural}/${namespace}/${name}`

const idOf = (resource: Resource<unknown>): ResourceId => ({
  group: resource.group,
  plural: resource.plural,
  kind: resource.kind,
  statusSubresource: resource.statusSubresource
})

const failure = (reason: KubernetesErrorReason, message: string, operation: string) =>
  new KubernetesError({ reason, message, operation })

/** `services`, `statefulsets.apps`: how the API server names a resource in its messages. */
const qualifiedResource = (resource: ResourceId): string =>
  resource.group === "" ? resource.plural : `${resource.plural}.${resource.group}`

/** `Service`, `StatefulSet.apps`: how the API server names a kind in validation messages. */
const qualifiedKind = (resource: ResourceId): string => resource.group === "" ? resource.kind : `${resource.kind}.${resource.group}`

const notFoundMessage = (resource: ResourceId, name: string): string => `${qualifiedResource(resource)} "${name}" not found`

const invalidMessage = (resource: ResourceId, name: string, details: ReadonlyArray<string>): string =>
  `${qualifiedKind(resource)} "${name}" is invalid: ${details.length === 1 ? details[0] : `[${details.join(", ")}]`}`


const withoutKeys = (object: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)))

/** A JSON object's fields (empty for anything else): to read fields the Schemas leave open. */
const fieldsOf = (value: unknown): Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {}

/** The structural schemas (`openAPIV3Schema`) of the CRDs the fake serves, by `group/plural`. */
const customResourceSchemas: ReadonlyMap<string, Readonly<Record<string, unknown>>> = new Map(
  [crd()].map((definition) => {
    const spec = fieldsOf(definition["spec"])
    const versions = spec["versions"]
    const served = Array.isArray(versions) ? fieldsOf(versions[0]) : {}
    return [`${String(spec["group"])}/${String(fieldsOf(spec["names"])["plural"])}`, fieldsOf(fieldsOf(served["schema"])["openAPIV3Schema"])]
  })
)

/**
 * What the API server does to a custom resource with its structural schema: fields the schema
 * does not declare are pruned (unless `x-kubernetes-preserve-unknown-fields`), missing fields
 * with a `default` are filled in. `apiVersion`, `kind` and `metadata` are left alone.
 */
const pruneAndDefault = (schema: Readonly<Record<string, unknown>>, value: unknown): unknown => {
  if (Array.isArray(value)) {
    const items = schema["items"]
    return items === undefined ? value : value.map((item) => pruneAndDefault(fieldsOf(items), item))
  }
  if (value === null || typeof value !== "object") return value
  const properties = schema["properties"] === undefined ? undefined : fieldsOf(schema["properties"])
  const additional = schema["additionalProperties"] === undefined || typeof schema["additionalProperties"] === "boolean"
    ? undefined
    : fieldsOf(schema["additionalProperties"])
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true
  const kept: Array<readonly [string, unknown]> = []
  for (const [key, inner] of Object.entries(value)) {
    const declared = properties?.[key]
    if (declared !== undefined) kept.push([key, pruneAndDefault(fieldsOf(declared), inner)])
    else if (additional !== undefined) kept.push([key, pruneAndDefault(additional, inner)])
    else if (preserve) kept.push([key, inner])
  }
  const result: Record<string, unknown> = Object.fromEntries(kept)
  for (const [key, declared] of Object.entries(properties ?? {})) {
    const fallback = fieldsOf(declared)["default"]
    if (!(key in result) && fallback !== undefined) result[key] = pruneAndDefault(fieldsOf(declared), structuredClone(fallback))
  }
  return result
}

/** A custom resource as its CRD's schema stores it; other kinds unchanged. */
const structural = (resource: ResourceId, object: AnyObject): AnyObject => {
  const schema = customResourceSchemas.get(`${resource.group}/${resource.plural}`)
  if (schema === undefined) return object
  const { apiVersion, kind, metadata, ...rest } = object
  const pruned = fieldsOf(pruneAndDefault(schema, rest))
  return { ...pruned, apiVersion, kind, metadata }
}

const hasGeneration = (resource: ResourceId): boolean =>
  resource.kind === "StatefulSet" || resource.kind === "NetworkPolicy" || resource.group.includes(".")
  && resource.group !== "networking.k8s.io"


const decodeAs = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Schema.decodeUnknownResult(schema)(value)

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

const invalidLabels = (labels: StringMap | undefined): Option.Option<string> => {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key
    if (name.length > 63) return Option.some(`metadata.labels: Invalid value: "${key}": name part must be no more than 63 bytes`)
    if (!labelName.test(name)) {
      return Option.some(`metadata.labels: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`)
    }
    if (value.length > 63) return Option.some(`metadata.labels: Invalid value: "${value}": must be no more than 63 bytes`)
    if (!labelValue.test(value)) {
      return Option.some(`metadata.labels: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`)
    }
  }
  return Option.none()
}

const validateMeta = (resource: ResourceId, metadata: ObjectMeta): Option.Option<string> => {
  const name = metadata.name
  if (resource.kind === "Service") {
    if (name.length > 63 || !dns1035Label.test(name)) {
      return Option.some(`metadata.name: Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`)
    }
  } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return Option.some(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`)
  }
  return invalidLabels(metadata.labels)
}

/** Go's `omitempty` on ObjectMeta: empty maps and lists are not stored. */
const withoutEmptyMeta = (metadata: ObjectMeta): ObjectMeta => {
  const { annotations, finalizers, labels, ownerReferences, ...rest } = metadata
  return {
    ...rest,
    ...(labels === undefined || Object.keys(labels).length === 0 ? {} : { labels }),
    ...(annotations === undefined || Object.keys(annotations).length === 0 ? {} : { annotations }),
    ...(finalizers === undefined || finalizers.length === 0 ? {} : { finalizers }),
    ...(ownerReferences === undefined || ownerReferences.length === 0 ? {} : { ownerReferences })
  }
}

/** The status an object starts with: what it sent is ignored when status is a subresource. */
const initialStatus = (resource: ResourceId): Record<string, unknown> => {
  switch (resource.kind) {
    case "Service":
      return { status: { loadBalancer: {} } }
    case "StatefulSet":
      return { status: { replicas: 0, availableReplicas: 0 } }
    default:
      return {}
  }
}

/** A validation failure: the field errors, as the API server lists them. */
type Defaulted = Result.Result<readonly [AnyObject, ClusterState], ReadonlyArray<string>>

const allocateClusterIP = (state: ClusterState): readonly [string, ClusterState] => {
  const n = state.clusterIPs + 1
  return [`10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, { ...state, clusterIPs: n }]
}

/** The next free nodePort after the last one allocated, wrapping around the range. */
const allocateNodePort = (state: ClusterState, taken: ReadonlySet<number>): readonly [number, ClusterState] => {
  let candidate = state.nodePorts
  do {
    candidate = candidate >= nodePortRange.last ? nodePortRange.first : candidate + 1
  } while (taken.has(candidate) && candidate !== state.nodePorts)
  return [candidate, { ...state, nodePorts: candidate }]
}

/** The nodePorts of every stored Service but the one at `self`. */
const nodePortsTaken = (state: ClusterState, self: string): Set<number> => {
  const taken = new Set<number>()
  for (const [key, stored] of state.objects) {
    if (key === self || stored.resource.group !== "" || stored.resource.kind !== "Service") continue
    const decoded = decodeAs(Service, stored.object)
    if (Result.isFailure(decoded)) continue
    for (const port of decoded.success.spec.ports ?? []) if (port.nodePort !== undefined) taken.add(port.nodePort)
  }
  return taken
}

const needsNodePorts = (type: string | undefined): boolean => type === "NodePort" || type === "LoadBalancer"

/** What kube-apiserver defaults, allocates and rejects for a Service. */
const defaultService = (object: AnyObject, previous: Option.Option<AnyObject>, state0: ClusterState, self: string): Defaulted => {
  const decoded = decodeAs(Service, object)
  if (Result.isFailure(decoded)) return Result.fail([String(decoded.failure)])
  const service = decoded.success
  const old = Option.flatMap(previous, (value) => Result.getSuccess(decodeAs(Service, value)))
  let state = state0
  const errors: Array<string> = []
  const type = service.spec.type ?? "ClusterIP"
  const needsNodePort = needsNodePorts(type)
  const oldPorts = Option.match(old, { onNone: () => [], onSome: (value) => value.spec.ports ?? [] })
  const oldNeedsNodePort = Option.exists(old, (value) => needsNodePorts(value.spec.type))

  const requestedIP = service.spec.clusterIP === "" ? undefined : service.spec.clusterIP
  const oldIP = Option.getOrUndefined(Option.flatMapNullishOr(old, (value) => value.spec.clusterIP))
  if (requestedIP !== undefined && oldIP !== undefined && requestedIP !== oldIP) {
    errors.push(`spec.clusterIPs[0]: Invalid value: ["${requestedIP}"]: may not change once set`)
  }
  let clusterIP = oldIP ?? requestedIP
  const headless = clusterIP === "None"
  const requested = service.spec.ports ?? []
  if (requested.length === 0 && !headless) errors.push("spec.ports: Required value")

  const names = new Set<string>()
  const endpoints = new Set<string>()
  const taken = nodePortsTaken(state, self)
  const assigned = new Set<number>()
  const nodePorts: Array<number | undefined> = []
  requested.forEach((port, i) => {
    if (port.name === undefined || port.name === "") {
      if (requested.length > 1) errors.push(`spec.ports[${i}].name: Required value`)
    } else if (names.has(port.name)) {
      errors.push(`spec.ports[${i}].name: Duplicate value: "${port.name}"`)
    } else {
      names.add(port.name)
    }
    if (port.port < 1 || port.port > 65535) errors.push(`spec.ports[${i}].port: Invalid value: ${port.port}: must be between 1 and 65535, inclusive`)
    const endpoint = `${port.port}/${port.protocol ?? "TCP"}`
    if (endpoints.has(endpoint)) errors.push(`spec.ports[${i}]: Duplicate value: ${endpoint}`)
    endpoints.add(endpoint)
    const previousPort = oldPorts.find((candidate) => (candidate.name ?? "") === (port.name ?? ""))
    const explicit = port.nodePort === undefined || port.nodePort === 0 ? undefined : port.nodePort
    if (!needsNodePort) {
      if (explicit !== undefined && explicit !== previousPort?.nodePort) {
        errors.push(`spec.ports[${i}].nodePort: Forbidden: may not be used when \`type\` is '${type}'`)
      }
      nodePorts.push(undefined)
    } else if (explicit !== undefined) {
      if (explicit < nodePortRange.first || explicit > nodePortRange.last) {
        errors.push(`spec.ports[${i}].nodePort: Invalid value: ${explicit}: provided port is not in the valid range. The range of valid ports is ${nodePortRange.first}-${nodePortRange.last}`)
      } else if (taken.has(explicit) || assigned.has(explicit)) {
        errors.push(`spec.ports[${i}].nodePort: Invalid value: ${explicit}: provided port is already allocated`)
      }
      assigned.add(explicit)
      nodePorts.push(explicit)
    } else {
      const kept = oldNeedsNodePort && previousPort?.nodePort !== undefined && !assigned.has(previousPort.nodePort)
        ? previousPort.nodePort
        : undefined
      if (kept !== undefined) assigned.add(kept)
      nodePorts.push(kept)
    }
  })
  if (errors.length > 0) return Result.fail(errors)

  if (clusterIP === undefined) [clusterIP, state] = allocateClusterIP(state)
  const ports: Array<ServicePort> = []
  for (const [i, port] of requested.entries()) {
    let nodePort = nodePorts[i]
    if (needsNodePort && nodePort === undefined) {
      ;[nodePort, state] = allocateNodePort(state, new Set([...taken, ...assigned]))
      assigned.add(nodePort)
    }
    const { nodePort: _dropped, ...rest } = port
    ports.push({
      ...rest,
      protocol: port.protocol ?? "TCP",
      targetPort: port.targetPort ?? port.port,
      ...(nodePort === undefined ? {} : { nodePort })
    })
  }
  const { allocateLoadBalancerNodePorts: _alb, externalTrafficPolicy: _etp, ...specRest } = service.spec
  const sessionAffinity = service.spec["sessionAffinity"] ?? "None"
  const oldSpec = fieldsOf(Option.getOrUndefined(Option.map(old, (value) => value.spec)))
  const selectorless = headless && service.spec.selector === undefined
  const spec = {
    ...specRest,
    type,
    clusterIP,
    clusterIPs: [clusterIP],
    sessionAffinity,
    ...(sessionAffinity === "ClientIP"
      ? { sessionAffinityConfig: service.spec["sessionAffinityConfig"] ?? { clientIP: { timeoutSeconds: 10800 } } }
      : {}),
    ports,
    ipFamilies: service.spec["ipFamilies"] ?? oldSpec["ipFamilies"] ?? (selectorless ? ["IPv4", "IPv6"] : ["IPv4"]),
    ipFamilyPolicy: service.spec["ipFamilyPolicy"] ?? oldSpec["ipFamilyPolicy"] ?? (selectorless ? "RequireDualStack" : "SingleStack"),
    internalTrafficPolicy: service.spec["internalTrafficPolicy"] ?? "Cluster",
    ...(needsNodePort ? { externalTrafficPolicy: service.spec["externalTrafficPolicy"] ?? "Cluster" } : {}),
    ...(type === "LoadBalancer" ? { allocateLoadBalancerNodePorts: service.spec["allocateLoadBalancerNodePorts"] ?? true } : {})
  }
  return Result.succeed([{ ...service, spec }, state] as const)
}

/** The API server's pull policy default: `Always` for `:latest` or no tag, else `IfNotPresent`. */
const defaultPullPolicy = (image: string | undefined): string => {
  if (image === undefined || image.includes("@")) return "IfNotPresent"
  const lastSegment = image.slice(image.lastIndexOf("/") + 1)
  const colon = lastSegment.lastIndexOf(":")
  const tag = colon === -1 ? "" : lastSegment.slice(colon + 1)
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent"
}

const defaultContainer = (container: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const ports = container["ports"]
  const image = container["image"]
  return {
    ...container,
    ...(Array.isArray(ports) ? { ports: ports.map((port) => ({ ...fieldsOf(port), protocol: fieldsOf(port)["protocol"] ?? "TCP" })) } : {}),
    resources: container["resources"] ?? {},
    terminationMessagePath: container["terminationMessagePath"] ?? "/dev/termination-log",
    terminationMessagePolicy: container["terminationMessagePolicy"] ?? "File",
    imagePullPolicy: container["imagePullPolicy"] ?? defaultPullPolicy(typeof image === "string" ? image : undefined)
  }
}

/** Fields of a StatefulSet's spec that an update may change; any other change is forbidden. */
const mutableStatefulSetFields = [
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "revisionHistoryLimit",
  "persistentVolumeClaimRetentionPolicy",
  "minReadySeconds"
]

const defaultStatefulSet = (object: AnyObject, previous: Option.Option<AnyObject>, state: ClusterState): Defaulted => {
  const decoded = decodeAs(StatefulSet, object)
  if (Result.isFailure(decoded)) return Result.fail([String(decoded.failure)])
  const statefulSet = decoded.success
  const spec = statefulSet.spec
  const templateLabels = spec.template.metadata?.labels ?? {}
  const selector = spec.selector?.matchLabels ?? {}
  if (spec.selector === undefined) return Result.fail(["spec.selector: Required value"])
  if (Object.keys(selector).length === 0 && spec.selector["matchExpressions"] === undefined) {
    return Result.fail(["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"])
  }
  if (!Object.entries(selector).every(([key, value]) => templateLabels[key] === value)) {
    return Result.fail([`spec.template.metadata.labels: Invalid value: ${JSON.stringify(templateLabels)}: \`selector\` does not match template \`labels\``])
  }
  const updateStrategy = fieldsOf(spec["updateStrategy"] ?? { type: "RollingUpdate" })
  const strategyType = updateStrategy["type"] ?? "RollingUpdate"
  const retention = fieldsOf(spec["persistentVolumeClaimRetentionPolicy"])
  const claimTemplates = spec["volumeClaimTemplates"]
  const podSpec = spec.template.spec
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
      template: {
        ...spec.template,
        spec: {
          ...podSpec,
          containers: podSpec.containers.map(defaultContainer),
          restartPolicy: podSpec["restartPolicy"] ?? "Always",
          terminationGracePeriodSeconds: podSpec["terminationGracePeriodSeconds"] ?? 30,
          dnsPolicy: podSpec["dnsPolicy"] ?? "ClusterFirst",
          securityContext: podSpec["securityContext"] ?? {},
          schedulerName: podSpec["schedulerName"] ?? "default-scheduler"
        }
      }
    }
  }
  const changesImmutable = Option.exists(previous, (old) =>
    canonical(withoutKeys(fieldsOf(old["spec"]), mutableStatefulSetFields))
      !== canonical(withoutKeys(fieldsOf(defaulted["spec"]), mutableStatefulSetFields)))
  if (changesImmutable) {
    return Result.fail(["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"])
  }
  return Result.succeed([defaulted, state] as const)
}

const defaultNetworkPolicy = (object: AnyObject, state: ClusterState): Defaulted =>
  Result.match(decodeAs(NetworkPolicy, object), {
    onFailure: (error) => Result.fail([String(error)]),
    onSuccess: (policy) =>
      Result.succeed([{
        ...policy,
        spec: {
          ...policy.spec,
          policyTypes: policy.spec.policyTypes ?? (policy.spec["egress"] === undefined ? ["Ingress"] : ["Ingress", "Egress"]),
          ...(policy.spec.ingress === undefined ? {} : {
            ingress: policy.spec.ingress.map((rule) => rule.ports === undefined ? rule : {
              ...rule,
              ports: rule.ports.map((port) => ({ ...port, protocol: port.protocol ?? "TCP" }))
            })
          })
        }
      }, state] as const)
  })

const defaultSecret = (object: AnyObject, state: ClusterState): Defaulted =>
  Result.match(decodeAs(Secret, object), {
    onFailure: (error) => Result.fail([String(error)]),
    onSuccess: (secret) => {
      const { data: _data, stringData, ...rest } = secret
      const extra = Result.getSuccess(decodeAs(Schema.Record(Schema.String, Schema.String), stringData ?? {}))
      const encoded = Object.fromEntries(
        Object.entries(Option.getOrElse(extra, () => ({}))).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")])
      )
      const data = { ...secret.data, ...encoded }
      return Result.succeed([{ ...rest, type: secret.type ?? "Opaque", ...(Object.keys(data).length > 0 ? { data } : {}) }, state] as const)
    }
  })

/** The fields an Event always carries on the wire. */
const defaultEvent = (object: AnyObject, state: ClusterState): Defaulted =>
  Result.succeed([{
    ...object,
    reportingComponent: object["reportingComponent"] ?? "",
    reportingInstance: object["reportingInstance"] ?? "",
    eventTime: object["eventTime"] ?? null
  }, state] as const)

const applyDefaults = (
  resource: ResourceId,
  object: AnyObject,
  previous: Option.Option<AnyObject>,
  state: ClusterState,
  key: string
): Defaulted => {
  if (resource.group === "apps" && resource.kind === "StatefulSet") return defaultStatefulSet(object, previous, state)
  if (resource.group === "networking.k8s.io" && resource.kind === "NetworkPolicy") return defaultNetworkPolicy(object, state)
  if (resource.group !== "") return Result.succeed([object, state] as const)
  switch (resource.kind) {
    case "Service":
      return defaultService(object, previous, state, key)
    case "Secret":
      return defaultSecret(object, state)
    case "Event":
      return defaultEvent(object, state)
    default:
      return Result.succeed([object, state] as const)
  }
}

type Transition<A> = readonly [Result.Result<A, KubernetesError>, ClusterState]

const takeFault = (state: ClusterState, verb: Verb, kind: string, name: string): Transition<void> => {
  const index = state.faults.findIndex((fault) =>
    fault.verb === verb && (fault.kind === undefined || fault.kind === kind) && (fault.name === undefined || fault.name === name)
  )
  const fault = state.faults[index]
  if (fault === undefined) return [Result.void, state]
  const faults = fault.times > 1
    ? state.faults.map((candidate, i) => (i === index ? { ...candidate, times: candidate.times - 1 } : candidate))
    : state.faults.filter((_, i) => i !== index)
  return [
    Result.fail(failure(fault.reason, `injected fault: ${verb} ${kind} ${name}`, `${verb} ${kind} ${name}`)),
    { ...state, faults }
  ]
}

/**
 * The one way a write lands: the object is stored (or, for `Deleted`, removed) at the next
 * revision, and the change is appended to the bounded event log. A deletion consumes a revision
 * too, and logs the object's last state at that revision, as etcd does.
 */
const commit = (
  state: ClusterState,
  change: {
    readonly type: ChangeType
    readonly resource: ResourceId
    readonly key: string
    /** The object to store, or for a deletion its last stored state. */
    readonly object: AnyObject
    readonly previous: AnyObject | undefined
  }
): readonly [AnyObject, ClusterState] => {
  const revision = state.revision + 1
  const stored: AnyObject = { ...change.object, metadata: { ...change.object.metadata, resourceVersion: String(revision) } }
  const objects = new Map(state.objects)
  if (change.type === "Deleted") objects.delete(change.key)
  else objects.set(change.key, { resource: change.resource, object: stored })
  const entry: LogEntry = {
    revision,
    resource: change.resource,
    namespace: stored.metadata.namespace ?? "",
    type: change.type,
    object: stored,
    previous: change.previous
  }
  const log = [...state.log, entry]
  const evicted = log.length - state.historySize
  return [stored, {
    ...state,
    revision,
    objects,
    log: evicted > 0 ? log.slice(evicted) : log,
    logStart: evicted > 0 ? log[evicted - 1]?.revision ?? state.logStart : state.logStart
  }]
}

const nextUid = (state: ClusterState): readonly [string, ClusterState] => {
  const uids = state.uids + 1
  return [`00000000-0000-4000-8000-${uids.toString(16).padStart(12, "0")}`, { ...state, uids }]
}

const create = (resource: ResourceId, object: AnyObject, now: number, state0: ClusterState): Transition<AnyObject> => {
  const namespace = object.metadata.namespace ?? ""
  const name = object.metadata.name
  const operation = `create ${resource.kind} ${namespace}/${name}`
  const key = keyOf(resource, namespace, name)
  if (object.metadata.resourceVersion !== undefined && object.metadata.resourceVersion !== "") {
    // kube-apiserver answers this with a 500 InternalError.
    return [Result.fail(failure("Unavailable", "resourceVersion should not be set on objects to be created", operation)), state0]
  }
  if (state0.objects.has(key)) {
    return [Result.fail(failure("AlreadyExists", `${qualifiedResource(resource)} "${name}" already exists`, operation)), state0]
  }
  const invalid = validateMeta(resource, object.metadata)
  if (Option.isSome(invalid)) return [Result.fail(failure("Invalid", invalidMessage(resource, name, [invalid.value]), operation)), state0]
  const defaulted = applyDefaults(resource, structural(resource, object), Option.none(), state0, key)
  if (Result.isFailure(defaulted)) return [Result.fail(failure("Invalid", invalidMessage(resource, name, defaulted.failure), operation)), state0]
  const [defaultedObject, afterDefaults] = defaulted.success
  const [uid, afterUid] = nextUid(afterDefaults)
  const { deletionGracePeriodSeconds: _grace, deletionTimestamp: _deletion, generation: _generation, ...metadata } =
    defaultedObject.metadata
  const [stored, state] = commit(afterUid, {
    type: "Added",
    resource,
    key,
    previous: undefined,
    object: {
      ...(resource.statusSubresource ? { ...withoutKeys(defaultedObject, ["status"]), ...initialStatus(resource) } : defaultedObject),
      apiVersion: defaultedObject.apiVersion,
      kind: defaultedObject.kind,
      metadata: {
        ...withoutEmptyMeta(metadata),
        namespace,
        uid,
        creationTimestamp: timestamp(now),
        ...(hasGeneration(resource) ? { generation: 1 } : {})
      }
    }
  })
  return [Result.succeed(stored), state]
}

const specPart = (object: AnyObject): string => canonical(withoutKeys(object, ["metadata", "status"]))

const update = (
  resource: ResourceId,
  object: AnyObject,
  subresource: "main" | "status",
  now: number,
  state0: ClusterState
): Transition<AnyObject> => {
  const namespace = object.metadata.namespace ?? ""
  const name = object.metadata.name
  const operation = `${subresource === "status" ? "updateStatus" : "update"} ${resource.kind} ${namespace}/${name}`
  const key = keyOf(resource, namespace, name)
  const current = state0.objects.get(key)
  if (current === undefined) return [Result.fail(failure("NotFound", notFoundMessage(resource, name), operation)), state0]
  if (subresource === "status" && !resource.statusSubresource) {
    return [Result.fail(failure("NotFound", `the server could not find the requested resource`, operation)), state0]
  }
  const old = current.object
  if (object.metadata.resourceVersion === undefined) {
    return [Result.fail(failure("Invalid", invalidMessage(resource, name, ["metadata.resourceVersion: Invalid value: 0: must be specified for an update"]), operation)), state0]
  }
  if (object.metadata.resourceVersion !== old.metadata.resourceVersion) {
    return [Result.fail(failure("Conflict", `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, operation)), state0]
  }
  if (object.metadata.uid !== undefined && object.metadata.uid !== old.metadata.uid) {
    return [Result.fail(failure("Conflict", `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${old.metadata.uid ?? ""}`, operation)), state0]
  }
  let candidate: AnyObject
  if (subresource === "status") {
    candidate = { ...withoutKeys(old, ["status"]), apiVersion: old.apiVersion, kind: old.kind, metadata: old.metadata, ...("status" in object ? { status: object["status"] } : {}) }
  } else {
    const invalid = validateMeta(resource, object.metadata)
    if (Option.isSome(invalid)) return [Result.fail(failure("Invalid", invalidMessage(resource, name, [invalid.value]), operation)), state0]
    if (old.metadata.deletionTimestamp !== undefined) {
      const added = (object.metadata.finalizers ?? []).filter((finalizer) => !(old.metadata.finalizers ?? []).includes(finalizer))
      if (added.length > 0) {
        return [Result.fail(failure("Invalid", invalidMessage(resource, name, [`metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((finalizer) => `"${finalizer}"`).join(", ")}}`]), operation)), state0]
      }
    }
    const kept = resource.statusSubresource && "status" in old ? { status: old["status"] } : {}
    const { deletionGracePeriodSeconds: _grace, deletionTimestamp: _deletion, generation: _generation, ...metadata } = object.metadata
    const preserved = fieldsOf(old.metadata)
    candidate = {
      ...withoutKeys(object, ["status"]),
      apiVersion: old.apiVersion,
      kind: old.kind,
      ...(resource.statusSubresource ? kept : "status" in object ? { status: object["status"] } : {}),
      metadata: {
        ...withoutEmptyMeta(metadata),
        uid: old.metadata.uid ?? "",
        namespace,
        creationTimestamp: old.metadata.creationTimestamp ?? "",
        ...(old.metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: old.metadata.deletionTimestamp }),
        ...(preserved["deletionGracePeriodSeconds"] === undefined ? {} : { deletionGracePeriodSeconds: preserved["deletionGracePeriodSeconds"] }),
        ...(old.metadata.generation === undefined ? {} : { generation: old.metadata.generation })
      }
    }
  }
  const defaulted = subresource === "main"
    ? applyDefaults(resource, structural(resource, candidate), Option.some(old), state0, key)
    : Result.succeed([structural(resource, candidate), state0] as const)
  if (Result.isFailure(defaulted)) return [Result.fail(failure("Invalid", invalidMessage(resource, name, defaulted.failure), operation)), state0]
  const [next, state1] = defaulted.success
  if (canonical(next) === canonical(old)) return [Result.succeed(old), state0]
  const generation = old.metadata.generation === undefined
    ? {}
    : { generation: specPart(next) === specPart(old) ? old.metadata.generation : old.metadata.generation + 1 }
  if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
    // The API server deletes instead of storing: the answer is the object as sent (at its old
    // resourceVersion), the watch sees the last stored state (finalizers and all) deleted.
    const [, deleted] = commit(state1, { type: "Deleted", resource, key, object: old, previous: old })
    return [Result.succeed(next), cascade(deleted, old.metadata.uid ?? "", now)]
  }
  const [stored, state2] = commit(state1, {
    type: "Modified",
    resource,
    key,
    object: { ...next, metadata: { ...next.metadata, ...generation } },
    previous: old
  })
  return [Result.succeed(stored), state2]
}

/** Deletes the dependents of a deleted owner, as the garbage collector does (in the background). */
const cascade = (state: ClusterState, ownerUid: string, now: number): ClusterState => {
  if (ownerUid === "" || !state.cascadeDeletion) return state
  let next = state
  for (const [key, stored] of state.objects) {
    const refs = stored.object.metadata.ownerReferences ?? []
    if (!refs.some((ref) => ref.uid === ownerUid)) continue
    const remaining = refs.filter((ref) => ref.uid !== ownerUid)
    if (remaining.length > 0) {
      ;[, next] = commit(next, {
        type: "Modified",
        resource: stored.resource,
        key,
        object: { ...stored.object, metadata: { ...stored.object.metadata, ownerReferences: remaining } },
        previous: stored.object
      })
    } else {
      next = removeObject(next, key, stored, now)
    }
  }
  return next
}

/**
 * Removes an object, or marks it for deletion while it has finalizers (`deletionTimestamp`,
 * `deletionGracePeriodSeconds: 0` and, where there is one, a bumped generation).
 */
const removeObject = (state: ClusterState, key: string, stored: StoredObject, now: number): ClusterState => {
  if ((stored.object.metadata.finalizers ?? []).length > 0) {
    if (stored.object.metadata.deletionTimestamp !== undefined) return state
    const { generation } = stored.object.metadata
    const [, marked] = commit(state, {
      type: "Modified",
      resource: stored.resource,
      key,
      object: {
        ...stored.object,
        metadata: {
          ...stored.object.metadata,
          deletionTimestamp: timestamp(now),
          deletionGracePeriodSeconds: 0,
          ...(generation === undefined ? {} : { generation: generation + 1 })
        }
      },
      previous: stored.object
    })
    return marked
  }
  const [, deleted] = commit(state, { type: "Deleted", resource: stored.resource, key, object: stored.object, previous: stored.object })
  return cascade(deleted, stored.object.metadata.uid ?? "", now)
}

const remove = (
  resource: ResourceId,
  namespace: string,
  name: string,
  preconditions: { readonly uid?: string; readonly resourceVersion?: string },
  now: number,
  state: ClusterState
): Transition<void> => {
  const operation = `delete ${resource.kind} ${namespace}/${name}`
  const key = keyOf(resource, namespace, name)
  const stored = state.objects.get(key)
  if (stored === undefined) return [Result.fail(failure("NotFound", notFoundMessage(resource, name), operation)), state]
  const { uid, resourceVersion } = stored.object.metadata
  if (preconditions.uid !== undefined && preconditions.uid !== uid) {
    return [Result.fail(failure("Conflict", `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${uid ?? ""}`, operation)), state]
  }
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== resourceVersion) {
    return [Result.fail(failure("Conflict", `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${resourceVersion ?? ""}`, operation)), state]
  }
  return [Result.void, removeObject(state, key, stored, now)]
}

const matchesSelector = (labels: StringMap | undefined, selector: StringMap | undefined): boolean =>
  Object.entries(selector ?? {}).every(([key, value]) => labels !== undefined && Object.hasOwn(labels, key) && labels[key] === value)

/** What a list or a watch looks at: one kind, one namespace (or all of them), a label selector. */
interface Selection {
  readonly resource: ResourceId
  readonly namespace: string | undefined
  readonly labelSelector: StringMap | undefined
}

const selectionOf = (resource: Resource<unknown>, namespace: string | undefined, options: ListOptions | undefined): Selection => ({
  resource: idOf(resource),
  namespace,
  labelSelector: options?.labelSelector
})

const inScope = (selection: Selection, resource: ResourceId, namespace: string): boolean =>
  resource.group === selection.resource.group && resource.plural === selection.resource.plural
  && (selection.namespace === undefined || selection.namespace === namespace)

const storageKey = (object: AnyObject): string => `${object.metadata.namespace ?? ""}/${object.metadata.name}`

/** The matching objects in the API server's order: by `namespace/name`, as etcd keys sort. */
const listed = (state: ClusterState, selection: Selection): ReadonlyArray<AnyObject> =>
  [...state.objects.values()]
    .filter((stored) =>
      inScope(selection, stored.resource, stored.object.metadata.namespace ?? "")
      && matchesSelector(stored.object.metadata.labels, selection.labelSelector)
    )
    .map((stored) => stored.object)
    .sort((a, b) => (storageKey(a) < storageKey(b) ? -1 : storageKey(a) > storageKey(b) ? 1 : 0))

/**
 * A logged change as one watch sees it, by the watch cache's rules: matching now and before is
 * `Modified`, now only is `Added`, before only (a deletion, or labels that stopped matching) is
 * `Deleted` with the previous state at the change's resourceVersion.
 */
const eventsOf = (selection: Selection) => (entry: LogEntry): ReadonlyArray<WatchEvent<AnyObject>> => {
  if (!inScope(selection, entry.resource, entry.namespace)) return []
  const previous = entry.previous
  const matchesNow = entry.type !== "Deleted" && matchesSelector(entry.object.metadata.labels, selection.labelSelector)
  const matchedBefore = previous !== undefined && matchesSelector(previous.metadata.labels, selection.labelSelector)
  if (matchesNow) return [{ _tag: matchedBefore ? "Modified" : "Added", object: entry.object }]
  if (previous !== undefined && matchedBefore) {
    return [{ _tag: "Deleted", object: { ...previous, metadata: { ...previous.metadata, resourceVersion: String(entry.revision) } } }]
  }
  return []
}

/** Where a watch starts: after a revision, with (for `""` and `"0"`) the current objects as `Added`. */
interface WatchStart {
  readonly after: number
  readonly initial: ReadonlyArray<WatchEvent<AnyObject>>
}

const watchStart = (
  resourceVersion: string,
  state: ClusterState,
  selection: Selection,
  operation: string
): Result.Result<WatchStart, KubernetesError> => {
  if (resourceVersion === "" || resourceVersion === "0") {
    return Result.succeed({ after: state.revision, initial: listed(state, selection).map((object) => ({ _tag: "Added", object })) })
  }
  if (!/^\d+$/.test(resourceVersion)) {
    // kube-apiserver answers this with a 500.
    return Result.fail(failure("Unavailable", `resourceVersion: Invalid value: "${resourceVersion}": strconv.ParseUint: parsing "${resourceVersion}": invalid syntax`, operation))
  }
  const after = Number(resourceVersion)
  return after < state.logStart
    ? Result.fail(failure("Gone", `too old resource version: ${after} (${state.logStart})`, operation))
    : Result.succeed({ after, initial: [] })
}

/** How long kube-apiserver keeps a watch open without `timeoutSeconds` (or with 0): at least 30 minutes. */
const defaultWatchTimeoutSeconds = 1800

/**
 * When a watch gets its bookmarks, in seconds from its start: the API server sends one about
 * every minute and one 2 seconds before the watch times out.
 */
const bookmarkTimes = (timeoutSeconds: number): ReadonlyArray<number> => {
  const times: Array<number> = []
  for (let at = 60; at < timeoutSeconds - 2; at += 60) times.push(at)
  if (timeoutSeconds > 2) times.push(timeoutSeconds - 2)
  return times
}

/** Test-only controls of the in-memory cluster. */
export interface KubernetesMemoryControlApi {
  /** Makes the next matching call(s) fail with the given reason. */
  readonly failNext: (fault: Fault) => Effect.Effect<void>
  /** Every stored object of a kind, decoded, sorted by namespace and name. */
  readonly objects: <A>(resource: Resource<A>) => Effect.Effect<ReadonlyArray<A>>
  /**
   * Forgets the event log, as an etcd compaction and a watch-cache restart would: a watch from
   * any resourceVersion before the current one fails with `Gone`, and an open watch that has
   * not yet caught up ends (its resumption is then `Gone`).
   */
  readonly compact: Effect.Effect<void>
}

export class KubernetesMemoryControl extends Context.Service<KubernetesMemoryControl, KubernetesMemoryControlApi>()(
  "@dittofs-operator/core/testing/KubernetesMemoryControl"
) {}

const decodeFor = <A>(resource: Resource<A>, operation: string) => (value: unknown): Effect.Effect<A, KubernetesError> =>
  Schema.decodeUnknownEffect(resource.schema)(value).pipe(
    Effect.mapError((error) => failure("BadResponse", error.message, operation))
  )

const encodeFor = <A>(resource: Resource<A>, operation: string) => (value: A): Effect.Effect<AnyObject, KubernetesError> =>
  Schema.encodeUnknownEffect(resource.schema)(value).pipe(
    Effect.flatMap(Schema.decodeUnknownEffect(AnyObject)),
    Effect.map((encoded) => structuredClone(encoded)),
    Effect.mapError((error) => failure("BadRequest", error.message, operation))
  )

const fromResult = <A>(result: Result.Result<A, KubernetesError>): Effect.Effect<A, KubernetesError> =>
  Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)

export const make = (options: KubernetesMemoryOptions = {}) =>
  Effect.gen(function*() {
    const state = yield* Ref.make(emptyState(options.cascadeDeletion ?? true, options.historySize ?? 1000))
    /** A tick per write that changed the cluster; watches read what is new from the log. */
    const changes = yield* PubSub.sliding<void>(1)

    const run = <A>(verb: Verb, kind: string, name: string, step: (state: ClusterState, now: number) => Transition<A>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(state, (current): readonly [readonly [Result.Result<A, KubernetesError>, boolean], ClusterState] => {
          const [fault, afterFault] = takeFault(current, verb, kind, name)
          const [result, next]: Transition<A> = Result.isFailure(fault) ? [Result.fail(fault.failure), afterFault] : step(afterFault, now)
          return [[result, next.revision !== current.revision], next]
        })).pipe(
          Effect.tap(([, changed]) => changed ? PubSub.publish(changes, undefined) : Effect.void),
          Effect.flatMap(([result]) => fromResult(result))
        )

    const listAt = <A>(resource: Resource<A>, namespace: string | undefined, listOptions: ListOptions | undefined) => {
      const operation = `list ${resource.kind}`
      const selection = selectionOf(resource, namespace, listOptions)
      return run("list", resource.kind, "", (current) => [Result.succeed({ objects: listed(current, selection), revision: current.revision }), current]).pipe(
        Effect.flatMap(({ objects, revision }) =>
          Effect.map(
            Effect.forEach(objects, (object) => decodeFor(resource, operation)(structuredClone(object))),
            (items): ListResult<A> => ({ items, resourceVersion: String(revision) })
          )
        )
      )
    }

    const watch = <A>(resource: Resource<A>, namespace: string | undefined, watchOptions: WatchOptions) =>
      Stream.unwrap(Effect.gen(function*() {
        const operation = `watch ${resource.kind} ${namespace ?? "(all namespaces)"}`
        const selection = selectionOf(resource, namespace, watchOptions)
        const timeoutSeconds = watchOptions.timeoutSeconds !== undefined && watchOptions.timeoutSeconds > 0
          ? watchOptions.timeoutSeconds
          : defaultWatchTimeoutSeconds
        const startedAt = yield* Clock.currentTimeMillis
        /** Until `seconds` after the watch started (however late this fiber asks). */
        const until = (seconds: number) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Duration.millis(Math.max(0, startedAt + seconds * 1000 - now))))
        // Subscribed before the snapshot is read: every later change ticks this subscription.
        const subscription = yield* PubSub.subscribe(changes)
        const snapshot = yield* run("watch", resource.kind, "", (current): Transition<ClusterState> => [Result.succeed(current), current])
        const start = yield* fromResult(watchStart(watchOptions.resourceVersion, snapshot, selection, operation))
        const seen = yield* Ref.make(start.after)

        /**
         * What is new in the log since the last step (then, for a bookmark, the revision now
         * reached); `undefined` when the log no longer reaches back to the last step.
         */
        const step = (input: "Changes" | "Bookmark"): Effect.Effect<ReadonlyArray<WatchEvent<AnyObject>> | undefined> =>
          Effect.gen(function*() {
            const last = yield* Ref.get(seen)
            const current = yield* Ref.get(state)
            if (last < current.logStart) return undefined
            const reached = Math.max(last, current.revision)
            yield* Ref.set(seen, reached)
            const events = current.log.filter((entry) => entry.revision > last).flatMap(eventsOf(selection))
            return input === "Bookmark" ? [...events, { _tag: "Bookmark", resourceVersion: String(reached) }] : events
          })
        const decode = (event: WatchEvent<AnyObject>): Effect.Effect<WatchEvent<A>, KubernetesError> =>
          event._tag === "Bookmark"
            ? Effect.succeed(event)
            : Effect.map(decodeFor(resource, operation)(structuredClone(event.object)), (object) => ({ _tag: event._tag, object }))

        const bookmarks = Stream.fromIterable(bookmarkTimes(timeoutSeconds)).pipe(
          Stream.mapEffect((at) => Effect.as(until(at), "Bookmark" as const))
        )
        const inputs = Stream.merge(Stream.fromSubscription(subscription).pipe(Stream.as("Changes" as const)), bookmarks)
        const followed = Stream.concat(Stream.succeed("Changes" as const), inputs).pipe(
          // One step at a time: a bookmark never overtakes the events before it.
          Stream.mapEffect(step),
          Stream.takeWhile((events): events is ReadonlyArray<WatchEvent<AnyObject>> => events !== undefined),
          Stream.flattenIterable
        )
        return Stream.concat(Stream.fromIterable(start.initial), followed).pipe(
          Stream.interruptWhen(until(timeoutSeconds)),
          Stream.mapEffect(decode)
        )
      }))

    const kubernetes = Kubernetes.of({
      get: (resource, namespace, name) =>
        run("get", resource.kind, name, (current): Transition<AnyObject> => {
          const stored = current.objects.get(keyOf(idOf(resource), namespace, name))
          return stored === undefined
            ? [Result.fail(failure("NotFound", notFoundMessage(idOf(resource), name), `get ${describe(resource, namespace, name)}`)), current]
            : [Result.succeed(stored.object), current]
        }).pipe(Effect.map(structuredClone), Effect.flatMap(decodeFor(resource, `get ${describe(resource, namespace, name)}`))),
      list: (resource, namespace, listOptions) => Effect.map(listAt(resource, namespace, listOptions), (result) => result.items),
      listWithVersion: listAt,
      watch,
      create: (resource, object) =>
        Effect.gen(function*() {
          const operation = `create ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("create", resource.kind, encoded.metadata.name, (current, now) => create(idOf(resource), encoded, now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      update: (resource, object) =>
        Effect.gen(function*() {
          const operation = `update ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("update", resource.kind, encoded.metadata.name, (current, now) => update(idOf(resource), encoded, "main", now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      updateStatus: (resource, object) =>
        Effect.gen(function*() {
          const operation = `updateStatus ${resource.kind}`
          const encoded = yield* encodeFor(resource, operation)(object)
          const stored = yield* run("updateStatus", resource.kind, encoded.metadata.name, (current, now) => update(idOf(resource), encoded, "status", now, current))
          return yield* decodeFor(resource, operation)(structuredClone(stored))
        }),
      delete: (resource, namespace, name, preconditions) =>
        run("delete", resource.kind, name, (current, now) => remove(idOf(resource), namespace, name, preconditions ?? {}, now, current))
    })

    const control = KubernetesMemoryControl.of({
      failNext: (fault) => Ref.update(state, (current) => ({ ...current, faults: [...current.faults, { ...fault, times: fault.times ?? 1 }] })),
      objects: (resource) =>
        Ref.get(state).pipe(
          Effect.map((current) =>
            [...current.objects.values()]
              .filter((stored) => stored.resource.group === resource.group && stored.resource.plural === resource.plural)
              .map((stored) => stored.object)
              .sort((a, b) => canonical([a.metadata.namespace, a.metadata.name]) < canonical([b.metadata.namespace, b.metadata.name]) ? -1 : 1)
          ),
          Effect.flatMap((objects) => Effect.forEach(objects, (object) => decodeFor(resource, "objects")(structuredClone(object)))),
          Effect.orDie
        ),
      compact: Ref.update(state, (current) => ({ ...current, log: [], logStart: current.revision }))
    })
    return { kubernetes, control }
  })

/** The in-memory cluster: provides `Kubernetes` and its test controls. */
export const layer = (options: KubernetesMemoryOptions = {}): Layer.Layer<Kubernetes | KubernetesMemoryControl> =>
  Layer.effectContext(Effect.map(make(options), ({ control, kubernetes }) =>
    Context.make(Kubernetes, kubernetes).pipe(Context.add(KubernetesMemoryControl, control))))
