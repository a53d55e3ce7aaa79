import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import { apiUrl, ApplyFailed, DittoFsError, DittoFsUnavailable, Kubernetes, KubernetesError, reconcileDittoServer, Resources, TokenRejected } from "../../src/index.ts"
import { DittoFsMemoryControl, KubernetesMemoryControl } from "../../src/testing/index.ts"
import { makeServer, namespace } from "../fixtures.ts"
import { adminSecret, baseUrl, services, setup, testLayer } from "./harness.ts"

const current = Kubernetes.use((k) => k.get(Resources.DittoServer, namespace, "ditto"))
const pass = Effect.flatMap(current, (server) => reconcileDittoServer(server, { apiUrlOverride: baseUrl }))
const conditions = Effect.map(current, (server) =>
  Object.fromEntries((server.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`])))

describe("reconcileDittoServer", () => {
  it.effect("authenticates, exposes the adapters, reports them in status, and is due again at the interval", () =>
    Effect.gen(function*() {
      yield* setup({ adapterDiscovery: { pollingInterval: "10s" } })
      yield* adminSecret()
      const action = yield* pass
      assert.deepStrictEqual(action, { _tag: "Requeue", after: Duration.seconds(10) })
      assert.strictEqual((yield* services).length, 1)
      assert.deepStrictEqual(yield* conditions, {
        DittoFSReachable: "True/HealthCheckSucceeded",
        Authenticated: "True/AuthenticationSucceeded",
        AdaptersSynced: "True/AdaptersSynced",
        Ready: "True/AllConditionsMet"
      })
      const server = yield* current
      assert.deepStrictEqual(server.status?.adapters, [{ type: "nfs", port: 12049, serviceName: "ditto-adapter-nfs", exposed: true }])
      assert.strictEqual(server.status?.observedGeneration, server.metadata.generation)
      assert.strictEqual(server.status?.phase, "Running")
    }).pipe(Effect.provide(testLayer())))

  it.effect("writes the status only when it changes", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const settled = (yield* current).metadata.resourceVersion
      for (let i = 0; i < 5; i++) yield* pass
      assert.strictEqual((yield* current).metadata.resourceVersion, settled)
    }).pipe(Effect.provide(testLayer())))

  it.effect("DittoFS down: condition False, nothing else changed, the pass fails for a backoff", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      yield* (yield* DittoFsMemoryControl).setRunning(baseUrl, false)
      const error = yield* Effect.flip(pass)
      assert.strictEqual(error._tag, "DittoFsUnavailable")
      assert.strictEqual((yield* conditions)["DittoFSReachable"], "False/APIUnreachable")
      assert.strictEqual((yield* conditions)["Ready"], "False/ConditionsNotMet")
      assert.strictEqual((yield* services).length, 1)
      assert.strictEqual((yield* current).status?.adapters?.length, 1, "last known adapters kept")
    }).pipe(Effect.provide(testLayer())))

  it.effect("DittoFS answering its health check but not the login: unreachable, and backed off", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* (yield* DittoFsMemoryControl).failNext(baseUrl, "login", "Unreachable")
      const error = yield* Effect.flip(pass)
      assert.strictEqual(error._tag, "DittoFsUnavailable")
      assert.deepStrictEqual(yield* conditions, { DittoFSReachable: "False/APIUnreachable", Ready: "False/ConditionsNotMet" })
      assert.strictEqual((yield* services).length, 0)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a wrong admin password is a False Authenticated condition and a slow retry", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret("wrong")
      const action = yield* pass
      assert.deepStrictEqual(action, { _tag: "Requeue", after: Duration.minutes(5) })
      assert.strictEqual((yield* conditions)["Authenticated"], "False/AuthenticationFailed")
      assert.strictEqual((yield* services).length, 0)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a conflicting adapter is reported in AdaptersSynced", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/AdapterConflicts")
    }).pipe(Effect.provide(testLayer([{ type: "nfs", enabled: true, running: true, port: 8080 }]))))

  it.effect("derives the in-cluster API URL, or takes the operator's flag, or the annotation over both", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ controlPlane: { port: 9000 } })
      assert.strictEqual(apiUrl(server), "http://ditto-api.storage.svc.cluster.local:9000")
      assert.strictEqual(apiUrl(server, { apiUrlOverride: "http://x" }), "http://x")
      const { namespace: _namespace, ...withoutNamespace } = server.metadata
      assert.strictEqual(apiUrl({ ...server, metadata: withoutNamespace }), "http://ditto-api.default.svc.cluster.local:9000")
      const annotated = { ...server, metadata: { ...server.metadata, annotations: { "dittofs.io/api-url": "http://127.0.0.1:1234" } } }
      assert.strictEqual(apiUrl(annotated, { apiUrlOverride: "http://x" }), "http://127.0.0.1:1234")
    }))

  it.effect("says in each condition what it found", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const messages = Effect.map(current, (server) =>
        Object.fromEntries((server.status?.conditions ?? []).map((c) => [c.type, [c.status, c.reason, c.message]])))
      assert.deepStrictEqual(yield* messages, {
        DittoFSReachable: ["True", "HealthCheckSucceeded", `${baseUrl} answers`],
        Authenticated: ["True", "AuthenticationSucceeded", "Authenticated as the operator account"],
        AdaptersSynced: ["True", "AdaptersSynced", "1 adapter(s) exposed"],
        Ready: ["True", "AllConditionsMet", "All conditions are met"]
      })
      const control = yield* DittoFsMemoryControl
      const nfs = { type: "nfs", enabled: true, running: true, port: 12049 }
      yield* control.setAdapters(baseUrl, [nfs, { ...nfs, type: "a", port: 8080 }, { ...nfs, type: "c", port: 9090 }])
      yield* pass
      assert.deepStrictEqual((yield* messages)["AdaptersSynced"], [
        "False",
        "AdapterConflicts",
        "adapter a reports port 8080, which is reserved for the server itself; adapter c reports port 9090, which is reserved for the server itself"
      ])
      yield* control.setAdapters(baseUrl, [nfs, { ...nfs, type: "smb", port: 12445 }, { ...nfs, type: "webdav", port: 8000 }])
      yield* (yield* KubernetesMemoryControl).failNext({ verb: "create", kind: "Service", reason: "Forbidden", times: 2 })
      yield* Effect.flip(pass)
      assert.deepStrictEqual((yield* messages)["AdaptersSynced"], [
        "False",
        "ApplyFailed",
        "Create Service ditto-adapter-smb: Forbidden; Create Service ditto-adapter-webdav: Forbidden"
      ])
      yield* control.setRunning(baseUrl, false)
      yield* Effect.flip(pass)
      assert.deepStrictEqual((yield* messages)["DittoFSReachable"], [
        "False",
        "APIUnreachable",
        `GET /health: Unreachable: connect ECONNREFUSED ${baseUrl}`
      ])
    }).pipe(Effect.provide(testLayer())))

  it.effect("runs again when the token is due for a refresh, if that comes before the polling interval", () =>
    Effect.gen(function*() {
      yield* setup({ adapterDiscovery: { pollingInterval: "1h" } })
      yield* adminSecret()
      assert.deepStrictEqual(yield* pass, { _tag: "Requeue", after: Duration.minutes(12) })
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual(yield* pass, { _tag: "Requeue", after: Duration.minutes(10) })
    }).pipe(Effect.provide(testLayer())))
})

describe("reconcileDittoServer, when a poll fails", () => {
  it.effect("a refused token is dropped, the pass fails, and the next pass logs in again", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const control = yield* DittoFsMemoryControl
      yield* control.failNext(baseUrl, "listAdapters", "Unauthorized")
      const error = yield* Effect.flip(pass)
      assert.strictEqual(error._tag, "TokenRejected")
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/PollFailed")
      const logins = (yield* control.requests(baseUrl)).login ?? 0
      yield* pass
      assert.strictEqual((yield* control.requests(baseUrl)).login, logins + 1, "logged in again with the stored password")
      assert.strictEqual((yield* conditions)["Ready"], "True/AllConditionsMet")
    }).pipe(Effect.provide(testLayer())))

  it.effect("a poll that times out is DittoFsUnavailable, and a malformed one a False AdaptersSynced", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* pass
      const control = yield* DittoFsMemoryControl
      yield* control.failNext(baseUrl, "listAdapters", "Timeout")
      assert.strictEqual((yield* Effect.flip(pass))._tag, "DittoFsUnavailable")
      assert.strictEqual((yield* conditions)["DittoFSReachable"], "False/APIUnreachable")
      yield* control.setAdapterBody(baseUrl, { body: { adapters: [] } })
      const action = yield* pass
      assert.strictEqual(action._tag, "Requeue")
      assert.deepStrictEqual(yield* conditions, {
        DittoFSReachable: "True/HealthCheckSucceeded",
        Authenticated: "True/AuthenticationSucceeded",
        AdaptersSynced: "False/PollFailed",
        Ready: "False/ConditionsNotMet"
      })
      assert.strictEqual((yield* services).length, 1)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a change that cannot be applied is ApplyFailed, after the status says which", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      yield* (yield* KubernetesMemoryControl).failNext({ verb: "create", kind: "Service", reason: "Forbidden" })
      const error = yield* Effect.flip(pass)
      assert.strictEqual(error._tag, "ApplyFailed")
      assert.strictEqual((yield* conditions)["AdaptersSynced"], "False/ApplyFailed")
      assert.deepStrictEqual((yield* current).status?.adapters?.map((a) => a.exposed), [false])
    }).pipe(Effect.provide(testLayer())))
})

describe("reconcileDittoServer, with a stale view of the DittoServer", () => {
  it.effect("compares the status with the current object after a conflict, without failing the pass", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* adminSecret()
      const stale = yield* current
      yield* reconcileDittoServer(stale, { apiUrlOverride: baseUrl })
      const written = yield* current
      // a second pass on the old view: the status it computes is already there
      const action = yield* reconcileDittoServer(stale, { apiUrlOverride: baseUrl })
      assert.strictEqual(action._tag, "Requeue")
      assert.strictEqual((yield* current).metadata.resourceVersion, written.metadata.resourceVersion)
      // a third party changes the status meanwhile: the pass writes over the current object
      yield* Kubernetes.use((k) => k.updateStatus(Resources.DittoServer, { ...written, status: { ...written.status, phase: "Pending" } }))
      yield* reconcileDittoServer(stale, { apiUrlOverride: baseUrl })
      assert.strictEqual((yield* current).status?.phase, "Running")
    }).pipe(Effect.provide(testLayer())))
})

describe("pass errors", () => {
  it("say what failed in their message (it is what the backoff warning logs)", () => {
    const error = new DittoFsError({ reason: "Unreachable", message: "connect ECONNREFUSED", operation: "GET /health" })
    assert.strictEqual(new DittoFsUnavailable({ error }).message, "DittoFS unavailable: GET /health: Unreachable: connect ECONNREFUSED")
    assert.include(new TokenRejected({ error }).message, "GET /health")
    const failure = { kind: "Service", change: "Create" as const, name: "x", error: new KubernetesError({ reason: "Forbidden", message: "no", operation: "create" }) }
    assert.strictEqual(new ApplyFailed({ failures: [failure] }).message, "Create Service x: Forbidden: no")
  })
})
