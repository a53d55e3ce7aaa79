/**
 * The core of the in-memory API server, the same for every kind: the store, the cluster-wide
 * revision, the bounded event log, uids, the lifecycle of a write (create, update, status
 * update, delete with preconditions, finalizers), owner-reference cascade, and injected faults.
 * What differs by kind (names, generation, initial status, defaulting, validation) is asked of
 * the kind table (`Kinds`).
 *
 * Contract:
 * - Every step is a pure function `ClusterState -> [Result, ClusterState]`; a failed step leaves
 *   the state as it was (an injected fault only consumes itself).
 * - `resourceVersion` comes from one cluster-wide counter, bumped by every write that changes
 *   the object (a no-op update keeps it) and by every deletion; each change is appended to the
 *   event log with its revision and the object before and after; the log keeps the last
 *   `historySize` changes.
 * - `metadata.generation` (for kinds that keep one): 1 on create, bumped when anything but
 *   metadata and status changes, and when a delete marks the object for deletion.
 * - The status subresource: create and update ignore the status sent (the kind's initial status
 *   is stored); a status write never changes the spec, and takes the metadata sent (labels,
 *   annotations, finalizers) for built-in kinds, nothing but status for custom resources.
 * - A delete removes the object, or while it has finalizers marks it (`deletionTimestamp`,
 *   `deletionGracePeriodSeconds: 0`); no finalizer may be added from then on; the update that
 *   removes the last finalizer deletes it and answers the object as sent, at its old
 *   resourceVersion. Graceful kinds (Pods) are marked first, then deleted when nothing holds
 *   them. Dependents of a deleted owner go with it when `cascadeDeletion` is on.
 */
import { Option, Result } from "effect"
import { canonical } from "../../domain/Json.ts"
import * as MergePatch from "../../domain/MergePatch.ts"
import { type AnyObject, timestamp } from "../../domain/Kubernetes.ts"
import type * as Kubernetes from "../../services/Kubernetes.ts"
import { fieldsOf, withoutKeys } from "./Json.ts"
import type { Admission, ClusterView, Counters, Kind } from "./Kind.ts"
import { kindOf, type KindTable } from "./Kinds.ts"
import { validateMeta, withoutEmptyMeta } from "./ObjectMeta.ts"
import { keyOf, type ResourceId, sameKind } from "./Resource.ts"
import * as Status from "./Status.ts"

/** `list` covers `listWithVersion`; a `watch` fault fails the watch as it opens. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "updateStatus" | "patchStatus" | "delete"

/** A failure to inject: the next matching call(s) of a verb, optionally of one kind and name, fail with a reason. */
export interface Fault {
  readonly verb: Verb
  readonly kind?: string
  readonly name?: string
  readonly reason: Kubernetes.ErrorReason
  /** How many matching calls fail (default 1). */
  readonly times?: number
}

export interface StoredObject {
  readonly resource: ResourceId
  readonly object: AnyObject
}

export type ChangeType = "Added" | "Modified" | "Deleted"

/** One change in the event log: what every watch is served from. */
export interface LogEntry {
  readonly revision: number
  readonly resource: ResourceId
  readonly namespace: string
  readonly type: ChangeType
  /** The object as stored at `revision`; for a deletion, its last state at that revision. */
  readonly object: AnyObject
  /** The object before the change (none for a creation). */
  readonly previous: AnyObject | undefined
}

export interface ClusterState {
  readonly objects: ReadonlyMap<string, StoredObject>
  readonly revision: number
  /** The last `historySize` changes, oldest first. */
  readonly log: ReadonlyArray<LogEntry>
  /** Every change after this revision is in `log`; a watch from an older one is Gone. */
  readonly logStart: number
  readonly historySize: number
  readonly uids: number
  /** What the kinds allocate from (clusterIPs, nodePorts). */
  readonly counters: Counters
  readonly faults: ReadonlyArray<Fault & { readonly times: number }>
  readonly cascadeDeletion: boolean
  /** What each kind does on admission (the built-in kinds and the served CRDs). */
  readonly kinds: KindTable
}

export type Transition<A> = readonly [Result.Result<A, Kubernetes.KubernetesError>, ClusterState]

const initialRevision = 1000

export const emptyState = (cascadeDeletion: boolean, historySize: number, kinds: KindTable): ClusterState => ({
  objects: new Map(),
  revision: initialRevision,
  log: [],
  logStart: initialRevision,
  historySize,
  uids: 0,
  counters: {},
  faults: [],
  cascadeDeletion,
  kinds
})

/** Every stored object of a kind, in no particular order. */
export const storedOf = (state: ClusterState, kind: { readonly group: string; readonly plural: string }): ReadonlyArray<StoredObject> =>
  [...state.objects.values()].filter((stored) => sameKind(stored.resource, kind))

const viewOf = (state: ClusterState, self: string): ClusterView => ({
  self,
  counters: state.counters,
  objects: (kind) =>
    [...state.objects.entries()].filter(([, stored]) => sameKind(stored.resource, kind)).map(([key, stored]) => [key, stored.object] as const)
})

/** Consumes the first fault matching the call, if any: the call then fails with its reason. */
export const takeFault = (state: ClusterState, verb: Verb, kind: string, name: string): Transition<void> => {
  const index = state.faults.findIndex((fault) =>
    fault.verb === verb && (fault.kind === undefined || fault.kind === kind) && (fault.name === undefined || fault.name === name)
  )
  const fault = state.faults[index]
  if (fault === undefined) return [Result.void, state]
  const faults = fault.times > 1
    ? state.faults.map((candidate, i) => (i === index ? { ...candidate, times: candidate.times - 1 } : candidate))
    : state.faults.filter((_, i) => i !== index)
  return [
    Result.fail(Status.failure(fault.reason, `injected fault: ${verb} ${kind} ${name}`, `${verb} ${kind} ${name}`)),
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

/** Forgets the event log, as an etcd compaction and a watch-cache restart would. */
export const compact = (state: ClusterState): ClusterState => ({ ...state, log: [], logStart: state.revision })

const nextUid = (state: ClusterState): readonly [string, ClusterState] => {
  const uids = state.uids + 1
  return [`00000000-0000-4000-8000-${uids.toString(16).padStart(12, "0")}`, { ...state, uids }]
}

/** A kind's admission as a transition: the counters it allocated from, or a 422. */
const admitted = (
  admission: Admission,
  state: ClusterState,
  resource: ResourceId,
  name: string,
  operation: string
): Result.Result<readonly [AnyObject, ClusterState], Kubernetes.KubernetesError> =>
  Result.match(admission, {
    onFailure: (errors) => Result.fail(Status.invalid(resource, name, errors, operation)),
    onSuccess: ({ counters, object }) => Result.succeed([object, { ...state, counters }] as const)
  })

export const create = (resource: ResourceId, object: AnyObject, now: number, state0: ClusterState): Transition<AnyObject> => {
  const kind = kindOf(state0.kinds, resource)
  const namespace = object.metadata.namespace ?? ""
  const name = object.metadata.name
  const operation = `create ${resource.kind} ${namespace}/${name}`
  const key = keyOf(resource, namespace, name)
  if (object.metadata.resourceVersion !== undefined && object.metadata.resourceVersion !== "") {
    // kube-apiserver answers this with a 500 InternalError.
    return [Result.fail(Status.failure("Unavailable", "resourceVersion should not be set on objects to be created", operation)), state0]
  }
  const undecodable = kind.decode(object)
  if (Option.isSome(undecodable)) return [Result.fail(Status.badRequest(object, undecodable.value, operation)), state0]
  if (state0.objects.has(key)) return [Result.fail(Status.alreadyExists(resource, name, operation)), state0]
  const invalid = validateMeta(kind.nameRule, object.metadata)
  if (Option.isSome(invalid)) return [Result.fail(Status.invalid(resource, name, [invalid.value], operation)), state0]
  const defaulted = admitted(kind.admit({ object, previous: Option.none(), cluster: viewOf(state0, key) }), state0, resource, name, operation)
  if (Result.isFailure(defaulted)) return [Result.fail(defaulted.failure), state0]
  const [defaultedObject, afterDefaults] = defaulted.success
  const [uid, afterUid] = nextUid(afterDefaults)
  const { deletionGracePeriodSeconds: _grace, deletionTimestamp: _deletion, generation: _generation, ...metadata } =
    defaultedObject.metadata
  const initialStatus = kind.initialStatus(defaultedObject)
  const [stored, state] = commit(afterUid, {
    type: "Added",
    resource,
    key,
    previous: undefined,
    object: {
      ...(resource.statusSubresource
        ? { ...withoutKeys(defaultedObject, ["status"]), ...(initialStatus === undefined ? {} : { status: initialStatus }) }
        : defaultedObject),
      apiVersion: defaultedObject.apiVersion,
      kind: defaultedObject.kind,
      metadata: {
        ...withoutEmptyMeta(metadata),
        namespace,
        uid,
        creationTimestamp: timestamp(now),
        ...(kind.generation ? { generation: 1 } : {})
      }
    }
  })
  return [Result.succeed(stored), state]
}

const specPart = (object: AnyObject): string => canonical(withoutKeys(object, ["metadata", "status"]))

/** The object a main-resource update would store, before the kind's admission. */
const mainCandidate = (resource: ResourceId, object: AnyObject, old: AnyObject, namespace: string): AnyObject => {
  const kept = resource.statusSubresource && "status" in old ? { status: old["status"] } : {}
  const { deletionGracePeriodSeconds: _grace, deletionTimestamp: _deletion, generation: _generation, ...metadata } = object.metadata
  const preserved = fieldsOf(old.metadata)
  return {
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

/**
 * A JSON merge patch of the status subresource, without a resourceVersion: the patch applied to
 * the stored object's status, then written as a status update at the stored resourceVersion.
 */
export const patchStatus = (
  resource: ResourceId,
  namespace: string,
  name: string,
  statusPatch: unknown,
  now: number,
  state0: ClusterState
): Transition<AnyObject> => {
  const operation = `patchStatus ${resource.kind} ${namespace}/${name}`
  const current = state0.objects.get(keyOf(resource, namespace, name))
  if (current === undefined) return [Result.fail(Status.notFound(resource, name, operation)), state0]
  if (!resource.statusSubresource) {
    return [Result.fail(Status.failure("NotFound", `the server could not find the requested resource`, operation)), state0]
  }
  const status = MergePatch.apply(current.object["status"], statusPatch)
  return update(resource, { ...current.object, status }, "status", now, state0)
}

export const update = (
  resource: ResourceId,
  object: AnyObject,
  subresource: "main" | "status",
  now: number,
  state0: ClusterState
): Transition<AnyObject> => {
  const kind: Kind = kindOf(state0.kinds, resource)
  const namespace = object.metadata.namespace ?? ""
  const name = object.metadata.name
  const operation = `${subresource === "status" ? "updateStatus" : "update"} ${resource.kind} ${namespace}/${name}`
  const key = keyOf(resource, namespace, name)
  const undecodable = kind.decode(object)
  if (Option.isSome(undecodable)) return [Result.fail(Status.badRequest(object, undecodable.value, operation)), state0]
  const current = state0.objects.get(key)
  if (current === undefined) return [Result.fail(Status.notFound(resource, name, operation)), state0]
  if (subresource === "status" && !resource.statusSubresource) {
    return [Result.fail(Status.failure("NotFound", `the server could not find the requested resource`, operation)), state0]
  }
  const old = current.object
  if (object.metadata.resourceVersion === undefined) {
    return [Result.fail(Status.invalid(resource, name, ["metadata.resourceVersion: Invalid value: 0: must be specified for an update"], operation)), state0]
  }
  if (object.metadata.resourceVersion !== old.metadata.resourceVersion) return [Result.fail(Status.conflict(resource, name, operation)), state0]
  if (object.metadata.uid !== undefined && object.metadata.uid !== old.metadata.uid) {
    return [Result.fail(Status.preconditionFailed(resource, name, "UID", object.metadata.uid, old.metadata.uid ?? "", operation)), state0]
  }
  const sentStatus = "status" in object ? { status: object["status"] } : {}
  let candidate: AnyObject
  if (subresource === "status" && kind.statusWrite === "StatusOnly") {
    candidate = { ...withoutKeys(old, ["status"]), apiVersion: old.apiVersion, kind: old.kind, metadata: old.metadata, ...sentStatus }
  } else {
    const invalid = validateMeta(kind.nameRule, object.metadata)
    if (Option.isSome(invalid)) return [Result.fail(Status.invalid(resource, name, [invalid.value], operation)), state0]
    if (old.metadata.deletionTimestamp !== undefined) {
      const added = (object.metadata.finalizers ?? []).filter((finalizer) => !(old.metadata.finalizers ?? []).includes(finalizer))
      if (added.length > 0) {
        return [Result.fail(Status.invalid(resource, name, [`metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((finalizer) => `"${finalizer}"`).join(", ")}}`], operation)), state0]
      }
    }
    const merged = mainCandidate(resource, object, old, namespace)
    // A status write of a built-in kind takes the metadata sent and the status, never the spec.
    candidate = subresource === "status"
      ? { ...withoutKeys(old, ["status", "metadata"]), apiVersion: old.apiVersion, kind: old.kind, metadata: merged.metadata, ...sentStatus }
      : merged
  }
  const request = { object: candidate, previous: Option.some(old), cluster: viewOf(state0, key) }
  const defaulted = admitted(subresource === "main" ? kind.admit(request) : kind.admitStatus(request), state0, resource, name, operation)
  if (Result.isFailure(defaulted)) return [Result.fail(defaulted.failure), state0]
  const [next, state1] = defaulted.success
  if (canonical(next) === canonical(old)) return [Result.succeed(old), state0]
  const generation = old.metadata.generation === undefined
    ? {}
    : { generation: specPart(next) === specPart(old) ? old.metadata.generation : old.metadata.generation + 1 }
  const gracePending = Number(fieldsOf(next.metadata)["deletionGracePeriodSeconds"] ?? 0) > 0
  if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0 && !gracePending) {
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

/** Marks an object for deletion: `deletionTimestamp` after the grace period, and a bumped generation. */
const markForDeletion = (state: ClusterState, key: string, stored: StoredObject, now: number, grace: number): readonly [AnyObject, ClusterState] => {
  const { generation } = stored.object.metadata
  return commit(state, {
    type: "Modified",
    resource: stored.resource,
    key,
    object: {
      ...stored.object,
      metadata: {
        ...stored.object.metadata,
        deletionTimestamp: timestamp(now + grace * 1000),
        deletionGracePeriodSeconds: grace,
        ...(generation === undefined ? {} : { generation: generation + 1 })
      }
    },
    previous: stored.object
  })
}

/**
 * Removes an object, or only marks it for deletion while it has finalizers (or, for a graceful
 * kind, a grace period to wait); a graceful kind is marked before it goes, as the API server
 * writes it (`deletionGracePeriodSeconds: 0`).
 */
const removeObject = (state: ClusterState, key: string, stored: StoredObject, now: number): ClusterState => {
  const deletion = kindOf(state.kinds, stored.resource).deletion
  const grace = deletion._tag === "Graceful" ? deletion.gracePeriodSeconds(stored.object) : 0
  const held = (stored.object.metadata.finalizers ?? []).length > 0 || grace > 0
  if (stored.object.metadata.deletionTimestamp !== undefined && held) return state
  if (held) return markForDeletion(state, key, stored, now, grace)[1]
  const [last, marked] = deletion._tag === "Graceful" && stored.object.metadata.deletionTimestamp === undefined
    ? markForDeletion(state, key, stored, now, 0)
    : [stored.object, state] as const
  const [, deleted] = commit(marked, { type: "Deleted", resource: stored.resource, key, object: last, previous: last })
  return cascade(deleted, stored.object.metadata.uid ?? "", now)
}

export const remove = (
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
  if (stored === undefined) return [Result.fail(Status.notFound(resource, name, operation)), state]
  const { uid, resourceVersion } = stored.object.metadata
  const failed = kindOf(state.kinds, resource).deletion._tag === "Graceful" ? Status.gracefulPreconditionFailed : Status.preconditionFailed
  if (preconditions.uid !== undefined && preconditions.uid !== uid) {
    return [Result.fail(failed(resource, name, "UID", preconditions.uid, uid ?? "", operation)), state]
  }
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== resourceVersion) {
    return [Result.fail(failed(resource, name, "ResourceVersion", preconditions.resourceVersion, resourceVersion ?? "", operation)), state]
  }
  return [Result.void, removeObject(state, key, stored, now)]
}

export const get = (resource: ResourceId, namespace: string, name: string, operation: string, state: ClusterState): Transition<AnyObject> => {
  const stored = state.objects.get(keyOf(resource, namespace, name))
  return stored === undefined ? [Result.fail(Status.notFound(resource, name, operation)), state] : [Result.succeed(stored.object), state]
}
