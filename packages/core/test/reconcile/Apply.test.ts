/**
 * The executor and the edges of the adapter-exposure pass, asserted on the in-memory cluster:
 * what exists afterwards, which Events were recorded, what was logged.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, References } from "effect"
import { Apply, type DittoServer, type K8s, Kubernetes } from "../../src/index.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { namespace } from "../fixtures.ts"
import { capture, lines } from "../Logs.ts"
import { adapter, baseUrl, events, login, policies, reconcileOnce, services, setup, testLayer } from "./harness.ts"

const service = (name: string): K8s.Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { ports: [{ name: "x", port: 1 }] }
})

describe("Apply.change", () => {
  it.effect("deletes only the object it read: a newer one of the same name stays", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const read = yield* kubernetes.create(Kubernetes.Resources.Service, service("svc"))
      yield* kubernetes.delete(Kubernetes.Resources.Service, namespace, "svc")
      const newer = yield* kubernetes.create(Kubernetes.Resources.Service, service("svc"))
      const failed = yield* Effect.flip(Apply.change(Kubernetes.Resources.Service, { _tag: "Delete", object: read, event: { type: "Normal", reason: "x", message: "x" } }))
      assert.strictEqual(failed.reason, "Conflict")
      assert.deepStrictEqual(yield* kubernetes.get(Kubernetes.Resources.Service, namespace, "svc"), newer)
    }).pipe(Effect.provide(testLayer())))

  it.effect("deletes by name when the object read has no uid, and an object already gone counts as deleted", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.create(Kubernetes.Resources.Service, service("svc"))
      const change = { _tag: "Delete", object: service("svc"), event: { type: "Normal", reason: "x", message: "x" } } as const
      yield* Apply.change(Kubernetes.Resources.Service, change)
      assert.deepStrictEqual(yield* services, [])
      yield* Apply.change(Kubernetes.Resources.Service, change)
      assert.deepStrictEqual(yield* services, [])
    }).pipe(Effect.provide(testLayer())))
})

const apiClash = "adapter api-clash reports port 8080, which is reserved for the server itself"
const metricsClash = "adapter metrics-clash reports port 9090, which is reserved for the server itself"
const epoch = "1970-01-01T00:00:00Z"

/**
 * One pass of a server whose status holds these conditions while DittoFS reports two adapters on
 * reserved ports: the level and message of each "adapter not exposed" log line.
 */
const conflictLogsWithConditions = (conditions: ReadonlyArray<DittoServer.Condition>) =>
  Effect.gen(function*() {
    yield* setup()
    const kubernetes = yield* Kubernetes.Kubernetes
    const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
    yield* kubernetes.updateStatus(Kubernetes.Resources.DittoServer, { ...server, status: { conditions } })
    yield* (yield* DittoFsMemory.Control).setAdapterBody(baseUrl, {
      body: [
        { type: "api-clash", enabled: true, running: true, port: 8080 },
        { type: "metrics-clash", enabled: true, running: true, port: 9090 }
      ]
    })
    yield* reconcileOnce("ditto", yield* login)
    return (yield* lines).filter(([, message]) => String(message).startsWith("adapter not exposed")).map(([level, message]) => [level, message])
  })

describe("AdapterExposurePhase.reconcile, at the edges", () => {
  it.effect("without a StatefulSet: Services and NetworkPolicies still follow the adapters, no port is written", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* setup()
      yield* kubernetes.delete(Kubernetes.Resources.StatefulSet, namespace, "ditto")
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(outcome.failures, [])
      assert.isTrue(Option.isNone(outcome.plan.statefulSet))
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual((yield* policies).map((p) => p.metadata.name), ["ditto-adapter-nfs"])
      assert.isFalse((yield* events).some((e) => e.reason === "ContainerPortsUpdated"))
    }).pipe(Effect.provide(testLayer())))

  it.effect("a NetworkPolicy that cannot be written is reported, and its adapter still counts as exposed", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "NetworkPolicy", reason: "Forbidden" })
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(outcome.failures.map((f) => [f.kind, f.change, f.name, f.error.reason]), [
        ["NetworkPolicy", "Create", "ditto-adapter-nfs", "Forbidden"]
      ])
      assert.deepStrictEqual(outcome.adapters, Option.some([{ type: "nfs", port: 12049, serviceName: "ditto-adapter-nfs", exposed: true }]))
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual(yield* policies, [])
      const warning = (yield* events).find((e) => e.type === "Warning")
      assert.strictEqual(warning?.reason, "NetworkPolicyFailed")
      assert.match(warning?.message ?? "", /^Failed to create NetworkPolicy ditto-adapter-nfs: Forbidden: /)
    }).pipe(Effect.provide(testLayer())))

  it.effect("logs every applied change at Info next to its Event, and every failure, conflict and rejected entry as a warning", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "StatefulSet", reason: "Conflict" })
      yield* (yield* DittoFsMemory.Control).setAdapterBody(baseUrl, {
        body: [
          { type: "nfs", enabled: true, running: true, port: 12049 },
          { type: "api-clash", enabled: true, running: true, port: 8080 },
          { type: "broken", enabled: "yes", running: true, port: 1 }
        ]
      })
      yield* reconcileOnce("ditto", yield* login)
      const logged = yield* lines
      const object = { object: `${namespace}/ditto` }
      assert.deepStrictEqual(logged.filter(([level]) => level === "INFO"), [
        ["INFO", "Created LoadBalancer Service ditto-adapter-nfs for adapter nfs (port 12049)", { ...object, reason: "AdapterServiceCreated" }],
        ["INFO", "Created NetworkPolicy ditto-adapter-nfs for adapter nfs (port 12049)", { ...object, reason: "AdapterNetworkPolicyCreated" }]
      ])
      const warnings = logged.filter(([level]) => level === "WARN")
      assert.match(String(warnings[0]?.[1]), /^adapter entry 2 rejected: /)
      assert.deepStrictEqual(warnings.slice(1).map(([, message, annotations]) => [message, annotations]), [
        ["adapter not exposed: adapter api-clash reports port 8080, which is reserved for the server itself", { reason: "ReservedPort" }],
        ["Update StatefulSet ditto failed", { reason: "Conflict", message: warnings[2]?.[2]["message"] }]
      ])
      assert.isString(warnings[2]?.[2]["message"])
    }).pipe(Effect.provide(testLayer()), capture))

  it.effect("logs a conflict the status already reports at Debug, a new one as a warning", () =>
    Effect.gen(function*() {
      const levels = yield* conflictLogsWithConditions([
        { type: "AdaptersSynced", status: "False", reason: "AdapterConflicts", message: apiClash, lastTransitionTime: epoch }
      ])
      assert.deepStrictEqual(levels, [["DEBUG", `adapter not exposed: ${apiClash}`], ["WARN", `adapter not exposed: ${metricsClash}`]])
    }).pipe(Effect.provide(testLayer()), Effect.provideService(References.MinimumLogLevel, "Debug"), capture))

  it.effect("reads the reported conflicts from AdaptersSynced only, and only while it says AdapterConflicts", () =>
    Effect.gen(function*() {
      const levels = yield* conflictLogsWithConditions([
        { type: "Ready", status: "False", reason: "AdapterConflicts", message: metricsClash, lastTransitionTime: epoch },
        { type: "AdaptersSynced", status: "True", reason: "AdaptersSynced", message: apiClash, lastTransitionTime: epoch }
      ])
      assert.deepStrictEqual(levels.map(([level]) => level), ["WARN", "WARN"], "neither is reported as a conflict yet")
    }).pipe(Effect.provide(testLayer()), Effect.provideService(References.MinimumLogLevel, "Debug"), capture))

  it.effect("logs a failed poll with the server and the reason, and changes nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* (yield* DittoFsMemory.Control).failNext(baseUrl, "listAdapters", "ServerError")
      yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(yield* lines, [["WARN", "adapter poll failed; changing nothing", { server: `${namespace}/ditto`, reason: "ServerError" }]])
      assert.deepStrictEqual(yield* services, [])
    }).pipe(Effect.provide(testLayer([adapter("nfs", 12049)])), capture))
})
