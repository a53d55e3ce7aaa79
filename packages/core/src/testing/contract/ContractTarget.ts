/**
 * What every part of the Kubernetes contract suite shares: the target it runs against, where
 * its tests get their namespaces, and how a call's outcome is observed.
 *
 * Contract: `outcome` and `rejection` observe a call only by its result (the reason, and the
 * API server's message), never by how it was made.
 */
import { Context, Effect, type Layer, type Schedule, type Scope } from "effect"
import type { Kubernetes, KubernetesError } from "../../services/Kubernetes.ts"

/** Where the contract's tests get their namespaces. */
export class ContractNamespaces extends Context.Service<ContractNamespaces, {
  /** A namespace no other test uses (on a live server: created now, deleted when the scope closes). */
  readonly fresh: Effect.Effect<string, never, Scope.Scope>
}>()("@dittofs-operator/core/testing/ContractNamespaces") {}

export interface KubernetesContractTarget {
  /** Provides the `Kubernetes` under test and the namespaces; built once for the whole suite. */
  readonly layer: Layer.Layer<Kubernetes | ContractNamespaces, unknown>
  /** How background work (garbage collection) is awaited: the retry schedule of a check. */
  readonly settle: Schedule.Schedule<unknown, unknown>
  /** Run on the real clock (a live cluster) instead of the TestClock. */
  readonly liveClock: boolean
  /** Per-test timeout in milliseconds (vitest's default when absent). */
  readonly testTimeout?: number
}

/** The reason an effect failed with, or `"succeeded"`. */
export const outcome = <A>(effect: Effect.Effect<A, KubernetesError>) =>
  Effect.match(effect, { onSuccess: () => "succeeded" as const, onFailure: (error) => error.reason })

/** How a call was refused: `[reason, message]`, or `["succeeded", ""]`. */
export const rejection = <A>(effect: Effect.Effect<A, KubernetesError>) =>
  Effect.match(effect, {
    onSuccess: () => ["succeeded", ""] as const,
    onFailure: (error) => [error.reason, error.message] as const
  })
