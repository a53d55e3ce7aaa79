/**
 * `KubernetesLive`: the core's `Kubernetes` service on a real API server, as plain REST over
 * node:http(s).
 *
 * Contract (the same as `KubernetesMemory`'s, proved by the shared contract suite):
 * - Configured from a kubeconfig file (`kubeconfigPath`) or, without one, as
 *   kubectl does (`KubeConfig.load`): `KUBECONFIG`, then `~/.kube/config`, then the in-cluster
 *   service account. A kubeconfig that cannot be loaded fails the layer with
 *   `KubernetesConfigError`.
 * - Every kind takes one path: plain REST requests built from the `Resource`'s
 *   group/version/plural (`/api/v1/...`, `/apis/<group>/<version>/...`). Objects are encoded with
 *   the Resource's Schema and sent as JSON; responses are decoded with it (open Schemas keep the
 *   fields we do not model). List items, which the server sends without `apiVersion`/`kind`, get
 *   them back before decoding.
 * - `update` is a PUT of the whole object (with its `resourceVersion`), `updateStatus` a PUT to
 *   the `/status` subresource, `patchStatus` a PATCH of it (`application/merge-patch+json`), `delete` sends `DeleteOptions` with the uid/resourceVersion
 *   preconditions and `propagationPolicy: Background`.
 * - Every failure is classified once, here, into a `KubernetesError`: the HTTP status through
 *   `reasonOfStatus` from the HTTP status and the Status object's reason (the API answers both
 *   "already exists" and "stale resourceVersion" with 409); the API's Status message is kept.
 *   Network failures are `Unavailable`, credentials that cannot be obtained `Unauthorized`, a call
 *   that takes longer than `requestTimeout` (default 30 s) `Timeout`, a body that does not decode
 *   `BadResponse`, an object that does not encode (or a request node refuses to send: a name
 *   that makes no URL) `BadRequest`.
 * - `listWithVersion` returns the list's `metadata.resourceVersion`. `watch` is a streaming GET
 *   of the collection (`?watch=1&resourceVersion=…&allowWatchBookmarks=true`, with
 *   `timeoutSeconds` and `labelSelector` when given) on the same transport, read as
 *   newline-delimited JSON; each object is decoded with the Resource's Schema (`apiVersion`/`kind`
 *   added back when missing). The stream ends when the server closes the response; an `ERROR`
 *   event fails it, classified like a failed response from the Status it carries (a 410 `Expired`
 *   is `Gone`). `requestTimeout` bounds the wait for the response headers; a watch the server has
 *   not closed `requestTimeout` after its `timeoutSeconds` (or after an hour without one) fails
 *   with `Timeout`, so a dead connection cannot hang a watcher. The request is aborted when the
 *   stream's scope closes, however it ends: no socket outlives its stream.
 *
 * Why raw requests rather than client-node's typed clients: they cannot reach the `/status`
 * subresource, make a discovery round trip per apiVersion and deserialize into model classes
 * (timestamps become `Date`s, so our Schemas would not round-trip). Kubeconfig loading and
 * authentication are `KubeConfig` (tokens, token files, exec plugins, client certificates,
 * in-cluster). Requests go straight through node:https (`HttpExchange`: about 0.7 ms less CPU
 * per create than effect's client, which matters at thousands of writes), watches through effect's
 * node:http client (`NodeHttpClient.makeNodeHttp`, streaming, aborted with their scope); both on
 * one keep-alive `https.Agent` built from the kubeconfig's TLS settings that lives as long as the
 * layer (closing the layer destroys its sockets). The
 * `Authorization` header is computed on every request (rotating token files, expiring exec
 * tokens); TLS material is read when the layer starts.
 */
import { K8s, Kubernetes, MergePatch } from "@dittofs-operator/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Duration, Effect, Layer, Option, Schema, type Scope, Stream } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { createSecureContext } from "node:tls"
import * as HttpExchange from "./HttpExchange.ts"
import * as KubeConfig from "./KubeConfig.ts"

type Resource<A> = Kubernetes.Resource<A>

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

/** The API server of a kubeconfig's current context, its TLS settings and credentials. */
export type ClusterConfig = KubeConfig.ClusterConfig

type HttpMethod = HttpExchange.Method
type HttpResponse = HttpExchange.Response

export const loadClusterConfig = Effect.fn("KubernetesLive.loadClusterConfig")(function*(kubeconfigPath?: string) {
  return yield* Effect.try({
    try: () => KubeConfig.load(kubeconfigPath),
    catch: (thrown) =>
      new KubernetesConfigError({ message: `cannot load the kubeconfig ${kubeconfigPath ?? "(default)"}: ${HttpExchange.describeError(thrown)}` })
  })
})

const groupVersionPath = (resource: Resource<unknown>): string =>
  resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`

/**
 * The URL of a resource's collection in a namespace, or in all namespaces when `namespace` is
 * undefined (the namespace is ignored for cluster-scoped kinds).
 */
export const collectionUrl = (server: string, resource: Resource<unknown>, namespace: string | undefined): string =>
  `${server}${groupVersionPath(resource)}${
    resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : ""
  }/${resource.plural}`

const objectUrl = (server: string, resource: Resource<unknown>, namespace: string, name: string): string =>
  `${collectionUrl(server, resource, namespace)}/${encodeURIComponent(name)}`

const withQuery = (url: string, query: Record<string, string>): string => {
  const search = new URLSearchParams(query).toString()
  return search === "" ? url : `${url}?${search}`
}

/** `labelSelector=k=v,…` for an equality selector; nothing for none. */
const selectorQuery = (options: Kubernetes.ListOptions | undefined): Record<string, string> => {
  const selector = Object.entries(options?.labelSelector ?? {}).map(([key, value]) => `${key}=${value}`).join(",")
  return selector === "" ? {} : { labelSelector: selector }
}

/** A `metav1.Status`, as the API server sends it with every failure (and in watch `ERROR` events). */
const ApiStatusObject = K8s.open({
  code: Schema.optionalKey(Schema.Int),
  message: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String)
})
type ApiStatusObject = typeof ApiStatusObject.Type

const ApiStatus = Schema.fromJsonString(ApiStatusObject)

const JsonBody = Schema.fromJsonString(Schema.Unknown)

const ListBody = Schema.fromJsonString(K8s.open({
  metadata: Schema.optionalKey(K8s.open({ resourceVersion: Schema.optionalKey(Schema.String) })),
  items: Schema.NullOr(Schema.Array(Schema.Record(Schema.String, Schema.Unknown)))
}))

/** One line of a watch response. */
const WatchLine = Schema.fromJsonString(Schema.Struct({
  type: Schema.Literals(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: Schema.Record(Schema.String, Schema.Unknown)
}))

/** The object of a `BOOKMARK` event: only its resourceVersion means anything. */
const Bookmark = K8s.open({ metadata: K8s.open({ resourceVersion: Schema.String }) })

const changeTags = { ADDED: "Added", MODIFIED: "Modified", DELETED: "Deleted" } as const

/**
 * The one classification of an API failure: the HTTP status (or the code of a Status sent in a
 * watch) and the Status reason, through the core's `reasonOfStatus`.
 */
const failureOfStatus = (code: number, status: Option.Option<ApiStatusObject>, fallback: string, operation: string): Kubernetes.KubernetesError => {
  const statusReason = Option.flatMapNullishOr(status, (value) => value.reason)
  const message = Option.getOrElse(Option.flatMapNullishOr(status, (value) => value.message), () => fallback)
  const reason = Kubernetes.reasonOfStatus(code, Option.getOrUndefined(statusReason))
  return new Kubernetes.KubernetesError({ reason, message, operation })
}

const failureOfResponse = (response: HttpResponse, operation: string): Kubernetes.KubernetesError => {
  const text = response.body.trim()
  return failureOfStatus(
    response.status,
    Schema.decodeOption(ApiStatus)(response.body),
    text === "" ? `HTTP ${response.status}` : `HTTP ${response.status}: ${text.slice(0, 500)}`,
    operation
  )
}

const badResponse = (operation: string) => (error: Schema.SchemaError) =>
  new Kubernetes.KubernetesError({ reason: "BadResponse", message: error.message, operation })

export const make = Effect.fn("KubernetesLive.make")(function*(options: KubernetesLiveOptions = {}) {
  const cluster = yield* loadClusterConfig(options.kubeconfigPath)
  const server = cluster.server
  const requestTimeout = Duration.fromInputUnsafe(options.requestTimeout ?? Duration.seconds(30))
  const fieldManager = options.fieldManager ?? "dittofs-operator"
  // One keep-alive agent (connection pool) for the layer's lifetime, with the kubeconfig's TLS
  // settings in one secure context: without it every new socket parses the CA and certificates
  // into a context of its own (CPU, and native memory the allocator keeps). The scope's end
  // destroys the agent and so every socket still open.
  const { ca, cert, key, ...verification } = cluster.tls
  const secureContext = createSecureContext({ ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) })
  const agent = yield* NodeHttpClient.makeAgent({ keepAlive: true, secureContext, ...verification })
  // watches stream through effect's client, on the same agent
  const scopedClient = HttpClient.withScope(yield* Effect.provideService(NodeHttpClient.makeNodeHttp, NodeHttpClient.HttpAgent, agent))

  /** A request with the current credentials (for the streaming client). */
  const prepare = (
    operation: string,
    method: HttpMethod,
    url: string
  ): Effect.Effect<HttpClientRequest.HttpClientRequest, Kubernetes.KubernetesError> =>
    Effect.map(authorize(operation), (authorization) =>
      HttpClientRequest.make(method)(url).pipe(
        HttpClientRequest.acceptJson,
        authorization === undefined ? (r) => r : HttpClientRequest.setHeader("authorization", authorization)
      ))

  /** The current `Authorization` header value (rotating token files, expiring exec tokens). */
  const authorize = (operation: string): Effect.Effect<string | undefined, Kubernetes.KubernetesError> =>
    Effect.suspend(() => {
      const header = cluster.authorization()
      return header instanceof Promise
        ? Effect.tryPromise({
          try: () => header,
          catch: (thrown) => new Kubernetes.KubernetesError({ reason: "Unauthorized", message: `cannot obtain credentials: ${HttpExchange.describeError(thrown)}`, operation })
        })
        : Effect.succeed(header)
    })

  const unavailable = (operation: string, method: HttpMethod, url: string) => (error: HttpClientError.HttpClientError) =>
    new Kubernetes.KubernetesError({ reason: "Unavailable", message: `${method} ${url}: ${HttpExchange.describeError(error.reason.cause ?? error)}`, operation })

  const timeoutAfter = (operation: string) =>
    Effect.timeoutOrElse({
      duration: requestTimeout,
      orElse: () =>
        Effect.fail(new Kubernetes.KubernetesError({ reason: "Timeout", message: `no answer within ${Duration.format(requestTimeout)}`, operation }))
    })

  const isSuccess = (status: number): boolean => status >= 200 && status < 300

  const readBody = (operation: string, method: HttpMethod, url: string) => (response: HttpClientResponse.HttpClientResponse) =>
    Effect.map(response.text, (body): HttpResponse => ({ status: response.status, body })).pipe(
      Effect.mapError(unavailable(operation, method, url))
    )

  const send = (operation: string, method: HttpMethod, url: string, body?: unknown, contentType = "application/json"): Effect.Effect<HttpResponse, Kubernetes.KubernetesError> =>
    authorize(operation).pipe(
      Effect.flatMap((authorization) => {
        const text = body === undefined ? undefined : JSON.stringify(body)
        return HttpExchange.exchange(agent, {
          method,
          url,
          headers: {
            accept: "application/json",
            ...(authorization === undefined ? {} : { authorization }),
            ...(text === undefined ? {} : { "content-type": contentType })
          },
          body: text
        }).pipe(
          Effect.mapError((failed) =>
            new Kubernetes.KubernetesError({
              reason: failed.reason === "Invalid" ? "BadRequest" : "Unavailable",
              message: `${method} ${url}: ${HttpExchange.describeError(failed.cause)}`,
              operation
            })
          )
        )
      }),
      timeoutAfter(operation),
      Effect.filterOrFail((response) => isSuccess(response.status), (response) => failureOfResponse(response, operation))
    )

  /**
   * Opens a streaming GET: the response body once the headers are in (within `requestTimeout`).
   * The request is aborted when the scope closes.
   */
  const openStream = (operation: string, url: string): Effect.Effect<Stream.Stream<Uint8Array, Kubernetes.KubernetesError>, Kubernetes.KubernetesError, Scope.Scope> =>
    Effect.gen(function*() {
      const request = yield* prepare(operation, "GET", url)
      const response = yield* scopedClient.execute(request).pipe(
        Effect.mapError(unavailable(operation, "GET", url)),
        timeoutAfter(operation)
      )
      if (!isSuccess(response.status)) {
        const failed = yield* readBody(operation, "GET", url)(response).pipe(timeoutAfter(operation))
        return yield* failureOfResponse(failed, operation)
      }
      return Stream.mapError(response.stream, (error) =>
        new Kubernetes.KubernetesError({ reason: "Unavailable", message: `reading the watch: ${HttpExchange.describeError(error.reason.cause ?? error)}`, operation }))
    })

  const decodeObject = <A>(resource: Resource<A>, operation: string, value: unknown): Effect.Effect<A, Kubernetes.KubernetesError> =>
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
            operation: `${verb} ${Kubernetes.describe(resource, header.metadata.namespace ?? "", header.metadata.name)}`
          }))
        )
      ),
      Effect.mapError((error) =>
        new Kubernetes.KubernetesError({ reason: "BadRequest", message: error.message, operation: `${verb} ${Kubernetes.apiVersionOf(resource)} ${resource.kind}` })
      )
    )

  const listAt = <A>(resource: Resource<A>, namespace: string | undefined, listOptions: Kubernetes.ListOptions | undefined) => {
    const operation = `list ${Kubernetes.apiVersionOf(resource)} ${resource.kind} ${namespace ?? "(all namespaces)"}`
    const url = withQuery(collectionUrl(server, resource, namespace), selectorQuery(listOptions))
    return send(operation, "GET", url).pipe(
      Effect.flatMap((response) => Schema.decodeEffect(ListBody)(response.body).pipe(Effect.mapError(badResponse(operation)))),
      Effect.flatMap((list) =>
        Effect.map(
          Effect.forEach(list.items ?? [], (item) => decodeObject(resource, operation, withTypeMeta(resource, item))),
          (items) => ({ items, resourceVersion: Option.fromNullishOr(list.metadata?.resourceVersion), operation })
        )
      )
    )
  }

  /** One line of a watch: an event, or the failure an `ERROR` event carries. */
  const watchEvent = <A>(resource: Resource<A>, operation: string, line: string): Effect.Effect<Kubernetes.WatchEvent<A>, Kubernetes.KubernetesError> =>
    Schema.decodeEffect(WatchLine)(line).pipe(
      Effect.mapError(badResponse(operation)),
      Effect.flatMap(({ object, type }): Effect.Effect<Kubernetes.WatchEvent<A>, Kubernetes.KubernetesError> => {
        switch (type) {
          case "BOOKMARK":
            return Schema.decodeUnknownEffect(Bookmark)(object).pipe(
              Effect.mapError(badResponse(operation)),
              Effect.map((bookmark) => ({ _tag: "Bookmark", resourceVersion: bookmark.metadata.resourceVersion }))
            )
          case "ERROR": {
            const status = Schema.decodeOption(ApiStatusObject)(object)
            const code = Option.getOrElse(Option.flatMapNullishOr(status, (value) => value.code), () => 500)
            return Effect.fail(failureOfStatus(code, status, `watch ERROR event: ${line.slice(0, 500)}`, operation))
          }
          default:
            return Effect.map(
              decodeObject(resource, operation, withTypeMeta(resource, object)),
              (decoded) => ({ _tag: changeTags[type], object: decoded })
            )
        }
      })
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

  return Kubernetes.Kubernetes.of({
    get: (resource, namespace, name) => {
      const operation = `get ${Kubernetes.describe(resource, namespace, name)}`
      return send(operation, "GET", objectUrl(server, resource, namespace, name)).pipe(
        Effect.flatMap(decodeResponse(resource, operation)),
        Effect.withSpan("KubernetesLive.get")
      )
    },
    list: (resource, namespace, listOptions) =>
      listAt(resource, namespace, listOptions).pipe(Effect.map((list) => list.items), Effect.withSpan("KubernetesLive.list")),
    listWithVersion: (resource, namespace, listOptions) =>
      listAt(resource, namespace, listOptions).pipe(
        Effect.flatMap(({ items, operation, resourceVersion }) =>
          Option.match(resourceVersion, {
            onNone: () =>
              Effect.fail(new Kubernetes.KubernetesError({ reason: "BadResponse", message: "the list carries no metadata.resourceVersion", operation })),
            onSome: (version) => Effect.succeed({ items, resourceVersion: version })
          })
        ),
        Effect.withSpan("KubernetesLive.listWithVersion")
      ),
    watch: (resource, namespace, watchOptions) => {
      const operation = `watch ${Kubernetes.apiVersionOf(resource)} ${resource.kind} ${namespace ?? "(all namespaces)"}`
      const { resourceVersion, timeoutSeconds } = watchOptions
      const url = withQuery(collectionUrl(server, resource, namespace), {
        watch: "1",
        resourceVersion,
        allowWatchBookmarks: "true",
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds: String(timeoutSeconds) }),
        ...selectorQuery(watchOptions)
      })
      const deadline = Duration.sum(
        Duration.seconds(timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : defaultWatchDeadlineSeconds),
        requestTimeout
      )
      return Stream.unwrap(Effect.map(openStream(operation, url), (body) =>
        body.pipe(
          Stream.decodeText,
          Stream.splitLines,
          Stream.filter((line) => line.trim() !== ""),
          Stream.mapEffect((line) => watchEvent(resource, operation, line)),
          Stream.interruptWhen(Effect.andThen(
            Effect.sleep(deadline),
            Effect.fail(new Kubernetes.KubernetesError({ reason: "Timeout", message: `the server did not close the watch within ${Duration.format(deadline)}`, operation }))
          ))
        ))).pipe(Stream.withSpan("KubernetesLive.watch"))
    },
    create: (resource, object) => write(resource, "create", object).pipe(Effect.withSpan("KubernetesLive.create")),
    update: (resource, object) => write(resource, "update", object).pipe(Effect.withSpan("KubernetesLive.update")),
    updateStatus: (resource, object) => write(resource, "updateStatus", object).pipe(Effect.withSpan("KubernetesLive.updateStatus")),
    patchStatus: Effect.fn("KubernetesLive.patchStatus")(function*<A>(resource: Resource<A>, previous: A, next: A) {
      const from = yield* encode(resource, "patchStatus", previous)
      const { encoded, name, namespace, operation } = yield* encode(resource, "patchStatus", next)
      const body = { status: MergePatch.ofStatus(from.encoded, encoded) }
      const url = withQuery(`${objectUrl(server, resource, namespace, name)}/status`, { fieldManager })
      const response = yield* send(operation, "PATCH", url, body, "application/merge-patch+json")
      return yield* decodeResponse(resource, operation)(response)
    }),
    delete: (resource, namespace, name, preconditions) => {
      const operation = `delete ${Kubernetes.describe(resource, namespace, name)}`
      return send(operation, "DELETE", objectUrl(server, resource, namespace, name), deleteOptions(preconditions)).pipe(
        Effect.asVoid,
        Effect.withSpan("KubernetesLive.delete")
      )
    }
  })
})

/** Objects of a list or a watch without `apiVersion`/`kind` (list items) get them back. */
const withTypeMeta = (resource: Resource<unknown>, object: Readonly<Record<string, unknown>>): Record<string, unknown> => ({
  apiVersion: Kubernetes.apiVersionOf(resource),
  kind: resource.kind,
  ...object
})

/** Without `timeoutSeconds` (or with 0), kube-apiserver closes a watch within an hour (30 to 60 minutes). */
const defaultWatchDeadlineSeconds = 3600

const deleteOptions = (preconditions: Kubernetes.DeletePreconditions | undefined) => ({
  apiVersion: "v1",
  kind: "DeleteOptions",
  propagationPolicy: "Background",
  ...(preconditions === undefined || (preconditions.uid === undefined && preconditions.resourceVersion === undefined)
    ? {}
    : { preconditions })
})

/** The `Kubernetes` service on the API server of a kubeconfig (or the in-cluster one). */
export const layer = (options: KubernetesLiveOptions = {}): Layer.Layer<Kubernetes.Kubernetes, KubernetesConfigError> =>
  Layer.effect(Kubernetes.Kubernetes, make(options))
