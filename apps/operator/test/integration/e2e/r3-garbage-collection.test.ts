/**
 * Requirement 3, end to end: adapter Services and NetworkPolicies are controlled by the
 * DittoServer, so when it is deleted the real garbage collector (kube-controller-manager) removes
 * them (and the credentials Secret, and the StatefulSet); and the operator stops polling the
 * server: dfs answers no more adapter lists (its request log), and an adapter started afterwards
 * gets no Service.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes } from "@dittofs-operator/core"
import { Duration, Effect } from "effect"
import {
  adapterPolicies,
  adapterPolls,
  adapterServices,
  always,
  awaitExposed,
  credentialsSecret,
  e2e,
  ensure,
  eventually,
  expectGone,
  setAdapterEnabled,
  setup,
  timedMillis
} from "./support.ts"

describe("R3: DittoServer deleted → garbage collection", () => {
  it.live("deleting the DittoServer lets the garbage collector remove its Services and NetworkPolicies, and the operator stops polling", () =>
    e2e(Effect.gen(function*() {
      const suite = yield* setup({ suite: "r3", pollingInterval: "1s" })
      yield* awaitExposed(suite, ["nfs", "smb"], "15 seconds")
      const secret = yield* credentialsSecret(suite)
      assert.strictEqual(secret.metadata.ownerReferences?.[0]?.uid, suite.server.metadata.uid)

      yield* Kubernetes.Kubernetes.use((kubernetes) => kubernetes.delete(Kubernetes.Resources.DittoServer, suite.namespace, suite.name))
      const [collected] = yield* timedMillis(eventually(
        "garbage collection of the adapter Services, NetworkPolicies, Secret and StatefulSet",
        Effect.gen(function*() {
          const services = yield* adapterServices(suite)
          const policies = yield* adapterPolicies(suite)
          yield* ensure(services.length === 0 && policies.length === 0, () =>
            `left: ${[...services, ...policies].map((object) => `${object.kind}/${object.metadata.name}`).join(", ")}`)
          yield* expectGone(Kubernetes.Resources.Secret, suite.namespace, secret.metadata.name)
          yield* expectGone(Kubernetes.Resources.StatefulSet, suite.namespace, suite.name)
        }),
        { timeout: "20 seconds", interval: "100 millis" }
      ))
      yield* Effect.logInfo(`R3: the garbage collector removed every owned object ${collected.toFixed(0)} ms after the DittoServer was deleted`)

      // Not polled any more: over several polling intervals dfs answers no adapter list, and an
      // adapter switched meanwhile gets no Service back.
      const polls = yield* adapterPolls(suite.dfs)
      yield* setAdapterEnabled(suite.dfs, "smb", false)
      yield* setAdapterEnabled(suite.dfs, "smb", true)
      yield* always(
        Effect.flatMap(adapterServices(suite), (services) =>
          ensure(services.length === 0, () => `Service ${services[0]?.metadata.name} appeared after the deletion`)),
        { during: Duration.times(suite.interval, 3), interval: "100 millis" }
      )
      assert.strictEqual(yield* adapterPolls(suite.dfs), polls, "adapter polls after the DittoServer was deleted")
    })), 60_000)
})
