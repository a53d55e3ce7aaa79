/**
 * The Kubernetes API as the operator uses it: typed get, list by label, create, update with
 * optimistic concurrency, status update, delete with preconditions, and list-then-watch.
 *
 * Contract:
 * - Every failure is a `KubernetesError` whose `reason` was classified once, by the layer, from
 *   the API's status (`NotFound`, `Conflict`, ...); the API's message is kept. Nothing else in the
 *   code looks at HTTP status codes.
 * - Objects cross the service in their JSON shape and are decoded with the resource's Schema
 *   (open structs: fields we do not model survive a read-modify-write). A response that does not
 *   decode is `BadResponse`.
 * - `update` and `updateStatus` send `metadata.resourceVersion`; a stale one is `Conflict`.
 *   `update` never changes status, `updateStatus` never changes anything but status.
 * - `patchStatus(resource, previous, next)` sends the JSON merge patch (RFC 7386) that turns
 *   `previous`'s status into `next`'s to the status subresource of the object named by `next`,
 *   with no resourceVersion: it cannot conflict, and it keeps status fields it does not name.
 *   It is for a status with a single writer (this operator, one pass per object at a time);
 *   `NotFound` when the object is gone.
 * - List-then-watch: `listWithVersion` returns the items and the collection's resourceVersion;
 *   `watch` from that version delivers every later change of the matching objects exactly once,
 *   in resourceVersion order, and nothing older. Events are seen as the API server's watch cache
 *   sends them: an object that stops matching the label selector is `Deleted` (its previous
 *   state, at the new resourceVersion), one that starts matching is `Added`; a `Deleted` carries
 *   the object's last stored state at the deletion's resourceVersion. `Bookmark`s (best effort)
 *   only advance the resourceVersion. The stream ends normally when the server closes the watch
 *   (`timeoutSeconds`, or the server's own limit); a resourceVersion older than the server's
 *   history fails it with `Gone` (relist); an object that does not decode fails it with
 *   `BadResponse` (use `raw(resource)` to read objects the Schema would reject).
 * - Two layers implement it: `KubernetesLive` (apps/operator, the real API server) and
 *   `KubernetesMemory` (testing); one contract suite runs against both.
 */
import { Context, type Effect, Schema, type Stream } from "effect"
import * as DittoServerDomain from "../domain/DittoServer.ts"
import {
  AnyObject,
  ConfigMap,
  Event,
  Lease,
  NetworkPolicy,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
  StatefulSet,
  type StringMap
} from "../domain/Kubernetes.ts"

/**
 * Why a Kubernetes call failed, classified once at the boundary: also the metric label and the
 * Event reason.
 */
export const ErrorReason = Schema.Literals([
  "NotFound",
  "Conflict",
  "AlreadyExists",
  "Gone",
  "Unauthorized",
  "Forbidden",
  "Invalid",
  "BadRequest",
  "TooManyRequests",
  "Timeout",
  "Unavailable",
  "BadResponse"
])
/** A decoded {@link ErrorReason}. */
export type ErrorReason = typeof ErrorReason.Type

/** A failed Kubernetes call: its reason, a message and the operation. */
export class KubernetesError extends Schema.TaggedError<KubernetesError>()("KubernetesError", {
  reason: ErrorReason,
  message: Schema.String,
  /** What was being done, e.g. `update apps/v1 StatefulSet ns/name`. */
  operation: Schema.String
}) {}

/**
 * Maps an HTTP status of the Kubernetes API (and the `reason` of the Status object it sent, when
 * any) to a reason; the one place where codes are read. The API answers both "already exists"
 * and "stale resourceVersion" with 409: only the Status reason tells them apart.
 */
export const reasonOfStatus = (status: number, statusReason?: string): ErrorReason => {
  if (status === 409 && statusReason === "AlreadyExists") return "AlreadyExists"
  switch (status) {
    case 400:
      return "BadRequest"
    case 401:
      return "Unauthorized"
    case 403:
      return "Forbidden"
    case 404:
      return "NotFound"
    case 409:
      return "Conflict"
    case 410:
      return "Gone"
    case 422:
      return "Invalid"
    case 429:
      return "TooManyRequests"
    case 504:
      return "Timeout"
    default:
      return status >= 500 ? "Unavailable" : "BadRequest"
  }
}

/** A kind the operator reads or writes, with the Schema its objects decode with. */
export interface Resource<A> {
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly plural: string
  readonly namespaced: boolean
  /** Whether `status` is a subresource (written only through `updateStatus`). */
  readonly statusSubresource: boolean
  readonly schema: Schema.Codec<A, unknown>
}

/** The `apiVersion` of a resource's objects. */
export const apiVersionOf = (resource: Resource<unknown>): string =>
  resource.group === "" ? resource.version : `${resource.group}/${resource.version}`

/** A resource and object for messages: `apps/v1 StatefulSet ns/name`. */
export const describe = (resource: Resource<unknown>, namespace: string, name: string): string =>
  `${apiVersionOf(resource)} ${resource.kind} ${namespace}/${name}`

/** The kinds the operator reads and writes, each with its API coordinates and Schema. */
export const Resources = {
  Service: {
    group: "", version: "v1", kind: "Service", plural: "services", namespaced: true,
    statusSubresource: true, schema: Service
  } satisfies Resource<Service>,
  Secret: {
    group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true,
    statusSubresource: false, schema: Secret
  } satisfies Resource<Secret>,
  StatefulSet: {
    group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true,
    statusSubresource: true, schema: StatefulSet
  } satisfies Resource<StatefulSet>,
  NetworkPolicy: {
    group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true,
    statusSubresource: false, schema: NetworkPolicy
  } satisfies Resource<NetworkPolicy>,
  ConfigMap: {
    group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true,
    statusSubresource: false, schema: ConfigMap
  } satisfies Resource<ConfigMap>,
  PersistentVolumeClaim: {
    group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true,
    statusSubresource: true, schema: PersistentVolumeClaim
  } satisfies Resource<PersistentVolumeClaim>,
  Pod: {
    group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true,
    statusSubresource: true, schema: Pod
  } satisfies Resource<Pod>,
  Lease: {
    group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true,
    statusSubresource: false, schema: Lease
  } satisfies Resource<Lease>,
  Event: {
    group: "", version: "v1", kind: "Event", plural: "events", namespaced: true,
    statusSubresource: false, schema: Event
  } satisfies Resource<Event>,
  DittoServer: {
    group: DittoServerDomain.group, version: DittoServerDomain.version, kind: DittoServerDomain.kind,
    plural: DittoServerDomain.plural, namespaced: true, statusSubresource: true, schema: DittoServerDomain.DittoServer
  } satisfies Resource<DittoServerDomain.DittoServer>
} as const

/**
 * The same kind read as `AnyObject` (kind and metadata checked, everything else kept): for
 * readers, such as reflectors, that must not fail on an object whose spec our Schema rejects.
 */
export const raw = <A>(resource: Resource<A>): Resource<AnyObject> => ({ ...resource, schema: AnyObject })

/** How to narrow a list or watch. */
export interface ListOptions {
  /** Equality-based label selector: every pair must match. */
  readonly labelSelector?: StringMap
}

/** What must still hold of an object for a delete to go through. */
export interface DeletePreconditions {
  readonly uid?: string
  readonly resourceVersion?: string
}

/** A list and the resourceVersion of the collection it was read at: where a watch starts. */
export interface ListResult<A> {
  readonly items: ReadonlyArray<A>
  readonly resourceVersion: string
}

/** Where a watch starts and how long the server keeps it open. */
export interface WatchOptions extends ListOptions {
  /**
   * Changes after this version are delivered (normally a `ListResult`'s or the last event's);
   * `"0"` starts with the current objects as `Added`.
   */
  readonly resourceVersion: string
  /** The server closes the watch after this long (absent or 0: the server's own limit). */
  readonly timeoutSeconds?: number
}

/** A change seen by a watch; a `Bookmark` only moves the resourceVersion forward. */
export type WatchEvent<A> =
  | { readonly _tag: "Added" | "Modified" | "Deleted"; readonly object: A }
  | { readonly _tag: "Bookmark"; readonly resourceVersion: string }

/**
 * The Kubernetes API, as far as the operator uses it. Objects are decoded with the resource's
 * Schema; errors are classified into {@link KubernetesError}.
 */
export interface Api {
  /** Reads one object; `NotFound` when there is none. */
  readonly get: <A>(resource: Resource<A>, namespace: string, name: string) => Effect.Effect<A, KubernetesError>
  /** Lists the objects of a kind in a namespace. */
  readonly list: <A>(
    resource: Resource<A>,
    namespace: string,
    options?: ListOptions
  ) => Effect.Effect<ReadonlyArray<A>, KubernetesError>
  /** A list with the collection's resourceVersion; `namespace` undefined: all namespaces. */
  readonly listWithVersion: <A>(
    resource: Resource<A>,
    namespace: string | undefined,
    options?: ListOptions
  ) => Effect.Effect<ListResult<A>, KubernetesError>
  /** The changes after `options.resourceVersion`; `namespace` undefined: all namespaces. */
  readonly watch: <A>(
    resource: Resource<A>,
    namespace: string | undefined,
    options: WatchOptions
  ) => Stream.Stream<WatchEvent<A>, KubernetesError>
  /** Creates an object; `AlreadyExists` when one of that name exists. */
  readonly create: <A>(resource: Resource<A>, object: A) => Effect.Effect<A, KubernetesError>
  /** Replaces an object at its resourceVersion; `Conflict` when it is stale. */
  readonly update: <A>(resource: Resource<A>, object: A) => Effect.Effect<A, KubernetesError>
  /** Replaces an object's status subresource at its resourceVersion; `Conflict` when it is stale. */
  readonly updateStatus: <A>(resource: Resource<A>, object: A) => Effect.Effect<A, KubernetesError>
  /**
   * Merge-patches an object's status subresource from `previous`'s status to `next`'s, without a
   * resourceVersion: never `Conflict`.
   */
  readonly patchStatus: <A>(resource: Resource<A>, previous: A, next: A) => Effect.Effect<A, KubernetesError>
  /** Deletes an object, if the preconditions still hold. */
  readonly delete: <A>(
    resource: Resource<A>,
    namespace: string,
    name: string,
    preconditions?: DeletePreconditions
  ) => Effect.Effect<void, KubernetesError>
}

/**
 * The Kubernetes service: the live layer speaks to an API server, `KubernetesMemory` is one in
 * memory.
 */
export class Kubernetes extends Context.Service<Kubernetes, Api>()("@dittofs-operator/core/Kubernetes") {}
