/**
 * The Kubernetes contract: one body of tests that every implementation of the core's `Kubernetes`
 * service passes — `KubernetesMemory` in every run, `KubernetesLive` against a real
 * kube-apiserver + etcd + garbage collector in the integration run. The fake is trusted only as
 * far as this suite proves it, so a behaviour the operator relies on belongs here first.
 *
 * Contract of the suite:
 * - `kubernetesContract(name, target)` registers the tests in a `describe` block; the target's
 *   layer (built once for the block) provides `Kubernetes` and `ContractNamespaces`.
 * - Every test works in namespaces of its own, so tests never see each other's objects.
 * - Tests assert on the state read back through the service, never on call sequences.
 * - Background work (the garbage collector) is awaited with the target's `settle` schedule: the
 *   fake is synchronous (no retry needed), a live cluster is polled within a bound.
 * - Watches are opened from a list's (or a write's) resourceVersion, so what they see does not
 *   depend on when the stream starts; each is read up to a last expected change and bounded by
 *   `timeoutSeconds` (on the TestClock, a missing change fails the test by its timeout instead).
 *   Bookmarks are best effort on a real server: the tests leave them out.
 */
import { assert, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as DittoServerDomain from "../../domain/DittoServer.ts"
import {
  AnyObject,
  ObjectMeta,
  type NetworkPolicy,
  type OwnerReference,
  type Secret,
  type Service,
  type ServicePort,
  type StatefulSet,
  type StringMap
} from "../../domain/Kubernetes.ts"
import {
  Kubernetes,
  type KubernetesError,
  raw,
  type Resource,
  Resources,
  type WatchEvent,
  type WatchOptions
} from "../../services/Kubernetes.ts"
import { ContractNamespaces, type KubernetesContractTarget, outcome } from "./ContractTarget.ts"
import { dittoServerSchemaContract } from "./DittoServerSchemaContract.ts"
import { workloadKindsContract } from "./WorkloadKindsContract.ts"

export { ContractNamespaces, type KubernetesContractTarget } from "./ContractTarget.ts"

/** A check that background work has not finished yet; retried with the target's `settle`. */
class NotSettled extends Schema.TaggedError<NotSettled>()("NotSettled", { message: Schema.String }) {}

const finalizer = "dittofs.dittofs.com/contract"

/** DittoServers read and written as sent, without the Schema's defaults: to see the server's. */
const RawDittoServer: Resource<AnyObject> = { ...Resources.DittoServer, schema: AnyObject }

const secret = (namespace: string, name: string, labels: StringMap = {}): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace, labels },
  type: "Opaque",
  data: { token: Buffer.from(name, "utf8").toString("base64") }
})

const statefulSet = (namespace: string, name: string): StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas: 1,
    serviceName: name,
    podManagementPolicy: "Parallel",
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [{
          name: "dfs",
          image: "marmos91c/dittofs:0.29.0",
          env: [{ name: "DITTOFS_LOGGING_LEVEL", value: "DEBUG" }],
          ports: [{ name: "api", containerPort: 8080 }]
        }]
      }
    }
  }
})

const service = (namespace: string, name: string, spec: Service["spec"]): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec
})

const networkPolicy = (namespace: string, name: string): NetworkPolicy => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec: { podSelector: { matchLabels: { app: name } }, ingress: [{ ports: [{ port: 2049 }] }] }
})

const dittoServer = (namespace: string, name: string, metadata: Partial<ObjectMeta> = {}) =>
  Schema.decodeEffect(DittoServerDomain.DittoServer)({
    apiVersion: DittoServerDomain.apiVersion,
    kind: DittoServerDomain.kind,
    metadata: { ...metadata, name, namespace },
    spec: { storage: { metadataSize: "1Gi" } }
  }).pipe(Effect.orDie)

const ownedBy = (owner: DittoServerDomain.DittoServer): ReadonlyArray<OwnerReference> => [{
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name,
  uid: owner.metadata.uid ?? "",
  controller: true,
  blockOwnerDeletion: true
}]

const namesOf = (objects: ReadonlyArray<{ readonly metadata: ObjectMeta }>): ReadonlyArray<string> =>
  objects.map((object) => object.metadata.name).sort()

const nodePortsOf = (value: Service): ReadonlyArray<number | undefined> => (value.spec.ports ?? []).map((port) => port.nodePort)

const withoutAllocations = (value: Service): Service => {
  const { clusterIP: _clusterIP, clusterIPs: _clusterIPs, ...spec } = value.spec
  return {
    ...value,
    spec: {
      ...spec,
      ports: (value.spec.ports ?? []).map(({ nodePort: _nodePort, ...port }): ServicePort => port)
    }
  }
}

const withLabel = <A extends { readonly metadata: ObjectMeta }>(object: A, key: string, value: string): A => ({
  ...object,
  metadata: { ...object.metadata, labels: { ...object.metadata.labels, [key]: value } }
})

const withAnnotation = <A extends { readonly metadata: ObjectMeta }>(object: A, key: string, value: string): A => ({
  ...object,
  metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [key]: value } }
})

/** A Secret Schema stricter than the API server: `data.token` is required (a newer operator's view). */
const TokenSecret = Schema.StructWithRest(
  Schema.Struct({
    apiVersion: Schema.Literal("v1"),
    kind: Schema.Literal("Secret"),
    metadata: ObjectMeta,
    data: Schema.StructWithRest(Schema.Struct({ token: Schema.String }), [Schema.Record(Schema.String, Schema.String)])
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
)
const TokenSecrets: Resource<typeof TokenSecret.Type> = { ...Resources.Secret, schema: TokenSecret }

/** Upper bound of every watch the suite opens, so that a live one never outlives its test. */
const watchTimeoutSeconds = 30

type Change<A> = Extract<WatchEvent<A>, { readonly object: A }>

/** A watch's changes (bookmarks left out), up to and including the first one `last` picks. */
const changesUntil = (last: (change: Change<{ readonly metadata: ObjectMeta }>) => boolean) =>
<A extends { readonly metadata: ObjectMeta }>(stream: Stream.Stream<WatchEvent<A>, KubernetesError>) =>
  stream.pipe(
    Stream.filter((event): event is Change<A> => event._tag !== "Bookmark"),
    Stream.takeUntil(last),
    Stream.runCollect
  )

const named = (name: string) => (change: Change<{ readonly metadata: ObjectMeta }>): boolean => change.object.metadata.name === name

/** `[event, name]` of each change. */
const summary = (changes: ReadonlyArray<Change<{ readonly metadata: ObjectMeta }>>): ReadonlyArray<readonly [string, string]> =>
  changes.map((change) => [change._tag, change.object.metadata.name])

const versionOf = (object: { readonly metadata: ObjectMeta }): number => Number(object.metadata.resourceVersion)

const atVersion = <A extends { readonly metadata: ObjectMeta }>(object: A | undefined, resourceVersion: string) =>
  object === undefined ? undefined : { ...object, metadata: { ...object.metadata, resourceVersion } }

const from = (resourceVersion: string, options: Partial<WatchOptions> = {}): WatchOptions => ({
  timeoutSeconds: watchTimeoutSeconds,
  ...options,
  resourceVersion
})

export const kubernetesContract = (name: string, target: KubernetesContractTarget): void =>
  layer(target.layer, { excludeTestServices: target.liveClock })(`Kubernetes contract: ${name}`, (it) => {
    const timeout = target.testTimeout

    /** Fails with NotSettled until the object is gone; retried with the target's schedule. */
    const awaitGone = <A>(resource: Resource<A>, namespace: string, objectName: string) =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const result = yield* outcome(kubernetes.get(resource, namespace, objectName))
        if (result !== "NotFound") {
          return yield* new NotSettled({ message: `${resource.kind} ${namespace}/${objectName} still there (get: ${result})` })
        }
      }).pipe(Effect.retry(target.settle))

    it.effect("creates, gets and lists by label selector within one namespace", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespaces = yield* ContractNamespaces
        const namespace = yield* namespaces.fresh
        const elsewhere = yield* namespaces.fresh
        const created = yield* kubernetes.create(Resources.Secret, secret(namespace, "alpha", { app: "ditto", tier: "api" }))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "beta", { app: "ditto", tier: "data" }))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "gamma", { app: "other" }))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "delta"))
        yield* kubernetes.create(Resources.Secret, secret(elsewhere, "alpha", { app: "ditto", tier: "api" }))

        assert.strictEqual(created.metadata.namespace, namespace)
        assert.isString(created.metadata.uid)
        assert.isString(created.metadata.resourceVersion)
        assert.match(created.metadata.creationTimestamp ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
        assert.deepStrictEqual(yield* kubernetes.get(Resources.Secret, namespace, "alpha"), created)

        const byApp = yield* kubernetes.list(Resources.Secret, namespace, { labelSelector: { app: "ditto" } })
        assert.deepStrictEqual(namesOf(byApp), ["alpha", "beta"])
        assert.deepStrictEqual(byApp.map((item) => [item.apiVersion, item.kind, item.metadata.namespace]), [
          ["v1", "Secret", namespace],
          ["v1", "Secret", namespace]
        ])
        assert.deepStrictEqual(
          namesOf(yield* kubernetes.list(Resources.Secret, namespace, { labelSelector: { app: "ditto", tier: "api" } })),
          ["alpha"]
        )
        assert.deepStrictEqual(namesOf(yield* kubernetes.list(Resources.Secret, namespace, { labelSelector: { app: "none" } })), [])
        assert.deepStrictEqual(namesOf(yield* kubernetes.list(Resources.Secret, namespace)), ["alpha", "beta", "delta", "gamma"])
        assert.notStrictEqual(
          (yield* kubernetes.get(Resources.Secret, elsewhere, "alpha")).metadata.uid,
          created.metadata.uid
        )
      }), timeout)

    it.effect("rejects a second create of the same name with AlreadyExists and keeps the first", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const first = yield* kubernetes.create(Resources.Secret, secret(namespace, "once", { copy: "first" }))
        assert.strictEqual(yield* outcome(kubernetes.create(Resources.Secret, secret(namespace, "once", { copy: "second" }))), "AlreadyExists")
        const server = yield* dittoServer(namespace, "once")
        yield* kubernetes.create(Resources.DittoServer, server)
        assert.strictEqual(yield* outcome(kubernetes.create(Resources.DittoServer, server)), "AlreadyExists")
        const stored = yield* kubernetes.get(Resources.Secret, namespace, "once")
        assert.strictEqual(stored.metadata.uid, first.metadata.uid)
        assert.deepStrictEqual(stored.metadata.labels, { copy: "first" })
      }), timeout)

    it.effect("answers NotFound for a missing object on get, update and delete", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const missing = yield* Effect.flip(kubernetes.get(Resources.Secret, namespace, "missing"))
        assert.strictEqual(missing.reason, "NotFound")
        assert.strictEqual(missing.message, `secrets "missing" not found`)
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.StatefulSet, namespace, "missing")), "NotFound")
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.DittoServer, namespace, "missing")), "NotFound")
        assert.strictEqual(yield* outcome(kubernetes.delete(Resources.Secret, namespace, "missing")), "NotFound")
        assert.strictEqual(yield* outcome(kubernetes.delete(Resources.DittoServer, namespace, "missing")), "NotFound")
        const ghost = secret(namespace, "missing")
        assert.strictEqual(
          yield* outcome(kubernetes.update(Resources.Secret, { ...ghost, metadata: { ...ghost.metadata, resourceVersion: "1" } })),
          "NotFound"
        )
      }), timeout)

    it.effect("rejects an update with a stale resourceVersion with Conflict", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const original = yield* kubernetes.create(Resources.Secret, secret(namespace, "contended"))
        const winner = yield* kubernetes.update(Resources.Secret, withLabel(original, "writer", "winner"))
        assert.notStrictEqual(winner.metadata.resourceVersion, original.metadata.resourceVersion)
        assert.strictEqual(yield* outcome(kubernetes.update(Resources.Secret, withLabel(original, "writer", "loser"))), "Conflict")
        assert.strictEqual((yield* kubernetes.get(Resources.Secret, namespace, "contended")).metadata.labels?.["writer"], "winner")

        const server = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "contended"))
        yield* kubernetes.update(Resources.DittoServer, withLabel(server, "writer", "winner"))
        assert.strictEqual(yield* outcome(kubernetes.update(Resources.DittoServer, withLabel(server, "writer", "loser"))), "Conflict")
        assert.strictEqual(
          yield* outcome(kubernetes.updateStatus(Resources.DittoServer, { ...server, status: { phase: "Running" } })),
          "Conflict"
        )
        const stored = yield* kubernetes.get(Resources.DittoServer, namespace, "contended")
        assert.strictEqual(stored.metadata.labels?.["writer"], "winner")
        assert.isUndefined(stored.status)
      }), timeout)

    it.effect("deletes only when the uid and resourceVersion preconditions hold", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const original = yield* kubernetes.create(Resources.Secret, secret(namespace, "guarded"))
        assert.strictEqual(
          yield* outcome(kubernetes.delete(Resources.Secret, namespace, "guarded", { uid: "00000000-0000-4000-8000-ffffffffffff" })),
          "Conflict"
        )
        const current = yield* kubernetes.update(Resources.Secret, withLabel(original, "touched", "yes"))
        assert.strictEqual(
          yield* outcome(kubernetes.delete(Resources.Secret, namespace, "guarded", { resourceVersion: original.metadata.resourceVersion ?? "" })),
          "Conflict"
        )
        assert.strictEqual((yield* kubernetes.get(Resources.Secret, namespace, "guarded")).metadata.uid, original.metadata.uid)
        yield* kubernetes.delete(Resources.Secret, namespace, "guarded", {
          uid: current.metadata.uid ?? "",
          resourceVersion: current.metadata.resourceVersion ?? ""
        })
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.Secret, namespace, "guarded")), "NotFound")
      }), timeout)

    it.effect("bumps a StatefulSet's generation on spec changes only", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto"))
        assert.strictEqual(created.metadata.generation, 1)
        const labelled = yield* kubernetes.update(Resources.StatefulSet, withLabel(created, "team", "storage"))
        const annotated = yield* kubernetes.update(Resources.StatefulSet, withAnnotation(labelled, "note", "hello"))
        assert.notStrictEqual(annotated.metadata.resourceVersion, created.metadata.resourceVersion)
        assert.strictEqual(annotated.metadata.generation, 1)
        const scaled = yield* kubernetes.update(Resources.StatefulSet, { ...annotated, spec: { ...annotated.spec, replicas: 0 } })
        assert.strictEqual(scaled.metadata.generation, 2)
        const reported = yield* kubernetes.updateStatus(Resources.StatefulSet, {
          ...scaled,
          status: { ...scaled.status, replicas: 0, readyReplicas: 0, observedGeneration: 2 }
        })
        assert.strictEqual(reported.status?.observedGeneration, 2)
        const stored = yield* kubernetes.get(Resources.StatefulSet, namespace, "ditto")
        assert.strictEqual(stored.metadata.generation, 2)
        assert.strictEqual(stored.spec.replicas, 0)
      }), timeout)

    it.effect("bumps a DittoServer's generation on spec changes only", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "ditto"))
        assert.strictEqual(created.metadata.generation, 1)
        const labelled = yield* kubernetes.update(Resources.DittoServer, withLabel(created, "team", "storage"))
        const annotated = yield* kubernetes.update(Resources.DittoServer, withAnnotation(labelled, "note", "hello"))
        assert.notStrictEqual(annotated.metadata.resourceVersion, labelled.metadata.resourceVersion)
        assert.strictEqual(annotated.metadata.generation, 1)
        const stopped = yield* kubernetes.update(Resources.DittoServer, { ...annotated, spec: { ...annotated.spec, replicas: 0 } })
        assert.strictEqual(stopped.metadata.generation, 2)
        yield* kubernetes.updateStatus(Resources.DittoServer, { ...stopped, status: { phase: "Stopped", observedGeneration: 2 } })
        const stored = yield* kubernetes.get(Resources.DittoServer, namespace, "ditto")
        assert.strictEqual(stored.metadata.generation, 2)
        assert.strictEqual(stored.status?.phase, "Stopped")
      }), timeout)

    it.effect("keeps generation on NetworkPolicies (bumped by spec) and none on Services and Secrets", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const policy = yield* kubernetes.create(Resources.NetworkPolicy, networkPolicy(namespace, "ditto"))
        assert.strictEqual(policy.metadata.generation, 1)
        const relabelled = yield* kubernetes.update(Resources.NetworkPolicy, withLabel(policy, "team", "storage"))
        assert.strictEqual(relabelled.metadata.generation, 1)
        const widened = yield* kubernetes.update(Resources.NetworkPolicy, {
          ...relabelled,
          spec: { ...relabelled.spec, ingress: [{ ports: [{ port: 2049 }, { port: 445 }] }] }
        })
        assert.strictEqual(widened.metadata.generation, 2)
        const svc = yield* kubernetes.create(Resources.Service, service(namespace, "ditto", { ports: [{ name: "api", port: 8080 }] }))
        const moved = yield* kubernetes.update(Resources.Service, { ...svc, spec: { ...svc.spec, ports: [{ name: "api", port: 8081 }] } })
        assert.isUndefined(moved.metadata.generation)
        const stored = yield* kubernetes.create(Resources.Secret, secret(namespace, "ditto"))
        assert.isUndefined(stored.metadata.generation)
      }), timeout)

    it.effect("does not bump resourceVersion on a no-op update", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const secretBefore = yield* kubernetes.create(Resources.Secret, secret(namespace, "still"))
        assert.deepStrictEqual(yield* kubernetes.update(Resources.Secret, secretBefore), secretBefore)
        const setBefore = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "still"))
        assert.deepStrictEqual(yield* kubernetes.update(Resources.StatefulSet, setBefore), setBefore)
        const serviceBefore = yield* kubernetes.create(Resources.Service, service(namespace, "still", {
          type: "NodePort",
          ports: [{ name: "nfs", port: 2049 }]
        }))
        assert.deepStrictEqual(yield* kubernetes.update(Resources.Service, serviceBefore), serviceBefore)
        const serverBefore = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "still"))
        assert.deepStrictEqual(yield* kubernetes.update(Resources.DittoServer, serverBefore), serverBefore)
        assert.strictEqual((yield* kubernetes.get(Resources.DittoServer, namespace, "still")).metadata.resourceVersion, serverBefore.metadata.resourceVersion)
      }), timeout)

    it.effect("writes status only through updateStatus, and only status", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const draft = yield* dittoServer(namespace, "ditto")
        const created = yield* kubernetes.create(Resources.DittoServer, { ...draft, status: { phase: "Running" } })
        assert.isUndefined(created.status)
        const updated = yield* kubernetes.update(Resources.DittoServer, {
          ...created,
          spec: { ...created.spec, replicas: 0 },
          status: { phase: "Failed" }
        })
        assert.strictEqual(updated.spec.replicas, 0)
        assert.isUndefined(updated.status)
        const reported = yield* kubernetes.updateStatus(Resources.DittoServer, {
          ...withLabel(updated, "sneaky", "label"),
          spec: { ...updated.spec, replicas: 1 },
          status: { phase: "Stopped", observedGeneration: 2 }
        })
        assert.deepStrictEqual(reported.status, { phase: "Stopped", observedGeneration: 2 })
        const stored = yield* kubernetes.get(Resources.DittoServer, namespace, "ditto")
        assert.deepStrictEqual(stored.status, { phase: "Stopped", observedGeneration: 2 })
        assert.strictEqual(stored.spec.replicas, 0)
        assert.isUndefined(stored.metadata.labels?.["sneaky"])

        const set = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto"))
        const setUpdated = yield* kubernetes.update(Resources.StatefulSet, { ...set, status: { replicas: 5, readyReplicas: 5 } })
        assert.strictEqual(setUpdated.status?.readyReplicas ?? 0, 0)
        const setReported = yield* kubernetes.updateStatus(Resources.StatefulSet, {
          ...setUpdated,
          spec: { ...setUpdated.spec, replicas: 3 },
          status: { ...setUpdated.status, replicas: 1, readyReplicas: 1 }
        })
        assert.strictEqual(setReported.status?.readyReplicas, 1)
        assert.strictEqual((yield* kubernetes.get(Resources.StatefulSet, namespace, "ditto")).spec.replicas, 1)
      }), timeout)

    it.effect("merge-patches status at any resourceVersion: names what changed, keeps the rest, never the spec", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "patched"))
        const reported = yield* kubernetes.updateStatus(Resources.DittoServer, {
          ...created,
          status: { phase: "Running", observedGeneration: 1, replicas: 1 }
        })
        // Another writer's status field and a spec change land after the patcher's view.
        const other = yield* kubernetes.updateStatus(Resources.DittoServer, { ...reported, status: { ...reported.status, configHash: "abc" } })
        const respecified = yield* kubernetes.update(Resources.DittoServer, { ...other, spec: { ...other.spec, replicas: 0 } })
        const patched = yield* kubernetes.patchStatus(Resources.DittoServer, reported, {
          ...withLabel(reported, "sneaky", "label"),
          spec: { ...reported.spec, replicas: 1 },
          status: { phase: "Stopped", replicas: 1 }
        })
        const expected = { phase: "Stopped" as const, replicas: 1, configHash: "abc" }
        assert.deepStrictEqual(patched.status, expected, "phase set, observedGeneration removed, configHash kept")
        const stored = yield* kubernetes.get(Resources.DittoServer, namespace, "patched")
        assert.deepStrictEqual(stored.status, expected)
        assert.strictEqual(stored.spec.replicas, 0)
        assert.isUndefined(stored.metadata.labels?.["sneaky"])
        assert.notStrictEqual(stored.metadata.resourceVersion, respecified.metadata.resourceVersion)

        const unchanged = yield* kubernetes.patchStatus(Resources.DittoServer, stored, stored)
        assert.strictEqual(unchanged.metadata.resourceVersion, stored.metadata.resourceVersion, "an empty patch changes nothing")

        yield* kubernetes.delete(Resources.DittoServer, namespace, "patched")
        const gone = yield* Effect.flip(kubernetes.patchStatus(Resources.DittoServer, stored, { ...stored, status: { phase: "Running" } }))
        assert.strictEqual(gone.reason, "NotFound")
      }), timeout)

    it.effect("round-trips controller owner references", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const owner = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "owner"))
        const owned = { ...service(namespace, "owned", { ports: [{ name: "api", port: 8080 }] }) }
        const created = yield* kubernetes.create(Resources.Service, { ...owned, metadata: { ...owned.metadata, ownerReferences: ownedBy(owner) } })
        assert.deepStrictEqual(created.metadata.ownerReferences, ownedBy(owner))
        assert.deepStrictEqual((yield* kubernetes.get(Resources.Service, namespace, "owned")).metadata.ownerReferences, ownedBy(owner))
      }), timeout)

    it.effect("removes the dependents of a deleted DittoServer (garbage collection)", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const owner = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "owner"))
        const owned = <A extends { readonly metadata: ObjectMeta }>(object: A): A => ({
          ...object,
          metadata: { ...object.metadata, ownerReferences: ownedBy(owner) }
        })
        yield* kubernetes.create(Resources.Service, owned(service(namespace, "owner-nfs", { ports: [{ name: "nfs", port: 2049 }] })))
        yield* kubernetes.create(Resources.Secret, owned(secret(namespace, "owner-token")))
        yield* kubernetes.create(Resources.NetworkPolicy, owned(networkPolicy(namespace, "owner-nfs")))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "bystander"))
        yield* kubernetes.delete(Resources.DittoServer, namespace, "owner", { uid: owner.metadata.uid ?? "" })
        yield* awaitGone(Resources.DittoServer, namespace, "owner")
        yield* awaitGone(Resources.Service, namespace, "owner-nfs")
        yield* awaitGone(Resources.Secret, namespace, "owner-token")
        yield* awaitGone(Resources.NetworkPolicy, namespace, "owner-nfs")
        assert.deepStrictEqual(namesOf(yield* kubernetes.list(Resources.Secret, namespace)), ["bystander"])
      }), timeout)

    it.effect("defaults a Service: ClusterIP, TCP, targetPort = port, an allocated clusterIP", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.Service, service(namespace, "plain", {
          selector: { app: "ditto" },
          ports: [{ name: "api", port: 8080 }, { name: "nfs", port: 2049, targetPort: "nfs" }]
        }))
        assert.strictEqual(created.spec.type, "ClusterIP")
        assert.match(created.spec.clusterIP ?? "", /^\d+\.\d+\.\d+\.\d+$/)
        assert.deepStrictEqual(created.spec.ports, [
          { name: "api", port: 8080, protocol: "TCP", targetPort: 8080 },
          { name: "nfs", port: 2049, protocol: "TCP", targetPort: "nfs" }
        ])
        assert.strictEqual(created.spec["sessionAffinity"], "None")
        assert.strictEqual(created.spec["internalTrafficPolicy"], "Cluster")
        assert.deepStrictEqual(created.spec["ipFamilies"], ["IPv4"])
        assert.strictEqual(created.spec["ipFamilyPolicy"], "SingleStack")
        assert.isUndefined(created.spec["externalTrafficPolicy"])
        assert.deepStrictEqual(created["status"], { loadBalancer: {} })
      }), timeout)

    for (const type of ["NodePort", "LoadBalancer"] as const) {
      it.effect(`keeps a ${type} Service's nodePorts and clusterIP across updates that omit them`, () =>
        Effect.gen(function*() {
          const kubernetes = yield* Kubernetes
          const namespace = yield* (yield* ContractNamespaces).fresh
          const created = yield* kubernetes.create(Resources.Service, service(namespace, "exposed", {
            type,
            ports: [{ name: "nfs", port: 2049 }, { name: "smb", port: 445 }]
          }))
          const allocated = nodePortsOf(created)
          assert.strictEqual(new Set(allocated).size, 2)
          for (const nodePort of allocated) assert.isTrue(nodePort !== undefined && nodePort >= 30000 && nodePort <= 32767)
          const omitted = yield* kubernetes.update(Resources.Service, withLabel(withoutAllocations(created), "round", "one"))
          assert.deepStrictEqual(nodePortsOf(omitted), allocated)
          assert.strictEqual(omitted.spec.clusterIP, created.spec.clusterIP)
          const annotated = yield* kubernetes.update(Resources.Service, withAnnotation(omitted, "round", "two"))
          assert.notStrictEqual(annotated.metadata.resourceVersion, omitted.metadata.resourceVersion)
          const stored = yield* kubernetes.get(Resources.Service, namespace, "exposed")
          assert.deepStrictEqual(nodePortsOf(stored), allocated)
          assert.strictEqual(stored.spec.clusterIP, created.spec.clusterIP)
          assert.strictEqual(stored.spec.type, type)
        }), timeout)
    }

    it.effect("drops the nodePorts of a Service switched to ClusterIP and keeps its clusterIP", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.Service, service(namespace, "shrinking", {
          type: "NodePort",
          ports: [{ name: "nfs", port: 2049 }]
        }))
        const switched = yield* kubernetes.update(Resources.Service, { ...created, spec: { ...created.spec, type: "ClusterIP" } })
        assert.strictEqual(switched.spec.type, "ClusterIP")
        assert.deepStrictEqual(nodePortsOf(switched), [undefined])
        assert.strictEqual(switched.spec.clusterIP, created.spec.clusterIP)
        assert.deepStrictEqual(nodePortsOf(yield* kubernetes.get(Resources.Service, namespace, "shrinking")), [undefined])
      }), timeout)

    it.effect("keeps fields it does not model across a read-modify-write", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const set = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto"))
        yield* kubernetes.update(Resources.StatefulSet, withLabel({ ...set, spec: { ...set.spec, replicas: 0 } }, "team", "storage"))
        const storedSet = yield* kubernetes.get(Resources.StatefulSet, namespace, "ditto")
        assert.strictEqual(storedSet.spec.replicas, 0)
        assert.strictEqual(storedSet.spec["podManagementPolicy"], "Parallel")
        assert.deepStrictEqual(storedSet.spec.template.spec.containers[0]?.["env"], [{ name: "DITTOFS_LOGGING_LEVEL", value: "DEBUG" }])

        const svc = yield* kubernetes.create(Resources.Service, service(namespace, "sticky", {
          sessionAffinity: "ClientIP",
          ports: [{ name: "nfs", port: 2049 }]
        }))
        yield* kubernetes.update(Resources.Service, { ...svc, spec: { ...svc.spec, ports: [{ name: "nfs", port: 2049 }, { name: "smb", port: 445 }] } })
        const storedService = yield* kubernetes.get(Resources.Service, namespace, "sticky")
        assert.strictEqual(storedService.spec["sessionAffinity"], "ClientIP")
        assert.deepStrictEqual(storedService.spec["sessionAffinityConfig"], { clientIP: { timeoutSeconds: 10800 } })
        assert.deepStrictEqual((storedService.spec.ports ?? []).map((port) => port.name), ["nfs", "smb"])
      }), timeout)

    it.effect("marks an object with finalizers for deletion and deletes it when the last finalizer goes", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "held", { finalizers: [finalizer] }))
        yield* kubernetes.delete(Resources.DittoServer, namespace, "held")
        const terminating = yield* kubernetes.get(Resources.DittoServer, namespace, "held")
        assert.isString(terminating.metadata.deletionTimestamp)
        assert.strictEqual(terminating.metadata["deletionGracePeriodSeconds"], 0)
        assert.strictEqual(terminating.metadata.generation, 2)
        assert.deepStrictEqual(terminating.metadata.finalizers, [finalizer])
        assert.strictEqual(terminating.metadata.uid, created.metadata.uid)
        assert.strictEqual(
          yield* outcome(kubernetes.update(Resources.DittoServer, {
            ...terminating,
            metadata: { ...terminating.metadata, finalizers: [finalizer, `${finalizer}-late`] }
          })),
          "Invalid"
        )
        yield* kubernetes.delete(Resources.DittoServer, namespace, "held")
        assert.strictEqual((yield* kubernetes.get(Resources.DittoServer, namespace, "held")).metadata.uid, created.metadata.uid)
        yield* kubernetes.update(Resources.DittoServer, { ...terminating, metadata: { ...terminating.metadata, finalizers: [] } })
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.DittoServer, namespace, "held")), "NotFound")
      }), timeout)

    it.effect("drops empty labels, annotations, finalizers, ownerReferences and Secret data", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const draft = secret(namespace, "bare")
        const created = yield* kubernetes.create(Resources.Secret, {
          ...draft,
          metadata: { ...draft.metadata, labels: {}, annotations: {}, finalizers: [], ownerReferences: [] },
          data: {}
        })
        for (const key of ["labels", "annotations", "finalizers", "ownerReferences"]) assert.notProperty(created.metadata, key)
        assert.notProperty(created, "data")
        const relabelled = yield* kubernetes.update(Resources.Secret, { ...created, metadata: { ...created.metadata, labels: { a: "b" }, annotations: {} } })
        assert.deepStrictEqual(relabelled.metadata.labels, { a: "b" })
        assert.notProperty((yield* kubernetes.get(Resources.Secret, namespace, "bare")).metadata, "annotations")
      }), timeout)

    it.effect("refuses to create an object that carries a resourceVersion", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const draft = secret(namespace, "versioned")
        // kube-apiserver answers 500 InternalError, hence Unavailable.
        assert.strictEqual(
          yield* outcome(kubernetes.create(Resources.Secret, { ...draft, metadata: { ...draft.metadata, resourceVersion: "5" } })),
          "Unavailable"
        )
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.Secret, namespace, "versioned")), "NotFound")
      }), timeout)

    it.effect("defaults a StatefulSet like the API server, so re-sending the undefaulted object is a no-op", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const base = statefulSet(namespace, "ditto")
        const { podManagementPolicy: _policy, ...spec } = base.spec
        const draft: StatefulSet = {
          ...base,
          spec: {
            ...spec,
            volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
            template: {
              ...spec.template,
              spec: {
                ...spec.template.spec,
                containers: [...spec.template.spec.containers, { name: "sidecar", image: "busybox" }]
              }
            }
          }
        }
        const created = yield* kubernetes.create(Resources.StatefulSet, draft)
        assert.deepStrictEqual(created.status, { replicas: 0, availableReplicas: 0 })
        assert.strictEqual(created.spec["podManagementPolicy"], "OrderedReady")
        assert.deepStrictEqual(created.spec["updateStrategy"], { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
        assert.strictEqual(created.spec["revisionHistoryLimit"], 10)
        assert.deepStrictEqual(created.spec["persistentVolumeClaimRetentionPolicy"], { whenDeleted: "Retain", whenScaled: "Retain" })
        assert.deepStrictEqual(created.spec["volumeClaimTemplates"], [{
          kind: "PersistentVolumeClaim",
          apiVersion: "v1",
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
          status: { phase: "Pending" }
        }])
        const pod = created.spec.template.spec
        assert.deepStrictEqual(
          [pod["restartPolicy"], pod["terminationGracePeriodSeconds"], pod["dnsPolicy"], pod["securityContext"], pod["schedulerName"]],
          ["Always", 30, "ClusterFirst", {}, "default-scheduler"]
        )
        const [main, sidecar] = pod.containers
        assert.deepStrictEqual(main?.ports, [{ name: "api", containerPort: 8080, protocol: "TCP" }])
        assert.deepStrictEqual(
          [main?.["imagePullPolicy"], main?.["terminationMessagePath"], main?.["terminationMessagePolicy"], main?.["resources"]],
          ["IfNotPresent", "/dev/termination-log", "File", {}]
        )
        assert.strictEqual(sidecar?.["imagePullPolicy"], "Always")
        const resent = yield* kubernetes.update(Resources.StatefulSet, {
          ...draft,
          metadata: { ...draft.metadata, resourceVersion: created.metadata.resourceVersion ?? "" }
        })
        assert.strictEqual(resent.metadata.resourceVersion, created.metadata.resourceVersion)
        assert.strictEqual(resent.metadata.generation, 1)
      }), timeout)

    it.effect("limits StatefulSet updates to its mutable fields and requires a selector matching the template", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.StatefulSet, statefulSet(namespace, "ditto"))
        for (const change of [{ serviceName: "elsewhere" }, { podManagementPolicy: "OrderedReady" }, {
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } } }]
        }]) {
          assert.strictEqual(yield* outcome(kubernetes.update(Resources.StatefulSet, { ...created, spec: { ...created.spec, ...change } })), "Invalid")
        }
        const retuned = yield* kubernetes.update(Resources.StatefulSet, {
          ...created,
          spec: { ...created.spec, replicas: 0, revisionHistoryLimit: 3, minReadySeconds: 5, updateStrategy: { type: "OnDelete" } }
        })
        assert.deepStrictEqual(retuned.spec["updateStrategy"], { type: "OnDelete" })
        assert.strictEqual(retuned.spec["serviceName"], "ditto")
        const stray = statefulSet(namespace, "stray")
        assert.strictEqual(
          yield* outcome(kubernetes.create(Resources.StatefulSet, { ...stray, spec: { ...stray.spec, selector: { matchLabels: { app: "other" } } } })),
          "Invalid"
        )
      }), timeout)

    it.effect("validates Service ports: required, named when several, unique", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        assert.strictEqual(yield* outcome(kubernetes.create(Resources.Service, service(namespace, "portless", {}))), "Invalid")
        assert.strictEqual(
          yield* outcome(kubernetes.create(Resources.Service, service(namespace, "anonymous", { ports: [{ port: 80 }, { port: 81 }] }))),
          "Invalid"
        )
        assert.strictEqual(
          yield* outcome(kubernetes.create(Resources.Service, service(namespace, "twice", { ports: [{ name: "a", port: 80 }, { name: "b", port: 80 }] }))),
          "Invalid"
        )
        const both = yield* kubernetes.create(Resources.Service, service(namespace, "both", {
          ports: [{ name: "nfs-tcp", port: 2049 }, { name: "nfs-udp", port: 2049, protocol: "UDP" }]
        }))
        assert.deepStrictEqual((both.spec.ports ?? []).map((port) => port.protocol), ["TCP", "UDP"])
        const headless = yield* kubernetes.create(Resources.Service, service(namespace, "headless", {
          clusterIP: "None",
          selector: { app: "ditto" },
          ports: [{ name: "api", port: 8080 }]
        }))
        assert.strictEqual(headless.spec.clusterIP, "None")
        assert.deepStrictEqual(namesOf(yield* kubernetes.list(Resources.Service, namespace)), ["both", "headless"])
      }), timeout)

    it.effect("never changes a Service's clusterIP once allocated", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.Service, service(namespace, "pinned", { ports: [{ name: "api", port: 8080 }] }))
        assert.strictEqual(
          yield* outcome(kubernetes.update(Resources.Service, {
            ...created,
            spec: { ...created.spec, clusterIP: "10.0.255.254", clusterIPs: ["10.0.255.254"] }
          })),
          "Invalid"
        )
        assert.strictEqual((yield* kubernetes.get(Resources.Service, namespace, "pinned")).spec.clusterIP, created.spec.clusterIP)
      }), timeout)

    it.effect("honours an explicit nodePort unless it is taken or out of range", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const first = yield* kubernetes.create(Resources.Service, service(namespace, "first", { type: "NodePort", ports: [{ name: "nfs", port: 2049 }] }))
        const [taken] = nodePortsOf(first)
        assert.isDefined(taken)
        const claim = (objectName: string, nodePort: number) =>
          kubernetes.create(Resources.Service, service(namespace, objectName, { type: "NodePort", ports: [{ name: "nfs", port: 2049, nodePort }] }))
        assert.strictEqual(yield* outcome(claim("second", taken ?? 0)), "Invalid")
        assert.strictEqual(yield* outcome(claim("low", 29999)), "Invalid")
        yield* kubernetes.delete(Resources.Service, namespace, "first")
        const third = yield* claim("third", taken ?? 0)
        assert.deepStrictEqual(nodePortsOf(third), [taken])
      }), timeout)

    it.effect("stores Events with the fields the API server fills in, and counts repeats", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(Resources.Event, {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: "ditto.17a", namespace },
          involvedObject: { apiVersion: DittoServerDomain.apiVersion, kind: DittoServerDomain.kind, namespace, name: "ditto" },
          type: "Normal",
          reason: "AdapterExposed",
          message: "nfs on 12049",
          count: 1,
          firstTimestamp: "2026-01-01T00:00:00Z",
          lastTimestamp: "2026-01-01T00:00:00Z",
          source: { component: "dittoserver-controller" }
        })
        assert.strictEqual(created["eventTime"], null)
        assert.strictEqual(created.reportingComponent, "")
        assert.isUndefined(created.metadata.generation)
        const repeated = yield* kubernetes.update(Resources.Event, { ...created, count: 2, lastTimestamp: "2026-01-01T00:01:00Z" })
        assert.notStrictEqual(repeated.metadata.resourceVersion, created.metadata.resourceVersion)
        const stored = yield* kubernetes.get(Resources.Event, namespace, "ditto.17a")
        assert.deepStrictEqual([stored.count, stored.lastTimestamp, stored.firstTimestamp], [2, "2026-01-01T00:01:00Z", "2026-01-01T00:00:00Z"])
      }), timeout)

    it.effect("prunes DittoServer fields its CRD does not declare, in spec and in status", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const draft = yield* dittoServer(namespace, "future")
        const created = yield* kubernetes.create(Resources.DittoServer, {
          ...draft,
          spec: { ...draft.spec, futureField: "x", storage: { ...draft.spec.storage, futureSize: "1Gi" } }
        })
        assert.notProperty(created.spec, "futureField")
        assert.notProperty(created.spec.storage, "futureSize")
        const reported = yield* kubernetes.updateStatus(Resources.DittoServer, { ...created, status: { phase: "Pending", futureStatus: 1 } })
        assert.deepStrictEqual(reported.status, { phase: "Pending" })
        assert.deepStrictEqual((yield* kubernetes.get(Resources.DittoServer, namespace, "future")).status, { phase: "Pending" })
      }), timeout)

    it.effect("fills in the DittoServer CRD's defaults", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const created = yield* kubernetes.create(RawDittoServer, {
          apiVersion: DittoServerDomain.apiVersion,
          kind: DittoServerDomain.kind,
          metadata: { name: "sparse", namespace },
          spec: { storage: { metadataSize: "1Gi" }, metrics: {} }
        })
        assert.deepStrictEqual(created["spec"], {
          image: "marmos91c/dittofs:latest",
          replicas: 1,
          storage: { metadataSize: "1Gi", cacheSize: "5Gi" },
          controlPlane: { port: 8080 },
          metrics: { enabled: false, port: 9090 },
          adapterDiscovery: { pollingInterval: "30s" },
          adapterServices: { type: "LoadBalancer" },
          rollout: { strategy: "Managed" }
        })
      }), timeout)

    it.effect("list-then-watch sees creates, updates and deletes of matching objects in order, and nothing else", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespaces = yield* ContractNamespaces
        const namespace = yield* namespaces.fresh
        const elsewhere = yield* namespaces.fresh
        const selector = { labelSelector: { app: "ditto" } }
        yield* kubernetes.create(Resources.Secret, secret(namespace, "before", { app: "ditto" }))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "bystander", { app: "other" }))
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, namespace, selector)
        assert.deepStrictEqual(namesOf(listed.items), ["before"])
        assert.isAtLeast(Number(listed.resourceVersion), Math.max(...listed.items.map(versionOf)))
        const watching = yield* kubernetes.watch(Resources.Secret, namespace, from(listed.resourceVersion, selector)).pipe(
          changesUntil(named("last")),
          Effect.forkChild
        )

        const created = yield* kubernetes.create(Resources.Secret, secret(namespace, "alpha", { app: "ditto" }))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "unmatched", { app: "other" }))
        yield* kubernetes.create(Resources.Secret, secret(elsewhere, "alpha", { app: "ditto" }))
        const updated = yield* kubernetes.update(Resources.Secret, withAnnotation(created, "note", "changed"))
        yield* kubernetes.delete(Resources.Secret, namespace, "alpha")
        yield* kubernetes.delete(Resources.Secret, namespace, "bystander")
        yield* kubernetes.delete(Resources.Secret, namespace, "before")
        const last = yield* kubernetes.create(Resources.Secret, secret(namespace, "last", { app: "ditto" }))

        const changes = yield* Fiber.join(watching)
        assert.deepStrictEqual(summary(changes), [
          ["Added", "alpha"],
          ["Modified", "alpha"],
          ["Deleted", "alpha"],
          ["Deleted", "before"],
          ["Added", "last"]
        ])
        const [added, modified, deleted] = changes
        assert.deepStrictEqual(added?.object, created)
        assert.deepStrictEqual(modified?.object, updated)
        // The last stored state, at the deletion's resourceVersion.
        assert.deepStrictEqual(atVersion(deleted?.object, ""), atVersion(updated, ""))
        const versions = changes.map((change) => versionOf(change.object))
        assert.deepStrictEqual(versions, [...versions].sort((a, b) => a - b))
        assert.strictEqual(new Set(versions).size, versions.length)
        assert.isAbove(versionOf(changes[2]?.object ?? updated), versionOf(updated))
        assert.strictEqual(changes[4]?.object.metadata.resourceVersion, last.metadata.resourceVersion)
        // A deletion is a write: it moves the collection's resourceVersion on.
        assert.isAbove(Number((yield* kubernetes.listWithVersion(Resources.Secret, namespace)).resourceVersion), versionOf(updated))
      }), timeout)

    it.effect("watches from a resourceVersion: what came before is not replayed, what came after is", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const first = yield* kubernetes.create(Resources.Secret, secret(namespace, "old"))
        yield* kubernetes.update(Resources.Secret, withLabel(first, "step", "two"))
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, namespace)
        yield* kubernetes.create(Resources.Secret, secret(namespace, "new"))
        const fromList = yield* kubernetes.watch(Resources.Secret, namespace, from(listed.resourceVersion)).pipe(changesUntil(named("new")))
        assert.deepStrictEqual(summary(fromList), [["Added", "new"]])
        const fromFirst = yield* kubernetes.watch(Resources.Secret, namespace, from(first.metadata.resourceVersion ?? "none")).pipe(changesUntil(named("new")))
        assert.deepStrictEqual(summary(fromFirst), [["Modified", "old"], ["Added", "new"]])
        assert.strictEqual(fromFirst[0]?.object.metadata.labels?.["step"], "two")
        // "0" means "any version": the current objects, as Added.
        const fromAny = yield* kubernetes.watch(Resources.Secret, namespace, from("0")).pipe(
          Stream.filter((event) => event._tag !== "Bookmark"),
          Stream.take(2),
          Stream.runCollect
        )
        assert.deepStrictEqual(
          fromAny.map((event) => [event._tag, event.object.metadata.name]).sort(),
          [["Added", "new"], ["Added", "old"]]
        )
      }), timeout)

    it.effect("sees an object that starts matching the selector as Added and one that stops as Deleted", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const selector = { labelSelector: { app: "ditto" } }
        const outside = yield* kubernetes.create(Resources.Secret, secret(namespace, "mover", { app: "other" }))
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, namespace, selector)
        assert.deepStrictEqual(listed.items, [])
        const entered = yield* kubernetes.update(Resources.Secret, withLabel(outside, "app", "ditto"))
        const changed = yield* kubernetes.update(Resources.Secret, withAnnotation(entered, "note", "inside"))
        const left = yield* kubernetes.update(Resources.Secret, withLabel(changed, "app", "other"))
        yield* kubernetes.update(Resources.Secret, withAnnotation(left, "note", "outside"))
        yield* kubernetes.create(Resources.Secret, secret(namespace, "last", { app: "ditto" }))
        const changes = yield* kubernetes.watch(Resources.Secret, namespace, from(listed.resourceVersion, selector)).pipe(
          changesUntil(named("last"))
        )
        assert.deepStrictEqual(summary(changes), [["Added", "mover"], ["Modified", "mover"], ["Deleted", "mover"], ["Added", "last"]])
        const [added, modified, deleted] = changes
        assert.deepStrictEqual(added?.object, entered)
        assert.deepStrictEqual(modified?.object, changed)
        // The object as it was before it left the selector, at the resourceVersion of the change.
        assert.deepStrictEqual(deleted?.object, atVersion(changed, left.metadata.resourceVersion ?? ""))
      }), timeout)

    it.effect("lists and watches across all namespaces", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespaces = yield* ContractNamespaces
        const one = yield* namespaces.fresh
        const two = yield* namespaces.fresh
        // Other suites write in other namespaces meanwhile: a label of our own scopes the test.
        const selector = { labelSelector: { "contract-run": one } }
        yield* kubernetes.create(Resources.Secret, secret(two, "b", { "contract-run": one }))
        yield* kubernetes.create(Resources.Secret, secret(one, "a", { "contract-run": one }))
        yield* kubernetes.create(Resources.Secret, secret(two, "unlabelled"))
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, undefined, selector)
        const keys = listed.items.map((item) => `${item.metadata.namespace ?? ""}/${item.metadata.name}`)
        assert.deepStrictEqual(keys, [`${one}/a`, `${two}/b`].sort())
        assert.deepStrictEqual(
          (yield* kubernetes.list(Resources.Secret, two)).map((item) => item.metadata.name),
          ["b", "unlabelled"]
        )
        yield* kubernetes.create(Resources.Secret, secret(two, "c", { "contract-run": one }))
        yield* kubernetes.delete(Resources.Secret, one, "a")
        yield* kubernetes.create(Resources.Secret, secret(one, "last", { "contract-run": one }))
        const changes = yield* kubernetes.watch(Resources.Secret, undefined, from(listed.resourceVersion, selector)).pipe(
          changesUntil(named("last"))
        )
        assert.deepStrictEqual(
          changes.map((change) => [change._tag, change.object.metadata.namespace, change.object.metadata.name]),
          [["Added", two, "c"], ["Deleted", one, "a"], ["Added", one, "last"]]
        )
      }), timeout)

    it.effect("sees a finalized deletion as Modified, then Deleted with the last stored state", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, namespace)
        const draft = secret(namespace, "held")
        const created = yield* kubernetes.create(Resources.Secret, { ...draft, metadata: { ...draft.metadata, finalizers: [finalizer] } })
        yield* kubernetes.delete(Resources.Secret, namespace, "held")
        const terminating = yield* kubernetes.get(Resources.Secret, namespace, "held")
        const released = yield* kubernetes.update(Resources.Secret, {
          ...terminating,
          metadata: { ...terminating.metadata, finalizers: [] }
        })
        // The server deletes instead of storing: the answer keeps the resourceVersion it was sent.
        assert.strictEqual(released.metadata.resourceVersion, terminating.metadata.resourceVersion)
        assert.isUndefined(released.metadata.finalizers)
        assert.strictEqual(yield* outcome(kubernetes.get(Resources.Secret, namespace, "held")), "NotFound")
        const changes = yield* kubernetes.watch(Resources.Secret, namespace, from(listed.resourceVersion)).pipe(
          changesUntil((change) => change._tag === "Deleted")
        )
        assert.deepStrictEqual(summary(changes), [["Added", "held"], ["Modified", "held"], ["Deleted", "held"]])
        const [added, marked, deleted] = changes
        assert.deepStrictEqual(added?.object, created)
        assert.deepStrictEqual(marked?.object, terminating)
        assert.deepStrictEqual(atVersion(deleted?.object, ""), atVersion(terminating, ""))
        assert.deepStrictEqual(deleted?.object.metadata.finalizers, [finalizer])
        assert.isAbove(versionOf(deleted?.object ?? terminating), versionOf(terminating))
      }), timeout)

    it.effect("sees the garbage collector's deletion of a dependent as Deleted", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const owner = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(namespace, "owner"))
        const draft = secret(namespace, "owner-token")
        const dependent = yield* kubernetes.create(Resources.Secret, {
          ...draft,
          metadata: { ...draft.metadata, ownerReferences: ownedBy(owner) }
        })
        const secrets = yield* kubernetes.listWithVersion(Resources.Secret, namespace)
        const servers = yield* kubernetes.listWithVersion(Resources.DittoServer, namespace)
        assert.deepStrictEqual(namesOf(servers.items), ["owner"])
        yield* kubernetes.delete(Resources.DittoServer, namespace, "owner", { uid: owner.metadata.uid ?? "" })
        const serverChanges = yield* kubernetes.watch(Resources.DittoServer, namespace, from(servers.resourceVersion)).pipe(
          changesUntil(named("owner"))
        )
        assert.deepStrictEqual(summary(serverChanges), [["Deleted", "owner"]])
        const secretChanges = yield* kubernetes.watch(Resources.Secret, namespace, from(secrets.resourceVersion)).pipe(
          changesUntil(named("owner-token"))
        )
        assert.deepStrictEqual(summary(secretChanges), [["Deleted", "owner-token"]])
        assert.deepStrictEqual(atVersion(secretChanges[0]?.object, ""), atVersion(dependent, ""))
        assert.deepStrictEqual(atVersion(serverChanges[0]?.object, ""), atVersion(owner, ""))
      }), timeout)

    it.effect("reads objects its Schema rejects through raw(resource), and fails the watch otherwise", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const tokenless = (objectName: string): Secret => ({ ...secret(namespace, objectName), data: { note: "bm90ZQ==" } })
        yield* kubernetes.create(Resources.Secret, tokenless("listed"))
        assert.strictEqual(yield* outcome(kubernetes.listWithVersion(TokenSecrets, namespace)), "BadResponse")
        const listed = yield* kubernetes.listWithVersion(raw(TokenSecrets), namespace)
        assert.deepStrictEqual(namesOf(listed.items), ["listed"])
        assert.deepStrictEqual(listed.items[0]?.["data"], { note: "bm90ZQ==" })
        yield* kubernetes.create(Resources.Secret, tokenless("watched"))
        const failed = yield* Effect.flip(kubernetes.watch(TokenSecrets, namespace, from(listed.resourceVersion)).pipe(Stream.runDrain))
        assert.strictEqual(failed.reason, "BadResponse")
        const changes = yield* kubernetes.watch(raw(TokenSecrets), namespace, from(listed.resourceVersion)).pipe(
          changesUntil(named("watched"))
        )
        assert.deepStrictEqual(summary(changes), [["Added", "watched"]])
        assert.deepStrictEqual(changes[0]?.object["data"], { note: "bm90ZQ==" })
      }), timeout)

    it.effect("ends a watch normally when its timeout passes", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        const listed = yield* kubernetes.listWithVersion(Resources.Secret, namespace)
        const started = yield* Deferred.make<void>()
        const watching = yield* kubernetes.watch(Resources.Secret, namespace, from(listed.resourceVersion, { timeoutSeconds: 1 })).pipe(
          Stream.tap(() => Deferred.succeed(started, undefined)),
          Stream.runCollect,
          Effect.forkChild
        )
        yield* kubernetes.create(Resources.Secret, secret(namespace, "seen"))
        yield* Deferred.await(started)
        if (!target.liveClock) yield* TestClock.adjust("1 second")
        const events = yield* Fiber.join(watching)
        assert.deepStrictEqual(
          events.flatMap((event) => event._tag === "Bookmark" ? [] : [[event._tag, event.object.metadata.name]]),
          [["Added", "seen"]]
        )
      }), timeout)

    it.effect("fails a watch from a resourceVersion older than the server's history with Gone", () =>
      Effect.gen(function*() {
        const kubernetes = yield* Kubernetes
        const namespace = yield* (yield* ContractNamespaces).fresh
        // The DittoServer history starts when its CRD was established (the fake's when it started).
        const expired = yield* Effect.flip(kubernetes.watch(Resources.DittoServer, namespace, from("1")).pipe(Stream.runDrain))
        assert.strictEqual(expired.reason, "Gone")
        // kube-apiserver answers a resourceVersion that is not a number with a 500.
        assert.strictEqual(
          yield* outcome(kubernetes.watch(Resources.DittoServer, namespace, from("soon")).pipe(Stream.runDrain)),
          "Unavailable"
        )
      }), timeout)

    workloadKindsContract(it, target)
    dittoServerSchemaContract(it, target)
  })
