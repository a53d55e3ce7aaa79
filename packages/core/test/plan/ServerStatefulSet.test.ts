import { assert, describe, it } from "@effect/vitest"
import { Option, Schema } from "effect"
import { DittoServer, type K8s, Naming, ServerStatefulSet } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

describe("resourcesEquivalent", () => {
  it("compares quantities by value and counts a missing request as its limit (API-server defaulting)", () => {
    assert.isTrue(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "0.5", memory: "1024Mi" } }, { limits: { cpu: "500m", memory: "1Gi" } }))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent(
      { limits: { cpu: "1" }, requests: { cpu: "1" } },
      { limits: { cpu: "1" } }
    ))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "1" } }, { limits: { cpu: "2" } }))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ requests: { cpu: "1" } }, {}))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent({}, {}))
  })

  it("tells apart a missing quantity, anything besides limits and requests, and no resources at all", () => {
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "1" } }, { limits: { cpu: "1", memory: "1Gi" } }))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "1", memory: "1Gi" } }, { limits: { cpu: "1" } }))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "1" }, claims: [{ name: "gpu" }] }, { limits: { cpu: "1" } }))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({}, undefined))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent(undefined, {}))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent(undefined, undefined))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent(null, {}))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent(null, null))
  })
})

// ---------------------------------------------------------------------------------------------
// The overlay, field by field: each owned field drifted alone is repaired, everything else kept
// ---------------------------------------------------------------------------------------------

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const names = Naming.workloadNames("ditto")
const specOf = (fields: Record<string, unknown> = {}) => Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })
const nfsPort: K8s.ContainerPort = { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" }
const inputOf = (spec = specOf(), adapterPorts: Option.Option<ReadonlyArray<K8s.ContainerPort>> = Option.some([nfsPort])): ServerStatefulSet.Input => ({
  server,
  spec,
  names,
  configHash: "c".repeat(64),
  adapterPorts
})
/** The StatefulSet as the API server stores it once made from `input`. */
const stored = (input = inputOf()): K8s.StatefulSet => {
  const made = ServerStatefulSet.desired(input)
  return deepFreeze({ ...made, metadata: { ...made.metadata, uid: "uid-sts", resourceVersion: "9", generation: 1 }, status: { replicas: 1, observedGeneration: 1 } })
}
type Template = K8s.StatefulSet["spec"]["template"]
const withTemplate = (sts: K8s.StatefulSet, change: (template: Template) => Template): K8s.StatefulSet =>
  deepFreeze({ ...sts, spec: { ...sts.spec, template: change(sts.spec.template) } })
const withServerContainer = (sts: K8s.StatefulSet, change: (container: K8s.Container) => K8s.Container): K8s.StatefulSet =>
  withTemplate(sts, (template) => ({ ...template, spec: { ...template.spec, containers: template.spec.containers.map(change) } }))
const overlaid = (observed: K8s.StatefulSet, input = inputOf()) => ServerStatefulSet.overlay(input, observed)

describe("ServerStatefulSet.overlay", () => {
  it("lays nothing new over the StatefulSet it made", () => {
    const sts = stored()
    const { object, blocked } = overlaid(sts)
    assert.deepStrictEqual(object, sts)
    assert.deepStrictEqual(blocked, [])
  })

  it("repairs replicas, update strategy, labels and the pod template's own settings drifted alone", () => {
    const sts = stored()
    const drifted = deepFreeze({
      ...sts,
      metadata: { ...sts.metadata, labels: { team: "storage" } },
      spec: { ...sts.spec, replicas: 3, updateStrategy: { type: "RollingUpdate" as const } }
    })
    const { object } = overlaid(drifted)
    assert.strictEqual(object.spec.replicas, 1)
    assert.deepStrictEqual(object.spec.updateStrategy, { type: "OnDelete" }, "the Managed rollout (the default)")
    assert.deepStrictEqual(object.metadata.labels, { team: "storage", app: "dittofs-server", instance: "ditto" })
    const template = withTemplate(sts, (t) => ({
      ...t,
      metadata: { labels: { team: "x" }, annotations: { "user/a": "1" } },
      spec: { ...t.spec, automountServiceAccountToken: true, terminationGracePeriodSeconds: 1, securityContext: { fsGroup: 1 } }
    }))
    const repaired = overlaid(template).object.spec.template
    assert.deepStrictEqual(repaired.metadata?.labels, { team: "x", app: "dittofs-server", instance: "ditto" })
    assert.deepStrictEqual(repaired.metadata?.annotations, { "user/a": "1", ...sts.spec.template.metadata?.annotations })
    assert.deepStrictEqual(
      [repaired.spec["automountServiceAccountToken"], repaired.spec["terminationGracePeriodSeconds"], repaired.spec["securityContext"]],
      [sts.spec.template.spec["automountServiceAccountToken"], sts.spec.template.spec["terminationGracePeriodSeconds"], sts.spec.template.spec["securityContext"]]
    )
  })

  it("keeps a rolling update's settings while the type is right, drops them for OnDelete", () => {
    const sts = stored()
    const partitioned = deepFreeze({ ...sts, spec: { ...sts.spec, updateStrategy: { type: "RollingUpdate" as const, rollingUpdate: { partition: 0 } } } })
    const rolling = inputOf(specOf({ rollout: { strategy: "RollingUpdate" } }))
    assert.deepStrictEqual(overlaid(partitioned, rolling).object.spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } })
    const managed = inputOf(specOf({ rollout: { strategy: "Managed" } }))
    assert.deepStrictEqual(overlaid(partitioned, managed).object.spec.updateStrategy, { type: "OnDelete" })
    const { updateStrategy: _u, ...unset } = sts.spec
    assert.deepStrictEqual(overlaid(deepFreeze({ ...sts, spec: unset }), rolling).object.spec.updateStrategy, { type: "RollingUpdate" })
    assert.deepStrictEqual(overlaid(deepFreeze({ ...sts, spec: unset }), managed).object.spec.updateStrategy, { type: "OnDelete" })
    // a strategy without a type is a rolling update: its settings are kept
    const untyped = deepFreeze({ ...sts, spec: { ...sts.spec, updateStrategy: { rollingUpdate: { partition: 1 } } } })
    assert.deepStrictEqual(overlaid(untyped, rolling).object.spec.updateStrategy, { rollingUpdate: { partition: 1 } })
  })

  it("creates a StatefulSet whose volumes outlive it and its scale-downs", () => {
    assert.deepStrictEqual(ServerStatefulSet.desired(inputOf()).spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" })
  })

  it("declares only adapter ports from the adapter ports it is given: a static port's name there is not the adapters'", () => {
    const apiLookalike: K8s.ContainerPort = { name: "api", containerPort: 9999, protocol: "TCP" }
    const input = inputOf(specOf(), Option.some([apiLookalike, nfsPort]))
    const ports = (sts: K8s.StatefulSet) => sts.spec.template.spec.containers[0]?.ports
    assert.deepStrictEqual(ports(ServerStatefulSet.desired(input)), ports(stored()))
    assert.deepStrictEqual(ports(overlaid(stored(), input).object), ports(stored()))
  })

  it("leaves resources the API server stored in its own notation as they are", () => {
    const input = inputOf(specOf({ resources: { limits: { cpu: "0.5", memory: "1024Mi" } } }))
    const normalized = withServerContainer(stored(input), (container) => ({ ...container, resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } } }))
    assert.deepStrictEqual(overlaid(normalized, input).object, normalized)
  })

  it("repairs the server container's owned fields and keeps a user's env, mounts, volumes, ports and sidecars", () => {
    const sts = stored()
    const userEnv = { name: "USER_VAR", value: "1" }
    const userMount = { name: "scratch", mountPath: "/scratch" }
    const userPort: K8s.ContainerPort = { name: "debug", containerPort: 6060, protocol: "TCP" }
    const sidecar: K8s.Container = { name: "sidecar", image: "busybox" }
    const drifted = withTemplate(
      withServerContainer(sts, (container) => ({
        ...container,
        image: "old",
        command: ["/bin/sh"],
        args: ["serve"],
        env: [...(container["env"] as ReadonlyArray<unknown> | undefined ?? []), userEnv],
        volumeMounts: [...(container["volumeMounts"] as ReadonlyArray<unknown> | undefined ?? []), userMount],
        ports: [...(container.ports ?? []), userPort],
        livenessProbe: { tcpSocket: { port: 1 } },
        resources: { limits: { cpu: "9" } }
      })),
      (template) => ({
        ...template,
        spec: { ...template.spec, containers: [sidecar, ...template.spec.containers], volumes: [...(template.spec["volumes"] as ReadonlyArray<unknown>), { name: "scratch", emptyDir: {} }] }
      })
    )
    const { object } = overlaid(drifted)
    const [keptSidecar, server] = object.spec.template.spec.containers
    const wanted = sts.spec.template.spec.containers[0]
    assert.deepStrictEqual(keptSidecar, sidecar)
    assert.strictEqual(server?.image, wanted?.image)
    assert.isFalse(server !== undefined && "command" in server, "the image's entrypoint")
    assert.deepStrictEqual(server?.["args"], wanted?.["args"])
    assert.deepStrictEqual(server?.["livenessProbe"], wanted?.["livenessProbe"])
    assert.deepStrictEqual(server?.["resources"], wanted?.["resources"])
    assert.deepStrictEqual((server?.["env"] as ReadonlyArray<unknown>).at(-1), userEnv)
    assert.deepStrictEqual((server?.["volumeMounts"] as ReadonlyArray<unknown>).at(-1), userMount)
    assert.deepStrictEqual(server?.ports, [...(wanted?.ports ?? []), userPort], "the same ports in another order are left as they were")
    assert.deepStrictEqual((object.spec.template.spec["volumes"] as ReadonlyArray<unknown>).at(-1), { name: "scratch", emptyDir: {} })
  })

  it("works on the first container when none is named dittofs, and adds one to a pod without containers", () => {
    const sts = stored()
    const renamed = withServerContainer(sts, (container) => ({ ...container, name: "server" }))
    assert.deepStrictEqual(overlaid(renamed).object.spec.template.spec.containers.map((c) => c.name), ["dittofs"])
    const empty = withTemplate(sts, (template) => ({ ...template, spec: { ...template.spec, containers: [] } }))
    assert.deepStrictEqual(overlaid(empty).object.spec.template.spec.containers, sts.spec.template.spec.containers)
  })

  it("keeps the observed adapter ports without a poll, and takes the polled ones with one", () => {
    const sts = stored()
    const smb: K8s.ContainerPort = { name: "adapter-smb", containerPort: 12445, protocol: "TCP" }
    const ports = (sts2: K8s.StatefulSet) => sts2.spec.template.spec.containers[0]?.ports?.map((p) => p.name)
    assert.deepStrictEqual(ports(overlaid(sts, inputOf(specOf(), Option.none())).object), ["api", "adapter-nfs"])
    assert.deepStrictEqual(ports(overlaid(sts, inputOf(specOf(), Option.some([smb, nfsPort]))).object), ["api", "adapter-nfs", "adapter-smb"])
    assert.deepStrictEqual(ports(overlaid(sts, inputOf(specOf(), Option.some([]))).object), ["api"])
  })
})

describe("ServerStatefulSet: what Kubernetes forbids to change", () => {
  it("reports a changed selector and serviceName, never writes them, and keeps the pods matching the real selector", () => {
    const sts = stored()
    const selector = { matchLabels: { app: "dittofs-server", instance: "ditto", tier: "files" } }
    const { object, blocked } = overlaid(deepFreeze({ ...sts, spec: { ...sts.spec, selector, serviceName: "other" } }))
    assert.deepStrictEqual(blocked.map((finding) => finding.message), [
      `selector is ${JSON.stringify(selector)}, not {"matchLabels":{"app":"dittofs-server","instance":"ditto"}}; it is immutable (recreate the StatefulSet to change it)`,
      "serviceName is other, not ditto-headless; it is immutable (recreate the StatefulSet to change it)"
    ])
    assert.deepStrictEqual([object.spec.selector, object.spec.serviceName], [selector, "other"])
    assert.strictEqual(object.spec.template.metadata?.labels?.["tier"], "files")
    const extraKey = deepFreeze({ ...sts, spec: { ...sts.spec, selector: { ...sts.spec.selector, matchExpressions: [] } } })
    assert.strictEqual(overlaid(extraKey).blocked.length, 1, "a selector with more than matchLabels")
    const { serviceName: _s, ...noServiceName } = sts.spec
    assert.match(overlaid(deepFreeze({ ...sts, spec: noServiceName })).blocked[0]?.message ?? "", /^serviceName is unset, not ditto-headless/)
  })

  it("reports each claim difference, and mounts only the claims the StatefulSet has", () => {
    const sts = stored(inputOf(specOf({ storage: { metadataSize: "1Gi", storageClassName: "fast" } })))
    const claims = sts.spec.volumeClaimTemplates ?? []
    const changed = claims
      .filter((claim) => claim.metadata.name !== "cache")
      .map((claim) =>
        claim.metadata.name === "metadata"
          ? { ...claim, spec: { ...claim.spec, storageClassName: "slow", accessModes: ["ReadWriteMany"], resources: { requests: { storage: "2Gi" } } } }
          : claim)
    const observed = deepFreeze({ ...sts, spec: { ...sts.spec, volumeClaimTemplates: [...changed, { metadata: { name: "old" }, spec: {} }] } })
    const suffix = "; volume claim templates are immutable (recreate the StatefulSet to change them, its volumes are kept)"
    const spec = specOf({ storage: { metadataSize: "1Gi", storageClassName: "fast" } })
    const { blocked, object } = overlaid(observed, inputOf(spec))
    assert.deepStrictEqual(blocked.map((finding) => finding.message), [
      `volume claim metadata: storage 2Gi -> 1Gi, storageClassName slow -> fast, access modes${suffix}`,
      `volume claim cache (5Gi) is wanted but missing${suffix}`,
      `volume claim old is no longer wanted${suffix}`
    ])
    const mounts = (object.spec.template.spec.containers[0]?.["volumeMounts"] as ReadonlyArray<{ readonly name: string }>).map((m) => m.name)
    assert.deepStrictEqual(mounts, ["config", "metadata", "controlplane"], "no mount of the missing cache claim")
    // an observed claim that says nothing of its size, class or access modes
    const bare = deepFreeze({ ...sts, spec: { ...sts.spec, volumeClaimTemplates: claims.map((claim) => (claim.metadata.name === "metadata" ? { metadata: claim.metadata, spec: {} } : claim)) } })
    assert.deepStrictEqual(overlaid(bare, inputOf(spec)).blocked.map((finding) => finding.message), [
      `volume claim metadata: storage none -> 1Gi, storageClassName none -> fast, access modes${suffix}`
    ])
    const withoutClass = specOf()
    const sameButUnclassed = overlaid(stored(inputOf(spec)), inputOf(withoutClass)).blocked
    assert.deepStrictEqual(sameButUnclassed, [], "no storage class wanted: whatever the claims have is fine")
  })
})

describe("ServerStatefulSet Events", () => {
  it("name the image on create", () => {
    const sts = stored()
    assert.deepStrictEqual(ServerStatefulSet.createdEvent(sts), {
      type: "Normal",
      reason: "StatefulSetCreated",
      message: `Created StatefulSet ditto (image ${sts.spec.template.spec.containers[0]?.image})`
    })
    assert.strictEqual(ServerStatefulSet.createdEvent(withTemplate(sts, (t) => ({ ...t, spec: { ...t.spec, containers: [] } }))).message, "Created StatefulSet ditto (image none)")
  })

  it("say ContainerPortsUpdated when only adapter ports change, else which parts", () => {
    const sts = stored()
    const smb: K8s.ContainerPort = { name: "adapter-smb", containerPort: 12445, protocol: "TCP" }
    const toggled = inputOf(specOf(), Option.some([nfsPort, smb]))
    assert.deepStrictEqual(ServerStatefulSet.updatedEvent(toggled, sts, overlaid(sts, toggled).object), {
      type: "Normal",
      reason: "ContainerPortsUpdated",
      message: "Updated StatefulSet container ports (1 static + 2 dynamic)"
    })
    const changed = inputOf(specOf({ replicas: 0, image: "dittofs:other", rollout: { strategy: "RollingUpdate" } }), Option.some([nfsPort, smb]))
    const relabelled = deepFreeze({ ...sts, metadata: { ...sts.metadata, labels: {} } })
    const next = overlaid(relabelled, changed).object
    const restart = (s: K8s.StatefulSet) => (s.spec.template.metadata?.annotations?.["dittofs.io/restart-hash"] ?? "").slice(0, 8)
    assert.strictEqual(
      ServerStatefulSet.updatedEvent(changed, relabelled, next).message,
      `Updated StatefulSet ditto: replicas 1 -> 0, pod template (restart-hash ${restart(sts)} -> ${restart(next)}), container ports, update strategy OnDelete -> RollingUpdate, labels`
    )
    // what an older or hand-made StatefulSet may lack: replicas, a restart hash, an update strategy
    const { replicas: _r, updateStrategy: _u, ...sparseSpec } = sts.spec
    const { "dittofs.io/restart-hash": _h, ...otherAnnotations } = sts.spec.template.metadata?.annotations ?? {}
    const sparse = withTemplate(deepFreeze({ ...sts, spec: sparseSpec }), (t) => ({ ...t, metadata: { ...t.metadata, annotations: otherAnnotations } }))
    assert.strictEqual(
      ServerStatefulSet.updatedEvent(inputOf(), sparse, overlaid(sparse).object).message,
      `Updated StatefulSet ditto: replicas unset -> 1, pod template (restart-hash none -> ${restart(sts)}), update strategy RollingUpdate -> OnDelete`
    )
    const securityOnly = withTemplate(sts, (t) => ({ ...t, spec: { ...t.spec, automountServiceAccountToken: true } }))
    assert.strictEqual(ServerStatefulSet.updatedEvent(inputOf(), securityOnly, overlaid(securityOnly).object).message, "Updated StatefulSet ditto: pod template")
  })
})
