/**
 * Requirement 5, end to end: the adapter Service type and annotations come from
 * `spec.adapterServices`; changing them updates each Service in place (same uid; an allocated
 * nodePort is kept from NodePort to LoadBalancer; an annotation added by someone else is kept;
 * annotations removed from the spec go), and every Service lifecycle change (created, updated,
 * deleted) is visible as an Event through the Events API, with its reason and message.
 */
import { assert, describe, it } from "@effect/vitest"
import { type K8s, Kubernetes } from "@dittofs-operator/core"
import { Effect } from "effect"
import {
  adapterServices,
  awaitExposed,
  e2e,
  ensure,
  eventually,
  modify,
  serverEvents,
  setAdapterEnabled,
  setup,
  type Suite
} from "./support.ts"

const thirdParty = { "third-party.example.com/owner": "team-a" }
const managedKey = "dittofs.io/managed-annotations"

const nfsService = (suite: Suite) =>
  Effect.flatMap(adapterServices(suite), (services) =>
    Effect.fromNullishOr(services.find((service) => service.metadata.name === `${suite.name}-adapter-nfs`)))

const expectService = (suite: Suite, check: (service: K8s.Service) => string | undefined) =>
  eventually(
    "the nfs Service as specified",
    Effect.flatMap(nfsService(suite), (service) => {
      const problem = check(service)
      return Effect.as(ensure(problem === undefined, () => `${problem}: ${JSON.stringify(service)}`), service)
    }),
    { timeout: "10 seconds" }
  )

describe("R5: Service type and annotations from the spec; Events for every Service change", () => {
  it.live("changing spec.adapterServices updates the Services in place and every Service change is an Event", () =>
    e2e(Effect.gen(function*() {
      const suite = yield* setup({
        suite: "r5",
        pollingInterval: "1s",
        adapterServices: { type: "NodePort", annotations: { "a.example.com/x": "1" } }
      })
      yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const created = yield* nfsService(suite)
      const port = created.spec.ports?.[0]?.port
      const nodePort = created.spec.ports?.[0]?.nodePort
      assert.strictEqual(created.spec.type, "NodePort")
      assert.isNumber(nodePort, "the apiserver allocated a nodePort")
      assert.deepInclude(created.metadata.annotations ?? {}, { "a.example.com/x": "1", [managedKey]: "a.example.com/x" })

      // Someone else annotates the Service; then the spec changes type and annotations.
      yield* modify(Kubernetes.Resources.Service, suite.namespace, created.metadata.name, (service) => ({
        ...service,
        metadata: { ...service.metadata, annotations: { ...service.metadata.annotations, ...thirdParty } }
      }))
      const setAdapterServices = (adapterServices: { readonly type: K8s.ServiceType; readonly annotations: Record<string, string> }) =>
        modify(Kubernetes.Resources.DittoServer, suite.namespace, suite.name, (server) => ({
          ...server,
          spec: { ...server.spec, adapterServices }
        }))

      yield* setAdapterServices({ type: "LoadBalancer", annotations: { "a.example.com/x": "2", "b.example.com/y": "3" } })
      const loadBalancer = yield* expectService(suite, (service) =>
        service.spec.type !== "LoadBalancer"
          ? "type"
          : service.metadata.annotations?.["a.example.com/x"] !== "2" || service.metadata.annotations["b.example.com/y"] !== "3"
          ? "annotations"
          : undefined)
      assert.strictEqual(loadBalancer.metadata.uid, created.metadata.uid, "updated in place")
      assert.strictEqual(loadBalancer.spec.ports?.[0]?.nodePort, nodePort, "nodePort kept from NodePort to LoadBalancer")
      assert.deepInclude(loadBalancer.metadata.annotations ?? {}, { ...thirdParty, [managedKey]: "a.example.com/x,b.example.com/y" })

      yield* setAdapterServices({ type: "ClusterIP", annotations: { "b.example.com/y": "3" } })
      const clusterIp = yield* expectService(suite, (service) =>
        service.spec.type !== "ClusterIP" ? "type" : service.metadata.annotations?.["a.example.com/x"] !== undefined ? "annotation a kept" : undefined)
      assert.strictEqual(clusterIp.metadata.uid, created.metadata.uid, "updated in place")
      assert.isUndefined(clusterIp.spec.ports?.[0]?.nodePort, "a ClusterIP Service has no nodePort")
      assert.deepInclude(clusterIp.metadata.annotations ?? {}, { ...thirdParty, "b.example.com/y": "3", [managedKey]: "b.example.com/y" })

      yield* setAdapterEnabled(suite.dfs, "smb", false)
      yield* awaitExposed(suite, ["nfs"], "10 seconds")

      // Every Service lifecycle change, through the Events API.
      const expected = [
        ["Normal", "AdapterServiceCreated", `Created NodePort Service ${suite.name}-adapter-nfs for adapter nfs (port ${port})`, 1],
        ["Normal", "AdapterServiceUpdated", `Updated Service ${suite.name}-adapter-nfs for adapter nfs (port ${port} -> ${port})`, 2],
        ["Normal", "AdapterServiceDeleted", `Deleted Service ${suite.name}-adapter-smb for adapter smb`, 1]
      ] as const
      const events = yield* eventually(
        "the Service Events",
        Effect.flatMap(serverEvents(suite), (events) =>
          Effect.as(
            Effect.forEach(expected, ([type, reason, message, count]) => {
              const seen = events
                .filter((event) => event.type === type && event.reason === reason && event.message === message)
                .reduce((total, event) => total + (event.count ?? 1), 0)
              return ensure(seen === count, () => `${reason} "${message}" seen ${seen} time(s), expected ${count}`)
            }),
            events
          )),
        { timeout: "5 seconds" }
      )
      yield* Effect.logInfo(`R5: Events\n${events.map((event) => `  ${event.type} ${event.reason} ×${event.count ?? 1}: ${event.message}`).join("\n")}`)
    })), 60_000)
})
