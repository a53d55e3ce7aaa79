/**
 * The Kubernetes contract suite against the in-memory API server: the fake must behave like the
 * real one (the same suite runs against kube-apiserver in the integration run).
 */
import { Effect, Layer, Ref, Schedule } from "effect"
import { ContractNamespaces, kubernetesContract } from "../../src/testing/contract/KubernetesContract.ts"
import * as KubernetesMemory from "../../src/testing/KubernetesMemory.ts"

/** Namespaces need no creating in the fake: a fresh name is a fresh namespace. */
const namespaces = Layer.effect(
  ContractNamespaces,
  Effect.map(Ref.make(0), (counter) =>
    ContractNamespaces.of({
      fresh: Effect.map(Ref.updateAndGet(counter, (n) => n + 1), (n) => `contract-${n}`)
    }))
)

kubernetesContract("KubernetesMemory", {
  layer: Layer.merge(KubernetesMemory.layer(), namespaces),
  // The fake collects garbage synchronously: a check that fails once has failed for good.
  settle: Schedule.recurs(0),
  liveClock: false
})
