/**
 * The external services, measured (and the Kubernetes writes fenced), without touching their
 * live layers: each wrapper takes a service and returns one of the same shape.
 *
 * - `kubernetes(api, fence)`: counts every request in `rest_client_requests_total{verb,code}`
 *   (code: the HTTP status the error reason stands for; 200/201 on success) and refuses every
 *   write (create, update, updateStatus, patchStatus, delete) while `fence` says no, with a `KubernetesError`
 *   `Unavailable` that never reaches the API server. Leader election's fence is "this process
 *   holds a Lease it renewed less than the renew deadline ago": a deposed leader cannot write.
 * - `dittoFs(api)`: `dittofs_adapter_poll_total{result}` and its duration, the active adapters
 *   per endpoint, and `dittofs_token_refresh_total{result}`.
 */
import { DittoFs, Kubernetes } from "@dittofs-operator/core"
import { Effect, Stream } from "effect"
import * as Metrics from "./Metrics.ts"

/** The HTTP status a Kubernetes error reason stands for (the reason was classified from it). */
export const statusOfReason = (reason: Kubernetes.ErrorReason): string =>
  ({
    NotFound: "404",
    Conflict: "409",
    AlreadyExists: "409",
    Gone: "410",
    Unauthorized: "401",
    Forbidden: "403",
    Invalid: "422",
    BadRequest: "400",
    TooManyRequests: "429",
    Timeout: "504",
    Unavailable: "503",
    BadResponse: "<error>"
  } as const satisfies Record<Kubernetes.ErrorReason, string>)[reason]

const counted = <A, R>(verb: string, ok: string, effect: Effect.Effect<A, Kubernetes.KubernetesError, R>) =>
  effect.pipe(
    Effect.tap(() => Metrics.increment(Metrics.apiRequestsTotal, { verb, code: ok })),
    Effect.tapError((error) => Metrics.increment(Metrics.apiRequestsTotal, { verb, code: statusOfReason(error.reason) }))
  )

/** Whether writes may go out now (see the module's contract). */
export type Fence = Effect.Effect<boolean>

export const alwaysOpen: Fence = Effect.succeed(true)

const fenced = <A>(fence: Fence, operation: string, effect: Effect.Effect<A, Kubernetes.KubernetesError>) =>
  Effect.flatMap(fence, (open) =>
    open
      ? effect
      : Effect.fail(
        new Kubernetes.KubernetesError({
          reason: "Unavailable",
          message: "not the leader: writes are fenced until this process holds the Lease again",
          operation
        })
      ))

/** The operation a refused write names: `create apps/v1 StatefulSet ns/name` (`ns` empty for a cluster-wide object). */
const describe = (verb: string, resource: Kubernetes.Resource<unknown>, namespace: string | undefined, name: string) =>
  `${verb} ${Kubernetes.describe(resource, namespace ?? "", name)}`

/** Every Resource's Schema requires `metadata.name` (`K8s.ObjectMeta`), so a written object has one. */
const metaOf = (object: unknown): { readonly namespace?: string; readonly name: string } =>
  (object as { readonly metadata: { readonly namespace?: string; readonly name: string } }).metadata

export const kubernetes = (api: Kubernetes.Api, fence: Fence = alwaysOpen): Kubernetes.Api => ({
  get: (resource, namespace, name) => counted("get", "200", api.get(resource, namespace, name)),
  list: (resource, namespace, options) => counted("list", "200", api.list(resource, namespace, options)),
  listWithVersion: (resource, namespace, options) => counted("list", "200", api.listWithVersion(resource, namespace, options)),
  watch: (resource, namespace, options) =>
    api.watch(resource, namespace, options).pipe(
      Stream.onStart(Metrics.increment(Metrics.apiRequestsTotal, { verb: "watch", code: "200" })),
      Stream.tapError((error) => Metrics.increment(Metrics.apiRequestsTotal, { verb: "watch", code: statusOfReason(error.reason) }))
    ),
  create: (resource, object) => {
    const { name, namespace } = metaOf(object)
    return fenced(fence, describe("create", resource, namespace, name), counted("create", "201", api.create(resource, object)))
  },
  update: (resource, object) => {
    const { name, namespace } = metaOf(object)
    return fenced(fence, describe("update", resource, namespace, name), counted("update", "200", api.update(resource, object)))
  },
  updateStatus: (resource, object) => {
    const { name, namespace } = metaOf(object)
    return fenced(fence, describe("update status", resource, namespace, name), counted("update", "200", api.updateStatus(resource, object)))
  },
  patchStatus: (resource, previous, next) => {
    const { name, namespace } = metaOf(next)
    return fenced(fence, describe("patch status", resource, namespace, name), counted("patch", "200", api.patchStatus(resource, previous, next)))
  },
  delete: (resource, namespace, name, preconditions) =>
    fenced(fence, describe("delete", resource, namespace, name), counted("delete", "200", api.delete(resource, namespace, name, preconditions)))
})

const resultOf = <A>(effect: Effect.Effect<A, DittoFs.DittoFsError>, counter: typeof Metrics.adapterPollTotal) =>
  effect.pipe(
    Effect.tap(() => Metrics.increment(counter, { result: "success" })),
    Effect.tapError((error) => Metrics.increment(counter, { result: error.reason }))
  )

export const dittoFs = (api: DittoFs.Api): DittoFs.Api => ({
  ...api,
  refresh: (baseUrl, refreshToken) => resultOf(api.refresh(baseUrl, refreshToken), Metrics.tokenRefreshTotal),
  listAdapters: (baseUrl, accessToken) =>
    Effect.gen(function*() {
      const start = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const list = yield* resultOf(api.listAdapters(baseUrl, accessToken), Metrics.adapterPollTotal).pipe(
        Effect.ensuring(Effect.flatMap(Metrics.secondsSince(start), (seconds) => Metrics.record(Metrics.adapterPollDuration, {}, seconds)))
      )
      const active = list.adapters.filter((adapter) => adapter.enabled && adapter.running).length
      yield* Metrics.record(Metrics.adaptersActive, { endpoint: baseUrl }, active)
      return list
    })
})
