/**
 * Requirement 1, end to end (real apiserver, real dfs, operator in-process): an adapter that is
 * enabled and running gets its own Service exposing exactly the port the DittoFS API reports,
 * with the type and annotations of `spec.adapterServices`, controlled by the DittoServer, plus an
 * `adapter-<type>` container port on the StatefulSet and a NetworkPolicy for that port; when dfs
 * moves the adapter, the same Service follows the new port.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoServer, type K8s } from "@dittofs-operator/core"
import { Effect } from "effect"
import { freePorts } from "../../../../../scripts/launch/FreePorts.ts"
import {
  awaitExposed,
  containerPorts,
  dfsAdapters,
  e2e,
  ensure,
  eventually,
  expectCondition,
  expectExposed,
  moveAdapter,
  setup,
  timedMillis
} from "./support.ts"

const annotations = { "lb.example.com/pool": "storage", "lb.example.com/shared": "false" }

const ownedBy = (object: { readonly metadata: K8s.ObjectMeta }) =>
  (object.metadata.ownerReferences ?? []).map(({ apiVersion, blockOwnerDeletion, controller, kind, name, uid }) => ({
    apiVersion,
    kind,
    name,
    uid,
    controller,
    blockOwnerDeletion
  }))

describe("R1: adapter enabled and running → Service", () => {
  it.live("an enabled, running adapter gets a Service with the reported port and the configured type and annotations, owned by the DittoServer, and an adapter-<type> container port", () =>
    e2e(Effect.gen(function*() {
      const suite = yield* setup({ suite: "r1", pollingInterval: "1s", adapterServices: { type: "LoadBalancer", annotations } })
      const reported = (yield* dfsAdapters(suite.dfs)).filter((adapter) => adapter.enabled && adapter.running)
      assert.deepStrictEqual(reported.map((adapter) => adapter.type).sort(), ["nfs", "smb"], "a fresh dfs runs nfs and smb")

      const [elapsed, exposed] = yield* timedMillis(awaitExposed(suite, ["nfs", "smb"], "15 seconds"))
      yield* Effect.logInfo(`R1: nfs and smb exposed ${elapsed.toFixed(0)} ms after the operator started`)
      const owner = {
        apiVersion: DittoServer.apiVersion,
        kind: DittoServer.kind,
        name: suite.name,
        uid: suite.server.metadata.uid ?? "",
        controller: true,
        blockOwnerDeletion: true
      }
      for (const adapter of reported) {
        const name = `${suite.name}-adapter-${adapter.type}`
        const service = exposed.services.find((candidate) => candidate.metadata.name === name)
        assert.isDefined(service, name)
        assert.strictEqual(service.spec.type, "LoadBalancer")
        assert.deepStrictEqual(
          (service.spec.ports ?? []).map(({ name, port, protocol, targetPort }) => ({ name, port, targetPort, protocol })),
          [{ name: `adapter-${adapter.type}`, port: adapter.port, targetPort: adapter.port, protocol: "TCP" }]
        )
        assert.deepInclude(service.metadata.annotations ?? {}, annotations)
        assert.deepStrictEqual(service.spec.selector, { app: "dittofs-server", instance: suite.name })
        assert.deepStrictEqual(ownedBy(service), [owner], `${name} is controlled by the DittoServer`)

        const policy = exposed.policies.find((candidate) => candidate.metadata.name === name)
        assert.isDefined(policy, `NetworkPolicy ${name}`)
        assert.deepStrictEqual(policy.spec.ingress?.map((rule) => rule.ports), [[{ protocol: "TCP", port: adapter.port }]])
        assert.deepStrictEqual(ownedBy(policy), [owner])

        assert.deepInclude(containerPorts(exposed.statefulSet), { name: `adapter-${adapter.type}`, containerPort: adapter.port, protocol: "TCP" })
      }
      yield* eventually("AdaptersSynced True", expectCondition(suite, "AdaptersSynced", "True"), { timeout: "5 seconds" })

      // The port is the one dfs reports: move nfs, and its Service (the same object) follows.
      const nfs = exposed.services.find((service) => service.metadata.name === `${suite.name}-adapter-nfs`)
      const { port } = yield* freePorts(["port"])
      const moved = yield* moveAdapter(suite.dfs, "nfs", port)
      assert.strictEqual(moved.port, port)
      const [followed, after] = yield* timedMillis(eventually(
        "the nfs Service, NetworkPolicy and container port on the new port",
        Effect.flatMap(expectExposed(suite, ["nfs", "smb"]), (current) => {
          const service = current.services.find((candidate) => candidate.metadata.name === `${suite.name}-adapter-nfs`)
          const policy = current.policies.find((candidate) => candidate.metadata.name === `${suite.name}-adapter-nfs`)
          const containerPort = containerPorts(current.statefulSet).find((candidate) => candidate.name === "adapter-nfs")
          const ports = [service?.spec.ports?.[0]?.port, policy?.spec.ingress?.[0]?.ports?.[0]?.port, containerPort?.containerPort]
          return Effect.as(ensure(ports.every((candidate) => candidate === port), () => `ports ${JSON.stringify(ports)}`), service)
        }),
        { timeout: "10 seconds" }
      ))
      yield* Effect.logInfo(`R1: nfs Service, NetworkPolicy and container port moved to ${port} ${followed.toFixed(0)} ms after dfs moved the adapter`)
      assert.strictEqual(after?.metadata.uid, nfs?.metadata.uid, "the Service is updated in place")
    })), 60_000)
})
