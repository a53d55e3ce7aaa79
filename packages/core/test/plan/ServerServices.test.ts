import { assert, describe, it } from "@effect/vitest"
import { type K8s, Naming, ServerServices } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"
import { server, specOf } from "./workloadCluster.ts"

const names = Naming.workloadNames(server.name)

const observedApi = (overrides: Partial<K8s.Service["spec"]> = {}): K8s.Service =>
  deepFreeze({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "ditto-api", namespace: server.namespace, uid: "svc", resourceVersion: "4", annotations: { "cloud/x": "1" } },
    spec: {
      type: "NodePort",
      clusterIP: "10.0.0.7",
      clusterIPs: ["10.0.0.7"],
      selector: { app: "dittofs-server", instance: "ditto" },
      ports: [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP", nodePort: 30080 }],
      ...overrides
    }
  })

describe("ServerServices.overlay", () => {
  it("keeps the allocated nodePort and clusterIP when the port changes", () => {
    const { object } = ServerServices.overlay({ server, spec: specOf({ controlPlane: { port: 9000 }, service: { type: "NodePort" } }), names }, "api", observedApi())
    assert.deepStrictEqual(object.spec.ports, [{ name: "api", port: 9000, targetPort: 9000, protocol: "TCP", nodePort: 30080 }])
    assert.strictEqual(object.spec.clusterIP, "10.0.0.7")
    assert.deepStrictEqual(object.spec["clusterIPs"], ["10.0.0.7"])
    assert.strictEqual(object.metadata.annotations?.["cloud/x"], "1")
    assert.strictEqual(object.metadata.resourceVersion, "4")
  })

  it("drops the nodePort when the type becomes ClusterIP", () => {
    const { object } = ServerServices.overlay({ server, spec: specOf(), names }, "api", observedApi())
    assert.strictEqual(object.spec.type, "ClusterIP")
    assert.deepStrictEqual(object.spec.ports, [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }])
  })

  it("reports a headless API Service, or a headless Service that is not, as blocked (clusterIP is immutable)", () => {
    const input = { server, spec: specOf({ service: { type: "NodePort" } }), names }
    assert.match(ServerServices.overlay(input, "api", observedApi({ clusterIP: "None" })).blocked[0]?.message ?? "", /is headless/)
    assert.match(ServerServices.overlay(input, "headless", observedApi()).blocked[0]?.message ?? "", /is not headless \(clusterIP 10\.0\.0\.7\)/)
    const { clusterIP: _clusterIP, ...unassigned } = observedApi().spec
    assert.match(ServerServices.overlay(input, "headless", { ...observedApi(), spec: unassigned }).blocked[0]?.message ?? "", /is not headless \(clusterIP unset\)/)
  })
})

describe("ServerServices: what each role wants", () => {
  it("names, types, ports and clusterIP per role; the metrics Service only while metrics are on", () => {
    const spec = specOf({ service: { type: "NodePort", annotations: { "lb/x": "1" } }, metrics: { enabled: true, port: 9091 } })
    const summary = (role: ServerServices.Role) => {
      const service = ServerServices.desired({ server, spec, names }, role)
      return [service.metadata.name, service.spec.type, service.spec.clusterIP, service.spec.ports, service.metadata.annotations]
    }
    assert.deepStrictEqual(summary("headless"), ["ditto-headless", "ClusterIP", "None", [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }], undefined])
    assert.deepStrictEqual(summary("api"), ["ditto-api", "NodePort", undefined, [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }], {
      "lb/x": "1",
      "dittofs.io/managed-annotations": "lb/x"
    }])
    assert.deepStrictEqual(summary("metrics"), ["ditto-metrics", "ClusterIP", undefined, [{ name: "metrics", port: 9091, targetPort: 9091, protocol: "TCP" }], undefined])
    assert.deepStrictEqual(["headless", "api", "metrics"].map((role) => ServerServices.wanted(specOf({ metrics: { enabled: false } }), role as ServerServices.Role)), [true, true, false])
    assert.isTrue(ServerServices.wanted(spec, "metrics"))
    assert.strictEqual(ServerServices.desired({ server, spec: specOf(), names }, "api").spec.type, "ClusterIP", "ClusterIP unless the spec says otherwise")
  })
})

describe("ServerServices.overlay, field by field", () => {
  const nodePortSpec = specOf({ service: { type: "NodePort" } })
  const overlaid = (observed: K8s.Service, spec = nodePortSpec, role: ServerServices.Role = "api") => ServerServices.overlay({ server, spec, names }, role, observed).object
  const wantedPort = { name: "api", port: 8080, targetPort: 8080, protocol: "TCP", nodePort: 30080 } as const

  it("repairs each port field drifted alone, keeping the nodePort of the port of that name", () => {
    const { nodePort: _nodePort, ...renamedAway } = wantedPort
    const drifted: ReadonlyArray<readonly [string, ReadonlyArray<K8s.ServicePort>]> = [
      ["name", [{ ...wantedPort, name: "http" }]],
      ["port", [{ ...wantedPort, port: 9999 }]],
      ["targetPort", [{ ...wantedPort, targetPort: 9999 }]],
      ["protocol", [{ ...wantedPort, protocol: "UDP" }]],
      ["a second port", [wantedPort, { name: "extra", port: 1, targetPort: 1, protocol: "TCP" }]]
    ]
    for (const [what, ports] of drifted) {
      assert.deepStrictEqual(overlaid(observedApi({ ports: [...ports] })).spec.ports, what === "name" ? [renamedAway] : [wantedPort], what)
    }
  })

  it("leaves ports, type and selector that mean the same as observed", () => {
    const observed = observedApi({ ports: [{ name: "api", port: 8080, nodePort: 30080 }], selector: { instance: "ditto", app: "dittofs-server" } })
    const next = overlaid(observed)
    assert.strictEqual(next.spec.ports, observed.spec.ports, "no protocol is TCP, no targetPort is the port")
    assert.strictEqual(next.spec.selector, observed.spec.selector, "key order")
    const { type: _type, ...untyped } = observedApi({ ports: [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }] }).spec
    const typeless = { ...observedApi(), spec: untyped }
    assert.strictEqual(overlaid(typeless, specOf()).spec.type, "ClusterIP", "no type is ClusterIP, written as the API server stores it")
    assert.strictEqual(overlaid(typeless, nodePortSpec).spec.type, "NodePort")
  })

  it("sets the port of a Service that has none, and keeps right ports of a ClusterIP Service as observed", () => {
    assert.deepStrictEqual(overlaid(observedApi({ ports: [] })).spec.ports, [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }])
    const right = observedApi({ type: "ClusterIP", ports: [{ name: "api", port: 8080 }] })
    assert.strictEqual(overlaid(right, specOf()).spec.ports, right.spec.ports)
  })

  it("drops a nodePort from ports that are otherwise right once the type is ClusterIP, and sets type and selector", () => {
    const next = overlaid(observedApi({ type: "LoadBalancer", selector: { app: "other" } }), specOf())
    assert.deepStrictEqual(next.spec.ports, [{ name: "api", port: 8080, targetPort: 8080, protocol: "TCP" }])
    assert.strictEqual(next.spec.type, "ClusterIP")
    assert.deepStrictEqual(next.spec.selector, { app: "dittofs-server", instance: "ditto" })
    const unselected = observedApi()
    const { selector: _selector, ...withoutSelector } = unselected.spec
    assert.deepStrictEqual(overlaid({ ...unselected, spec: withoutSelector }).spec.selector, { app: "dittofs-server", instance: "ditto" })
  })

  it("syncs the API Service's annotations, and leaves the others' alone", () => {
    const withSpec = specOf({ service: { type: "NodePort", annotations: { "lb/x": "2" } } })
    assert.deepStrictEqual(overlaid(observedApi(), withSpec).metadata.annotations, { "cloud/x": "1", "lb/x": "2", "dittofs.io/managed-annotations": "lb/x" })
    const tracked = observedApi()
    const dropped = overlaid({ ...tracked, metadata: { ...tracked.metadata, annotations: { "lb/x": "2", "dittofs.io/managed-annotations": "lb/x" } } })
    assert.isUndefined(dropped.metadata.annotations, "none left: no annotations at all, as the API server stores it")
    const headless = observedApi({ clusterIP: "None", type: "ClusterIP" })
    const trackedByHand = { "dittofs.io/managed-annotations": "lb/x", "lb/x": "1" }
    assert.deepStrictEqual(overlaid({ ...headless, metadata: { ...headless.metadata, annotations: trackedByHand } }, withSpec, "headless").metadata.annotations, trackedByHand, "not the operator's to sync")
    assert.deepStrictEqual(overlaid(observedApi(), nodePortSpec).metadata.labels, { app: "dittofs-server", instance: "ditto" })
  })
})

describe("ServerServices Events", () => {
  const service = ServerServices.desired({ server, spec: specOf(), names }, "api")
  it("say what was created, what changed and what was deleted", () => {
    assert.deepStrictEqual(ServerServices.createdEvent(service), { type: "Normal", reason: "ServiceCreated", message: "Created ClusterIP Service ditto-api (port 8080)" })
    const { type: _type, ports: _ports, ...bare } = service.spec
    assert.strictEqual(ServerServices.createdEvent({ ...service, spec: bare }).message, "Created ClusterIP Service ditto-api (port none)")
    const changed: K8s.Service = {
      ...service,
      metadata: { ...service.metadata, labels: { app: "x" }, annotations: { a: "1" } },
      spec: { ...service.spec, type: "NodePort", selector: { app: "x" }, ports: [{ name: "api", port: 9000 }] }
    }
    assert.deepStrictEqual(ServerServices.updatedEvent(changed, service), {
      type: "Normal",
      reason: "ServiceUpdated",
      message: "Updated Service ditto-api: type NodePort -> ClusterIP, port 9000 -> 8080, annotations, labels, selector"
    })
    assert.strictEqual(ServerServices.updatedEvent({ ...service, spec: bare }, { ...service, spec: { ...bare, ports: [] } }).message, "Updated Service ditto-api: ports")
    // a Service without a type is ClusterIP; every port of a Service someone else changed is named
    const untypedTwoPorts: K8s.Service = { ...service, spec: { ...bare, ports: [{ name: "api", port: 8080 }, { name: "extra", port: 9999 }] } }
    assert.strictEqual(
      ServerServices.updatedEvent(untypedTwoPorts, { ...service, spec: { ...service.spec, type: "NodePort" } }).message,
      "Updated Service ditto-api: type ClusterIP -> NodePort, port 8080,9999 -> 8080"
    )
    assert.deepStrictEqual(ServerServices.deletedEvent(service), { type: "Normal", reason: "ServiceDeleted", message: "Deleted Service ditto-api (metrics are disabled)" })
  })
})
