/**
 * What every end-to-end suite starts with: its own namespace on the run's control plane (from the
 * integration global setup, `inject("kubeconfigPath")`), its own real `dfs`, the sample
 * DittoServer pointed at that dfs, and the operator running in-process on that namespace only.
 *
 * Contract: a test body runs in `e2e(...)`, which gives it a scope and its own clients (`clients`:
 * live Kubernetes and DittoFS). `setup` starts everything in that scope; when it closes the
 * operator stops first, then dfs, then the namespace is deleted, while the clients still work.
 * The test's clients are never the operator's (a wrapper given to `setup` applies to the operator
 * only).
 */
import { DittoFs, DittoServer, type K8s, Kubernetes } from "@dittofs-operator/core"
import { Duration, Effect, Layer, type Scope } from "effect"
import { inject } from "vitest"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import { freshNamespace, type OperatorHarnessOptions, runOperator, type ServerRef } from "./harness.ts"

export * from "./harness.ts"

export const kubeconfigPath: string = inject("kubeconfigPath")

/** The test's own clients: the live Kubernetes service (unwrapped) and the live DittoFS client. */
export const clients = Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath }), DittoFsLive.layer())

/**
 * A test body with its own scope inside the clients: everything it started (operator, dfs,
 * namespace) is released while the clients still work.
 */
export const e2e = <A, E>(
  body: Effect.Effect<A, E, Scope.Scope | Kubernetes.Kubernetes | DittoFs.DittoFs>
): Effect.Effect<A, E | KubernetesLive.KubernetesConfigError> => body.pipe(Effect.scoped, Effect.provide(clients))

export interface SuiteOptions {
  /** Namespace prefix: `e2e-<suite>-<random>`. */
  readonly suite: string
  /** `spec.adapterDiscovery.pollingInterval` (Go duration). */
  readonly pollingInterval: string
  readonly adapterServices?: { readonly type?: K8s.ServiceType; readonly annotations?: Record<string, string> }
  /** dfs's access-token lifetime (Go duration); default dfs's 15m. */
  readonly accessTokenDuration?: string
  /** Wraps the operator's Kubernetes service. */
  readonly wrap?: OperatorHarnessOptions["wrap"]
}

export interface Suite extends ServerRef {
  readonly dfs: DittoFsServer.DittoFsServer
  /** The DittoServer as created. */
  readonly server: DittoServer.DittoServer
  /** The polling interval. */
  readonly interval: Duration.Duration
}

export const setup = Effect.fn("e2e.setup")(function*(options: SuiteOptions) {
  const namespace = yield* freshNamespace(`e2e-${options.suite}`)
  const dfs = yield* DittoFsServer.start(
    options.accessTokenDuration === undefined ? {} : { accessTokenDuration: options.accessTokenDuration }
  )
  const server = yield* Sample.apply({
    namespace,
    apiUrl: dfs.baseUrl,
    adminPassword: dfs.admin.password,
    pollingInterval: options.pollingInterval,
    ...(options.adapterServices === undefined ? {} : { adapterServices: options.adapterServices })
  })
  yield* runOperator({ kubeconfigPath, namespace, ...(options.wrap === undefined ? {} : { wrap: options.wrap }) })
  const suite: Suite = {
    namespace,
    name: server.metadata.name,
    dfs,
    server,
    interval: DittoServer.pollingInterval(server.spec)
  }
  return suite
})

/** A bound for "within one polling cycle": the interval plus this much for the pass itself and the observation. */
export const cycleSlack = Duration.seconds(1)

export const withinOneCycle = (suite: Suite): number => Duration.toMillis(Duration.sum(suite.interval, cycleSlack))
