/**
 * Lists and watches of the in-memory API server, served from the store and the event log by the
 * watch cache's rules.
 *
 * Contract:
 * - Equality label selectors; lists sort by `namespace/name`, as etcd keys do.
 * - A logged change as one watch sees it: matching now and before is `Modified`, now only
 *   `Added`, before only (a deletion, or labels that stopped matching) `Deleted` with the
 *   previous state at the change's revision.
 * - A watch from `""` or `"0"` starts with the current objects as `Added`; from a version older
 *   than the log's start it fails with `Gone`; from one that is not a number with `Unavailable`
 *   (the API server answers 500).
 * - Without `timeoutSeconds` a watch lasts 30 minutes, with a bookmark every minute and one 2
 *   seconds before it ends.
 */
import { Result } from "effect"
import type { AnyObject, StringMap } from "../../domain/Kubernetes.ts"
import type { KubernetesError, ListOptions, Resource, WatchEvent } from "../../services/Kubernetes.ts"
import type { ClusterState, LogEntry } from "./Cluster.ts"
import { idOf, type ResourceId } from "./Resource.ts"
import * as Status from "./Status.ts"

export const matchesSelector = (labels: StringMap | undefined, selector: StringMap | undefined): boolean =>
  Object.entries(selector ?? {}).every(([key, value]) => labels !== undefined && Object.hasOwn(labels, key) && labels[key] === value)

/** What a list or a watch looks at: one kind, one namespace (or all of them), a label selector. */
export interface Selection {
  readonly resource: ResourceId
  readonly namespace: string | undefined
  readonly labelSelector: StringMap | undefined
}

export const selectionOf = (resource: Resource<unknown>, namespace: string | undefined, options: ListOptions | undefined): Selection => ({
  resource: idOf(resource),
  namespace,
  labelSelector: options?.labelSelector
})

const inScope = (selection: Selection, resource: ResourceId, namespace: string): boolean =>
  resource.group === selection.resource.group && resource.plural === selection.resource.plural
  && (selection.namespace === undefined || selection.namespace === namespace)

const storageKey = (object: AnyObject): string => `${object.metadata.namespace ?? ""}/${object.metadata.name}`

/** The matching objects in the API server's order: by `namespace/name`, as etcd keys sort. */
export const listed = (state: ClusterState, selection: Selection): ReadonlyArray<AnyObject> =>
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
export const eventsOf = (selection: Selection) => (entry: LogEntry): ReadonlyArray<WatchEvent<AnyObject>> => {
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
export interface WatchStart {
  readonly after: number
  readonly initial: ReadonlyArray<WatchEvent<AnyObject>>
}

export const watchStart = (
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
    return Result.fail(Status.failure("Unavailable", `resourceVersion: Invalid value: "${resourceVersion}": strconv.ParseUint: parsing "${resourceVersion}": invalid syntax`, operation))
  }
  const after = Number(resourceVersion)
  return after < state.logStart
    ? Result.fail(Status.failure("Gone", `too old resource version: ${after} (${state.logStart})`, operation))
    : Result.succeed({ after, initial: [] })
}

/** How long kube-apiserver keeps a watch open without `timeoutSeconds` (or with 0): at least 30 minutes. */
export const defaultWatchTimeoutSeconds = 1800

/**
 * When a watch gets its bookmarks, in seconds from its start: the API server sends one about
 * every minute and one 2 seconds before the watch times out.
 */
export const bookmarkTimes = (timeoutSeconds: number): ReadonlyArray<number> => {
  const times: Array<number> = []
  for (let at = 60; at < timeoutSeconds - 2; at += 60) times.push(at)
  if (timeoutSeconds > 2) times.push(timeoutSeconds - 2)
  return times
}
