/**
 * The Kubernetes contract suite against the real API server of the integration run (kube-apiserver
 * + etcd + the garbage collector, started by the global setup): `KubernetesLive` must pass the same
 * tests as `KubernetesMemory`. Each test gets fresh namespaces, created and deleted here through
 * client-node directly (not through the service under test).
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { Effect, Layer, Schedule } from "effect"
import { inject } from "vitest"
// The core's package exports do not list the contract suite (it imports vitest): a relative import.
import { ContractNamespaces, kubernetesContract } from "../../../../packages/core/src/testing/contract/KubernetesContract.ts"
import * as KubernetesLive from "../../src/live/KubernetesLive.ts"
import * as KubernetesCache from "../../src/runtime/KubernetesCache.ts"
import { contractStores } from "../CacheContract.ts"

const kubeconfigPath = inject("kubeconfigPath")

/** Namespaces named `contract-<random>` by the API server; deleted when the test's scope closes. */
const namespaces = Layer.effect(
  ContractNamespaces,
  Effect.gen(function*() {
    const kubeConfig = new KubeConfig()
    kubeConfig.loadFromFile(kubeconfigPath)
    const core = kubeConfig.makeApiClient(CoreV1Api)
    return ContractNamespaces.of({
      fresh: Effect.acquireRelease(
        Effect.tryPromise(() => core.createNamespace({ body: { metadata: { generateName: "contract-" } } })).pipe(
          Effect.flatMap((created) => Effect.fromNullishOr(created.metadata?.name)),
          Effect.orDie
        ),
        (name) => Effect.tryPromise(() => core.deleteNamespace({ name })).pipe(Effect.orDie)
      )
    })
  })
)

kubernetesContract("KubernetesLive", {
  layer: Layer.merge(KubernetesLive.layer({ kubeconfigPath }), namespaces),
  // The garbage collector works in the background: poll for at most 30 seconds.
  settle: Schedule.spaced("200 millis").pipe(Schedule.upTo({ duration: "30 seconds" })),
  liveClock: true,
  testTimeout: 45_000
})

// The cached service (reads from reflector stores) over the live one: the same contract.
kubernetesContract("KubernetesCache over KubernetesLive", {
  layer: Layer.merge(
    KubernetesCache.layer(contractStores).pipe(Layer.provide(KubernetesLive.layer({ kubeconfigPath }))),
    namespaces
  ),
  settle: Schedule.spaced("200 millis").pipe(Schedule.upTo({ duration: "30 seconds" })),
  liveClock: true,
  testTimeout: 45_000
})
