import { assert, describe, it } from "@effect/vitest"
import { Option, Result, Schema } from "effect"
import { AdapterExposure, DittoServer, type K8s } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const spec = Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" } })
const nfs = { type: "nfs", enabled: true, running: true, port: 12049 }

const statefulSet = (containers: ReadonlyArray<K8s.Container>): K8s.StatefulSet => deepFreeze({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "ditto", namespace: "storage" },
  spec: { template: { spec: { containers } } }
})

const plan = (observed: Partial<AdapterExposure.Observed>, adapters = [nfs]) =>
  AdapterExposure.plan({
    server,
    spec,
    poll: Result.succeed({ adapters, rejected: [] }),
    observed: { services: [], networkPolicies: [], statefulSet: Option.none(), ...observed }
  })

const portsOf = (change: Option.Option<{ readonly object: K8s.StatefulSet }>) =>
  Option.map(change, ({ object }) => object.spec.template.spec.containers.map((c) => [c.name, (c.ports ?? []).map((p) => p.name)]))

describe("AdapterExposure.plan", () => {
  it("writes the ports of the container named dittofs, else of the first one, and leaves the others alone", () => {
    const sidecar = { name: "sidecar", ports: [{ name: "http", containerPort: 80 }] }
    assert.deepStrictEqual(
      portsOf(plan({ statefulSet: Option.some(statefulSet([sidecar, { name: "dittofs" }])) }).statefulSet),
      Option.some([["sidecar", ["http"]], ["dittofs", ["adapter-nfs"]]])
    )
    assert.deepStrictEqual(
      portsOf(plan({ statefulSet: Option.some(statefulSet([{ name: "server" }, sidecar])) }).statefulSet),
      Option.some([["server", ["adapter-nfs"]], ["sidecar", ["http"]]])
    )
  })

  it("plans no StatefulSet write when it has no container, or when there is none", () => {
    assert.isTrue(Option.isNone(plan({ statefulSet: Option.some(statefulSet([])) }).statefulSet))
    assert.isTrue(Option.isNone(plan({}).statefulSet))
  })

  it("announces the container ports it writes, static and dynamic", () => {
    const written = plan({ statefulSet: Option.some(statefulSet([{ name: "dittofs", ports: [{ name: "api", containerPort: 8080 }] }])) })
    assert.deepStrictEqual(Option.map(written.statefulSet, (change) => [change._tag, change.event]), Option.some([
      "Update",
      { type: "Normal", reason: "ContainerPortsUpdated", message: "Updated StatefulSet container ports (1 static + 1 dynamic)" }
    ]))
  })

  it("reserves the API and metrics ports of the spec, and the StatefulSet's static ports", () => {
    assert.deepStrictEqual(AdapterExposure.reservedPorts(spec, Option.none()), [8080, 9090])
    const custom = { ...spec, controlPlane: { port: 7000 }, metrics: { ...spec.metrics, port: 7001 } }
    const sts = statefulSet([{ name: "dittofs", ports: [{ name: "nfs", containerPort: 2049 }, { name: "adapter-nfs", containerPort: 12049 }] }])
    assert.deepStrictEqual(AdapterExposure.reservedPorts(custom, Option.some(sts)), [7000, 7001, 2049])
  })

  it("is empty only when nothing at all changes", () => {
    assert.isTrue(AdapterExposure.isEmpty(AdapterExposure.empty))
    const onlyPolicies = { ...AdapterExposure.empty, networkPolicies: plan({}).networkPolicies }
    assert.isFalse(AdapterExposure.isEmpty(onlyPolicies))
    const onlyServices = { ...AdapterExposure.empty, services: plan({}).services }
    assert.isFalse(AdapterExposure.isEmpty(onlyServices))
    const onlyPorts = { ...AdapterExposure.empty, statefulSet: plan({ statefulSet: Option.some(statefulSet([{ name: "dittofs" }])) }).statefulSet }
    assert.isTrue(Option.isSome(onlyPorts.statefulSet))
    assert.isFalse(AdapterExposure.isEmpty(onlyPorts))
  })

  it("plans nothing on a failed poll", () => {
    const failed = AdapterExposure.plan({
      server,
      spec,
      poll: Result.fail("unreachable"),
      observed: { services: [], networkPolicies: [], statefulSet: Option.some(statefulSet([{ name: "dittofs" }])) }
    })
    assert.deepStrictEqual(failed, AdapterExposure.empty)
  })
})
