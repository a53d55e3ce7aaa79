import { assert, describe, it } from "@effect/vitest"
import { ActiveAdapters, AdapterServices, type K8s, NetworkPolicies } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-1" }
const owner = [{ apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", name: "ditto", uid: "uid-1", controller: true }]
const labels = (type: string) => ({
  app: "dittofs-server",
  instance: "ditto",
  "dittofs.io/adapter-service": "true",
  "dittofs.io/adapter-type": type
})
const active = ActiveAdapters.select([{ type: "nfs", enabled: true, running: true, port: 12049 }], { reservedPorts: [] }).active

const observed = (overrides: Partial<K8s.Service["spec"]> = {}, name = "ditto-adapter-nfs", type = "nfs"): K8s.Service =>
  deepFreeze({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "storage", uid: `uid-${name}`, resourceVersion: "7", labels: labels(type), ownerReferences: owner },
    spec: {
      type: "NodePort",
      clusterIP: "10.0.0.9",
      selector: { app: "dittofs-server", instance: "ditto" },
      ports: [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }],
      ...overrides
    }
  })

describe("AdapterServices.plan", () => {
  it("plans nothing for a Service in the desired state", () => {
    assert.deepStrictEqual(AdapterServices.plan({ server, spec: { type: "NodePort" }, active, observed: [observed()] }), [])
  })

  it("drops the nodePort when the type becomes ClusterIP, keeps clusterIP and resourceVersion", () => {
    const [change] = AdapterServices.plan({ server, spec: { type: "ClusterIP" }, active, observed: [observed()] })
    assert.strictEqual(change?._tag, "Update")
    if (change?._tag !== "Update") return
    assert.strictEqual(change.object.spec.type, "ClusterIP")
    assert.isUndefined(change.object.spec.ports?.[0]?.nodePort)
    assert.strictEqual(change.object.spec.clusterIP, "10.0.0.9")
    assert.strictEqual(change.object.metadata.resourceVersion, "7")
  })

  it("repairs a changed port, naming the old and new port in its Event", () => {
    const [change] = AdapterServices.plan({
      server,
      spec: { type: "NodePort" },
      active,
      observed: [observed({ ports: [{ name: "adapter-nfs", port: 2049, targetPort: 2049, nodePort: 30001 }] })]
    })
    assert.strictEqual(change?.event.message, "Updated Service ditto-adapter-nfs for adapter nfs (port 2049 -> 12049)")
    assert.deepStrictEqual(change?.object.spec.ports, [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }])
  })

  it("repairs each port field drifted alone, and reads the defaults Kubernetes applies as no drift", () => {
    const wanted: ReadonlyArray<K8s.ServicePort> = [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }]
    const planFor = (ports: ReadonlyArray<K8s.ServicePort>, spec: Partial<K8s.Service["spec"]> = {}) =>
      AdapterServices.plan({ server, spec: { type: "NodePort" }, active, observed: [observed({ ports: [...ports], ...spec })] })
        .map((change) => [change._tag, change.object.spec.ports])
    const drifted: ReadonlyArray<readonly [string, ReadonlyArray<K8s.ServicePort>]> = [
      ["the port's name", [{ ...wanted[0]!, name: "nfs" }]],
      ["the port alone", [{ ...wanted[0]!, port: 2049 }]],
      ["the protocol", [{ ...wanted[0]!, protocol: "UDP" }]],
      ["a second port", [...wanted, { name: "extra", port: 111, targetPort: 111, protocol: "TCP", nodePort: 30002 }]]
    ]
    for (const [what, ports] of drifted) {
      assert.deepStrictEqual(planFor(ports), [["Update", wanted]], what)
    }
    assert.deepStrictEqual(planFor([{ name: "adapter-nfs", port: 12049, nodePort: 30001 }]), [], "no protocol is TCP, no targetPort is the port")
    const { type: _type, ...untyped } = observed({ ports: [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP" }] }).spec
    assert.deepStrictEqual(
      AdapterServices.plan({ server, spec: { type: "ClusterIP" }, active, observed: [{ ...observed(), spec: untyped }] }),
      [],
      "no type is ClusterIP"
    )
  })

  it("keeps the nodePort of the adapter's own port when the Service had several", () => {
    const changes = AdapterServices.plan({
      server,
      spec: { type: "NodePort" },
      active,
      observed: [observed({
        ports: [
          { name: "extra", port: 111, targetPort: 111, protocol: "TCP", nodePort: 30002 },
          { name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }
        ]
      })]
    })
    assert.deepStrictEqual(changes.map((c) => c.object.spec.ports), [[{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }]])
  })

  it("repairs a targetPort someone changed, by number or by name", () => {
    for (const targetPort of [2049, "adapter-nfs"]) {
      const changes = AdapterServices.plan({
        server,
        spec: { type: "NodePort" },
        active,
        observed: [observed({ ports: [{ name: "adapter-nfs", port: 12049, targetPort, protocol: "TCP", nodePort: 30001 }] })]
      })
      assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.spec.ports]), [
        ["Update", [{ name: "adapter-nfs", port: 12049, targetPort: 12049, protocol: "TCP", nodePort: 30001 }]]
      ])
    }
  })

  it("repairs a managed annotation someone changed or removed, and nothing else", () => {
    const spec = { type: "NodePort" as const, annotations: { "lb.example.com/pool": "nas" } }
    const inSync = { "lb.example.com/pool": "nas", "dittofs.io/managed-annotations": "lb.example.com/pool", "third.party/x": "1" }
    const withAnnotations = (annotations: Record<string, string>) => {
      const service = observed()
      return deepFreeze({ ...service, metadata: { ...service.metadata, annotations } })
    }
    assert.deepStrictEqual(AdapterServices.plan({ server, spec, active, observed: [withAnnotations(inSync)] }), [])
    for (const drifted of [{ ...inSync, "lb.example.com/pool": "other" }, { "third.party/x": "1" }]) {
      const changes = AdapterServices.plan({ server, spec, active, observed: [withAnnotations(drifted)] })
      assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.metadata.annotations, c.object.spec]), [
        ["Update", inSync, withAnnotations(inSync).spec]
      ])
    }
  })

  it("restores its labels, keeping everyone else's (the controller watches its Services by them)", () => {
    const service = observed()
    const relabelled = deepFreeze({ ...service, metadata: { ...service.metadata, labels: { ...labels("nfs"), app: "renamed", team: "storage" } } })
    const changes = AdapterServices.plan({ server, spec: { type: "NodePort" }, active, observed: [relabelled] })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.metadata.labels]), [["Update", { ...labels("nfs"), team: "storage" }]])
    const extra = deepFreeze({ ...service, metadata: { ...service.metadata, labels: { ...labels("nfs"), team: "storage" } } })
    assert.deepStrictEqual(AdapterServices.plan({ server, spec: { type: "NodePort" }, active, observed: [extra] }), [])
  })

  it("repairs a selector someone changed", () => {
    const changes = AdapterServices.plan({ server, spec: { type: "NodePort" }, active, observed: [observed({ selector: { app: "other" } })] })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.spec.selector]), [["Update", { app: "dittofs-server", instance: "ditto" }]])
  })

  it("deletes extra copies of one adapter, keeping the one with the desired name", () => {
    const changes = AdapterServices.plan({
      server,
      spec: { type: "NodePort" },
      active,
      observed: [observed({}, "old-nfs-name"), observed()]
    })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.metadata.name]), [["Delete", "old-nfs-name"]])
  })

  it("never touches Services it does not control", () => {
    const notOwned = { ...observed({}, "x", "smb"), metadata: { ...observed({}, "x", "smb").metadata, ownerReferences: [] } }
    const otherInstance = { ...observed({}, "y", "smb"), metadata: { ...observed({}, "y", "smb").metadata, labels: { ...labels("smb"), instance: "other" } } }
    assert.deepStrictEqual(AdapterServices.plan({ server, spec: { type: "NodePort" }, active: [], observed: [notOwned, otherInstance] }), [])
  })

  it("writes the tracking annotation on create", () => {
    const [change] = AdapterServices.plan({ server, spec: { type: "LoadBalancer", annotations: { z: "1", a: "2" } }, active, observed: [] })
    assert.deepStrictEqual(change?.object.metadata.annotations, { a: "2", z: "1", "dittofs.io/managed-annotations": "a,z" })
  })
})

describe("the plans' changes", () => {
  it("come in the adapters' order, then the deletes by name, each with an Event that says what and why", () => {
    const two = ActiveAdapters.select([
      { type: "smb", enabled: true, running: true, port: 12445 },
      { type: "nfs", enabled: true, running: true, port: 12049 }
    ], { reservedPorts: [] }).active
    const portless = { ...observed({}, "ditto-adapter-smb", "smb"), spec: { type: "NodePort" as const, selector: { app: "dittofs-server", instance: "ditto" } } }
    const changes = AdapterServices.plan({
      server,
      spec: { type: "NodePort" },
      active: two,
      observed: [observed({}, "z-stale", "webdav"), observed({}, "a-stale", "s3"), portless]
    })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.metadata.name, c.event.reason, c.event.message]), [
      ["Create", "ditto-adapter-nfs", "AdapterServiceCreated", "Created NodePort Service ditto-adapter-nfs for adapter nfs (port 12049)"],
      ["Update", "ditto-adapter-smb", "AdapterServiceUpdated", "Updated Service ditto-adapter-smb for adapter smb (port none -> 12445)"],
      ["Delete", "a-stale", "AdapterServiceDeleted", "Deleted Service a-stale for adapter s3"],
      ["Delete", "z-stale", "AdapterServiceDeleted", "Deleted Service z-stale for adapter webdav"]
    ])
    assert.isTrue(changes.every((c) => c.event.type === "Normal"))
  })

  it("say the same for NetworkPolicies", () => {
    const policy = (name: string, type: string, ingress?: ReadonlyArray<K8s.NetworkPolicyIngressRule>): K8s.NetworkPolicy => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        name,
        namespace: "storage",
        labels: { app: "dittofs-server", instance: "ditto", "dittofs.io/adapter-networkpolicy": "true", "dittofs.io/adapter-type": type },
        ownerReferences: owner
      },
      spec: { podSelector: { matchLabels: { app: "dittofs-server", instance: "ditto" } }, policyTypes: ["Ingress"], ...(ingress === undefined ? {} : { ingress }) }
    })
    const changes = NetworkPolicies.plan({
      server,
      active,
      observed: deepFreeze([policy("ditto-adapter-nfs", "nfs"), policy("old", "smb", [{ ports: [{ port: 2049 }] }])])
    })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.event.reason, c.event.message]), [
      ["Update", "AdapterNetworkPolicyUpdated", "Updated NetworkPolicy ditto-adapter-nfs for adapter nfs (port none -> 12049)"],
      ["Delete", "AdapterNetworkPolicyDeleted", "Deleted NetworkPolicy old for adapter smb"]
    ])
    const moved = NetworkPolicies.plan({ server, active, observed: [policy("ditto-adapter-nfs", "nfs", [{ ports: [{ port: 2049 }] }])] })
    assert.strictEqual(moved[0]?.event.message, "Updated NetworkPolicy ditto-adapter-nfs for adapter nfs (port 2049 -> 12049)")
  })
})

/** The nfs adapter's NetworkPolicy as the operator writes it, with parts of its spec replaced. */
const nfsPolicy = (spec: Partial<K8s.NetworkPolicy["spec"]> = {}): K8s.NetworkPolicy => deepFreeze({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name: "ditto-adapter-nfs",
    namespace: "storage",
    labels: { app: "dittofs-server", instance: "ditto", "dittofs.io/adapter-networkpolicy": "true", "dittofs.io/adapter-type": "nfs" },
    ownerReferences: owner
  },
  spec: {
    podSelector: { matchLabels: { app: "dittofs-server", instance: "ditto" } },
    policyTypes: ["Ingress"],
    ingress: [{ ports: [{ protocol: "TCP", port: 12049 }] }],
    ...spec
  }
})

describe("NetworkPolicies.plan", () => {
  it("creates one ingress-only policy per adapter on its port", () => {
    const [change] = NetworkPolicies.plan({ server, active, observed: [] })
    assert.strictEqual(change?._tag, "Create")
    assert.deepStrictEqual(change?.object.spec, {
      podSelector: { matchLabels: { app: "dittofs-server", instance: "ditto" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 12049 }] }]
    })
    assert.strictEqual(change?.event.message, "Created NetworkPolicy ditto-adapter-nfs for adapter nfs (port 12049)")
  })

  it("repairs a widened policy and deletes the policy of a stopped adapter", () => {
    const policy = (name: string, type: string, port: number, from?: Array<unknown>): K8s.NetworkPolicy => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        name,
        namespace: "storage",
        labels: { app: "dittofs-server", instance: "ditto", "dittofs.io/adapter-networkpolicy": "true", "dittofs.io/adapter-type": type },
        ownerReferences: owner
      },
      spec: {
        podSelector: { matchLabels: { app: "dittofs-server", instance: "ditto" } },
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ protocol: "TCP", port }], ...(from === undefined ? {} : { from }) }]
      }
    })
    const changes = NetworkPolicies.plan({
      server,
      active,
      observed: deepFreeze([policy("ditto-adapter-nfs", "nfs", 12049, [{ ipBlock: { cidr: "0.0.0.0/0" } }]), policy("ditto-adapter-smb", "smb", 12445)])
    })
    assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.metadata.name]), [["Update", "ditto-adapter-nfs"], ["Delete", "ditto-adapter-smb"]])
    assert.deepStrictEqual(changes[0]?.object.spec.ingress, [{ ports: [{ protocol: "TCP", port: 12049 }] }])
  })

  it("repairs a policy that admits another port, or a port range, and keeps one in sync", () => {
    const policy = (ports: ReadonlyArray<K8s.NetworkPolicyPort>) => nfsPolicy({ ingress: [{ ports }] })
    assert.deepStrictEqual(NetworkPolicies.plan({ server, active, observed: [policy([{ port: 12049 }])] }), [], "missing protocol = TCP")
    const unlabelled = policy([{ port: 12049 }])
    const { app: _app, ...withoutApp } = unlabelled.metadata.labels ?? {}
    const [restored] = NetworkPolicies.plan({ server, active, observed: [{ ...unlabelled, metadata: { ...unlabelled.metadata, labels: withoutApp } }] })
    assert.deepStrictEqual(restored?.object.metadata.labels, unlabelled.metadata.labels, "its app label restored")
    for (const ports of [[{ protocol: "TCP" as const, port: 2049 }], [{ protocol: "UDP" as const, port: 12049 }], [{ port: 12049, endPort: 12050 }]]) {
      const changes = NetworkPolicies.plan({ server, active, observed: [policy(ports)] })
      assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.spec.ingress]), [["Update", [{ ports: [{ protocol: "TCP", port: 12049 }] }]]])
    }
  })

  it("repairs ingress that admits more or less than the adapter's port: every port, a second port, a second rule, no rule", () => {
    const adapterPort = { protocol: "TCP" as const, port: 12049 }
    const ssh = { protocol: "TCP" as const, port: 22 }
    const policy = (ingress: ReadonlyArray<K8s.NetworkPolicyIngressRule>) => nfsPolicy({ ingress })
    const widenedOrNarrowed: ReadonlyArray<ReadonlyArray<K8s.NetworkPolicyIngressRule>> = [
      [{}],
      [{ ports: [] }],
      [{ ports: [adapterPort, ssh] }],
      [{ ports: [adapterPort] }, { ports: [ssh] }],
      []
    ]
    for (const ingress of widenedOrNarrowed) {
      const changes = NetworkPolicies.plan({ server, active, observed: [policy(ingress)] })
      assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.spec.ingress]), [["Update", [{ ports: [adapterPort] }]]], JSON.stringify(ingress))
    }
    assert.deepStrictEqual(NetworkPolicies.plan({ server, active, observed: [policy([{ ports: [adapterPort], from: [] }])] }), [], "an empty from admits every source, as a missing one")
  })

  it("repairs a policy that selects pods by more than the server's labels, or whose types are not exactly Ingress", () => {
    const inSync = nfsPolicy()
    assert.deepStrictEqual(NetworkPolicies.plan({ server, active, observed: [inSync] }), [])
    const drifted: ReadonlyArray<K8s.NetworkPolicy["spec"]> = [
      { ...inSync.spec, podSelector: { ...inSync.spec.podSelector, matchExpressions: [{ key: "tier", operator: "Exists" }] } },
      { ...inSync.spec, policyTypes: ["Ingress", "Egress"] },
      { ...inSync.spec, policyTypes: ["Egress"] }
    ]
    for (const spec of drifted) {
      const changes = NetworkPolicies.plan({ server, active, observed: [deepFreeze({ ...inSync, spec })] })
      assert.deepStrictEqual(changes.map((c) => [c._tag, c.object.spec]), [["Update", inSync.spec]], JSON.stringify(spec))
    }
  })
})
