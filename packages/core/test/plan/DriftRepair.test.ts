/**
 * The drift-repair law: whatever someone did to the adapter Services, NetworkPolicies and
 * container ports the operator owns, one plan applied to them gives exactly the objects a
 * specification written here computes from the spec and the adapter list — and leaves every
 * object the operator does not control as it was.
 *
 * The specification is deliberately naive and independent of the planners: it restates the rules
 * of the README (which adapters are exposed, what their objects look like, which fields of an
 * object the operator owns) in the most direct way, and reuses only the naming rules, which have
 * reference vectors of their own. Values are compared modulo the defaults Kubernetes applies
 * (missing protocol = TCP, missing targetPort = port, missing Service type = ClusterIP, missing
 * map = empty map), because an object the plan leaves alone keeps its own spelling.
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Option, Result, Schema } from "effect"
import { type Adapter, AdapterExposure, type Change, DittoServer, K8s, Naming } from "../../src/index.ts"
import { labelValue } from "../../src/plan/Naming.ts"
import { AdapterListOf, deepFreeze, pick } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" } as const
const baseSpec = Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" } })
const runs = { arbitrary: { runs: 400 } }

// ---------------------------------------------------------------------------------------------
// The specification
// ---------------------------------------------------------------------------------------------

const trackingKey = "dittofs.io/managed-annotations"
const selector = { app: "dittofs-server", instance: "ditto" }
const controllerRef = {
  apiVersion: "dittofs.dittofs.com/v1alpha1",
  kind: "DittoServer",
  name: "ditto",
  uid: "uid-ditto",
  controller: true,
  blockOwnerDeletion: true
}

interface Exposed {
  readonly type: string
  readonly key: string
  readonly name: string
  readonly port: number
  readonly portName: string
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The adapters to expose: enabled and running; in the order (sanitized type, type, port, id) the
 * first one takes its type, port and port name, and nothing takes a reserved port.
 */
const specExposed = (adapters: ReadonlyArray<Adapter.Adapter>, reserved: ReadonlySet<number>): ReadonlyArray<Exposed> => {
  const candidates = adapters
    .filter((adapter) => adapter.enabled && adapter.running)
    .map((adapter) => ({ adapter, sanitized: Naming.sanitizeAdapterType(adapter.type), portName: Naming.adapterPortName(adapter.type) }))
    .sort((a, b) =>
      byCodeUnits(a.sanitized, b.sanitized) || byCodeUnits(a.adapter.type, b.adapter.type)
      || a.adapter.port - b.adapter.port || byCodeUnits(a.adapter.id ?? "", b.adapter.id ?? "")
    )
  const kept: Array<(typeof candidates)[number]> = []
  for (const candidate of candidates) {
    const taken = kept.some((k) =>
      k.sanitized === candidate.sanitized || k.adapter.port === candidate.adapter.port || k.portName === candidate.portName
    )
    if (!taken && !reserved.has(candidate.adapter.port)) kept.push(candidate)
  }
  return kept.map(({ adapter, portName, sanitized }) => ({
    type: adapter.type,
    key: labelValue(sanitized),
    name: Naming.adapterResourceName(server.name, adapter.type),
    port: adapter.port,
    portName
  }))
}

/** Ours: the marker label, our instance label, and us as controller owner. */
const controlledBy = (meta: K8s.ObjectMeta, marker: string): boolean =>
  meta.labels?.[marker] === "true" && meta.labels["instance"] === "ditto"
  && (meta.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === "uid-ditto")

/** Foreign annotations kept, keys we tracked and no longer want dropped, ours set, the tracking key rewritten. */
const specAnnotations = (current: K8s.StringMap | undefined, desired: K8s.StringMap): K8s.StringMap => {
  const wanted = Object.keys(desired).filter((key) => key !== trackingKey).sort(byCodeUnits)
  const tracked = (current?.[trackingKey] ?? "").split(",").filter((key) => key !== "")
  const result: Record<string, string> = { ...current }
  for (const key of tracked) if (!wanted.includes(key)) delete result[key]
  for (const key of wanted) result[key] = desired[key] ?? ""
  if (wanted.length > 0) result[trackingKey] = wanted.join(",")
  else delete result[trackingKey]
  return result
}

/** One object per exposed adapter: the observed one with the desired name (else the first by name) repaired, or a new one. */
const survivorOf = <A extends { readonly metadata: K8s.ObjectMeta }>(ours: ReadonlyArray<A>, exposed: Exposed): A | undefined => {
  const candidates = ours.filter((object) => object.metadata.labels?.["dittofs.io/adapter-type"] === exposed.key)
  return candidates.find((object) => object.metadata.name === exposed.name)
    ?? [...candidates].sort((a, b) => byCodeUnits(a.metadata.name, b.metadata.name))[0]
}

const specServices = (
  spec: DittoServer.AdapterServicesSpec,
  exposed: ReadonlyArray<Exposed>,
  observed: ReadonlyArray<K8s.Service>
): ReadonlyArray<K8s.Service> => {
  const ours = observed.filter((service) => controlledBy(service.metadata, "dittofs.io/adapter-service"))
  const foreign = observed.filter((service) => !ours.includes(service))
  const desiredAnnotations = spec.annotations ?? {}
  const labels = (e: Exposed) => ({ ...selector, "dittofs.io/adapter-service": "true", "dittofs.io/adapter-type": e.key })
  const port = (e: Exposed) => ({ name: e.portName, port: e.port, targetPort: e.port, protocol: "TCP" as const })
  return [
    ...foreign,
    ...exposed.map((e): K8s.Service => {
      const survivor = survivorOf(ours, e)
      if (survivor === undefined) {
        return {
          apiVersion: "v1",
          kind: "Service",
          metadata: {
            name: e.name,
            namespace: "storage",
            labels: labels(e),
            annotations: specAnnotations(undefined, desiredAnnotations),
            ownerReferences: [controllerRef]
          },
          spec: { type: spec.type, selector, ports: [port(e)] }
        }
      }
      const ports = survivor.spec.ports ?? []
      const previous = ports.find((p) => p.name === e.portName) ?? (ports.length === 1 ? ports[0] : undefined)
      const nodePort = spec.type === "ClusterIP" ? undefined : previous?.nodePort
      return {
        ...survivor,
        metadata: {
          ...survivor.metadata,
          labels: { ...survivor.metadata.labels, ...labels(e) },
          annotations: specAnnotations(survivor.metadata.annotations, desiredAnnotations)
        },
        spec: {
          ...survivor.spec,
          type: spec.type,
          selector,
          ports: [nodePort === undefined ? port(e) : { ...port(e), nodePort }]
        }
      }
    })
  ]
}

const specPolicies = (exposed: ReadonlyArray<Exposed>, observed: ReadonlyArray<K8s.NetworkPolicy>): ReadonlyArray<K8s.NetworkPolicy> => {
  const ours = observed.filter((policy) => controlledBy(policy.metadata, "dittofs.io/adapter-networkpolicy"))
  const foreign = observed.filter((policy) => !ours.includes(policy))
  const labels = (e: Exposed) => ({ ...selector, "dittofs.io/adapter-networkpolicy": "true", "dittofs.io/adapter-type": e.key })
  const spec = (e: Exposed) => ({
    podSelector: { matchLabels: selector },
    policyTypes: ["Ingress" as const],
    ingress: [{ ports: [{ protocol: "TCP" as const, port: e.port }] }]
  })
  return [
    ...foreign,
    ...exposed.map((e): K8s.NetworkPolicy => {
      const survivor = survivorOf(ours, e)
      return survivor === undefined
        ? {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: e.name, namespace: "storage", labels: labels(e), ownerReferences: [controllerRef] },
          spec: spec(e)
        }
        : {
          ...survivor,
          metadata: { ...survivor.metadata, labels: { ...survivor.metadata.labels, ...labels(e) } },
          spec: { ...survivor.spec, ...spec(e) }
        }
    })
  ]
}

const isAdapterPort = (port: K8s.ContainerPort) => (port.name ?? "").startsWith("adapter-")

/** The static ports as observed, and one `adapter-<type>` TCP port per exposed adapter. */
const specContainerPorts = (observed: ReadonlyArray<K8s.ContainerPort>, exposed: ReadonlyArray<Exposed>) => [
  ...observed.filter((port) => !isAdapterPort(port)),
  ...exposed.map((e) => ({ name: e.portName, containerPort: e.port, protocol: "TCP" as const }))
]

// ---------------------------------------------------------------------------------------------
// Applying a plan, and comparing modulo Kubernetes' defaults
// ---------------------------------------------------------------------------------------------

/** What the API server does with a plan: creates (unless the name is taken), updates, deletes. */
const applyTo = <A extends { readonly metadata: K8s.ObjectMeta }>(objects: ReadonlyArray<A>, plan: Change.Plan<A>): ReadonlyArray<A> => {
  const byName = new Map(objects.map((object) => [object.metadata.name, object]))
  for (const change of plan) {
    const name = change.object.metadata.name
    const current = byName.get(name)
    switch (change._tag) {
      case "Create":
        if (current === undefined) byName.set(name, change.object)
        break
      case "Update":
        assert.isDefined(current, `update of ${name}, which does not exist`)
        assert.strictEqual(change.object.metadata.uid, current?.metadata.uid, "an update keeps the uid")
        assert.strictEqual(change.object.metadata.resourceVersion, current?.metadata.resourceVersion, "and writes over the version it read")
        byName.set(name, change.object)
        break
      case "Delete":
        assert.strictEqual(change.object.metadata.uid, current?.metadata.uid, "a delete names the object it read")
        byName.delete(name)
        break
    }
  }
  return [...byName.values()]
}

const orEmpty = (map: K8s.StringMap | undefined) => map ?? {}

const normalService = (service: K8s.Service) => ({
  ...service,
  metadata: { ...service.metadata, labels: orEmpty(service.metadata.labels), annotations: orEmpty(service.metadata.annotations) },
  spec: {
    ...service.spec,
    type: service.spec.type ?? "ClusterIP",
    ports: (service.spec.ports ?? []).map((port) => ({ ...port, protocol: port.protocol ?? "TCP", targetPort: port.targetPort ?? port.port }))
  }
})

const normalPolicy = (policy: K8s.NetworkPolicy) => ({
  ...policy,
  metadata: { ...policy.metadata, labels: orEmpty(policy.metadata.labels) },
  spec: {
    ...policy.spec,
    ingress: (policy.spec.ingress ?? []).map(({ from, ...rule }) => ({
      ...rule,
      ...(from === undefined || from.length === 0 ? {} : { from }),
      ports: (rule.ports ?? []).map((port) => ({ ...port, protocol: port.protocol ?? "TCP" }))
    }))
  }
})

const normalPorts = (ports: ReadonlyArray<K8s.ContainerPort>) =>
  ports.map((port) => JSON.stringify([port.name ?? "", port.containerPort, port.protocol ?? "TCP", port.hostPort ?? 0, port.hostIP ?? ""])).sort()

const byName = <A extends { readonly metadata: { readonly name: string } }>(objects: ReadonlyArray<A>) =>
  [...objects].sort((a, b) => byCodeUnits(a.metadata.name, b.metadata.name))

// ---------------------------------------------------------------------------------------------
// Observed objects, drifted in every field the operator owns
// ---------------------------------------------------------------------------------------------

// Each choice shrinks towards its first value: an object in the desired state, ours. A failure
// then shrinks to the one drift that matters.
const index = pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
const maybe = <const A>(values: readonly [A, ...ReadonlyArray<A>]) => pick<A | undefined>([undefined, ...values])

const meta = {
  /** Which adapter of the list the object is for (past the end: one that no longer exists). */
  of: index,
  /** The desired name, or another one (an extra copy, a renamed object). */
  named: pick(["desired", "desired", "other"]),
  ownership: pick(["ours", "ours", "ours", "no-marker", "other-instance", "other-owner", "not-controller", "no-owner"]),
  appLabel: pick(["same", "missing", "other"]),
  extraLabel: pick([false, true])
}

const ServiceDrift = Arbitrary.all({
  ...meta,
  type: maybe(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
  annotations: Arbitrary.schema(Schema.UndefinedOr(Schema.Record(
    Schema.Literals(["a", "b", "lb.example.com/pool", "third.party/x", "old", trackingKey]),
    Schema.Literals(["1", "2", "a", "a,b", "old,a", "lb.example.com/pool"])
  ))),
  ports: pick(["one", "none", "absent", "two"]),
  port: pick(["same", "other"]),
  portName: pick(["same", "other", "missing"]),
  targetPort: pick(["same", "missing", "other", "named"]),
  protocol: pick(["TCP", "missing", "UDP"]),
  nodePort: maybe([30001, 30002]),
  selector: pick(["same", "missing", "other", "extra"]),
  clusterIP: maybe(["10.0.0.7", "None"])
})
type ServiceDrift = typeof ServiceDrift extends Arbitrary.Arbitrary<infer A> ? A : never

const PolicyDrift = Arbitrary.all({
  ...meta,
  podSelector: pick(["same", "empty", "other", "extra", "expressions"]),
  policyTypes: pick(["same", "missing", "with-egress", "egress"]),
  ingress: pick(["same", "missing", "none", "other-port", "udp", "no-protocol", "from", "empty-from", "two-rules", "end-port", "no-ports", "named-port"]),
  egress: pick([false, true])
})
type PolicyDrift = typeof PolicyDrift extends Arbitrary.Arbitrary<infer A> ? A : never

const StatefulSetDrift = Arbitrary.all({
  extraStatic: maybe([2049, 445, 12049]),
  adapterPorts: Arbitrary.array(Arbitrary.all({ of: index, port: pick(["same", "other"]), protocol: pick(["TCP", "missing", "UDP"]) })),
  reversed: pick([false, true])
})
type StatefulSetDrift = typeof StatefulSetDrift extends Arbitrary.Arbitrary<infer A> ? A : never

const AnnotationsSpec = Arbitrary.schema(Schema.UndefinedOr(Schema.Record(Schema.Literals(["a", "b", "lb.example.com/pool"]), Schema.Literals(["1", "2"]))))

/** The adapter an observed object is for: one of the list, or a retired one. */
const adapterOf = (adapters: ReadonlyArray<Adapter.Adapter>, of: number): Adapter.Adapter =>
  adapters[of] ?? { type: `retired-${of}`, port: 20000 + of, enabled: true, running: true }

const metaOf = (
  drift: ServiceDrift | PolicyDrift,
  adapter: Adapter.Adapter,
  index: number,
  marker: string
): K8s.ObjectMeta => {
  const sanitized = Naming.sanitizeAdapterType(adapter.type)
  const ours = { ...controllerRef }
  const ownerReferences = {
    ours: [ours],
    "no-marker": [ours],
    "other-instance": [ours],
    "other-owner": [{ ...ours, uid: "uid-other" }],
    "not-controller": [{ ...ours, controller: false }],
    "no-owner": []
  }[drift.ownership]
  const app = { same: { app: "dittofs-server" }, missing: {}, other: { app: "something-else" } }[drift.appLabel]
  return {
    // only an object of ours has a desired name here: a foreign one holding it is the ownership law's case
    name: drift.named === "other" ? `renamed-${index}` : drift.ownership === "ours" ? Naming.adapterResourceName(server.name, adapter.type) : `lookalike-${index}`,
    namespace: "storage",
    uid: `uid-${marker}-${index}`,
    resourceVersion: String(100 + index),
    labels: {
      ...app,
      instance: drift.ownership === "other-instance" ? "other" : "ditto",
      ...(drift.ownership === "no-marker" ? {} : { [marker]: "true" }),
      "dittofs.io/adapter-type": labelValue(sanitized),
      ...(drift.extraLabel ? { "team.example.com/owner": "storage" } : {})
    },
    ownerReferences
  }
}

const observedService = (drift: ServiceDrift, adapters: ReadonlyArray<Adapter.Adapter>, index: number): K8s.Service => {
  const adapter = adapterOf(adapters, drift.of)
  const port = drift.port === "same" ? adapter.port : adapter.port === 1 ? 2 : adapter.port - 1
  const servicePort: K8s.ServicePort = {
    ...(drift.portName === "missing" ? {} : { name: drift.portName === "same" ? Naming.adapterPortName(adapter.type) : "renamed" }),
    port,
    ...({ missing: {}, same: { targetPort: port }, other: { targetPort: port + 1 }, named: { targetPort: "adapter" } }[drift.targetPort]),
    ...(drift.protocol === "missing" ? {} : { protocol: drift.protocol }),
    // Kubernetes keeps a nodePort only on NodePort and LoadBalancer Services
    ...(drift.nodePort !== undefined && (drift.type === "NodePort" || drift.type === "LoadBalancer") ? { nodePort: drift.nodePort } : {})
  }
  const ports = {
    one: { ports: [servicePort] },
    none: { ports: [] },
    absent: {},
    two: { ports: [servicePort, { name: "metrics", port: 9100 }] }
  }[drift.ports]
  const selectorDrift = {
    same: { selector },
    missing: {},
    other: { selector: { app: "dittofs-server", instance: "other" } },
    extra: { selector: { ...selector, tier: "storage" } }
  }[drift.selector]
  const meta = metaOf(drift, adapter, index, "dittofs.io/adapter-service")
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { ...meta, ...(drift.annotations === undefined ? {} : { annotations: drift.annotations }) },
    spec: {
      ...(drift.type === undefined ? {} : { type: drift.type }),
      ...selectorDrift,
      ...ports,
      ...(drift.clusterIP === undefined ? {} : { clusterIP: drift.clusterIP })
    }
  }
}

const observedPolicy = (drift: PolicyDrift, adapters: ReadonlyArray<Adapter.Adapter>, index: number): K8s.NetworkPolicy => {
  const adapter = adapterOf(adapters, drift.of)
  const tcp = { protocol: "TCP" as const, port: adapter.port }
  const ingress = {
    same: { ingress: [{ ports: [tcp] }] },
    missing: {},
    none: { ingress: [] },
    "other-port": { ingress: [{ ports: [{ ...tcp, port: adapter.port + 1 }] }] },
    udp: { ingress: [{ ports: [{ ...tcp, protocol: "UDP" as const }] }] },
    "no-protocol": { ingress: [{ ports: [{ port: adapter.port }] }] },
    from: { ingress: [{ ports: [tcp], from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] },
    "empty-from": { ingress: [{ ports: [tcp], from: [] }] },
    "two-rules": { ingress: [{ ports: [tcp] }, { ports: [{ ...tcp, port: 22 }] }] },
    "end-port": { ingress: [{ ports: [{ ...tcp, endPort: adapter.port + 10 }] }] },
    "no-ports": { ingress: [{}] },
    "named-port": { ingress: [{ ports: [{ protocol: "TCP" as const, port: Naming.adapterPortName(adapter.type) }] }] }
  }[drift.ingress]
  const podSelector = {
    same: { matchLabels: selector },
    empty: {},
    other: { matchLabels: { app: "dittofs-server" } },
    extra: { matchLabels: { ...selector, tier: "storage" } },
    expressions: { matchLabels: selector, matchExpressions: [{ key: "tier", operator: "Exists" }] }
  }[drift.podSelector]
  const policyTypes = {
    same: { policyTypes: ["Ingress" as const] },
    missing: {},
    "with-egress": { policyTypes: ["Ingress" as const, "Egress" as const] },
    egress: { policyTypes: ["Egress" as const] }
  }[drift.policyTypes]
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: metaOf(drift, adapter, index, "dittofs.io/adapter-networkpolicy"),
    spec: { podSelector, ...policyTypes, ...ingress, ...(drift.egress ? { egress: [{ to: [{ podSelector: {} }] }] } : {}) }
  }
}

const observedStatefulSet = (drift: StatefulSetDrift, adapters: ReadonlyArray<Adapter.Adapter>): K8s.StatefulSet => {
  const statics: ReadonlyArray<K8s.ContainerPort> = [
    { name: "api", containerPort: 8080, protocol: "TCP" },
    { name: "metrics", containerPort: 9090 },
    ...(drift.extraStatic === undefined ? [] : [{ name: "legacy", containerPort: drift.extraStatic }])
  ]
  const dynamic = drift.adapterPorts.map(({ of, port, protocol }): K8s.ContainerPort => {
    const adapter = adapterOf(adapters, of)
    return {
      name: Naming.adapterPortName(adapter.type),
      containerPort: port === "same" ? adapter.port : adapter.port + 1,
      ...(protocol === "missing" ? {} : { protocol })
    }
  })
  const ports = drift.reversed ? [...dynamic, ...statics].reverse() : [...statics, ...dynamic]
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "ditto", namespace: "storage", uid: "uid-sts", resourceVersion: "7", ownerReferences: [controllerRef] },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: { containers: [{ name: "sidecar", ports: [{ name: "http", containerPort: 80 }] }, { name: "dittofs", image: "dittofs", ports }] }
      }
    }
  }
}

/** A namespace holds one object of a kind per name: the first generated one wins. */
const uniqueNames = <A extends { readonly metadata: { readonly name: string } }>(objects: ReadonlyArray<A>): ReadonlyArray<A> =>
  objects.filter((object, index) => objects.findIndex((other) => other.metadata.name === object.metadata.name) === index)

// ---------------------------------------------------------------------------------------------
// The law
// ---------------------------------------------------------------------------------------------

describe("drift repair", () => {
  it.prop(
    "one plan, applied, gives what the specification computes from the spec and the adapters; foreign objects stay as they were",
    {
      adapters: AdapterListOf,
      type: K8s.ServiceType,
      annotations: AnnotationsSpec,
      services: Arbitrary.array(ServiceDrift),
      policies: Arbitrary.array(PolicyDrift),
      statefulSet: StatefulSetDrift
    },
    ({ adapters, annotations, policies, services, statefulSet, type }) => {
      const adapterServices = { type, ...annotations === undefined ? {} : { annotations } }
      const observed = deepFreeze({
        services: uniqueNames(services.map((drift, i) => observedService(drift, adapters, i))),
        networkPolicies: uniqueNames(policies.map((drift, i) => observedPolicy(drift, adapters, i))),
        statefulSet: observedStatefulSet(statefulSet, adapters)
      })
      const containerPorts = observed.statefulSet.spec.template.spec.containers[1]?.ports ?? []
      const reserved = new Set([8080, 9090, ...containerPorts.filter((port) => !isAdapterPort(port)).map((port) => port.containerPort)])
      const exposed = specExposed(adapters, reserved)

      const plan = AdapterExposure.plan({
        server,
        spec: { ...baseSpec, adapterServices },
        poll: Result.succeed({ adapters: deepFreeze(adapters), rejected: [] }),
        observed: { ...observed, statefulSet: Option.some(observed.statefulSet) }
      })

      assert.deepStrictEqual(
        byName(applyTo(observed.services, plan.services)).map(normalService),
        byName(specServices({ ...adapterServices }, exposed, observed.services)).map(normalService)
      )
      assert.deepStrictEqual(
        byName(applyTo(observed.networkPolicies, plan.networkPolicies)).map(normalPolicy),
        byName(specPolicies(exposed, observed.networkPolicies)).map(normalPolicy)
      )
      // the StatefulSet: only the DittoFS container's ports change, static ones keep their order
      const written = Option.match(plan.statefulSet, { onNone: () => observed.statefulSet, onSome: (change: Change.Change<K8s.StatefulSet>) => change.object })
      const { containers } = written.spec.template.spec
      assert.deepStrictEqual(containers[0], observed.statefulSet.spec.template.spec.containers[0])
      const ports = containers[1]?.ports ?? []
      assert.deepStrictEqual(normalPorts(ports), normalPorts(specContainerPorts(containerPorts, exposed)))
      assert.deepStrictEqual(ports.filter((port) => !isAdapterPort(port)), containerPorts.filter((port) => !isAdapterPort(port)))
      const withoutPorts = (sts: K8s.StatefulSet) => ({
        ...sts,
        spec: { ...sts.spec, template: { ...sts.spec.template, spec: { containers: sts.spec.template.spec.containers.map(({ ports: _ports, ...container }) => container) } } }
      })
      assert.deepStrictEqual(withoutPorts(written), withoutPorts(observed.statefulSet))
      // nothing is written that is already right
      if (Option.isSome(plan.statefulSet)) assert.notDeepEqual(normalPorts(ports), normalPorts(containerPorts))
    },
    runs
  )
})
