/**
 * `KubernetesMemory`: an in-memory Kubernetes API server behind the core's `Kubernetes` service,
 * for deterministic tests.
 *
 * Contract: it behaves like kube-apiserver for everything the operator uses, and the Kubernetes
 * contract suite (run here and against a real apiserver) is what proves it:
 * - `resourceVersion` from one cluster-wide counter, bumped by every write that changes the
 *   object (a no-op update keeps it); a stale one on update, or a missing one, is a 409 Conflict;
 * - `metadata.generation` on StatefulSets, NetworkPolicies and custom resources: 1 on create,
 *   bumped when anything but metadata and status changes;
 * - the status subresource: `update` keeps the stored status, `updateStatus` changes only status;
 * - AlreadyExists, NotFound, uid/resourceVersion delete preconditions, finalizers (a delete sets
 *   `deletionTimestamp`; the object goes when its last finalizer is removed);
 * - Service defaulting: type ClusterIP, protocol TCP, targetPort = port, an allocated clusterIP,
 *   allocated nodePorts for NodePort/LoadBalancer, kept across updates that omit them (matched
 *   by port name), dropped when the type becomes ClusterIP;
 * - equality label selectors; owner references, with the garbage collector's cascade applied
 *   synchronously when `cascadeDeletion` is on (default).
 * Faults can be injected per verb, kind and name through `KubernetesMemoryControl`.
 */
import { Clock, Context, Effect, Layer, Option, Ref, Result, Schema } from "effect"
import {
  AnyObject,
  NetworkPolicy,
  type ObjectMeta,
  Secret,
  Service,
  type ServicePort,
  StatefulSet,
  type StringMap
} from "../domain/Kubernetes.ts"
import {
  describe,
  Kubernetes,
  KubernetesError,
  type KubernetesErrorReason,
  type Resource
} from "../services/Kubernetes.ts"

export type Verb = "get" | "list" | "create" | "update" | "updateStatus" | "delete"

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

interface ClusterState {
  readonly objects: ReadonlyMap<string, StoredObject>
  readonly revision: number
  readonly uids: number
  readonly clusterIPs: number
  readonly nodePorts: number
  readonly faults: ReadonlyArray<Fault & { readonly times: number }>
  readonly cascadeDeletion: boolean
}

const emptyState = (cascadeDeletion: boolean): ClusterState => ({
  objects: new Map(),
  revision: 1000,
  uids: 0,
  clusterIPs: 10,
  nodePorts: 30000,
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

/** Canonical JSON (sorted keys), to compare objects by value. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)

const withoutKeys = (object: AnyObject, keys: ReadonlyArray<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)))

const hasGeneration = (resource: ResourceId): boolean =>
  resource.kind === "StatefulSet" || resource.kind === "NetworkPolicy" || resource.group.includes(".")
  && resource.group !== "networking.k8s.io"

const timestamp = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

const decodeAs = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Schema.decodeUnknownResult(schema)(value)

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

const invalidLabels = (labels: StringMap | undefined): Option.Option<string> => {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key
    if (name.length > 63 || !labelName.test(name)) return Option.some(`metadata.labels: Invalid value: "${key}"`)
    if (value.length > 63 || !labelValue.test(value)) {
      return Option.some(`metadata.labels: Invalid value: "${value}": must be no more than 63 characters`)
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
    return Option.some(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`)
  }
  return invalidLabels(metadata.labels)
}

type Defaulted = Result.Result<readonly [AnyObject, ClusterState], string>

const allocateClusterIP = (state: ClusterState): readonly [string, ClusterState] => {
  const n = state.clusterIPs + 1
  return [`10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, { ...state, clusterIPs: n }]
}

const allocateNodePort = (state: ClusterState): readonly [number, ClusterState] => {
  const n = state.nodePorts + 1
  return [n, { ...state, nodePorts: n }]
}

/** What kube-apiserver defaults, allocates and rejects for a Service. */
const defaultService = (object: AnyObject, previous: Option.Option<AnyObject>, state0: ClusterState): Defaulted => {
  const decoded = decodeAs(Service, object)
  if (Result.isFailure(decoded)) return Result.fail(String(decoded.failure))
  const service = decoded.success
  const old = Option.flatMap(previous, (value) => Result.getSuccess(decodeAs(Service, value)))
  let state = state0
  const type = service.spec.type ?? "ClusterIP"
  const needsNodePort = type === "NodePort" || type === "LoadBalancer"
  const oldPorts = Option.match(old, { onNone: () => [], onSome: (value) => value.spec.ports ?? [] })
  const oldNeedsNodePort = Option.exists(old, (value) => value.spec.type === "NodePort" || value.spec.type === "LoadBalancer")
  let clusterIP = service.spec.clusterIP ?? Option.getOrUndefined(Option.flatMapNullishOr(old, (value) => value.spec.clusterIP))
  if (clusterIP === undefined) [clusterIP, state] = allocateClusterIP(state)
  const ports: Array<ServicePort> = []
  const names = new Set<string>()
  for (const port of service.spec.ports ?? []) {
    if (port.name !== undefined && names.has(port.name)) return Result.fail(`spec.ports: Duplicate value: "${port.name}"`)
    if (port.name !== undefined) names.add(port.name)
    if (port.port < 1 || port.port > 65535) return Result.fail(`spec.ports.port: Invalid value: ${port.port}`)
    const previousPort = oldPorts.find((candidate) => candidate.name === port.name)
    let nodePort = port.nodePort
    if (!needsNodePort) {
      if (nodePort !== undefined && nodePort !== 0 && nodePort !== previousPort?.nodePort) {
        return Result.fail(`spec.ports.nodePort: Forbidden: may not be used when \`type\` is 'ClusterIP'`)
      }
      nodePort = undefined
    } else if (nodePort === undefined || nodePort === 0) {
      nodePort = oldNeedsNodePort ? previousPort?.nodePort : undefined
      if (nodePort === undefined) [nodePort, state] = allocateNodePort(state)
    }
    const { nodePort: _dropped, ...rest } = port
    ports.push({
      ...rest,
      protocol: port.protocol ?? "TCP",
      targetPort: port.targetPort ?? port.port,
      ...(nodePort === undefined ? {} : { nodePort })
    })
  }
  const { externalTrafficPolicy: _etp, allocateLoadBalancerNodePorts: _alb, ...specRest } = service.spec
  const spec = {
    ...specRest,
    type,
    clusterIP,
    clusterIPs: [clusterIP],
    sessionAffinity: service.spec["sessionAffinity"] ?? "None",
    ports,
    ...(needsNodePort ? { externalTrafficPolicy: service.spec["externalTrafficPolicy"] ?? "Cluster" } : {}),
    ...(type === "LoadBalancer" ? { allocateLoadBalancerNodePorts: service.spec["allocateLoadBalancerNodePorts"] ?? true } : {})
  }
  return Result.succeed([{ ...service, spec, status: service["status"] ?? { loadBalancer: {} } }, state] as const)
}

const defaultStatefulSet = (object: AnyObject, state: ClusterState): Defaulted =>
  Result.match(decodeAs(StatefulSet, object), {
    onFailure: (error) => Result.fail(String(error)),
    onSuccess: (statefulSet) =>
      Result.succeed([{
        ...statefulSet,
        spec: {
          ...statefulSet.spec,
          replicas: statefulSet.spec.replicas ?? 1,
          template: {
            ...statefulSet.spec.template,
            spec: {
              ...statefulSet.spec.template.spec,
              containers: statefulSet.spec.template.spec.containers.map((container) =>
                container.ports === undefined ? container : {
                  ...container,
                  ports: container.ports.map((port) => ({ ...port, protocol: port.protocol ?? "TCP" }))
                }
              )
            }
          }
        }
      }, state] as const)
  })

const defaultNetworkPolicy = (object: AnyObject, state: ClusterState): Defaulted =>
  Result.match(decodeAs(NetworkPolicy, object), {
    onFailure: (error) => Result.fail(String(error)),
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
    onFailure: (error) => Result.fail(String(error)),
    onSuccess: (secret) => {
      const { stringData, ...rest } = secret
      const extra = Result.getSuccess(decodeAs(Schema.Record(Schema.String, Schema.String), stringData ?? {}))
      const encoded = Object.fromEntries(
        Object.entries(Option.getOrElse(extra, () => ({}))).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")])
      )
      const data = { ...secret.data, ...encoded }
      return Result.succeed([{ ...rest, type: secret.type ?? "Opaque", ...(Object.keys(data).length > 0 ? { data } : {}) }, state] as const)
    }
  })

const applyDefaults = (resource: ResourceId, object: AnyObject, previous: Option.Option<AnyObject>, state: ClusterState): Defaulted => {
  switch (resource.kind) {
    case "Service":
      return defaultService(object, previous, state)
    case "StatefulSet":
      return defaultStatefulSet(object, state)
    case "NetworkPolicy":
      return defaultNetworkPolicy(object, state)
    case "Secret":
      return defaultSecret(object, state)
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

const nextRevision = (state: ClusterState): readonly [string, ClusterState] => {
  const revision = state.revision + 1
  return [String(revision), { ...state, revision }]
}

const nextUid = (state: ClusterState): readonly [string, ClusterState] => {
  const uids = state.uids + 1
  return [`00000000-0000-4000-8000-${uids.toString(16).padStart(12, "0")}`, { ...state, uids }]
}

const create = (resource: ResourceId, object: AnyObject, now: number, state0: ClusterState): Transition<AnyObject> => {
  const namespace = object.metadata.namespace ?? ""
  const operation = `create ${resource.kind} ${namespace}/${object.metadata.name}`
  const key = keyOf(resource, namespace, object.metadata.name)
  if (state0.objects.has(key)) {
    return [Result.fail(failure("AlreadyExists", `${resource.plural} "${object.metadata.name}" already exists`, operation)), state0]
  }
  const invalid = validateMeta(resource, object.metadata)
  if (Option.isSome(invalid)) return [Result.fail(failure("Invalid", invalid.value, operation)), state0]
  const defaulted = applyDefaults(resource, object, Option.none(), state0)
  if (Result.isFailure(defaulted)) return [Result.fail(failure("Invalid", defaulted.failure, operation)), state0]
  let [stored, state] = defaulted.success
  const [uid, afterUid] = nextUid(state)
  const [resourceVersion, afterRevision] = nextRevision(afterUid)
  state = afterRevision
  const { deletionTimestamp: _ignored, ...metadata } = stored.metadata
  stored = {
    ...(resource.statusSubresource && resource.kind !== "Service" ? withoutKeys(stored, ["status"]) : stored),
    apiVersion: stored.apiVersion,
    kind: stored.kind,
    metadata: {
      ...metadata,
      namespace,
      uid,
      resourceVersion,
      creationTimestamp: timestamp(now),
      ...(hasGeneration(resource) ? { generation: 1 } : {})
    }
  }
  const objects = new Map(state.objects)
  objects.set(key, { resource, object: stored })
  return [Result.succeed(stored), { ...state, objects }]
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
  if (current === undefined) return [Result.fail(failure("NotFound", `${resource.plural} "${name}" not found`, operation)), state0]
  if (subresource === "status" && !resource.statusSubresource) {
    return [Result.fail(failure("NotFound", `the server could not find the requested resource`, operation)), state0]
  }
  const old = current.object
  if (object.metadata.resourceVersion === undefined) {
    return [Result.fail(failure("Invalid", "metadata.resourceVersion: Invalid value: 0: must be specified for an update", operation)), state0]
  }
  if (object.metadata.resourceVersion !== old.metadata.resourceVersion) {
    return [Result.fail(failure("Conflict", `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, operation)), state0]
  }
  if (object.metadata.uid !== undefined && object.metadata.uid !== old.metadata.uid) {
    return [Result.fail(failure("Conflict", `Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${old.metadata.uid ?? ""}`, operation)), state0]
  }
  let candidate: AnyObject
  if (subresource === "status") {
    candidate = { ...withoutKeys(old, ["status"]), apiVersion: old.apiVersion, kind: old.kind, metadata: old.metadata, ...("status" in object ? { status: object["status"] } : {}) }
  } else {
    const invalid = validateMeta(resource, object.metadata)
    if (Option.isSome(invalid)) return [Result.fail(failure("Invalid", invalid.value, operation)), state0]
    const kept = resource.statusSubresource && "status" in old ? { status: old["status"] } : {}
    candidate = {
      ...withoutKeys(object, ["status"]),
      apiVersion: old.apiVersion,
      kind: old.kind,
      ...(resource.statusSubresource ? kept : "status" in object ? { status: object["status"] } : {}),
      metadata: {
        ...object.metadata,
        uid: old.metadata.uid ?? "",
        namespace,
        creationTimestamp: old.metadata.creationTimestamp ?? "",
        ...(old.metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: old.metadata.deletionTimestamp }),
        ...(old.metadata.generation === undefined ? {} : { generation: old.metadata.generation })
      }
    }
  }
  const defaulted = subresource === "main" ? applyDefaults(resource, candidate, Option.some(old), state0) : Result.succeed([candidate, state0] as const)
  if (Result.isFailure(defaulted)) return [Result.fail(failure("Invalid", defaulted.failure, operation)), state0]
  const [next, state1] = defaulted.success
  if (canonical(next) === canonical(old)) return [Result.succeed(old), state0]
  const generation = old.metadata.generation === undefined
    ? {}
    : { generation: specPart(next) === specPart(old) ? old.metadata.generation : old.metadata.generation + 1 }
  const [resourceVersion, state2] = nextRevision(state1)
  const stored: AnyObject = { ...next, metadata: { ...next.metadata, resourceVersion, ...generation } }
  const objects = new Map(state2.objects)
  if (stored.metadata.deletionTimestamp !== undefined && (stored.metadata.finalizers ?? []).length === 0) {
    objects.delete(key)
    return [Result.succeed(stored), cascade({ ...state2, objects }, stored.metadata.uid ?? "", now)]
  }
  objects.set(key, { resource, object: stored })
  return [Result.succeed(stored), { ...state2, objects }]
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
      const [resourceVersion, afterRevision] = nextRevision(next)
      const objects = new Map(afterRevision.objects)
      objects.set(key, {
        ...stored,
        object: { ...stored.object, metadata: { ...stored.object.metadata, ownerReferences: remaining, resourceVersion } }
      })
      next = { ...afterRevision, objects }
    } else {
      next = removeObject(next, key, stored, now)
    }
  }
  return next
}

/** Removes an object, or marks it for deletion while it has finalizers. */
const removeObject = (state: ClusterState, key: string, stored: StoredObject, now: number): ClusterState => {
  if ((stored.object.metadata.finalizers ?? []).length > 0) {
    if (stored.object.metadata.deletionTimestamp !== undefined) return state
    const [resourceVersion, afterRevision] = nextRevision(state)
    const objects = new Map(afterRevision.objects)
    objects.set(key, {
      ...stored,
      object: { ...stored.object, metadata: { ...stored.object.metadata, deletionTimestamp: timestamp(now), resourceVersion } }
    })
    return { ...afterRevision, objects }
  }
  const objects = new Map(state.objects)
  objects.delete(key)
  return cascade({ ...state, objects }, stored.object.metadata.uid ?? "", now)
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
  if (stored === undefined) return [Result.fail(failure("NotFound", `${resource.plural} "${name}" not found`, operation)), state]
  const { uid, resourceVersion } = stored.object.metadata
  if (preconditions.uid !== undefined && preconditions.uid !== uid) {
    return [Result.fail(failure("Conflict", `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${uid ?? ""}`, operation)), state]
  }
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== resourceVersion) {
    return [Result.fail(failure("Conflict", `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${resourceVersion ?? ""}`, operation)), state]
  }
  return [Result.void, removeObject(state, key, stored, now)]
}

const matchesSelector = (labels: StringMap | undefined, selector: StringMap | undefined): boolean =>
  Object.entries(selector ?? {}).every(([key, value]) => labels !== undefined && Object.hasOwn(labels, key) && labels[key] === value)

/** Test-only controls of the in-memory cluster. */
export interface KubernetesMemoryControlApi {
  /** Makes the next matching call(s) fail with the given reason. */
  readonly failNext: (fault: Fault) => Effect.Effect<void>
  /** Every stored object of a kind, decoded, sorted by namespace and name. */
  readonly objects: <A>(resource: Resource<A>) => Effect.Effect<ReadonlyArray<A>>
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

export const make = (options: KubernetesMemoryOptions = {}) =>
  Effect.gen(function*() {
    const state = yield* Ref.make(emptyState(options.cascadeDeletion ?? true))
    const run = <A>(verb: Verb, kind: string, name: string, step: (state: ClusterState, now: number) => Transition<A>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(state, (current): Transition<A> => {
          const [fault, afterFault] = takeFault(current, verb, kind, name)
          return Result.isFailure(fault) ? [Result.fail(fault.failure), afterFault] : step(afterFault, now)
        })).pipe(Effect.flatMap((result) => Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)))

    const kubernetes = Kubernetes.of({
      get: (resource, namespace, name) =>
        run("get", resource.kind, name, (current): Transition<AnyObject> => {
          const stored = current.objects.get(keyOf(idOf(resource), namespace, name))
          return stored === undefined
            ? [Result.fail(failure("NotFound", `${resource.plural} "${name}" not found`, `get ${describe(resource, namespace, name)}`)), current]
            : [Result.succeed(stored.object), current]
        }).pipe(Effect.map(structuredClone), Effect.flatMap(decodeFor(resource, `get ${describe(resource, namespace, name)}`))),
      list: (resource, namespace, listOptions) =>
        run("list", resource.kind, "", (current): Transition<ReadonlyArray<AnyObject>> => {
          const id = idOf(resource)
          const found = [...current.objects.values()]
            .filter((stored) => stored.resource.group === id.group && stored.resource.plural === id.plural)
            .map((stored) => stored.object)
            .filter((object) => (object.metadata.namespace ?? "") === namespace)
            .filter((object) => matchesSelector(object.metadata.labels, listOptions?.labelSelector))
            .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
          return [Result.succeed(found), current]
        }).pipe(Effect.flatMap((objects) => Effect.forEach(objects, (object) => decodeFor(resource, `list ${resource.kind}`)(structuredClone(object))))),
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
        )
    })
    return { kubernetes, control }
  })

/** The in-memory cluster: provides `Kubernetes` and its test controls. */
export const layer = (options: KubernetesMemoryOptions = {}): Layer.Layer<Kubernetes | KubernetesMemoryControl> =>
  Layer.effectContext(Effect.map(make(options), ({ control, kubernetes }) =>
    Context.make(Kubernetes, kubernetes).pipe(Context.add(KubernetesMemoryControl, control))))
