/**
 * The whole DittoServer pass on the in-memory layers: the workload made from a bare DittoServer
 * (even while DittoFS is down), adapters exposed once it answers, the StatefulSet written once
 * per adapter change without restarting its pod, restarts only when what the pod runs changes,
 * foreign objects left alone and reported, and every failure mode with its condition and retry.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { type Adapter, DittoFs, DittoServerPass, EventRecorder, type K8s, Kubernetes, Naming, PassError } from "../../src/index.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { makeServer, namespace, strayConfigMap, strayService } from "../fixtures.ts"
import { capture, lines } from "../Logs.ts"
import {
  adapter,
  adapterServices,
  admin,
  adminSecret,
  baseUrl,
  countingStatusPatches,
  events,
  markReady,
  setupServer,
  statefulSet,
  testLayer
} from "./harness.ts"

const current = Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.DittoServer, namespace, "ditto"))
const pass = Effect.flatMap(current, (server) => DittoServerPass.reconcile(server, { apiUrlOverride: baseUrl }))
/** The phase errors a failed pass carries. */
const failed = (error: { readonly _tag: string }): ReadonlyArray<string> =>
  error instanceof PassError.PassFailed ? error.errors.map((e) => e._tag) : [error._tag]
/** The retry the error policy gives a failed pass. */
const retryOf = (error: { readonly _tag: string }) => error instanceof PassError.PassFailed ? PassError.errorPolicy(error) : undefined
/** `type → [status, reason, message]` of the stored status. */
const said = Effect.map(current, (server) =>
  Object.fromEntries((server.status?.conditions ?? []).map((c) => [c.type, [c.status, c.reason, c.message]])))
const conditions = Effect.map(current, (server) =>
  Object.fromEntries((server.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`])))
const names = (resource: K8s.AnyObject[] | ReadonlyArray<{ readonly metadata: K8s.ObjectMeta }>) =>
  resource.map((object) => object.metadata.name).sort()
const kinds = Effect.gen(function*() {
  const kubernetes = yield* Kubernetes.Kubernetes
  return {
    configMaps: names(yield* kubernetes.list(Kubernetes.Resources.ConfigMap, namespace)),
    secrets: names(yield* kubernetes.list(Kubernetes.Resources.Secret, namespace)),
    services: names(yield* kubernetes.list(Kubernetes.Resources.Service, namespace)),
    statefulSets: names(yield* kubernetes.list(Kubernetes.Resources.StatefulSet, namespace)),
    networkPolicies: names(yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, namespace))
  }
})
const containerPortNames = Effect.map(statefulSet("ditto"), (sts) =>
  (sts.spec.template.spec.containers.find((c) => c.name === "dittofs")?.ports ?? []).map((p) => p.name))

/** The pod the StatefulSet controller would make from the template as it is now. */
const podFromTemplate = Effect.gen(function*() {
  const kubernetes = yield* Kubernetes.Kubernetes
  const sts = yield* statefulSet("ditto")
  return yield* kubernetes.create(Kubernetes.Resources.Pod, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "ditto-0",
      namespace,
      ...sts.spec.template.metadata,
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "ditto", uid: sts.metadata.uid ?? "", controller: true }]
    },
    spec: sts.spec.template.spec
  })
})
const pods = Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.Pod, namespace))

/** A DittoServer that converged: workload made, ready, adapters exposed. */
const converged = (spec: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    yield* setupServer(spec)
    yield* adminSecret()
    yield* pass
    yield* markReady()
    return yield* pass
  })

/** A new server's first pass (with its admin Secret), whatever it ends with. */
const firstPass = Effect.gen(function*() {
  yield* setupServer()
  yield* adminSecret()
  yield* Effect.ignore(pass)
})

/**
 * A converged server with its pod whose image then changed, the StatefulSet's controller having
 * seen the new template: the next pass restarts the pod.
 */
const dueForRestart = Effect.gen(function*() {
  yield* converged()
  yield* podFromTemplate
  const server = yield* current
  yield* Kubernetes.Kubernetes.use((k) => k.update(Kubernetes.Resources.DittoServer, { ...server, spec: { ...server.spec, image: "marmos91c/dittofs:v0.29.0" } }))
  yield* pass
  yield* markReady()
})

describe("DittoServerPass.reconcile: the workload", () => {
  it.effect("creates the whole workload from a bare DittoServer while DittoFS is still unreachable", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["DittoFsUnavailable"])
      assert.deepStrictEqual(yield* kinds, {
        configMaps: ["ditto-config"],
        secrets: ["ditto-admin", "ditto-jwt-secret"],
        services: ["ditto-api", "ditto-headless"],
        statefulSets: ["ditto"],
        networkPolicies: ["ditto-baseline"]
      })
      const api = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Service, namespace, "ditto-api"))
      assert.strictEqual(api.spec.type, "ClusterIP", "the API is not exposed outside the cluster by default")
      assert.deepStrictEqual(yield* containerPortNames, ["api"])
      assert.deepStrictEqual(yield* conditions, {
        ConfigReady: "True/ConfigValid",
        WorkloadSynced: "True/WorkloadSynced",
        Available: "False/NoReplicasAvailable",
        DittoFSReachable: "False/APIUnreachable",
        Progressing: "True/StatefulSetUpdating",
        Ready: "False/ConditionsNotMet"
      })
      assert.strictEqual((yield* current).status?.phase, "Pending")
      assert.deepStrictEqual((yield* events).map((event) => [event.type, event.reason, event.message]), [[
        "Normal",
        "WorkloadCreated",
        [
          "Created Secret ditto-jwt-secret holding the generated JWT signing key",
          `Created ConfigMap ditto-config (config-hash ${(yield* current).status?.configHash?.slice(0, 8)})`,
          "Created ClusterIP Service ditto-headless (port 8080)",
          "Created ClusterIP Service ditto-api (port 8080)",
          "Created StatefulSet ditto (image marmos91c/dittofs:latest)",
          "Created NetworkPolicy ditto-baseline admitting TCP 8080"
        ].join("; ")
      ]], "one Event for the objects the pass created, each named")
    }).pipe(Effect.provide(testLayer())))

  it.effect("announces a creation that failed with its own Warning, and lists only the objects made", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Service", name: "ditto-api", reason: "Forbidden" })
      yield* Effect.flip(pass)
      const recorded = (yield* events).map((event) => [event.type, event.reason, event.message] as const)
      assert.deepStrictEqual(recorded.map(([type, reason]) => [type, reason]), [["Warning", "ReconcileFailed"], ["Normal", "WorkloadCreated"]])
      const created = recorded[1]?.[2] ?? ""
      assert.include(created, "Created ClusterIP Service ditto-headless")
      assert.notInclude(created, "ditto-api")
      // the next pass makes the missing one: its own Event, the only creation of that pass
      yield* Effect.flip(pass)
      assert.deepStrictEqual(
        (yield* events).filter((event) => event.reason === "ServiceCreated").map((event) => event.message),
        ["Created ClusterIP Service ditto-api (port 8080)"]
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("exposes the adapters once DittoFS answers, and is Running with a ready replica", () =>
    Effect.gen(function*() {
      const action = yield* converged({ adapterDiscovery: { pollingInterval: "10s" } })
      assert.deepStrictEqual(action, { _tag: "Requeue", after: Duration.seconds(10) })
      assert.deepStrictEqual(names(yield* adapterServices), ["ditto-adapter-nfs"])
      assert.deepStrictEqual(yield* containerPortNames, ["api", "adapter-nfs"])
      assert.deepStrictEqual(yield* conditions, {
        ConfigReady: "True/ConfigValid",
        WorkloadSynced: "True/WorkloadSynced",
        Available: "True/MinimumReplicasAvailable",
        DittoFSReachable: "True/APIReachable",
        Authenticated: "True/AuthenticationSucceeded",
        AdaptersSynced: "True/AdaptersSynced",
        Progressing: "False/ReconcileComplete",
        Ready: "True/AllConditionsMet"
      })
      const server = yield* current
      assert.deepStrictEqual(server.status?.adapters, [{ type: "nfs", port: 12049, serviceName: "ditto-adapter-nfs", exposed: true }])
      assert.strictEqual(server.status?.observedGeneration, server.metadata.generation)
      assert.strictEqual(server.status?.phase, "Running")
      assert.deepStrictEqual([server.status?.replicas, server.status?.readyReplicas], [1, 1])
      const config = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.ConfigMap, namespace, "ditto-config"))
      const template = (yield* statefulSet("ditto")).spec.template.metadata?.annotations ?? {}
      assert.match(server.status?.configHash ?? "", /^[0-9a-f]{64}$/)
      assert.strictEqual(template[Naming.annotations.configHash], server.status?.configHash)
      assert.isDefined(config.data?.["config.yaml"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("writes nothing at all once converged", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* pass
      const versions = Effect.gen(function*() {
        const kubernetes = yield* Kubernetes.Kubernetes
        const all = [
          ...(yield* kubernetes.list(Kubernetes.Resources.ConfigMap, namespace)),
          ...(yield* kubernetes.list(Kubernetes.Resources.Secret, namespace)),
          ...(yield* kubernetes.list(Kubernetes.Resources.Service, namespace)),
          ...(yield* kubernetes.list(Kubernetes.Resources.StatefulSet, namespace)),
          ...(yield* kubernetes.list(Kubernetes.Resources.NetworkPolicy, namespace)),
          yield* current
        ]
        return all.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort()
      })
      const settled = yield* versions
      for (let i = 0; i < 5; i++) yield* pass
      assert.deepStrictEqual(yield* versions, settled)
    }).pipe(Effect.provide(testLayer())))

  it.effect("an adapter toggle changes the StatefulSet's ports in one write and restarts no pod", () =>
    Effect.gen(function*() {
      yield* converged()
      const pod = yield* podFromTemplate
      const before = yield* statefulSet("ditto")
      yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, [adapter("nfs", 12049), adapter("smb", 12445)])
      yield* pass
      const after = yield* statefulSet("ditto")
      assert.deepStrictEqual(yield* containerPortNames, ["api", "adapter-nfs", "adapter-smb"])
      assert.strictEqual(Number(after.metadata.resourceVersion) > Number(before.metadata.resourceVersion), true)
      yield* markReady()
      const marked = yield* statefulSet("ditto")
      yield* pass
      yield* pass
      assert.strictEqual((yield* statefulSet("ditto")).metadata.resourceVersion, marked.metadata.resourceVersion, "written once")
      assert.deepStrictEqual((yield* pods).map((p) => p.metadata.uid), [pod.metadata.uid], "the pod was not restarted")
      assert.deepStrictEqual(names(yield* adapterServices), ["ditto-adapter-nfs", "ditto-adapter-smb"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("an image change restarts the pod once, after the StatefulSet has seen the new template", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* podFromTemplate
      const server = yield* current
      yield* Kubernetes.Kubernetes.use((k) => k.update(Kubernetes.Resources.DittoServer, { ...server, spec: { ...server.spec, image: "marmos91c/dittofs:v0.29.0" } }))
      yield* pass
      assert.strictEqual((yield* pods).length, 1, "not before the StatefulSet controller saw the template")
      yield* markReady()
      yield* pass
      assert.strictEqual((yield* pods).length, 0, "deleted once: the StatefulSet controller recreates it")
      const restarted = (yield* events).filter((event) => event.reason === "PodRestarted")
      assert.strictEqual(restarted.length, 1)
      yield* podFromTemplate
      yield* pass
      yield* pass
      assert.strictEqual((yield* pods).length, 1, "the new pod is not restarted again")
    }).pipe(Effect.provide(testLayer())))

  it.effect("announces an update with its own Event, apart from the creations of the same pass", () =>
    Effect.gen(function*() {
      yield* converged()
      const server = yield* current
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.delete(Kubernetes.Resources.Service, namespace, "ditto-headless")
      yield* kubernetes.delete(Kubernetes.Resources.Service, namespace, "ditto-api")
      yield* kubernetes.update(Kubernetes.Resources.DittoServer, { ...server, spec: { ...server.spec, image: "marmos91c/dittofs:v0.29.0" } })
      const before = (yield* events).length
      yield* pass
      const recorded = (yield* events).slice(before).map((event) => [event.reason, event.message])
      // the update as it is written, the creations together once the workload is applied
      assert.deepStrictEqual(recorded.map(([reason]) => reason), ["StatefulSetUpdated", "WorkloadCreated"])
      assert.match(recorded[0]?.[1] ?? "", /^Updated StatefulSet ditto: pod template/)
      assert.strictEqual(recorded[1]?.[1], "Created ClusterIP Service ditto-headless (port 8080); Created ClusterIP Service ditto-api (port 8080)")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a same-named object of someone else is left alone and reported; the rest is still made", () =>
    Effect.gen(function*() {
      const foreign = yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.ConfigMap, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "ditto-config", namespace },
          data: { "config.yaml": "somebody else's" }
        }))
      yield* converged()
      const after = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.ConfigMap, namespace, "ditto-config"))
      assert.deepStrictEqual(after, foreign, "byte for byte unchanged")
      const status = yield* conditions
      assert.strictEqual(status["ConfigReady"], "False/ForeignObject")
      assert.strictEqual(status["WorkloadSynced"], "False/ForeignObjects")
      assert.strictEqual((yield* current).status?.phase, "Failed")
      assert.deepStrictEqual(names(yield* adapterServices), ["ditto-adapter-nfs"], "the adapters are still exposed")
      const warnings = (yield* events).filter((event) => event.reason === "ForeignObject")
      assert.strictEqual(warnings.length, 1, "one Event, repeats counted on it")
      assert.isAbove(warnings[0]?.count ?? 0, 1)
    }).pipe(Effect.provide(testLayer())))
})

describe("DittoServerPass.reconcile: when DittoFS or Kubernetes fails", () => {
  it.effect("a foreign Service on an adapter's name is a reported conflict, not a backoff; the other adapters follow", () =>
    Effect.gen(function*() {
      const foreign = yield* Kubernetes.Kubernetes.use((k) =>
        k.create(Kubernetes.Resources.Service, {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "ditto-adapter-smb", namespace },
          spec: { type: "ClusterIP", ports: [{ name: "x", port: 1 }] }
        }))
      yield* setupServer()
      yield* adminSecret()
      const action = yield* pass
      assert.deepStrictEqual(action, { _tag: "Requeue", after: Duration.seconds(30) }, "no error, no backoff")
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/ForeignObject")
      assert.deepStrictEqual(names(yield* adapterServices), ["ditto-adapter-nfs"], "the other adapter is exposed")
      const after = yield* Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Service, namespace, "ditto-adapter-smb"))
      assert.deepStrictEqual(after, foreign, "left byte for byte as it was")
      assert.deepStrictEqual(
        (yield* current).status?.adapters?.map((a) => [a.type, a.exposed]),
        [["nfs", true], ["smb", false]]
      )
    }).pipe(Effect.provide(testLayer([adapter("nfs", 12049), adapter("smb", 12445)]))))

  it.effect("DittoFS down: condition False, nothing deleted, retried within one polling interval", () =>
    Effect.gen(function*() {
      yield* converged()
      const ports = yield* containerPortNames
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["DittoFsUnavailable"])
      assert.deepStrictEqual(retryOf(error), { cap: Duration.seconds(30) })
      assert.strictEqual((yield* conditions)["DittoFSReachable"], "False/APIUnreachable")
      assert.strictEqual((yield* conditions)["Ready"], "False/ConditionsNotMet")
      assert.strictEqual((yield* adapterServices).length, 1)
      assert.deepStrictEqual(yield* containerPortNames, ports, "the adapter ports are kept")
      assert.strictEqual((yield* current).status?.adapters?.length, 1, "last known adapters kept")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a wrong admin password is an AuthenticationFailed error, retried slowly; the workload is made", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret("wrong")
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["AuthenticationFailed"])
      assert.deepStrictEqual(retryOf(error), { cap: Duration.minutes(5) })
      assert.strictEqual((yield* conditions)["Authenticated"], "False/AuthenticationFailed")
      assert.strictEqual((yield* adapterServices).length, 0)
      assert.deepStrictEqual((yield* kinds).statefulSets, ["ditto"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a conflicting adapter is reported in AdaptersSynced", () =>
    Effect.gen(function*() {
      yield* converged()
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/AdapterConflicts")
      assert.deepStrictEqual(yield* containerPortNames, ["api"])
    }).pipe(Effect.provide(testLayer([{ type: "nfs", enabled: true, running: true, port: 8080 }]))))

  it.effect("a refused token is dropped, the pass fails, and the next pass logs in again", () =>
    Effect.gen(function*() {
      yield* converged()
      const control = yield* DittoFsMemory.Control
      yield* control.failNext(baseUrl, "listAdapters", "Unauthorized")
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["TokenRejected"])
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/PollFailed")
      const logins = (yield* control.requests(baseUrl)).login ?? 0
      yield* pass
      assert.strictEqual((yield* control.requests(baseUrl)).login, logins + 1, "logged in again with the stored password")
      assert.strictEqual((yield* conditions)["Ready"], "True/AllConditionsMet")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a poll that times out is DittoFsUnavailable, and a malformed one a False AdaptersSynced", () =>
    Effect.gen(function*() {
      yield* converged()
      const control = yield* DittoFsMemory.Control
      yield* control.failNext(baseUrl, "listAdapters", "Timeout")
      const timedOut = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(timedOut), ["DittoFsUnavailable"])
      assert.strictEqual((yield* conditions)["DittoFSReachable"], "False/APIUnreachable")
      yield* control.setAdapterBody(baseUrl, { body: { adapters: [] } })
      const action = yield* pass
      assert.strictEqual(action._tag, "Requeue")
      const status = yield* conditions
      assert.deepStrictEqual(
        [status["DittoFSReachable"], status["Authenticated"], status["AdaptersSynced"], status["Ready"]],
        ["True/APIReachable", "True/AuthenticationSucceeded", "False/PollFailed", "False/ConditionsNotMet"]
      )
      assert.strictEqual((yield* adapterServices).length, 1)
      assert.deepStrictEqual(yield* containerPortNames, ["api", "adapter-nfs"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a change that cannot be applied is ApplyFailed, after the status says which", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Service", name: "ditto-adapter-nfs", reason: "Forbidden" })
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["ApplyFailed"])
      assert.deepStrictEqual(retryOf(error), { cap: Duration.minutes(5) })
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/ApplyFailed")
      assert.deepStrictEqual((yield* current).status?.adapters?.map((a) => a.exposed), [false])
      assert.deepStrictEqual((yield* kinds).statefulSets, ["ditto"], "the rest was written")
    }).pipe(Effect.provide(testLayer())))

  it.effect("derives the in-cluster API URL, or takes the annotation", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ controlPlane: { port: 9000 } })
      assert.strictEqual(DittoServerPass.apiUrl(server), "http://ditto-api.storage.svc.cluster.local:9000")
      const annotated = { ...server, metadata: { ...server.metadata, annotations: { "dittofs.io/api-url": "http://127.0.0.1:1234" } } }
      assert.strictEqual(DittoServerPass.apiUrl(annotated, { apiUrlOverride: "http://x" }), "http://127.0.0.1:1234")
    }))
})

describe("DittoServerPass.reconcile, with a stale view of the DittoServer", () => {
  it.effect("compares the status with the current object after a conflict, without failing the pass", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      const stale = yield* current
      yield* pass
      yield* markReady()
      yield* pass
      const settled = yield* current
      // a pass on the old view: the status it computes is already there, nothing is written
      const action = yield* DittoServerPass.reconcile(stale, { apiUrlOverride: baseUrl })
      assert.strictEqual(action._tag, "Requeue")
      const written = yield* current
      assert.strictEqual(written.metadata.resourceVersion, settled.metadata.resourceVersion)
      // a third party changes the status meanwhile: the pass writes over the current object
      yield* Kubernetes.Kubernetes.use((k) => k.updateStatus(Kubernetes.Resources.DittoServer, { ...written, status: { ...written.status, phase: "Pending" } }))
      yield* DittoServerPass.reconcile(stale, { apiUrlOverride: baseUrl })
      assert.strictEqual((yield* current).status?.phase, "Running")
    }).pipe(Effect.provide(testLayer())))
})

describe("pass errors", () => {
  it("say what failed in their message (it is what the backoff warning logs)", () => {
    const error = new DittoFs.DittoFsError({ reason: "Unreachable", message: "connect ECONNREFUSED", operation: "GET /health" })
    const pollingInterval = Duration.seconds(30)
    assert.strictEqual(new PassError.DittoFsUnavailable({ error, pollingInterval }).message, "DittoFS unavailable: GET /health: Unreachable: connect ECONNREFUSED")
    assert.include(new PassError.TokenRejected({ error, pollingInterval }).message, "GET /health")
    const failure = { kind: "Service", change: "Create" as const, name: "x", error: new Kubernetes.KubernetesError({ reason: "Forbidden", message: "no", operation: "create" }) }
    assert.strictEqual(new PassError.ApplyFailed({ failures: [failure] }).message, "Create Service x: Forbidden: no")
  })
})

describe("DittoServerPass.reconcile: what the status and the logs say", () => {
  const warnings = Effect.map(lines, (all) => all.filter(([level]) => level === "WARN").map(([, message, annotations]) => [message, annotations] as const))
  const withAdapters = (...adapters: ReadonlyArray<Adapter.Adapter>) => testLayer(adapters)

  it.effect("a converged server: who answers, as whom, how many adapters are exposed", () =>
    Effect.gen(function*() {
      yield* converged()
      const status = yield* said
      assert.deepStrictEqual(status["DittoFSReachable"], ["True", "APIReachable", `${baseUrl} answers`])
      assert.deepStrictEqual(status["Authenticated"], ["True", "AuthenticationSucceeded", "Authenticated as the operator account"])
      assert.deepStrictEqual(status["AdaptersSynced"], ["True", "AdaptersSynced", "2 adapter(s) exposed"])
    }).pipe(Effect.provide(withAdapters(adapter("nfs", 12049), adapter("smb", 12445)))))

  it.effect("comes back when the token must be refreshed, if that is sooner than the polling interval", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-05-01T10:00:00Z"))
      const action = yield* converged()
      // a 20 s token is refreshed at 80 % of its life, before the 30 s interval
      assert.deepStrictEqual(action, { _tag: "Requeue", after: Duration.seconds(16) })
    }).pipe(Effect.provide(Layer.mergeAll(
      Layer.provideMerge(EventRecorder.layer(), KubernetesMemory.layer()),
      DittoFsMemory.layer({ [baseUrl]: { adminUsername: admin.username, adminPassword: admin.password, adapters: [adapter("nfs", 12049)], accessTokenSeconds: 20 } })
    ))))

  it.effect("DittoFS down: the condition says which call failed and how", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* Effect.flip(pass)
      const [status, reason, message] = (yield* said)["DittoFSReachable"] ?? []
      assert.deepStrictEqual([status, reason], ["False", "APIUnreachable"])
      assert.match(message ?? "", /^(GET|POST) \/api\/v1\/[a-z/]+: Unreachable: connect ECONNREFUSED /)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a failed poll is logged with the server and why, and changes nothing", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "listAdapters", "Timeout")
      yield* Effect.flip(pass)
      assert.deepStrictEqual(yield* warnings, [["adapter poll failed; changing nothing", { server: "storage/ditto", reason: "Timeout" }]])
      assert.deepStrictEqual((yield* said)["AdaptersSynced"]?.slice(0, 2), ["False", "PollFailed"])
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("a refused token that cannot be dropped is logged; the pass still says TokenRejected", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "listAdapters", "Unauthorized")
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "Secret", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["TokenRejected"])
      assert.deepStrictEqual((yield* warnings).map(([message, annotations]) => [message, annotations["reason"]]), [
        ["adapter poll failed; changing nothing", "Unauthorized"],
        ["could not drop the refused token", "Unavailable"]
      ])
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("adapter objects that cannot be read: AdaptersSynced says so and the pass fails to be retried", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "list", kind: "Service", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["ObserveFailed"])
      assert.deepStrictEqual((yield* said)["AdaptersSynced"]?.slice(0, 2), ["False", "ObserveFailed"])
      assert.strictEqual((yield* adapterServices).length, 1, "nothing deleted")
    }).pipe(Effect.provide(testLayer())))

  it.effect("the admin Secret that cannot be read: ObserveFailed, the workload is still made", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "get", kind: "Secret", name: "ditto-admin", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["ObserveFailed"])
      assert.deepStrictEqual((yield* kinds).statefulSets, ["ditto"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("creates that fail are named one by one in AdaptersSynced", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      const control = yield* KubernetesMemory.Control
      yield* control.failNext({ verb: "create", kind: "Service", name: "ditto-adapter-nfs", reason: "Forbidden" })
      yield* control.failNext({ verb: "create", kind: "Service", name: "ditto-adapter-smb", reason: "Invalid" })
      yield* Effect.flip(pass)
      assert.deepStrictEqual(
        (yield* said)["AdaptersSynced"],
        ["False", "ApplyFailed", "Create Service ditto-adapter-nfs: Forbidden; Create Service ditto-adapter-smb: Invalid"]
      )
    }).pipe(Effect.provide(withAdapters(adapter("nfs", 12049), adapter("smb", 12445)))))

  it.effect("foreign objects on adapter names are named one by one", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      for (const type of ["nfs", "smb"]) {
        yield* kubernetes.create(Kubernetes.Resources.Service, {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: `ditto-adapter-${type}`, namespace },
          spec: { type: "ClusterIP", ports: [{ name: "x", port: 1 }] }
        })
      }
      yield* setupServer()
      yield* adminSecret()
      yield* pass
      assert.deepStrictEqual((yield* said)["AdaptersSynced"], [
        "False",
        "ForeignObject",
        "Service ditto-adapter-nfs exists and is not controlled by this DittoServer; left untouched; Service ditto-adapter-smb exists and is not controlled by this DittoServer; left untouched"
      ])
    }).pipe(Effect.provide(withAdapters(adapter("nfs", 12049), adapter("smb", 12445)))))

  it.effect("conflicting adapters are named one by one", () =>
    Effect.gen(function*() {
      yield* converged()
      const [status, reason, message] = (yield* said)["AdaptersSynced"] ?? []
      assert.deepStrictEqual([status, reason], ["False", "AdapterConflicts"])
      const parts = (message ?? "").split("; ")
      assert.strictEqual(parts.length, 2)
      assert.include(parts[0], "nfs")
      assert.include(parts[1], "smb")
    }).pipe(Effect.provide(withAdapters({ type: "nfs", enabled: true, running: true, port: 8080 }, { type: "smb", enabled: true, running: true, port: 8080 }))))

  it.effect("sends no status write once converged", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* pass
      const { counting, patches } = yield* countingStatusPatches
      yield* pass.pipe(Effect.provideService(Kubernetes.Kubernetes, counting))
      assert.deepStrictEqual(patches, [])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a server scaled to 0 replicas is Stopped", () =>
    Effect.gen(function*() {
      yield* converged({ replicas: 0 })
      assert.strictEqual((yield* current).status?.phase, "Stopped")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a Deleting status that cannot be written is logged; the deletion goes on", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.DittoServer, namespace, "ditto"))
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "patchStatus", reason: "Unavailable" })
      assert.deepStrictEqual(yield* pass, { _tag: "AwaitChange" })
      assert.deepStrictEqual((yield* warnings).map(([message, annotations]) => [message, annotations["reason"]]), [["could not write the Deleting status", "Unavailable"]])
      assert.strictEqual((yield* Kubernetes.Kubernetes.use((k) => k.list(Kubernetes.Resources.DittoServer, namespace))).length, 0)
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("a finalizer that cannot be added fails the pass as a failed update of the DittoServer, before anything is made", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "DittoServer", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.instanceOf(error, PassError.PassFailed)
      const [applyFailed] = error instanceof PassError.PassFailed ? error.errors : []
      assert.instanceOf(applyFailed, PassError.ApplyFailed)
      assert.deepStrictEqual(
        applyFailed instanceof PassError.ApplyFailed ? applyFailed.failures.map((f) => [f.kind, f.change, f.name, f.error.reason]) : [],
        [["DittoServer", "Update", "ditto", "Unavailable"]]
      )
      assert.deepStrictEqual((yield* kinds).statefulSets, [])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a status that cannot be written fails the pass with the phases' errors and the failed update", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* DittoFsMemory.Control).setRunning(baseUrl, false)
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "patchStatus", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.deepStrictEqual(failed(error), ["DittoFsUnavailable", "ApplyFailed"])
      const applyFailed = error instanceof PassError.PassFailed ? error.errors[1] : undefined
      assert.deepStrictEqual(
        applyFailed instanceof PassError.ApplyFailed ? applyFailed.failures.map((f) => [f.kind, f.change, f.name, f.error.reason]) : [],
        [["DittoServer", "Update", "ditto", "Unavailable"]],
        "the status write is named as what failed"
      )
    }).pipe(Effect.provide(testLayer())))
})

describe("DittoServerPass.reconcile: what the workload phase says", () => {
  const workloadFacts = Effect.map(said, (status) => [status["ConfigReady"], status["WorkloadSynced"], status["Available"], status["Progressing"]])

  it.effect("a server being made: its configuration, nothing ready yet, the StatefulSet being created", () =>
    Effect.gen(function*() {
      yield* firstPass
      const hash = (yield* current).status?.configHash ?? ""
      assert.deepStrictEqual(yield* workloadFacts, [
        ["True", "ConfigValid", `config.yaml ${hash.slice(0, 12)}`],
        ["True", "WorkloadSynced", "every workload object is as the spec says"],
        ["False", "NoReplicasAvailable", "no ready replica yet"],
        ["True", "StatefulSetUpdating", "the StatefulSet is being created or updated"]
      ])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a ready server: how many replicas are ready, nothing in progress; the counts in the status", () =>
    Effect.gen(function*() {
      yield* converged()
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts.slice(2), [
        ["True", "MinimumReplicasAvailable", "1 ready replica(s)"],
        ["False", "ReconcileComplete", "the workload is up to date"]
      ])
      const status = (yield* current).status
      assert.deepStrictEqual([status?.replicas, status?.readyReplicas, status?.availableReplicas], [1, 1, 1])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a StatefulSet seen by its controller, its pod not ready yet: how many of how many are ready", () =>
    Effect.gen(function*() {
      yield* firstPass
      yield* markReady("ditto", 0)
      yield* Effect.ignore(pass)
      assert.deepStrictEqual((yield* workloadFacts).slice(2), [
        ["False", "NoReplicasAvailable", "no ready replica yet"],
        ["True", "ScalingReplicas", "0 of 1 replica(s) ready"]
      ])
      const status = (yield* current).status
      assert.deepStrictEqual([status?.replicas, status?.readyReplicas, status?.availableReplicas], [1, 0, 0])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a server scaled to 0: stopped on purpose", () =>
    Effect.gen(function*() {
      yield* converged({ replicas: 0 })
      assert.deepStrictEqual((yield* said)["Available"], ["False", "Stopped", "spec.replicas is 0"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("workload objects that cannot be read: WorkloadSynced says so, nothing is written, the pass fails", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "get", kind: "ConfigMap", reason: "Unavailable" })
      const error = yield* Effect.flip(pass)
      assert.include(failed(error), "ObserveFailed")
      const [status, reason, message] = (yield* said)["WorkloadSynced"] ?? []
      assert.deepStrictEqual([status, reason], ["False", "ObserveFailed"])
      const observeFailed = error instanceof PassError.PassFailed ? error.errors.find((e) => e instanceof PassError.ObserveFailed) : undefined
      assert.strictEqual(message, observeFailed instanceof PassError.ObserveFailed ? observeFailed.error.message : "(no ObserveFailed)", "what the read said")
      assert.deepStrictEqual((yield* kinds).statefulSets, [], "nothing made on the strength of a failed read")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a ConfigMap that cannot be written: ConfigReady and WorkloadSynced say which and why", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "ConfigMap", reason: "Forbidden" })
      const error = yield* Effect.flip(pass)
      assert.include(failed(error), "ApplyFailed")
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts[0]?.slice(0, 2), ["False", "ApplyFailed"])
      assert.match(facts[0]?.[2] ?? "", /^Forbidden: /)
      assert.deepStrictEqual(facts[1], ["False", "ApplyFailed", "Create ConfigMap ditto-config: Forbidden"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a pod being restarted: Progressing says which, and why", () =>
    Effect.gen(function*() {
      yield* dueForRestart
      yield* pass
      const restarted = (yield* events).filter((event) => event.reason === "PodRestarted").map((event) => event.message)
      assert.deepStrictEqual((yield* said)["Progressing"], ["True", "RestartingPods", restarted.join("; ")])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a pod restart that fails is announced as ReconcileFailed", () =>
    Effect.gen(function*() {
      yield* dueForRestart
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "delete", kind: "Pod", reason: "Forbidden" })
      yield* Effect.ignore(pass)
      const failed = (yield* events).filter((event) => event.type === "Warning" && (event.message ?? "").includes("ditto-0"))
      assert.deepStrictEqual(failed.map((event) => event.reason), ["ReconcileFailed"])
      assert.strictEqual((yield* pods).length, 1, "the pod is still there")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a failed workload write is announced as ReconcileFailed", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      const control = yield* KubernetesMemory.Control
      yield* control.failNext({ verb: "create", kind: "Secret", name: "ditto-jwt-secret", reason: "Forbidden" })
      for (const [kind, name] of [["ConfigMap", "ditto-config"], ["Service", "ditto-headless"], ["StatefulSet", "ditto"], ["NetworkPolicy", "ditto-baseline"]] as const) {
        yield* control.failNext({ verb: "create", kind, name, reason: "Forbidden" })
      }
      yield* Effect.ignore(pass)
      const failedCreates = (yield* events).filter((event) => event.type === "Warning" && (event.message ?? "").startsWith("Failed to create"))
      assert.deepStrictEqual([...new Set(failedCreates.map((event) => event.reason))], ["ReconcileFailed"])
      assert.strictEqual((yield* events).filter((event) => event.reason === "ReconcileFailed").length, 5, "one per kind that failed")
      assert.deepStrictEqual((yield* said)["WorkloadSynced"], [
        "False",
        "ApplyFailed",
        "Create Secret ditto-jwt-secret: Forbidden; Create ConfigMap ditto-config: Forbidden; Create Service ditto-headless: Forbidden; Create StatefulSet ditto: Forbidden; Create NetworkPolicy ditto-baseline: Forbidden"
      ])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a foreign Service is a WorkloadSynced matter: the configuration is still ready", () =>
    Effect.gen(function*() {
      yield* Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.Service, strayService("ditto-api")))
      yield* firstPass
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts[0]?.slice(0, 2), ["True", "ConfigValid"])
      assert.deepStrictEqual(facts[1]?.slice(0, 2), ["False", "ForeignObjects"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("an adapter toggle: Progressing until the StatefulSet controller has seen the new generation", () =>
    Effect.gen(function*() {
      yield* converged()
      yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, [adapter("nfs", 12049), adapter("smb", 12445)])
      const updating = ["True", "StatefulSetUpdating", "the StatefulSet is being created or updated"]
      yield* pass
      assert.deepStrictEqual((yield* said)["Progressing"], updating, "the pass that writes the StatefulSet")
      yield* pass
      assert.deepStrictEqual((yield* said)["Progressing"], updating, "written, not yet seen by its controller")
      yield* markReady()
      yield* pass
      assert.deepStrictEqual((yield* said)["Progressing"], ["False", "ReconcileComplete", "the workload is up to date"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("changes Kubernetes forbids: a ChangeBlocked Event each, WorkloadSynced names them all, the server Failed", () =>
    Effect.gen(function*() {
      yield* converged()
      const kubernetes = yield* Kubernetes.Kubernetes
      const { metadata: { generation: _g, resourceVersion: _rv, uid: _uid, creationTimestamp: _c, ...metadata }, ...sts } = yield* statefulSet("ditto")
      // recreated by hand (the apiserver forbids changing these), still controlled by the server
      yield* kubernetes.delete(Kubernetes.Resources.StatefulSet, namespace, "ditto")
      yield* kubernetes.create(Kubernetes.Resources.StatefulSet, {
        ...sts,
        metadata,
        spec: {
          ...sts.spec,
          serviceName: "elsewhere",
          selector: { matchLabels: { ...sts.spec.selector?.matchLabels, tier: "files" } },
          template: { ...sts.spec.template, metadata: { ...sts.spec.template.metadata, labels: { ...sts.spec.template.metadata?.labels, tier: "files" } } }
        }
      })
      const before = (yield* events).length
      yield* Effect.ignore(pass)
      const blocked = (yield* events).slice(before).filter((event) => event.reason === "ChangeBlocked")
      assert.deepStrictEqual(blocked.map((event) => event.type), ["Warning", "Warning"])
      const messages = blocked.map((event) => event.message ?? "")
      assert.match(messages[0] ?? "", /^selector is .*immutable/)
      assert.match(messages[1] ?? "", /^serviceName is elsewhere, not ditto-headless; it is immutable/)
      assert.deepStrictEqual((yield* said)["WorkloadSynced"], ["False", "ChangeBlocked", messages.join("; ")])
      assert.strictEqual((yield* current).status?.phase, "Failed", "a human must act")
      assert.strictEqual((yield* statefulSet("ditto")).spec.serviceName, "elsewhere", "the forbidden change is not attempted")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a Service that cannot be created: WorkloadSynced names it, the configuration is still ready", () =>
    Effect.gen(function*() {
      yield* setupServer()
      yield* adminSecret()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Service", name: "ditto-api", reason: "Forbidden" })
      yield* Effect.ignore(pass)
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts[0]?.slice(0, 2), ["True", "ConfigValid"])
      assert.deepStrictEqual(facts[1], ["False", "ApplyFailed", "Create Service ditto-api: Forbidden"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a foreign ConfigMap and a foreign Service: ConfigReady names the ConfigMap, WorkloadSynced both", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.create(Kubernetes.Resources.ConfigMap, strayConfigMap("ditto-config"))
      yield* kubernetes.create(Kubernetes.Resources.Service, strayService("ditto-api"))
      yield* firstPass
      const foreign = (yield* events).filter((event) => event.reason === "ForeignObject").map((event) => event.message ?? "")
      assert.strictEqual(foreign.length, 2)
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts[0], ["False", "ForeignObject", foreign.find((message) => message.includes("ditto-config"))])
      assert.deepStrictEqual(facts[1], ["False", "ForeignObjects", foreign.join("; ")])
    }).pipe(Effect.provide(testLayer())))

  it.effect("a foreign ConfigMap: ConfigReady and WorkloadSynced name it", () =>
    Effect.gen(function*() {
      yield* Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.ConfigMap, strayConfigMap("ditto-config")))
      yield* firstPass
      const facts = yield* workloadFacts
      assert.deepStrictEqual(facts[0]?.slice(0, 2), ["False", "ForeignObject"])
      assert.include(facts[0]?.[2], "ditto-config")
      assert.deepStrictEqual(facts[1]?.slice(0, 2), ["False", "ForeignObjects"])
      assert.strictEqual(facts[1]?.[2], facts[0]?.[2], "the same finding")
    }).pipe(Effect.provide(testLayer())))
})
