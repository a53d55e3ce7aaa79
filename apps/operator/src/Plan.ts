/**
 * `dittofs-operator plan NAMESPACE/NAME`: one DittoServer pass run against the real cluster and
 * DittoFS with every write held back, and the writes it would have made, as changes.
 *
 * Contract:
 * - Reads go to the API server and to DittoFS (`GET`s, and a login with the credentials the pass
 *   would use); no write leaves the process: Kubernetes creates, updates, status updates and
 *   deletes (Events included) are recorded and answered as the API server would (the object
 *   with a new resourceVersion), and so are DittoFS's account changes, adapter changes and token
 *   refreshes (a refresh would rotate the running operator's token; the plan reports it and
 *   carries on as if it had been refused, with a login).
 * - Later reads of the pass see its own held-back writes (an overlay), so one plan is one pass.
 * - Secret values are never printed: a Secret's `data` and `stringData` show as `(redacted)`.
 */
import { DittoFs, DittoServer, DittoServerPass, EventRecorder, type K8s, Kubernetes, ObjectRef } from "@dittofs-operator/core"
import { Duration, Effect, Layer, Option, Ref, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import * as DittoFsLive from "./live/DittoFsLive.ts"
import * as KubernetesLive from "./live/KubernetesLive.ts"

export interface PlanOptions extends DittoServerPass.Options {
  /** `namespace/name` of the DittoServer. */
  readonly target: string
  readonly kubeconfigPath?: string
}

export interface FieldChange {
  readonly path: string
  readonly before?: unknown
  readonly after?: unknown
}

export type Change =
  | {
    readonly system: "kubernetes"
    readonly verb: "create" | "update" | "update status" | "delete"
    readonly kind: string
    readonly namespace: string
    readonly name: string
    readonly fields: ReadonlyArray<FieldChange>
    /** For an Event: its type, reason and message. */
    readonly event?: { readonly type: string; readonly reason: string; readonly message: string }
  }
  | { readonly system: "dittofs"; readonly call: string; readonly detail: string }

export interface Plan {
  readonly target: string
  readonly changes: ReadonlyArray<Change>
  /** What the pass returned: when it would run again, or why it failed. */
  readonly outcome: string
}

export class PlanError extends Schema.TaggedError<PlanError>()("PlanError", { message: Schema.String }) {}

/** The namespace of the in-cluster service account, when running in a pod. */
export const inClusterNamespace = (): string | undefined => {
  try {
    return readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8").trim() || undefined
  } catch {
    return undefined
  }
}

const ignored = new Set(["metadata.resourceVersion", "metadata.managedFields", "metadata.uid", "metadata.creationTimestamp", "metadata.generation"])

/** Flattens JSON to `path -> leaf`; Secret values redacted. */
const flatten = (value: unknown, path: string, out: Map<string, unknown>, secret: boolean): Map<string, unknown> => {
  if (ignored.has(path) || path.startsWith("metadata.managedFields")) return out
  if (secret && (path === "data" || path === "stringData") && typeof value === "object" && value !== null) {
    for (const key of Object.keys(value)) out.set(`${path}.${key}`, "(redacted)")
    return out
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, [])
    value.forEach((item, index) => flatten(item, `${path}[${index}]`, out, secret))
  } else if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
    if (entries.length === 0 && path !== "") out.set(path, {})
    for (const [key, item] of entries) flatten(item, path === "" ? key : `${path}.${key}`, out, secret)
  } else if (path !== "") out.set(path, value)
  return out
}

/** The fields that differ between two objects (either may be absent). */
export const diff = (before: unknown, after: unknown, kind: string): ReadonlyArray<FieldChange> => {
  const secret = kind === "Secret"
  const left = before === undefined ? new Map<string, unknown>() : flatten(before, "", new Map(), secret)
  const right = after === undefined ? new Map<string, unknown>() : flatten(after, "", new Map(), secret)
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort()
  return paths.flatMap((path): ReadonlyArray<FieldChange> => {
    const a = left.get(path)
    const b = right.get(path)
    if (JSON.stringify(a) === JSON.stringify(b)) return []
    return [{ path, ...(left.has(path) ? { before: a } : {}), ...(right.has(path) ? { after: b } : {}) }]
  })
}

const show = (value: unknown) => JSON.stringify(value)

/** The plan as a readable diff. */
export const render = (plan: Plan): string => {
  const lines = [`Plan for DittoServer ${plan.target}: ${plan.changes.length === 0 ? "no changes" : `${plan.changes.length} change(s)`}`]
  for (const change of plan.changes) {
    if (change.system === "dittofs") {
      lines.push("", `DittoFS ${change.call}: ${change.detail}`)
      continue
    }
    if (change.event !== undefined) {
      const { message, reason, type } = change.event
      lines.push(`  Event ${type} ${reason}: ${message}${change.verb === "update" ? " (repeat counted)" : ""}`)
      continue
    }
    const sign = change.verb === "create" ? "+" : change.verb === "delete" ? "-" : "~"
    lines.push("", `${sign} ${change.verb} ${change.kind} ${change.namespace}/${change.name}`)
    if (change.verb === "delete") continue
    for (const field of change.fields) {
      if (!("before" in field)) lines.push(`    + ${field.path}: ${show(field.after)}`)
      else if (!("after" in field)) lines.push(`    - ${field.path}: ${show(field.before)}`)
      else lines.push(`    ~ ${field.path}: ${show(field.before)} -> ${show(field.after)}`)
    }
  }
  lines.push("", `Outcome: ${plan.outcome}`)
  return lines.join("\n")
}

export const toJson = (plan: Plan) => plan

const keyOf = (resource: Kubernetes.Resource<unknown>, namespace: string | undefined, name: string) =>
  `${resource.group}/${resource.kind}/${namespace ?? ""}/${name}`

const labelsMatch = (object: K8s.AnyObject, selector: K8s.StringMap | undefined) =>
  Object.entries(selector ?? {}).every(([key, value]) => object.metadata.labels?.[key] === value)

const encode = <A>(resource: Kubernetes.Resource<A>, object: A): K8s.AnyObject =>
  Schema.encodeUnknownSync(resource.schema)(object) as K8s.AnyObject

/**
 * A Kubernetes service that reads through `api` and holds back every write, recording it in
 * `changes`; later reads see the held-back writes.
 */
export const dryRunKubernetes = (api: Kubernetes.Api, changes: Ref.Ref<ReadonlyArray<Change>>): Effect.Effect<Kubernetes.Api> =>
  Effect.gen(function*() {
    /** Held-back state: the object as written, or `null` when deleted. */
    const overlay = yield* Ref.make<ReadonlyMap<string, { readonly resource: Kubernetes.Resource<unknown>; readonly object: K8s.AnyObject | null }>>(new Map())
    let version = 0

    const current = <A>(resource: Kubernetes.Resource<A>, namespace: string, name: string) =>
      Effect.flatMap(Ref.get(overlay), (held) => {
        const entry = held.get(keyOf(resource, namespace, name))
        if (entry !== undefined) return Effect.succeed(entry.object ?? undefined)
        return api.get(Kubernetes.raw(resource), namespace, name).pipe(
          Effect.asSome,
          Effect.catchTag("KubernetesError", (error) => error.reason === "NotFound" ? Effect.succeedNone : Effect.fail(error)),
          Effect.map(Option.getOrUndefined)
        )
      })

    const hold = <A>(verb: "create" | "update" | "update status", resource: Kubernetes.Resource<A>, object: A) =>
      Effect.gen(function*() {
        const encoded = encode(resource, object)
        const namespace = encoded.metadata.namespace ?? ""
        const name = encoded.metadata.name
        const before = yield* current(resource, namespace, name)
        if (verb === "create" && before !== undefined) {
          return yield* (new Kubernetes.KubernetesError({ reason: "AlreadyExists", message: `${resource.kind} "${name}" already exists`, operation: `create ${resource.kind} ${namespace}/${name}` }))
        }
        if (verb !== "create" && before === undefined) {
          return yield* (new Kubernetes.KubernetesError({ reason: "NotFound", message: `${resource.kind} "${name}" not found`, operation: `${verb} ${resource.kind} ${namespace}/${name}` }))
        }
        version += 1
        const written: K8s.AnyObject = {
          ...encoded,
          metadata: { ...encoded.metadata, resourceVersion: `plan-${version}`, ...(before?.metadata.uid === undefined ? { uid: `plan-uid-${version}` } : { uid: before.metadata.uid }) }
        }
        yield* Ref.update(overlay, (held) => new Map(held).set(keyOf(resource, namespace, name), { resource: resource as Kubernetes.Resource<unknown>, object: written }))
        const event = resource.kind === "Event"
          ? { type: String(written["type"] ?? ""), reason: String(written["reason"] ?? ""), message: String(written["message"] ?? "") }
          : undefined
        const change: Change = {
          system: "kubernetes", verb, kind: resource.kind, namespace, name, fields: diff(before, written, resource.kind),
          ...(event === undefined ? {} : { event })
        }
        yield* Ref.update(changes, (all) => [...all, change])
        return yield* Schema.decodeEffect(resource.schema)(written).pipe(
          Effect.mapError((issue) => new Kubernetes.KubernetesError({ reason: "Invalid", message: String(issue), operation: `${verb} ${resource.kind} ${namespace}/${name}` }))
        )
      })

    const overlayList = <A>(resource: Kubernetes.Resource<A>, namespace: string | undefined, options: Kubernetes.ListOptions | undefined, items: ReadonlyArray<A>) =>
      Effect.gen(function*() {
        const held = yield* Ref.get(overlay)
        const mine = [...held.entries()].filter(([key]) => key.startsWith(`${resource.group}/${resource.kind}/${namespace === undefined ? "" : `${namespace}/`}`))
        if (mine.length === 0) return items
        const heldKeys = new Set(mine.map(([key]) => key))
        const kept = items.filter((item) => {
          const meta = encode(resource, item).metadata
          return !heldKeys.has(keyOf(resource, meta.namespace, meta.name))
        })
        const added = yield* Effect.forEach(
          mine.flatMap(([, entry]) => entry.object !== null && labelsMatch(entry.object, options?.labelSelector) ? [entry.object] : []),
          (object) => Effect.orDie(Schema.decodeEffect(resource.schema)(object))
        )
        return [...kept, ...added]
      })

    return {
      get: (resource, namespace, name) =>
        Effect.flatMap(Ref.get(overlay), (held) => {
          const entry = held.get(keyOf(resource, namespace, name))
          if (entry === undefined) return api.get(resource, namespace, name)
          if (entry.object === null) {
            return Effect.fail(new Kubernetes.KubernetesError({ reason: "NotFound", message: `${resource.kind} "${name}" not found`, operation: `get ${resource.kind} ${namespace}/${name}` }))
          }
          return Schema.decodeEffect(resource.schema)(entry.object).pipe(
            Effect.mapError((issue) => new Kubernetes.KubernetesError({ reason: "BadResponse", message: String(issue), operation: `get ${resource.kind} ${namespace}/${name}` }))
          )
        }),
      list: (resource, namespace, options) => Effect.flatMap(api.list(resource, namespace, options), (items) => overlayList(resource, namespace, options, items)),
      listWithVersion: (resource, namespace, options) =>
        Effect.flatMap(api.listWithVersion(resource, namespace, options), (listed) =>
          Effect.map(overlayList(resource, namespace, options, listed.items), (items) => ({ ...listed, items }))),
      watch: () => Stream.empty,
      create: (resource, object) => hold("create", resource, object),
      update: (resource, object) => hold("update", resource, object),
      updateStatus: (resource, object) => hold("update status", resource, object),
      patchStatus: (resource, _previous, next) => hold("update status", resource, next),
      delete: (resource, namespace, name) =>
        Effect.gen(function*() {
          const before = yield* current(resource, namespace, name)
          if (before === undefined) {
            return yield* (new Kubernetes.KubernetesError({ reason: "NotFound", message: `${resource.kind} "${name}" not found`, operation: `delete ${resource.kind} ${namespace}/${name}` }))
          }
          yield* Ref.update(overlay, (held) => new Map(held).set(keyOf(resource, namespace, name), { resource: resource as Kubernetes.Resource<unknown>, object: null }))
          const change: Change = { system: "kubernetes", verb: "delete", kind: resource.kind, namespace, name, fields: [] }
          yield* Ref.update(changes, (all) => [...all, change])
        })
    }
  })

/** A DittoFS service that reads through `api` and holds back every change, recording it. */
export const dryRunDittoFs = (api: DittoFs.Api, changes: Ref.Ref<ReadonlyArray<Change>>): DittoFs.Api => {
  const record = (call: string, detail: string) => Ref.update(changes, (all) => [...all, { system: "dittofs", call, detail } as const])
  return {
    health: api.health,
    login: api.login,
    listAdapters: api.listAdapters,
    refresh: (baseUrl) =>
      Effect.andThen(
        record("refresh tokens", `${baseUrl}: the operator's tokens are due for a refresh`),
        Effect.fail(new DittoFs.DittoFsError({ reason: "Unauthorized", message: "held back by plan (a refresh would rotate the running operator's tokens)", operation: "POST /api/v1/auth/refresh" }))
      ),
    createUser: (baseUrl, _token, user) =>
      Effect.as(record("create account", `${baseUrl}: ${user.username} (role ${user.role})`), {
        username: user.username,
        role: user.role
      } as unknown as DittoFs.User),
    deleteUser: (baseUrl, _token, username) => record("delete account", `${baseUrl}: ${username}`),
    updateAdapter: (baseUrl, _token, type, change) =>
      Effect.andThen(
        record("update adapter", `${baseUrl}: ${type} ${JSON.stringify(change)}`),
        Effect.fail(new DittoFs.DittoFsError({ reason: "BadRequest", message: "held back by plan", operation: `PUT /api/v1/adapters/${type}` }))
      )
  }
}

/** Runs one pass on the given services with every write held back. */
export const planWith = (options: PlanOptions) =>
  Effect.gen(function*() {
    const ref = ObjectRef.parse(options.target)
    if (ref === undefined) return yield* new PlanError({ message: `expected NAMESPACE/NAME, got ${options.target}` })
    const kubernetes = yield* Kubernetes.Kubernetes
    const dittoFs = yield* DittoFs.DittoFs
    const changes = yield* Ref.make<ReadonlyArray<Change>>([])
    const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, ref.namespace, ref.name).pipe(
      Effect.mapError((error) => new PlanError({ message: `${error.operation}: ${error.reason}: ${error.message}` }))
    )
    const dryKubernetes = yield* dryRunKubernetes(kubernetes, changes)
    const services = Layer.mergeAll(
      EventRecorder.layer({}),
      Layer.succeed(DittoFs.DittoFs, DittoFs.DittoFs.of(dryRunDittoFs(dittoFs, changes)))
    ).pipe(Layer.provideMerge(Layer.succeed(Kubernetes.Kubernetes, Kubernetes.Kubernetes.of(dryKubernetes))))
    const { target: _target, kubeconfigPath: _kubeconfigPath, ...passOptions } = options
    const outcome = yield* DittoServerPass.reconcile(server, passOptions).pipe(
      Effect.map((action) => action._tag === "Requeue" ? `the next pass would run in ${Duration.format(action.after)}` : "the next pass would wait for a change"),
      Effect.catch((error) => Effect.succeed(`the pass would fail: ${describe(error)}`)),
      Effect.provide(services)
    )
    return { target: ObjectRef.key(ref), changes: yield* Ref.get(changes), outcome } satisfies Plan
  })

const describe = (error: unknown) =>
  typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error)

/** The plan against the cluster of the kubeconfig and the servers' DittoFS. */
export const plan = (options: PlanOptions) =>
  planWith(options).pipe(
    Effect.provide(Layer.merge(
      KubernetesLive.layer(options.kubeconfigPath === undefined ? {} : { kubeconfigPath: options.kubeconfigPath }),
      DittoFsLive.layer()
    ))
  )

export { DittoServer }
