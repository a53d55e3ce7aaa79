/**
 * `KubernetesLive`: the core's `Kubernetes` service on a real API server, through
 * `@kubernetes/client-node` 2.
 *
 * Contract (the same as `KubernetesMemory`'s, proved by the shared contract suite):
 * - Configured from a kubeconfig file (`kubeconfigPath`) or, without one, as
 *   `KubeConfig.loadFromDefault` does: `KUBECONFIG`, then `~/.kube/config`, then the in-cluster
 *   service account. A kubeconfig that cannot be loaded fails the layer with
 *   `KubernetesConfigError`.
 * - Every kind takes one path: plain REST requests built from the `Resource`'s
 *   group/version/plural (`/api/v1/...`, `/apis/<group>/<version>/...`). Objects are encoded with
 *   the Resource's Schema and sent as JSON; responses are decoded with it (open Schemas keep the
 *   fields we do not model). List items, which the server sends without `apiVersion`/`kind`, get
 *   them back before decoding.
 * - `update` is a PUT of the whole object (with its `resourceVersion`), `updateStatus` a PUT to
 *   the `/status` subresource, `delete` sends `DeleteOptions` with the uid/resourceVersion
 *   preconditions and `propagationPolicy: Background`.
 * - Every failure is classified once, here, into a `KubernetesError`: the HTTP status through
 *   `reasonOfStatus`, except a 409 whose Status reason is `AlreadyExists` (the API answers both
 *   "already exists" and "stale resourceVersion" with 409); the API's Status message is kept.
 *   Network failures are `Unavailable`, credentials that cannot be obtained `Unauthorized`, a call
 *   that takes longer than `requestTimeout` (default 30 s) `Timeout`, a body that does not decode
 *   `BadResponse`, an object that does not encode `BadRequest`.
 *
 * Why raw requests rather than client-node's typed clients: `KubernetesObjectApi` cannot reach
 * the `/status` subresource, makes a discovery round trip per apiVersion and deserializes into
 * client-node's model classes (timestamps become `Date`s, so our Schemas would not round-trip);
 * `CustomObjectsApi` cannot address the core group. From client-node we take what is hard to get
 * right: kubeconfig loading and every way of authenticating (tokens, token files, exec plugins,
 * client certificates, in-cluster), TLS and proxies (`KubeConfig.applySecurityAuthentication`),
 * and its undici transport. One dispatcher (connection pool) lives as long as the layer; the
 * credentials in headers are refreshed on every request, while TLS material (CA, client
 * certificates) is read when the layer starts.
 *
 * A watch (a later issue) reuses `collectionUrl` with `?watch=1` and the same transport, reading
 * the response body as a stream.
 */
import { K8s, Kubernetes, KubernetesError, KubernetesService } from "@dittofs-operator/core"
import { IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from "@kubernetes/client-node"
import { Duration, Effect, Layer, Option, Schema } from "effect"

type Resource<A> = KubernetesService.Resource<A>

export interface KubernetesLiveOptions {
  /** A kubeconfig file; without it, `KUBECONFIG`, `~/.kube/config` or the in-cluster account. */
  readonly kubeconfigPath?: string
  /** The longest a single API call may take (default 30 seconds). */
  readonly requestTimeout?: Duration.Input
  /** The field manager recorded in `managedFields` for our writes (default `dittofs-operator`). */
  readonly fieldManager?: string
}

/** The kubeconfig could not be loaded, or yields no cluster to talk to. */
export class KubernetesConfigError extends Schema.TaggedError<KubernetesConfigError>()("KubernetesConfigError", {
  message: Schema.String
}) {}

/** A kubeconfig and the API server URL of its current context. */
export interface ClusterConfig {
  readonly kubeConfig: KubeConfig
  readonly server: string
}

type HttpMethod = "GET" | "POST" | "PUT" | "DELETE"

interface HttpResponse {
  readonly status: number
  readonly body: string
}

/** Message of a thrown value, with its cause (undici reports `fetch failed` + the socket error). */
const messageOf = (thrown: unknown): string => {
  if (!(thrown instanceof Error)) return String(thrown)
  return thrown.cause === undefined ? thrown.message : `${thrown.message}: ${messageOf(thrown.cause)}`
}

export const loadClusterConfig = Effect.fn("KubernetesLive.loadClusterConfig")(function*(kubeconfigPath?: string) {
  const kubeConfig = yield* Effect.try({
    try: () => {
      const config = new KubeConfig()
      if (kubeconfigPath === undefined) config.loadFromDefault()
      else config.loadFromFile(kubeconfigPath)
      return config
    },
    catch: (thrown) =>
      new KubernetesConfigError({ message: `cannot load the kubeconfig ${kubeconfigPath ?? "(default)"}: ${messageOf(thrown)}` })
  })
  const cluster = kubeConfig.getCurrentCluster()
  if (cluster === null) {
    return yield* new KubernetesConfigError({ message: `the kubeconfig ${kubeconfigPath ?? "(default)"} has no current cluster` })
  }
  return { kubeConfig, server: cluster.server.replace(/\/+$/, "") } satisfies ClusterConfig
})

const groupVersionPath = (resource: Resource<unknown>): string =>
  resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`

/** The URL of a resource's collection in a namespace (ignored for cluster-scoped kinds). */
export const collectionUrl = (server: string, resource: Resource<unknown>, namespace: string): string =>
  `${server}${groupVersionPath(resource)}${resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${resource.plural}`

const objectUrl = (server: string, resource: Resource<unknown>, namespace: string, name: string): string =>
  `${collectionUrl(server, resource, namespace)}/${encodeURIComponent(name)}`

const withQuery = (url: string, query: Record<string, string>): string => {
  const search = new URLSearchParams(query).toString()
  return search === "" ? url : `${url}?${search}`
}

/** A `metav1.Status` body, as the API server sends it with every failure. */
const ApiStatus = Schema.fromJsonString(K8s.open({
  message: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String)
}))

const JsonBody = Schema.fromJsonString(Schema.Unknown)

const ListBody = Schema.fromJsonString(K8s.open({
  items: Schema.NullOr(Schema.Array(Schema.Record(Schema.String, Schema.Unknown)))
}))

/** The one classification of an API failure response. */
const failureOfResponse = (response: HttpResponse, operation: string): KubernetesError => {
  const status = Schema.decodeOption(ApiStatus)(response.body)
  const statusReason = Option.flatMapNullishOr(status, (value) => value.reason)
  const text = response.body.trim()
  const message = Option.getOrElse(
    Option.flatMapNullishOr(status, (value) => value.message),
    () => text === "" ? `HTTP ${response.status}` : `HTTP ${response.status}: ${text.slice(0, 500)}`
  )
  const reason = Option.contains(statusReason, "AlreadyExists") ? "AlreadyExists" : KubernetesService.reasonOfStatus(response.status)
  return new KubernetesError({ reason, message, operation })
}

const badResponse = (operation: string) => (error: Schema.SchemaError) =>
  new KubernetesError({ reason: "BadResponse", message: error.message, operation })

export const make = Effect.fn("KubernetesLive.make")(function*(options: KubernetesLiveOptions = {}) {
  const { kubeConfig, server } = yield* loadClusterConfig(options.kubeconfigPath)
  const requestTimeout = Duration.fromInputUnsafe(options.requestTimeout ?? Duration.seconds(30))
  const fieldManager = options.fieldManager ?? "dittofs-operator"
  const transport = new IsomorphicFetchHttpLibrary()

  // One connection pool for the layer's lifetime, built by client-node from the kubeconfig's
  // TLS and proxy settings. `applySecurityAuthentication` builds a new one on every call (no
  // connection reuse); ours replaces it before the request, so that one never opens a socket.
  const dispatcher = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const probe = new RequestContext(server, "GET")
        await kubeConfig.applySecurityAuthentication(probe)
        return probe.getDispatcher()
      },
      catch: (thrown) => new KubernetesConfigError({ message: `cannot prepare a connection to ${server}: ${messageOf(thrown)}` })
    }),
    (pool) =>
      pool === undefined ? Effect.void : Effect.tryPromise(() => pool.close()).pipe(
        Effect.catch((error) => Effect.logWarning(`closing the connection pool to ${server} failed: ${messageOf(error)}`))
      )
  )

  const send = (operation: string, method: HttpMethod, url: string, body?: unknown): Effect.Effect<HttpResponse, KubernetesError> =>
    Effect.gen(function*() {
      const context = new RequestContext(url, method)
      context.setHeaderParam("Accept", "application/json")
      if (body !== undefined) {
        context.setHeaderParam("Content-Type", "application/json")
        context.setBody(JSON.stringify(body))
      }
      yield* Effect.tryPromise({
        try: () => kubeConfig.applySecurityAuthentication(context),
        catch: (thrown) => new KubernetesError({ reason: "Unauthorized", message: `cannot obtain credentials: ${messageOf(thrown)}`, operation })
      })
      if (dispatcher !== undefined) context.setDispatcher(dispatcher)
      return yield* Effect.tryPromise({
        try: async (signal) => {
          context.setSignal(signal)
          const response = await transport.send(context).toPromise()
          return { status: response.httpStatusCode, body: await response.body.text() } satisfies HttpResponse
        },
        catch: (thrown) => new KubernetesError({ reason: "Unavailable", message: `${method} ${url}: ${messageOf(thrown)}`, operation })
      })
    }).pipe(
      Effect.timeoutOrElse({
        duration: requestTimeout,
        orElse: () =>
          Effect.fail(new KubernetesError({ reason: "Timeout", message: `no answer within ${Duration.format(requestTimeout)}`, operation }))
      }),
      Effect.filterOrFail(
        (response) => response.status >= 200 && response.status < 300,
        (response) => failureOfResponse(response, operation)
      )
    )

  const decodeObject = <A>(resource: Resource<A>, operation: string, value: unknown): Effect.Effect<A, KubernetesError> =>
    Schema.decodeUnknownEffect(resource.schema)(value).pipe(Effect.mapError(badResponse(operation)))

  const decodeResponse = <A>(resource: Resource<A>, operation: string) => (response: HttpResponse) =>
    Schema.decodeEffect(JsonBody)(response.body).pipe(
      Effect.mapError(badResponse(operation)),
      Effect.flatMap((value) => decodeObject(resource, operation, value))
    )

  /** The object as JSON, and where it lives. */
  const encode = <A>(resource: Resource<A>, verb: string, object: A) =>
    Schema.encodeUnknownEffect(resource.schema)(object).pipe(
      Effect.flatMap((encoded) =>
        Schema.decodeUnknownEffect(K8s.AnyObject)(encoded).pipe(
          Effect.map((header) => ({
            encoded,
            namespace: header.metadata.namespace ?? "",
            name: header.metadata.name,
            operation: `${verb} ${KubernetesService.describe(resource, header.metadata.namespace ?? "", header.metadata.name)}`
          }))
        )
      ),
      Effect.mapError((error) =>
        new KubernetesError({ reason: "BadRequest", message: error.message, operation: `${verb} ${KubernetesService.apiVersionOf(resource)} ${resource.kind}` })
      )
    )

  const write = <A>(resource: Resource<A>, verb: "create" | "update" | "updateStatus", object: A) =>
    Effect.gen(function*() {
      const { encoded, name, namespace, operation } = yield* encode(resource, verb, object)
      const url = verb === "create"
        ? collectionUrl(server, resource, namespace)
        : `${objectUrl(server, resource, namespace, name)}${verb === "updateStatus" ? "/status" : ""}`
      const response = yield* send(operation, verb === "create" ? "POST" : "PUT", withQuery(url, { fieldManager }), encoded)
      return yield* decodeResponse(resource, operation)(response)
    })

  return Kubernetes.of({
    get: (resource, namespace, name) => {
      const operation = `get ${KubernetesService.describe(resource, namespace, name)}`
      return send(operation, "GET", objectUrl(server, resource, namespace, name)).pipe(
        Effect.flatMap(decodeResponse(resource, operation)),
        Effect.withSpan("KubernetesLive.get")
      )
    },
    list: (resource, namespace, listOptions) => {
      const operation = `list ${KubernetesService.apiVersionOf(resource)} ${resource.kind} ${namespace}`
      const selector = Object.entries(listOptions?.labelSelector ?? {}).map(([key, value]) => `${key}=${value}`).join(",")
      const url = withQuery(collectionUrl(server, resource, namespace), selector === "" ? {} : { labelSelector: selector })
      return send(operation, "GET", url).pipe(
        Effect.flatMap((response) => Schema.decodeEffect(ListBody)(response.body).pipe(Effect.mapError(badResponse(operation)))),
        Effect.flatMap((list) =>
          Effect.forEach(list.items ?? [], (item) =>
            decodeObject(resource, operation, { apiVersion: KubernetesService.apiVersionOf(resource), kind: resource.kind, ...item }))
        ),
        Effect.withSpan("KubernetesLive.list")
      )
    },
    create: (resource, object) => write(resource, "create", object).pipe(Effect.withSpan("KubernetesLive.create")),
    update: (resource, object) => write(resource, "update", object).pipe(Effect.withSpan("KubernetesLive.update")),
    updateStatus: (resource, object) => write(resource, "updateStatus", object).pipe(Effect.withSpan("KubernetesLive.updateStatus")),
    delete: (resource, namespace, name, preconditions) => {
      const operation = `delete ${KubernetesService.describe(resource, namespace, name)}`
      return send(operation, "DELETE", objectUrl(server, resource, namespace, name), deleteOptions(preconditions)).pipe(
        Effect.asVoid,
        Effect.withSpan("KubernetesLive.delete")
      )
    }
  })
})

const deleteOptions = (preconditions: KubernetesService.DeletePreconditions | undefined) => ({
  apiVersion: "v1",
  kind: "DeleteOptions",
  propagationPolicy: "Background",
  ...(preconditions === undefined || (preconditions.uid === undefined && preconditions.resourceVersion === undefined)
    ? {}
    : { preconditions })
})

/** The `Kubernetes` service on the API server of a kubeconfig (or the in-cluster one). */
export const layer = (options: KubernetesLiveOptions = {}): Layer.Layer<Kubernetes, KubernetesConfigError> =>
  Layer.effect(Kubernetes, make(options))
