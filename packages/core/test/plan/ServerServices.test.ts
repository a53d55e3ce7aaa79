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
  })
})
