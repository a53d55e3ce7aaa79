/**
 * One pass over a DittoServer, as phases: *session* (the operator's DittoFS account and token),
 * *poll* (the adapter list: also the health check), *exposure* (adapter Services and
 * NetworkPolicies, right after the poll), *workload* (ConfigMap, Secrets, Services, StatefulSet
 * with the running adapters' ports, baseline NetworkPolicy, managed restarts: it runs whether
 * DittoFS answers or not), then *status*, merged from every phase's facts and written once, only when it changed. A DittoServer
 * marked for deletion runs the *finalizer* instead.
 *
 * Contract:
 * - Phases never stop each other: each returns facts, an action and its failures (`Phase`); the
 *   shortest requeue wins; a pass with failures fails once, with `PassFailed`, after the status
 *   was written, and `errorPolicy` decides the retry.
 * - DittoFS unreachable — at login or poll time — changes nothing but the conditions, and is
 *   retried within one polling interval. A permanent authentication failure is an error (a
 *   False `Authenticated` condition and a slow retry), not a disguised success.
 * - A poll refused with 401 drops the stored tokens (`TokenRejected`): the next pass logs in.
 * - A malformed adapter list changes nothing and is retried at the polling interval.
 * - An adapter Service or NetworkPolicy name taken by an object the server does not control is
 *   a reported conflict (`AdaptersSynced` False, reason `ForeignObject`, the executor's Warning
 *   Event counted on one Event), not an error: the other adapters follow at the polling interval.
 * - Otherwise the next pass is due at the polling interval, or earlier when the token is due
 *   for a refresh.
 * - The first pass adds the finalizer; deletion removes the operator's account (`Finalizer`).
 * - The phase is `Deleting`, `Failed` (an object of ours held by another owner, or a wanted change
 *   Kubernetes forbids: a human must act), `Stopped` (0 replicas), `Running` (a ready replica) or
 *   `Pending`.
 */
import { Clock, Duration, Effect, Option } from "effect"
import type * as Adapter from "../domain/Adapter.ts"
import * as DittoServer from "../domain/DittoServer.ts"
import { timestamp } from "../domain/Kubernetes.ts"
import * as ObjectRef from "../domain/ObjectRef.ts"
import { workloadNames } from "../plan/Naming.ts"
import * as Status from "../plan/Status.ts"
import { DittoFs, type DittoFsError, isTransient } from "../services/DittoFs.ts"
import { Kubernetes, Resources } from "../services/Kubernetes.ts"
import { requeue } from "./Action.ts"
import * as AdapterExposurePhase from "./AdapterExposure.ts"
import { ensureSession, forgetTokens } from "./Auth.ts"
import * as Finalizer from "./Finalizer.ts"
import { reconcileWorkload, type WorkloadStatus } from "./Workload.ts"
import {
  ApplyFailed,
  AuthenticationFailed,
  DittoFsUnavailable,
  ObserveFailed,
  PassFailed,
  type PhaseError,
  TokenRejected
} from "./PassError.ts"
import * as Phase from "./Phase.ts"

/** Annotation on a DittoServer that points the operator at its DittoFS API from outside the cluster. */
export const apiUrlAnnotation = "dittofs.io/api-url"

/** Options of the pass that apply to every server. */
export interface Options {
  /** The DittoFS API URL for every server without the annotation (an operator flag). */
  readonly apiUrlOverride?: string
}

const describeDittoFsError = (error: DittoFsError): string => `${error.operation}: ${error.reason}: ${error.message}`

/**
 * The DittoFS API URL of a server: its `dittofs.io/api-url` annotation, else the operator's
 * override, else its in-cluster API Service.
 */
export const apiUrl = (server: DittoServer.DittoServer, options: Options = {}): string => {
  const ref = ObjectRef.of(server.metadata)
  return server.metadata.annotations?.[apiUrlAnnotation]
    ?? options.apiUrlOverride
    ?? `http://${workloadNames(ref.name).apiService}.${ref.namespace}.svc.cluster.local:${server.spec.controlPlane.port}`
}

const unreachable = (error: DittoFsError): Status.ConditionFact => ({
  type: "DittoFSReachable",
  status: "False",
  reason: "APIUnreachable",
  message: describeDittoFsError(error)
})

const reachable = (baseUrl: string): Status.ConditionFact => ({
  type: "DittoFSReachable",
  status: "True",
  reason: "APIReachable",
  message: `${baseUrl} answers`
})

/** The session phase: a token to poll with, or why there is none. */
const sessionPhase = (server: DittoServer.DittoServer, baseUrl: string, interval: Duration.Duration) =>
  Effect.gen(function*() {
    const attempt = yield* Effect.result(ensureSession(server, baseUrl))
    if (attempt._tag === "Failure") {
      return {
        phase: Phase.result([], requeue(interval), [new ObserveFailed({ error: attempt.failure })]),
        session: Option.none<AdapterExposurePhase.DittoFsSession>()
      }
    }
    const auth = attempt.success
    switch (auth._tag) {
      case "Unreachable":
        return {
          phase: Phase.result([unreachable(auth.error)], requeue(interval), [new DittoFsUnavailable({ error: auth.error, pollingInterval: interval })]),
          session: Option.none<AdapterExposurePhase.DittoFsSession>()
        }
      case "Failed":
        return {
          phase: Phase.result(
            [reachable(baseUrl), { type: "Authenticated", status: "False", reason: auth.reason, message: auth.message }],
            requeue(interval),
            [new AuthenticationFailed({ reason: auth.reason, detail: auth.message })]
          ),
          session: Option.none<AdapterExposurePhase.DittoFsSession>()
        }
      case "Authenticated": {
        const now = yield* Clock.currentTimeMillis
        return {
          phase: Phase.result(
            [{ type: "Authenticated", status: "True", reason: "AuthenticationSucceeded", message: "Authenticated as the operator account" }],
            requeue(Duration.millis(Math.max(0, auth.refreshAt - now)))
          ),
          session: Option.some(auth.session)
        }
      }
    }
  })

/** The poll phase: the adapter list, or why there is none (nothing is changed then). */
const pollPhase = (server: DittoServer.DittoServer, session: AdapterExposurePhase.DittoFsSession, interval: Duration.Duration) =>
  Effect.gen(function*() {
    const dittofs = yield* DittoFs
    const poll = yield* Effect.result(dittofs.listAdapters(session.baseUrl, session.accessToken))
    if (poll._tag === "Success") {
      return { phase: Phase.result([reachable(session.baseUrl)], requeue(interval)), adapters: Option.some(poll.success) }
    }
    const error = poll.failure
    yield* Effect.logWarning("adapter poll failed; changing nothing").pipe(
      Effect.annotateLogs({ server: ObjectRef.keyOf(server), reason: error.reason })
    )
    const notSynced: Status.ConditionFact = {
      type: "AdaptersSynced",
      status: "False",
      reason: "PollFailed",
      message: describeDittoFsError(error)
    }
    const errors: Array<PhaseError> = []
    if (isTransient(error)) errors.push(new DittoFsUnavailable({ error, pollingInterval: interval }))
    else if (error.reason === "Unauthorized") {
      // the server no longer accepts the token (restarted with a new signing key, account reset):
      // log in again on the next pass, soon
      const forgotten = yield* Effect.result(forgetTokens(server))
      if (forgotten._tag === "Failure") {
        yield* Effect.logWarning("could not drop the refused token").pipe(Effect.annotateLogs({ reason: forgotten.failure.reason }))
      }
      errors.push(new TokenRejected({ error, pollingInterval: interval }))
    }
    return {
      phase: Phase.result([isTransient(error) ? unreachable(error) : reachable(session.baseUrl), notSynced], requeue(interval), errors),
      adapters: Option.none<Adapter.List>()
    }
  })

/** The exposure phase: adapter Services and NetworkPolicies of a successful poll (the workload phase owns the ports). */
const exposurePhase = (server: DittoServer.DittoServer, adapters: Adapter.List, interval: Duration.Duration) =>
  Effect.gen(function*() {
    const attempt = yield* Effect.result(AdapterExposurePhase.expose(server, adapters, "Workload"))
    if (attempt._tag === "Failure") {
      return {
        phase: Phase.result(
          [{ type: "AdaptersSynced", status: "False", reason: "ObserveFailed", message: attempt.failure.message }],
          requeue(interval),
          [new ObserveFailed({ error: attempt.failure })]
        ),
        adapters: Option.none<ReadonlyArray<DittoServer.AdapterStatus>>()
      }
    }
    const exposed = attempt.success
    const { active, conflicts } = exposed.plan.active
    // A create refused because the name is taken: an object of ours that belongs to something else
    // (the plan touches only what the server controls). Reported, retried at the polling
    // interval like everything else, never a reason to back the whole server off.
    const foreign = exposed.failures.filter((f) => f.change === "Create" && f.error.reason === "AlreadyExists")
    const failures = exposed.failures.filter((f) => !foreign.includes(f))
    const synced: Status.ConditionFact = failures.length > 0
      ? {
        type: "AdaptersSynced",
        status: "False",
        reason: "ApplyFailed",
        message: failures.map((f) => `${f.change} ${f.kind} ${f.name}: ${f.error.reason}`).join("; ")
      }
      : foreign.length > 0
      ? {
        type: "AdaptersSynced",
        status: "False",
        reason: "ForeignObject",
        message: foreign.map((f) => `${f.kind} ${f.name} exists and is not controlled by this DittoServer; left untouched`).join("; ")
      }
      : conflicts.length > 0
      ? { type: "AdaptersSynced", status: "False", reason: "AdapterConflicts", message: conflicts.map((c) => c.message).join("; ") }
      : { type: "AdaptersSynced", status: "True", reason: "AdaptersSynced", message: `${active.length} adapter(s) exposed` }
    return {
      phase: Phase.result(
        [synced],
        requeue(interval),
        failures.length > 0 ? [new ApplyFailed({ failures })] : []
      ),
      adapters: Option.some(exposed.adapters)
    }
  })

/**
 * Writes the status when it changed, as a merge patch of the status subresource: the operator
 * is its only writer, so the write needs no resourceVersion and cannot be refused as stale when
 * the object handed to the pass lags the operator's own last write.
 */
const writeStatus = (server: DittoServer.DittoServer, update: Omit<Status.Update, "generation" | "now">) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    const now = timestamp(yield* Clock.currentTimeMillis)
    const next = Status.next(server.status, { ...update, generation: server.metadata.generation, now })
    if (Status.equal(server.status, next)) return
    yield* kubernetes.patchStatus(Resources.DittoServer, server, { ...server, status: next })
  })

/** The phase of a server that is not being deleted. */
const phaseOf = (
  spec: DittoServer.Spec,
  workload: Option.Option<WorkloadStatus>,
  facts: ReadonlyArray<Status.ConditionFact>
): "Failed" | "Stopped" | "Running" | "Pending" => {
  if (Option.isSome(workload) && workload.value.stuck) return "Failed"
  if (spec.replicas === 0) return "Stopped"
  return facts.some((fact) => fact.type === "Available" && fact.status === "True") ? "Running" : "Pending"
}

/**
 * The operator's pass over one DittoServer: the finalizer on deletion, else the session, poll,
 * workload, exposure and status phases. Returns the shortest requeue; fails with `PassFailed` after
 * writing the status when a phase failed.
 */
export const reconcile = Effect.fn("reconcileDittoServer")(function*(
  observed: DittoServer.DittoServer,
  options: Options = {}
) {
  const baseUrl = apiUrl(observed, options)
  if (observed.metadata.deletionTimestamp !== undefined) {
    const deleting = yield* Effect.result(writeStatus(observed, { facts: [], adapters: Option.none(), phase: "Deleting" }))
    if (deleting._tag === "Failure") {
      yield* Effect.logWarning("could not write the Deleting status").pipe(Effect.annotateLogs({ reason: deleting.failure.reason }))
    }
    return yield* Finalizer.finalize(observed, baseUrl)
  }
  const server = yield* Finalizer.ensure(observed).pipe(
    Effect.mapError((error) =>
      new PassFailed({
        errors: [new ApplyFailed({ failures: [{ kind: DittoServer.kind, change: "Update", name: observed.metadata.name, error }] })]
      })
    )
  )
  const interval = DittoServer.pollingInterval(server.spec)

  const session = yield* sessionPhase(server, baseUrl, interval)
  const poll = Option.isSome(session.session) ? yield* pollPhase(server, session.session.value, interval) : undefined
  const adapters = poll === undefined ? Option.none<Adapter.List>() : poll.adapters
  // exposure first: a stopped adapter's Service goes right after the poll that saw it stop
  const exposure = Option.isSome(adapters) ? yield* exposurePhase(server, adapters.value, interval) : undefined
  const workload = yield* reconcileWorkload(server, adapters)

  const pass = Phase.merge([
    session.phase,
    ...(poll === undefined ? [] : [poll.phase]),
    Phase.result(workload.facts, requeue(interval), workload.errors),
    ...(exposure === undefined ? [] : [exposure.phase])
  ])
  yield* writeStatus(server, {
    facts: pass.facts,
    adapters: exposure === undefined ? Option.none() : exposure.adapters,
    phase: phaseOf(server.spec, workload.status, pass.facts),
    ...Option.match(workload.status, {
      onNone: () => ({}),
      onSome: (status) => ({ workload: status })
    })
  }).pipe(
    Effect.mapError((error) =>
      new PassFailed({
        errors: [...pass.errors, new ApplyFailed({ failures: [{ kind: DittoServer.kind, change: "Update", name: server.metadata.name, error }] })]
      })
    )
  )
  if (pass.errors.length > 0) return yield* new PassFailed({ errors: pass.errors })
  return pass.action
})
