/**
 * The end-to-end harness, shared by the e2e tests and `bench/adapter-exposure.ts` (so it imports
 * nothing from vitest): the operator in-process on the live layers (optionally with a wrapped
 * `Kubernetes` service), bounded waits, readers of the cluster state the operator is judged by,
 * and admin actions on a real `dfs`.
 *
 * Contract:
 * - `eventually(what, effect, { timeout })` retries `effect` on a `Schedule` until it succeeds, and
 *   fails with `TimedOut` (carrying the last failure) once `timeout` has passed; `always` runs a
 *   check repeatedly for a while and fails at the first failure. Conditions inside them are
 *   expressed with `ensure` (a typed `NotYet` failure), never with throwing assertions.
 * - Readers go through the `Kubernetes` service of the caller (a client of its own, never the
 *   operator's) and return objects sorted by name.
 * - Admin actions on a dfs log in as `admin` for each call and talk only to 127.0.0.1.
 * - `operatorLayer` is `Operator.layer` when no wrapper is given; with one, the same three parts
 *   (controller, Event recorder, DittoFS client) on the wrapped live Kubernetes service.
 */
import { DittoFs, DittoServer, K8s, Kubernetes, Naming } from "@dittofs-operator/core"
import { Data, Duration, Effect, Layer, Option, Redacted, Ref, References, Schedule, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import * as LoopbackHttp from "../../../../../scripts/launch/LoopbackHttp.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import * as Operator from "../../../src/Operator.ts"

// ---------------------------------------------------------------------------------------------
// Bounded waits

/** A condition that does not hold (yet). */
export class NotYet extends Data.TaggedError("NotYet")<{ readonly message: string }> {}

/** `eventually` gave up. */
export class TimedOut extends Data.TaggedError("TimedOut")<{ readonly message: string }> {}

/** Fails with `NotYet(message)` unless `condition` holds. */
export const ensure = (condition: boolean, message: string | (() => string)): Effect.Effect<void, NotYet> =>
  condition ? Effect.void : Effect.fail(new NotYet({ message: typeof message === "string" ? message : message() }))

const describeFailure = (error: unknown): string => {
  if (error instanceof Kubernetes.KubernetesError) return `${error.operation}: ${error.reason}: ${error.message}`
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}

export interface EventuallyOptions {
  readonly timeout: Duration.Input
  /** Pause between attempts; default 50 ms. */
  readonly interval?: Duration.Input
}

/** Retries `effect` until it succeeds; `TimedOut` with the last failure after `timeout`. */
export const eventually = <A, E, R>(
  what: string,
  effect: Effect.Effect<A, E, R>,
  options: EventuallyOptions
): Effect.Effect<A, TimedOut, R> => {
  const timeout = Duration.fromInputUnsafe(options.timeout)
  return effect.pipe(
    Effect.retry(Schedule.spaced(options.interval ?? "50 millis").pipe(Schedule.upTo({ duration: timeout }))),
    Effect.mapError((last) =>
      new TimedOut({ message: `${what}: not within ${Duration.format(timeout)}; last: ${describeFailure(last)}` })
    )
  )
}

export interface AlwaysOptions {
  readonly during: Duration.Input
  /** Pause between checks; default 100 ms. */
  readonly interval?: Duration.Input
}

/** Runs `check` repeatedly during `during`; fails at its first failure. */
export const always = <A, E, R>(check: Effect.Effect<A, E, R>, options: AlwaysOptions): Effect.Effect<void, E, R> =>
  Effect.asVoid(
    Effect.repeat(check, Schedule.spaced(options.interval ?? "100 millis").pipe(Schedule.upTo({ duration: options.during })))
  )

/** Milliseconds an effect took, with its result. */
export const timedMillis = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [number, A], E, R> =>
  Effect.map(Effect.timed(effect), ([elapsed, value]) => [Duration.toMillis(elapsed), value] as const)

// ---------------------------------------------------------------------------------------------
// The operator

type KubernetesApi = Kubernetes.Api

export interface OperatorHarnessOptions {
  readonly kubeconfigPath: string
  readonly namespace: string
  /** Wraps the operator's Kubernetes service (fault injection, counting); the test's client is not wrapped. */
  readonly wrap?: (kubernetes: KubernetesApi) => KubernetesApi
}

/** The operator as one Layer, watching one namespace. */
export const operatorLayer = (options: OperatorHarnessOptions): Layer.Layer<never, Operator.StartError> => {
  const { kubeconfigPath, namespace, wrap } = options
  if (wrap === undefined) return Operator.layer({ kubeconfigPath, namespace })
  const kubernetes = Layer.effect(Kubernetes.Kubernetes, Effect.gen(function*() {
    return wrap(yield* Kubernetes.Kubernetes)
  })).pipe(Layer.provide(KubernetesLive.layer({ kubeconfigPath })))
  return Operator.layerOn(kubernetes, { namespace })
}

const LogLevelSetting = Schema.Literals(["Trace", "Debug", "Info", "Warn", "Error"])
type LogLevelSetting = typeof LogLevelSetting.Type

/**
 * Runs the operator until the current scope closes. Its log is kept to `logLevel` (default: warnings
 * and errors, or `E2E_OPERATOR_LOG=Info`/`Debug` to see everything it does).
 */
export const runOperator = (options: OperatorHarnessOptions & { readonly logLevel?: LogLevelSetting }) => {
  const level = options.logLevel
    ?? Option.getOrElse(Schema.decodeUnknownOption(LogLevelSetting)(process.env.E2E_OPERATOR_LOG), () => "Warn" as const)
  return Effect.asVoid(Layer.build(operatorLayer(options).pipe(Layer.provide(Layer.succeed(References.MinimumLogLevel, level)))))
}

/**
 * Counts of the writes a `Kubernetes` service sent, keyed `<verb> <Kind>` (`patch DittoServer/status`);
 * a write the apiserver refused is also counted under `<verb> <Kind> → <reason>`.
 */
export interface WriteCounter {
  readonly wrap: (kubernetes: KubernetesApi) => KubernetesApi
  readonly snapshot: Effect.Effect<ReadonlyMap<string, number>>
}

export const writeCounter: Effect.Effect<WriteCounter> = Effect.gen(function*() {
  const counts = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
  const count = (key: string) =>
    Ref.update(counts, (current) => new Map(current).set(key, (current.get(key) ?? 0) + 1))
  const counted = <A>(key: string, write: Effect.Effect<A, Kubernetes.KubernetesError>) =>
    Effect.andThen(count(key), write).pipe(Effect.tapError((error) => count(`${key} → ${error.reason}`)))
  const wrap = (kubernetes: KubernetesApi): KubernetesApi => ({
    ...kubernetes,
    create: (resource, object) => counted(`create ${resource.kind}`, kubernetes.create(resource, object)),
    update: (resource, object) => counted(`update ${resource.kind}`, kubernetes.update(resource, object)),
    updateStatus: (resource, object) => counted(`update ${resource.kind}/status`, kubernetes.updateStatus(resource, object)),
    patchStatus: (resource, previous, next) => counted(`patch ${resource.kind}/status`, kubernetes.patchStatus(resource, previous, next)),
    delete: (resource, namespace, name, preconditions) =>
      counted(`delete ${resource.kind}`, kubernetes.delete(resource, namespace, name, preconditions))
  })
  return { wrap, snapshot: Ref.get(counts) }
})

/** `after - before`, without zero entries. */
export const countsSince = (
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>
): ReadonlyMap<string, number> =>
  new Map([...after].map(([key, n]) => [key, n - (before.get(key) ?? 0)] as const).filter(([, n]) => n !== 0))

// ---------------------------------------------------------------------------------------------
// Namespaces and objects

export const NamespaceResource: Kubernetes.Resource<K8s.AnyObject> = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
  statusSubresource: true,
  schema: K8s.AnyObject
}

/** A new namespace `<prefix>-<random>`, deleted (in the background) when the scope closes. */
export const freshNamespace = (prefix: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const name = `${prefix}-${randomBytes(3).toString("hex")}`
      yield* kubernetes.create(NamespaceResource, { apiVersion: "v1", kind: "Namespace", metadata: { name } })
      return name
    }),
    (name) =>
      Kubernetes.Kubernetes.use((kubernetes) => kubernetes.delete(NamespaceResource, "", name)).pipe(
        Effect.catch((error) => Effect.logWarning(`could not delete namespace ${name}: ${describeFailure(error)}`))
      )
  )

/** Where a DittoServer lives. */
export interface ServerRef {
  readonly namespace: string
  readonly name: string
}

const byName = <A extends { readonly metadata: K8s.ObjectMeta }>(objects: ReadonlyArray<A>): Array<A> =>
  [...objects].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))

export const adapterServices = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.list(Kubernetes.Resources.Service, server.namespace, {
      labelSelector: { [Naming.labels.adapterService]: "true", [Naming.labels.instance]: server.name }
    })
  ).pipe(Effect.map(byName))

export const adapterPolicies = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.list(Kubernetes.Resources.NetworkPolicy, server.namespace, {
      labelSelector: { [Naming.labels.adapterNetworkPolicy]: "true", [Naming.labels.instance]: server.name }
    })
  ).pipe(Effect.map(byName))

/** The server's StatefulSet, by its bounded name (the server's own up to 52 chars). */
export const statefulSet = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.get(Kubernetes.Resources.StatefulSet, server.namespace, Naming.workloadNames(server.name).statefulSet))

export const dittoServer = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(Kubernetes.Resources.DittoServer, server.namespace, server.name))

export const credentialsSecret = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(Kubernetes.Resources.Secret, server.namespace, Naming.workloadNames(server.name).operatorCredentials))

/** The ports of the StatefulSet's `dittofs` container. */
export const containerPorts = (sts: K8s.StatefulSet): ReadonlyArray<K8s.ContainerPort> =>
  sts.spec.template.spec.containers.find((container) => container.name === "dittofs")?.ports ?? []

export const portNames = (sts: K8s.StatefulSet): ReadonlyArray<string> => containerPorts(sts).map((port) => port.name ?? "")

export const condition = (server: DittoServer.DittoServer, type: string): DittoServer.Condition | undefined =>
  server.status?.conditions?.find((candidate) => candidate.type === type)

/** Fails with `NotYet` unless the condition has this status (and reason, when given). */
export const expectCondition = (server: ServerRef, type: string, status: "True" | "False", reason?: string) =>
  Effect.gen(function*() {
    const current = condition(yield* dittoServer(server), type)
    yield* ensure(
      current?.status === status && (reason === undefined || current.reason === reason),
      () => `condition ${type} is ${JSON.stringify(current)}, expected ${status}${reason === undefined ? "" : `/${reason}`}`
    )
    return current
  })

/** The Events about the DittoServer, oldest first. */
export const serverEvents = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) => kubernetes.list(Kubernetes.Resources.Event, server.namespace)).pipe(
    Effect.map((events) =>
      events
        .filter((event) => event.involvedObject.kind === DittoServer.kind && event.involvedObject.name === server.name)
        .sort((a, b) => (a.firstTimestamp ?? "").localeCompare(b.firstTimestamp ?? ""))
    )
  )

/** Fails with `NotYet` while the object exists. */
export const expectGone = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string) =>
  Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(resource, namespace, name)).pipe(
    Effect.flatMap(() => Effect.fail(new NotYet({ message: `${resource.kind} ${namespace}/${name} still exists` }))),
    Effect.catchIf((error) => error._tag === "KubernetesError" && error.reason === "NotFound", () => Effect.void)
  )

/** Read-modify-write, retried on `Conflict` (the operator writes the same objects). */
export const modify = <A extends { readonly metadata: K8s.ObjectMeta }>(
  resource: Kubernetes.Resource<A>,
  namespace: string,
  name: string,
  change: (object: A) => A
) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.get(resource, namespace, name).pipe(Effect.flatMap((object) => kubernetes.update(resource, change(object))))
  ).pipe(Effect.retry({ while: (error) => error.reason === "Conflict", times: 20, schedule: Schedule.spaced("50 millis") }))

/** `{ uid, resourceVersion }` by name: to see that nothing was recreated or written. */
export const versions = (objects: ReadonlyArray<{ readonly metadata: K8s.ObjectMeta }>): Record<string, string> =>
  Object.fromEntries(objects.map((object) => [object.metadata.name, `${object.metadata.uid}@${object.metadata.resourceVersion}`]))

// ---------------------------------------------------------------------------------------------
// A real dfs, as its admin

export interface DfsRef {
  readonly baseUrl: string
  readonly admin: { readonly username: string; readonly password: string }
  /** The run dir, holding `dfs.log`. */
  readonly dir: string
}

/** An admin call to dfs that DittoFsLive does not offer (adapter create/delete) was refused. */
export class DfsAdminError extends Data.TaggedError("DfsAdminError")<{ readonly message: string }> {}

const adminToken = (dfs: DfsRef) =>
  DittoFs.DittoFs.use((dittofs) => dittofs.login(dfs.baseUrl, { username: dfs.admin.username, password: Redacted.make(dfs.admin.password) })).pipe(
    Effect.map((token) => token.access_token)
  )

/** The adapters as dfs reports them (admin view). */
export const dfsAdapters = (dfs: DfsRef) =>
  Effect.gen(function*() {
    const token = yield* adminToken(dfs)
    return (yield* DittoFs.DittoFs.use((dittofs) => dittofs.listAdapters(dfs.baseUrl, token))).adapters
  })

/** `PUT /api/v1/adapters/{type} {"enabled": …}`: starts or stops an adapter. */
export const setAdapterEnabled = (dfs: DfsRef, type: string, enabled: boolean) =>
  Effect.gen(function*() {
    const token = yield* adminToken(dfs)
    return yield* DittoFs.DittoFs.use((dittofs) => dittofs.updateAdapter(dfs.baseUrl, token, type, { enabled }))
  })

/** `PUT /api/v1/adapters/{type} {"port": …}`: moves a running adapter. */
export const moveAdapter = (dfs: DfsRef, type: string, port: number) =>
  Effect.gen(function*() {
    const token = yield* adminToken(dfs)
    return yield* DittoFs.DittoFs.use((dittofs) => dittofs.updateAdapter(dfs.baseUrl, token, type, { port }))
  })

const adminCall = (dfs: DfsRef, method: "POST" | "DELETE", path: string, expected: number, body?: unknown) =>
  Effect.gen(function*() {
    const token = yield* adminToken(dfs)
    const response = yield* LoopbackHttp.request({
      url: `${dfs.baseUrl}${path}`,
      method,
      bearerToken: Redacted.value(token),
      ...(body === undefined ? {} : { body: { contentType: "application/json", text: JSON.stringify(body) } })
    }).pipe(Effect.mapError((error) => new DfsAdminError({ message: `${error.step}: ${error.message}` })))
    if (response.status !== expected) {
      return yield* new DfsAdminError({ message: `${method} ${path}: HTTP ${response.status}: ${response.text.slice(0, 300)}` })
    }
  })

/** `DELETE /api/v1/adapters/{type}` (admin only; not in DittoFsLive). */
export const removeAdapter = (dfs: DfsRef, type: string) =>
  adminCall(dfs, "DELETE", `/api/v1/adapters/${encodeURIComponent(type)}`, 204)

/** `POST /api/v1/adapters`: creates and starts an adapter bound to 127.0.0.1. */
export const addAdapter = (dfs: DfsRef, type: string, port: number) =>
  adminCall(dfs, "POST", "/api/v1/adapters", 201, { type, port, enabled: true, config: { bind_address: "127.0.0.1" } })

/** How many requests dfs has answered with this method, path and (optionally) status (its request log). */
export const dfsRequests = (dfs: DfsRef, method: string, path: string, status?: number) =>
  Effect.tryPromise({
    try: () => readFile(join(dfs.dir, "dfs.log"), "utf8"),
    catch: (cause) => new DfsAdminError({ message: `read ${join(dfs.dir, "dfs.log")}: ${describeFailure(cause)}` })
  }).pipe(Effect.map((log) => {
    const needle = `method=${method} path=${path} status=${status ?? ""}`
    return log.split("\n").filter((line) => line.includes(needle)).length
  }))

/** How many adapter lists dfs has answered (only the operator polls them). */
export const adapterPolls = (dfs: DfsRef) => dfsRequests(dfs, "GET", "/api/v1/adapters")

/**
 * The adapter polls dfs had answered when the operator sent each of its creates, updates and
 * deletes, keyed `<verb> <Kind>/<name>` (the last one of each): "within one polling cycle" as dfs's own
 * count, which the machine's load cannot blur. `watch(dfs)` says which dfs to count (the
 * operator may start before it is known); before that nothing is stamped.
 */
export const pollStamps = Effect.gen(function*() {
  const watched = yield* Ref.make<DfsRef | undefined>(undefined)
  const stamps = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
  const stamp = (key: string) =>
    Effect.gen(function*() {
      const dfs = yield* Ref.get(watched)
      if (dfs === undefined) return
      const polls = yield* Effect.orElseSucceed(adapterPolls(dfs), () => -1)
      yield* Ref.update(stamps, (current) => new Map(current).set(key, polls))
    })
  const nameOf = (object: unknown) => Option.match(Schema.decodeUnknownOption(K8s.AnyObject)(object), {
    onNone: () => "?",
    onSome: (decoded) => decoded.metadata.name
  })
  const wrap = (kubernetes: KubernetesApi): KubernetesApi => ({
    ...kubernetes,
    create: (resource, object) => Effect.andThen(stamp(`create ${resource.kind}/${nameOf(object)}`), kubernetes.create(resource, object)),
    update: (resource, object) => Effect.andThen(stamp(`update ${resource.kind}/${nameOf(object)}`), kubernetes.update(resource, object)),
    delete: (resource, namespace, name, preconditions) =>
      Effect.andThen(stamp(`delete ${resource.kind}/${name}`), kubernetes.delete(resource, namespace, name, preconditions))
  })
  return {
    wrap,
    watch: (dfs: DfsRef) => Ref.set(watched, dfs),
    /** The polls answered when that write was sent; `undefined` if it was not. */
    at: (key: string) => Effect.map(Ref.get(stamps), (current) => current.get(key))
  }
})

/** A bearer-token GET to dfs: its HTTP status. */
export const dfsStatusWith = (dfs: DfsRef, path: string, bearerToken: string) =>
  LoopbackHttp.request({ url: `${dfs.baseUrl}${path}`, bearerToken }).pipe(
    Effect.map((response) => response.status),
    Effect.mapError((error) => new DfsAdminError({ message: `${error.step}: ${error.message}` }))
  )

/** Waits until dfs has answered `count` more adapter polls than `from`. */
export const awaitPolls = (dfs: DfsRef, from: number, count: number, timeout: Duration.Input) =>
  eventually(
    `${count} more adapter poll(s)`,
    Effect.flatMap(adapterPolls(dfs), (polls) => Effect.as(ensure(polls >= from + count, `${polls - from} of ${count}`), polls)),
    { timeout, interval: "100 millis" }
  )

const JwtClaims = Schema.fromJsonString(Schema.Struct({ exp: Schema.Int, iat: Schema.Int }))

/** The `iat`/`exp` claims of a JWT, in epoch milliseconds. */
export const tokenTimes = (jwt: string) =>
  Schema.decodeEffect(JwtClaims)(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")).pipe(
    Effect.map((claims) => ({ issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 }))
  )

/** A Secret's value, decoded. */
export const secretValue = (secret: K8s.Secret, key: string): string | undefined => {
  const value = secret.data?.[key]
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8")
}

// ---------------------------------------------------------------------------------------------
// Exposure as a whole

export interface Exposure {
  readonly services: ReadonlyArray<K8s.Service>
  readonly policies: ReadonlyArray<K8s.NetworkPolicy>
  readonly statefulSet: K8s.StatefulSet
}

/** The adapter Services, adapter NetworkPolicies and StatefulSet of a server, read now. */
export const exposure = (server: ServerRef): Effect.Effect<Exposure, Kubernetes.KubernetesError, Kubernetes.Kubernetes> =>
  Effect.all({ services: adapterServices(server), policies: adapterPolicies(server), statefulSet: statefulSet(server) }, {
    concurrency: 3
  })

/** Fails with `NotYet` unless exactly these adapter types are exposed: Services, NetworkPolicies and container ports. */
export const expectExposed = (server: ServerRef, types: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const current = yield* exposure(server)
    const names = [...types].sort().map((type) => `${server.name}-adapter-${type}`)
    const ports = [...types].sort().map((type) => `adapter-${type}`)
    const services = current.services.map((service) => service.metadata.name)
    const policies = current.policies.map((policy) => policy.metadata.name)
    const dynamic = portNames(current.statefulSet).filter((name) => name.startsWith("adapter-"))
    yield* ensure(
      JSON.stringify([services, policies, dynamic]) === JSON.stringify([names, names, ports]),
      () => `exposed: Services ${JSON.stringify(services)}, NetworkPolicies ${JSON.stringify(policies)}, ports ${JSON.stringify(dynamic)}; expected ${JSON.stringify(types)}`
    )
    return current
  })

/** Waits until exactly these adapter types are exposed. */
export const awaitExposed = (server: ServerRef, types: ReadonlyArray<string>, timeout: Duration.Input) =>
  eventually(`adapters ${JSON.stringify(types)} exposed`, expectExposed(server, types), { timeout })
