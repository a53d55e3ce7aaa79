/**
 * The five requirements of the mission and the safety rules, on the in-memory layers with the
 * TestClock, asserted on the resulting cluster state.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Option, Result } from "effect"
import { TestClock } from "effect/testing"
import { AdapterExposurePhase, DittoFs, type K8s, Kubernetes, Ownership } from "../../src/index.ts"
import { DittoFsMemory, KubernetesMemory } from "../../src/testing/index.ts"
import { makeServer, makeStatefulSet, namespace } from "../fixtures.ts"
import {
  adapter,
  adapterServices,
  adminPasswordRef,
  baseUrl,
  containerPorts,
  events,
  login,
  policies,
  reconcileLoop,
  reconcileOnce,
  services,
  setup,
  statefulSet,
  testLayer
} from "./harness.ts"

const staticPorts: ReadonlyArray<K8s.ContainerPort> = [
  { name: "api", containerPort: 8080, protocol: "TCP" },
  { name: "metrics", containerPort: 9090, protocol: "TCP" }
]

describe("requirement 1: an enabled and running adapter is exposed", () => {
  it.effect("creates a Service with the reported port, spec type and annotations, owned by the DittoServer", () =>
    Effect.gen(function*() {
      const server = yield* setup({
        adapterServices: { type: "NodePort", annotations: { "lb.example.com/pool": "nas" } }
      })
      const session = yield* login
      yield* reconcileOnce("ditto", session)
      const [service, ...others] = yield* services
      assert.strictEqual(others.length, 0)
      assert.isDefined(service)
      if (service === undefined) return
      assert.strictEqual(service.metadata.name, "ditto-adapter-nfs")
      assert.strictEqual(service.spec.type, "NodePort")
      assert.deepStrictEqual(service.spec.ports?.map((p) => [p.name, p.port, p.targetPort, p.protocol]), [["adapter-nfs", 12049, 12049, "TCP"]])
      assert.deepStrictEqual(service.spec.selector, { app: "dittofs-server", instance: "ditto" })
      assert.strictEqual(service.metadata.annotations?.["lb.example.com/pool"], "nas")
      assert.strictEqual(service.metadata.annotations?.["dittofs.io/managed-annotations"], "lb.example.com/pool")
      assert.deepStrictEqual(service.metadata.labels, {
        app: "dittofs-server",
        instance: "ditto",
        "dittofs.io/adapter-service": "true",
        "dittofs.io/adapter-type": "nfs"
      })
      assert.deepStrictEqual(service.metadata.ownerReferences?.map((ref) => [ref.uid, ref.controller]), [[server.metadata.uid, true]])
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => [p.name, p.containerPort]), [
        ["api", 8080],
        ["metrics", 9090],
        ["adapter-nfs", 12049]
      ])
      assert.deepStrictEqual((yield* policies).map((p) => p.metadata.name), ["ditto-adapter-nfs"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("defaults the adapter Service type to LoadBalancer", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual((yield* services).map((s) => s.spec.type), ["LoadBalancer"])
    }).pipe(Effect.provide(testLayer())))
})

describe("requirement 2: a stopped or removed adapter's Service goes within one polling cycle", () => {
  it.effect("stop: Service, NetworkPolicy and container port gone after one interval", () =>
    Effect.gen(function*() {
      yield* setup({ adapterDiscovery: { pollingInterval: "10s" } })
      const control = yield* DittoFsMemory.Control
      const loop = yield* Effect.forkChild(reconcileLoop("ditto", yield* login))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-nfs", "ditto-adapter-smb"])
      yield* control.setAdapters(baseUrl, [adapter("nfs", 12049, false), adapter("smb", 12445)])
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* services).length, 2, "not before the interval")
      yield* TestClock.adjust("1 seconds")
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-smb"])
      assert.deepStrictEqual((yield* policies).map((s) => s.metadata.name), ["ditto-adapter-smb"])
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["api", "metrics", "adapter-smb"])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(testLayer([adapter("nfs", 12049), adapter("smb", 12445)]))))

  it.effect("removal from the list: same as a stop", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      yield* reconcileOnce("ditto", session)
      yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, [adapter("smb", 12445)])
      yield* reconcileOnce("ditto", session)
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-smb"])
    }).pipe(Effect.provide(testLayer([adapter("nfs", 12049), adapter("smb", 12445)]))))
})

describe("requirement 3: adapter Services are owned by the DittoServer", () => {
  it.effect("deleting the DittoServer garbage-collects its Services and NetworkPolicies", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* reconcileOnce("ditto", yield* login)
      assert.strictEqual((yield* services).length, 1)
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* kubernetes.delete(Kubernetes.Resources.DittoServer, namespace, "ditto")
      assert.strictEqual((yield* services).length, 0)
      assert.strictEqual((yield* policies).length, 0)
    }).pipe(Effect.provide(testLayer())))
})

describe("requirement 4: container ports follow the active adapters", () => {
  it.effect("adds and removes adapter-<type> ports, keeps static ports, never rewrites an unchanged set", () =>
    Effect.gen(function*() {
      yield* setup({ adapterDiscovery: { pollingInterval: "5s" } }, [
        { name: "metrics", containerPort: 9090 },
        { name: "api", containerPort: 8080 },
        { name: "nfs", containerPort: 2049, protocol: "TCP" }
      ])
      const control = yield* DittoFsMemory.Control
      const loop = yield* Effect.forkChild(reconcileLoop("ditto", yield* login))
      yield* TestClock.adjust("1 millis")
      const afterStart = yield* statefulSet("ditto")
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => [p.name, p.containerPort]), [
        ["metrics", 9090],
        ["api", 8080],
        ["nfs", 2049],
        ["adapter-nfs", 12049]
      ])
      assert.strictEqual(afterStart.metadata.generation, 2, "one pod-template write for the adapter")
      // many idle cycles: nothing is written
      yield* TestClock.adjust(Duration.times(Duration.seconds(5), 50))
      const idle = yield* statefulSet("ditto")
      assert.strictEqual(idle.metadata.generation, 2)
      assert.strictEqual(idle.metadata.resourceVersion, afterStart.metadata.resourceVersion)
      yield* control.setAdapters(baseUrl, [adapter("nfs", 12049), adapter("smb", 12445)])
      yield* TestClock.adjust("5 seconds")
      const afterSecond = yield* statefulSet("ditto")
      assert.strictEqual(afterSecond.metadata.generation, 3, "exactly one write per change")
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["metrics", "api", "nfs", "adapter-nfs", "adapter-smb"])
      yield* control.setAdapters(baseUrl, [])
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["metrics", "api", "nfs"])
      assert.strictEqual((yield* statefulSet("ditto")).metadata.generation, 4)
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(testLayer())))

  it.effect("does not rewrite ports that only differ in order or protocol spelling", () =>
    Effect.gen(function*() {
      yield* setup({}, [
        { name: "adapter-nfs", containerPort: 12049 },
        { name: "metrics", containerPort: 9090, protocol: "TCP" },
        { name: "api", containerPort: 8080 }
      ])
      const before = yield* statefulSet("ditto")
      yield* reconcileOnce("ditto", yield* login)
      const after = yield* statefulSet("ditto")
      assert.strictEqual(after.metadata.generation, 1)
      assert.strictEqual(after.metadata.resourceVersion, before.metadata.resourceVersion)
    }).pipe(Effect.provide(testLayer())))

  it.effect("leaves every other field of the StatefulSet as it was", () =>
    Effect.gen(function*() {
      yield* setup()
      const before = yield* statefulSet("ditto")
      yield* reconcileOnce("ditto", yield* login)
      const after = yield* statefulSet("ditto")
      assert.strictEqual(after.spec["podManagementPolicy"], "Parallel")
      assert.deepStrictEqual(after.spec.template.spec.containers[0]?.["env"], before.spec.template.spec.containers[0]?.["env"])
      assert.deepStrictEqual(after.spec.selector, before.spec.selector)
    }).pipe(Effect.provide(testLayer())))
})

describe("requirement 5: Service type and annotations from the spec, Events for every change", () => {
  it.effect("updates type and annotations in place, keeping the nodePort and third-party annotations", () =>
    Effect.gen(function*() {
      yield* setup({ adapterServices: { type: "NodePort", annotations: { a: "1", b: "2" } } })
      const session = yield* login
      const kubernetes = yield* Kubernetes.Kubernetes
      yield* reconcileOnce("ditto", session)
      const created = (yield* services)[0]
      assert.isDefined(created)
      if (created === undefined) return
      const nodePort = created.spec.ports?.[0]?.nodePort
      assert.isNumber(nodePort)
      // a third party annotates the Service
      yield* kubernetes.update(Kubernetes.Resources.Service, {
        ...created,
        metadata: { ...created.metadata, annotations: { ...created.metadata.annotations, "cloud.example.com/id": "lb-7" } }
      })
      const server = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
      yield* kubernetes.update(Kubernetes.Resources.DittoServer, {
        ...server,
        spec: { ...server.spec, adapterServices: { type: "LoadBalancer", annotations: { b: "3", c: "4" } } }
      })
      yield* reconcileOnce("ditto", session)
      const [updated] = yield* services
      assert.isDefined(updated)
      if (updated === undefined) return
      assert.strictEqual(updated.metadata.uid, created.metadata.uid, "updated in place, not recreated")
      assert.strictEqual(updated.spec.type, "LoadBalancer")
      assert.strictEqual(updated.spec.ports?.[0]?.nodePort, nodePort)
      assert.strictEqual(updated.spec.clusterIP, created.spec.clusterIP)
      assert.deepStrictEqual(updated.metadata.annotations, {
        b: "3",
        c: "4",
        "cloud.example.com/id": "lb-7",
        "dittofs.io/managed-annotations": "b,c"
      })
      const reasons = (yield* events).map((event) => [event.reason, event.type, event.involvedObject.name])
      assert.deepStrictEqual(reasons.filter(([reason]) => reason === "AdapterServiceUpdated"), [["AdapterServiceUpdated", "Normal", "ditto"]])
    }).pipe(Effect.provide(testLayer())))

  it.effect("records one Event per change: created, deleted, ports updated, and counts repeats", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      const control = yield* DittoFsMemory.Control
      yield* reconcileOnce("ditto", session)
      yield* control.setAdapters(baseUrl, [])
      yield* reconcileOnce("ditto", session)
      yield* control.setAdapters(baseUrl, [adapter("nfs", 12049)])
      yield* reconcileOnce("ditto", session)
      const recorded = yield* events
      const byReason = (reason: string) => recorded.filter((event) => event.reason === reason)
      assert.deepStrictEqual(byReason("AdapterServiceCreated").map((e) => [e.message, e.count]), [
        ["Created LoadBalancer Service ditto-adapter-nfs for adapter nfs (port 12049)", 2]
      ])
      assert.deepStrictEqual(byReason("AdapterServiceDeleted").map((e) => e.message), ["Deleted Service ditto-adapter-nfs for adapter nfs"])
      assert.deepStrictEqual(byReason("ContainerPortsUpdated").map((e) => [e.message, e.count]), [
        ["Updated StatefulSet container ports (2 static + 1 dynamic)", 2],
        ["Updated StatefulSet container ports (2 static + 0 dynamic)", 1]
      ])
      assert.strictEqual(byReason("AdapterNetworkPolicyCreated").length, 1)
    }).pipe(Effect.provide(testLayer())))
})

describe("safety rules", () => {
  it.effect("an unreachable DittoFS changes nothing for many cycles, and recovery resumes", () =>
    Effect.gen(function*() {
      yield* setup({ adapterDiscovery: { pollingInterval: "2s" } })
      const session = yield* login
      const control = yield* DittoFsMemory.Control
      yield* reconcileOnce("ditto", session)
      const before = yield* services
      yield* control.setRunning(baseUrl, false)
      yield* control.setAdapters(baseUrl, [])
      for (let i = 0; i < 5; i++) {
        const outcome = yield* reconcileOnce("ditto", session)
        assert.isTrue(Result.isFailure(outcome.poll))
        assert.isTrue(Option.isNone(outcome.adapters))
        assert.deepStrictEqual(outcome.action, { _tag: "Requeue", after: Duration.seconds(2) })
      }
      assert.deepStrictEqual(yield* services, before)
      yield* control.setRunning(baseUrl, true)
      yield* reconcileOnce("ditto", session)
      assert.strictEqual((yield* services).length, 0, "a successful [] after recovery is authoritative")
    }).pipe(Effect.provide(testLayer())))

  for (const body of [null, {}, "<html>502</html>", { adapters: [] }]) {
    it.effect(`a malformed adapter body (${JSON.stringify(body)}) changes nothing`, () =>
      Effect.gen(function*() {
        yield* setup()
        const session = yield* login
        const control = yield* DittoFsMemory.Control
        yield* reconcileOnce("ditto", session)
        const servicesBefore = yield* services
        const stsBefore = yield* statefulSet("ditto")
        yield* control.setAdapterBody(baseUrl, { body })
        const outcome = yield* reconcileOnce("ditto", session)
        assert.isTrue(Result.isFailure(outcome.poll))
        if (Result.isFailure(outcome.poll)) assert.strictEqual(outcome.poll.failure.reason, "BadResponse")
        assert.deepStrictEqual(yield* services, servicesBefore)
        assert.deepStrictEqual(yield* statefulSet("ditto"), stsBefore)
      }).pipe(Effect.provide(testLayer())))
  }

  it.effect("before a first successful poll nothing is created or deleted", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      const control = yield* DittoFsMemory.Control
      yield* control.failNext(baseUrl, "listAdapters", "ServerError", 3)
      for (let i = 0; i < 3; i++) yield* reconcileOnce("ditto", session)
      assert.strictEqual((yield* services).length, 0)
      assert.deepStrictEqual(yield* containerPorts("ditto"), staticPorts)
    }).pipe(Effect.provide(testLayer())))

  it.effect("an expired token is Unauthorized and changes nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      yield* reconcileOnce("ditto", session)
      yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, [])
      yield* TestClock.adjust("16 minutes")
      const outcome = yield* reconcileOnce("ditto", session)
      assert.isTrue(Result.isFailure(outcome.poll) && outcome.poll.failure.reason === "Unauthorized")
      assert.strictEqual((yield* services).length, 1)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a conflict on the StatefulSet is reported, the rest applied, and the next pass converges", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "update", kind: "StatefulSet", reason: "Conflict" })
      const first = yield* reconcileOnce("ditto", session)
      assert.deepStrictEqual(first.failures.map((f) => [f.kind, f.error.reason]), [["StatefulSet", "Conflict"]])
      assert.strictEqual((yield* services).length, 1, "the Service was still created")
      assert.deepStrictEqual(yield* containerPorts("ditto"), staticPorts)
      const second = yield* reconcileOnce("ditto", session)
      assert.deepStrictEqual(second.failures, [])
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["api", "metrics", "adapter-nfs"])
      assert.isTrue((yield* events).some((e) => e.reason === "ContainerPortsFailed" && e.type === "Warning"))
    }).pipe(Effect.provide(testLayer())))

  it.effect("never touches a Service it does not control, and reports a name taken by one", () =>
    Effect.gen(function*() {
      yield* setup()
      const kubernetes = yield* Kubernetes.Kubernetes
      const foreign = {
        apiVersion: "v1" as const,
        kind: "Service" as const,
        spec: { ports: [{ name: "x", port: 1 }] }
      }
      // same labels, no owner: not ours
      yield* kubernetes.create(Kubernetes.Resources.Service, {
        ...foreign,
        metadata: {
          name: "lookalike",
          namespace,
          labels: { app: "dittofs-server", instance: "ditto", "dittofs.io/adapter-service": "true", "dittofs.io/adapter-type": "webdav" }
        }
      })
      // takes the name of the nfs adapter Service
      yield* kubernetes.create(Kubernetes.Resources.Service, { ...foreign, metadata: { name: "ditto-adapter-nfs", namespace } })
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(outcome.failures.map((f) => [f.kind, f.name, f.error.reason]), [["Service", "ditto-adapter-nfs", "AlreadyExists"]])
      const names = (yield* services).map((s) => [s.metadata.name, s.spec.ports?.[0]?.port])
      assert.deepStrictEqual(names, [["ditto-adapter-nfs", 1], ["ditto-adapter-smb", 12445], ["lookalike", 1]])
      assert.deepStrictEqual(outcome.adapters, Option.some([
        { type: "nfs", port: 12049, serviceName: "ditto-adapter-nfs", exposed: false },
        { type: "smb", port: 12445, serviceName: "ditto-adapter-smb", exposed: true }
      ]))
    }).pipe(Effect.provide(testLayer([adapter("nfs", 12049), adapter("smb", 12445)]))))

  it.effect("an adapter on a static port of the StatefulSet is not exposed: no Service, no second container port", () =>
    Effect.gen(function*() {
      const ports = [...staticPorts, { name: "nfs", containerPort: 2049, protocol: "TCP" as const }]
      yield* setup({}, ports)
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual((yield* services).map((s) => [s.metadata.name, s.spec.ports?.[0]?.port]), [["ditto-adapter-smb", 12445]])
      assert.deepStrictEqual((yield* policies).map((p) => p.metadata.name), ["ditto-adapter-smb"])
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => [p.name, p.containerPort]), [
        ["api", 8080],
        ["metrics", 9090],
        ["nfs", 2049],
        ["adapter-smb", 12445]
      ])
      assert.deepStrictEqual(outcome.plan.active.conflicts.map((c) => [c.reason, c.adapter.type]), [["ReservedPort", "nfs"]])
    }).pipe(Effect.provide(testLayer([adapter("nfs", 2049), adapter("smb", 12445)]))))

  it.effect("an adapter on a reserved port is not exposed and does not block the others", () =>
    Effect.gen(function*() {
      yield* setup()
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(outcome.plan.active.conflicts.map((c) => [c.reason, c.adapter.type]), [["ReservedPort", "evil"]])
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-nfs"])
    }).pipe(Effect.provide(testLayer([adapter("evil", 8080), adapter("nfs", 12049)]))))

  it.effect("a failed read of the StatefulSet fails the pass and writes nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      const session = yield* login
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "get", kind: "StatefulSet", reason: "Forbidden" })
      const error = yield* Effect.flip(reconcileOnce("ditto", session))
      assert.deepStrictEqual([error._tag, error.reason], ["KubernetesError", "Forbidden"])
      assert.deepStrictEqual(yield* services, [])
      assert.deepStrictEqual(yield* policies, [])
      assert.deepStrictEqual(yield* containerPorts("ditto"), staticPorts)
    }).pipe(Effect.provide(testLayer())))

  it.effect("a Service write that fails is announced with a Warning Event, and the rest is applied", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* (yield* KubernetesMemory.Control).failNext({ verb: "create", kind: "Service", reason: "Forbidden" })
      const outcome = yield* reconcileOnce("ditto", yield* login)
      assert.deepStrictEqual(outcome.failures.map((f) => [f.kind, f.name, f.error.reason]), [["Service", "ditto-adapter-nfs", "Forbidden"]])
      const warnings = (yield* events).filter((e) => e.type === "Warning").map((e) => [e.reason, e.involvedObject.name, e.message])
      assert.deepStrictEqual(warnings, [[
        "AdapterServiceFailed",
        "ditto",
        "Failed to create Service ditto-adapter-nfs: Forbidden: injected fault: create Service ditto-adapter-nfs"
      ]])
      assert.deepStrictEqual(yield* services, [])
      assert.deepStrictEqual((yield* policies).map((p) => p.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["api", "metrics", "adapter-nfs"])
    }).pipe(Effect.provide(testLayer())))
})

describe("observing a server's exposure", () => {
  it.effect("reads its own adapter Services and NetworkPolicies, not another server's nor its other Services and policies", () =>
    Effect.gen(function*() {
      const server = yield* setup()
      const kubernetes = yield* Kubernetes.Kubernetes
      // a second server in the namespace, its adapters exposed too
      const other = yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* makeServer(adminPasswordRef, "nas-b"))
      yield* kubernetes.create(Kubernetes.Resources.StatefulSet, makeStatefulSet({ name: "nas-b", uid: other.metadata.uid ?? "" }))
      const session = yield* login
      yield* reconcileOnce("ditto", session)
      yield* reconcileOnce("nas-b", session)
      // the server's API Service and a policy of the user's, both labelled for the server, no adapter's
      const identity = Ownership.identityOf(server)
      yield* kubernetes.create(Kubernetes.Resources.Service, {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: "ditto-api",
          namespace,
          labels: { app: "dittofs-server", instance: "ditto" },
          ownerReferences: [Ownership.controllerReference(identity)]
        },
        spec: { ports: [{ name: "api", port: 8080 }] }
      })
      yield* kubernetes.create(Kubernetes.Resources.NetworkPolicy, {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "ditto-deny-all", namespace, labels: { app: "dittofs-server", instance: "ditto" } },
        spec: { podSelector: {}, policyTypes: ["Ingress"] }
      })
      const observed = yield* AdapterExposurePhase.observe(identity)
      assert.deepStrictEqual(observed.services.map((s) => s.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual(observed.networkPolicies.map((p) => p.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual(Option.map(observed.statefulSet, (sts) => sts.metadata.name), Option.some("ditto"))
      assert.deepStrictEqual((yield* adapterServices).map((s) => s.metadata.name), ["ditto-adapter-nfs", "nas-b-adapter-nfs"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("reads the Services, the NetworkPolicies and the StatefulSet at once: one round trip, not three", () =>
    Effect.gen(function*() {
      const server = yield* setup()
      const kubernetes = yield* Kubernetes.Kubernetes
      const roundTrip = Duration.seconds(1)
      const distant = Kubernetes.Kubernetes.of({
        ...kubernetes,
        list: (resource, inNamespace, options) => Effect.delay(kubernetes.list(resource, inNamespace, options), roundTrip),
        get: (resource, inNamespace, name) => Effect.delay(kubernetes.get(resource, inNamespace, name), roundTrip)
      })
      const observing = yield* Effect.forkChild(
        Effect.gen(function*() {
          const started = yield* Clock.currentTimeMillis
          yield* AdapterExposurePhase.observe(Ownership.identityOf(server))
          return (yield* Clock.currentTimeMillis) - started
        }).pipe(Effect.provideService(Kubernetes.Kubernetes, distant))
      )
      yield* TestClock.adjust(Duration.times(roundTrip, 3))
      assert.strictEqual(yield* Fiber.join(observing), Duration.toMillis(roundTrip))
    }).pipe(Effect.provide(testLayer())))
})

describe("who writes the container ports", () => {
  it.effect("the exposure, for a StatefulSet someone else manages: it writes them and its plan says so", () =>
    Effect.gen(function*() {
      yield* setup()
      const outcome = yield* reconcileOnce("ditto", yield* login)
      const planned = Option.map(outcome.plan.statefulSet, (change) => change.object.spec.template.spec.containers[0]?.ports?.map((p) => p.name))
      assert.deepStrictEqual(planned, Option.some(["api", "metrics", "adapter-nfs"]))
      assert.deepStrictEqual((yield* containerPorts("ditto")).map((p) => p.name), ["api", "metrics", "adapter-nfs"])
    }).pipe(Effect.provide(testLayer())))

  it.effect("the workload, for the operator's own StatefulSet: the exposure leaves it alone and plans no change of it", () =>
    Effect.gen(function*() {
      const server = yield* setup()
      const session = yield* login
      const adapters = yield* DittoFs.DittoFs.use((d) => d.listAdapters(baseUrl, session.accessToken))
      const before = yield* statefulSet("ditto")
      const exposed = yield* AdapterExposurePhase.expose(server, adapters, "Workload")
      assert.deepStrictEqual((yield* services).map((s) => s.metadata.name), ["ditto-adapter-nfs"])
      assert.deepStrictEqual(yield* statefulSet("ditto"), before)
      assert.isTrue(Option.isNone(exposed.plan.statefulSet))
      assert.isFalse((yield* events).some((e) => e.reason === "ContainerPortsUpdated"))
    }).pipe(Effect.provide(testLayer())))
})
