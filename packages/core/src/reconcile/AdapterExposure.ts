/**
 * `AdapterExposurePhase.reconcile(server, session)`: poll DittoFS's adapters, observe the server's
 * adapter Services, NetworkPolicies and StatefulSet, plan, apply, and say when to run again.
 *
 * Contract (the safety rules of the reference, with its defects fixed):
 * - A failed, timed-out or undecodable poll changes nothing in the cluster; the outcome carries
 *   the error so the caller can set a condition and keep the last known state.
 * - Before a first successful poll nothing is created or deleted (there is no plan without one).
 * - A successful poll is authoritative: an empty list removes every adapter Service.
 * - Observing the cluster failing fails the reconcile (nothing was planned, nothing written).
 * - Applying never stops at the first failure; failures are in the outcome.
 * - The next run is one polling interval away (`spec.adapterDiscovery.pollingInterval`).
 */
import { Effect, Option, Result } from "effect"
import type * as Adapter from "../domain/Adapter.ts"
import * as DittoServer from "../domain/DittoServer.ts"
import { referenceTo, type StatefulSet } from "../domain/Kubernetes.ts"
import type * as ActiveAdapters from "../plan/ActiveAdapters.ts"
import * as AdapterExposure from "../plan/AdapterExposure.ts"
import { adapterResourceName, labels, labelValue } from "../plan/Naming.ts"
import { identityOf, type ServerIdentity } from "../plan/Ownership.ts"
import { DittoFs, type DittoFsError, type Secret } from "../services/DittoFs.ts"
import { Kubernetes, type KubernetesError, Resources } from "../services/Kubernetes.ts"
import { type Action, requeue } from "./Action.ts"
import * as Apply from "./Apply.ts"

/** Where and as whom the operator talks to a server's DittoFS API. */
export interface DittoFsSession {
  readonly baseUrl: string
  readonly accessToken: Secret
}

/**
 * What an exposure pass did: the poll, the plan, the changes that failed and the `status.adapters`
 * it leaves.
 */
export interface Outcome {
  readonly poll: Result.Result<Adapter.List, DittoFsError>
  readonly plan: AdapterExposure.Plan
  readonly failures: ReadonlyArray<Apply.FailedChange>
  /** `status.adapters` after this pass; `None` when the poll failed (keep the last known). */
  readonly adapters: Option.Option<ReadonlyArray<DittoServer.AdapterStatus>>
  readonly action: Action
}

/** Reads the objects a server's adapter exposure consists of. */
export const observe = (
  server: ServerIdentity
): Effect.Effect<AdapterExposure.Observed, KubernetesError, Kubernetes> =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    const instance = labelValue(server.name)
    const [services, networkPolicies, statefulSet] = yield* Effect.all([
      kubernetes.list(Resources.Service, server.namespace, {
        labelSelector: { [labels.adapterService]: "true", [labels.instance]: instance }
      }),
      kubernetes.list(Resources.NetworkPolicy, server.namespace, {
        labelSelector: { [labels.adapterNetworkPolicy]: "true", [labels.instance]: instance }
      }),
      kubernetes.get(Resources.StatefulSet, server.namespace, server.name).pipe(
        Effect.asSome,
        Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeed(Option.none<StatefulSet>()))
      )
    ], { concurrency: 3 })
    return { services, networkPolicies, statefulSet }
  })

const adapterStatuses = (
  server: ServerIdentity,
  active: ReadonlyArray<ActiveAdapters.Active>,
  failures: ReadonlyArray<Apply.FailedChange>
): ReadonlyArray<DittoServer.AdapterStatus> =>
  active.map((adapter) => {
    const serviceName = adapterResourceName(server.name, adapter.type)
    return {
      type: adapter.sanitizedType,
      port: adapter.port,
      serviceName,
      exposed: !failures.some((failure) => failure.kind === "Service" && failure.name === serviceName)
    }
  })

/** How the adapter exposure treats the StatefulSet's container ports. */
export type ContainerPortsOwner =
  /** This plan writes them (a StatefulSet someone else manages). */
  | "Exposure"
  /** The workload plan writes them (the operator's own StatefulSet): this plan leaves it alone. */
  | "Workload"

/**
 * Observes, plans and applies the exposure of a successful poll's adapters; the observed
 * StatefulSet's static ports are reserved either way.
 */
export const expose = Effect.fn("exposeAdapters")(function*(
  server: DittoServer.DittoServer,
  adapters: Adapter.List,
  containerPorts: ContainerPortsOwner = "Exposure"
) {
  const identity = identityOf(server)
  for (const rejected of adapters.rejected) {
    yield* Effect.logWarning(`adapter entry ${rejected.index} rejected: ${rejected.reason}`)
  }
  const observed = yield* observe(identity)
  const plan = AdapterExposure.plan({ server: identity, spec: server.spec, poll: Result.succeed(adapters), observed })
  // a conflict the status already reports is logged at Debug: one warning when it appears, not
  // one per polling interval for as long as it lasts
  const synced = server.status?.conditions?.find((c) => c.type === "AdaptersSynced")
  const reported = synced?.reason === "AdapterConflicts" ? synced.message : undefined
  for (const conflict of plan.active.conflicts) {
    const log = reported?.includes(conflict.message) === true ? Effect.logDebug : Effect.logWarning
    yield* log(`adapter not exposed: ${conflict.message}`).pipe(Effect.annotateLogs({ reason: conflict.reason }))
  }
  const regarding = referenceTo(server)
  const serviceFailures = yield* Apply.plan(Resources.Service, regarding, plan.services, "AdapterServiceFailed")
  const policyFailures = yield* Apply.plan(Resources.NetworkPolicy, regarding, plan.networkPolicies, "NetworkPolicyFailed")
  const portFailures = containerPorts === "Exposure"
    ? yield* Apply.plan(Resources.StatefulSet, regarding, Option.toArray(plan.statefulSet), "ContainerPortsFailed")
    : []
  const failures = [...serviceFailures, ...policyFailures, ...portFailures]
  return {
    plan: containerPorts === "Exposure" ? plan : { ...plan, statefulSet: Option.none() },
    failures,
    adapters: adapterStatuses(identity, plan.active.active, failures)
  }
})

/**
 * One exposure pass for a server whose StatefulSet someone else manages: polls the adapters,
 * observes the Services, NetworkPolicies and StatefulSet, plans and applies. A failed or malformed
 * poll changes nothing.
 */
export const reconcile = Effect.fn("reconcileAdapterExposure")(function*(
  server: DittoServer.DittoServer,
  session: DittoFsSession
) {
  const dittofs = yield* DittoFs
  const identity = identityOf(server)
  const action = requeue(DittoServer.pollingInterval(server.spec))
  const poll = yield* Effect.result(dittofs.listAdapters(session.baseUrl, session.accessToken))
  if (Result.isFailure(poll)) {
    yield* Effect.logWarning("adapter poll failed; changing nothing").pipe(
      Effect.annotateLogs({ server: `${identity.namespace}/${identity.name}`, reason: poll.failure.reason })
    )
    return { poll, plan: AdapterExposure.empty, failures: [], adapters: Option.none(), action } satisfies Outcome
  }
  const exposed = yield* expose(server, poll.success)
  return {
    poll,
    plan: exposed.plan,
    failures: exposed.failures,
    adapters: Option.some(exposed.adapters),
    action
  } satisfies Outcome
})
