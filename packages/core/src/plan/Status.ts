/**
 * The DittoServer's status: conditions with Kubernetes semantics, the adapters exposed, the
 * generation observed.
 *
 * Contract (total, pure):
 * - `setCondition` moves `lastTransitionTime` only when the status flips; reason, message and
 *   `observedGeneration` follow the latest fact.
 * - `Ready` is derived: True iff every other condition the operator maintains is True; its
 *   message names those that are not (`Not ready: [NotAuthenticated]`) — unless the pass states
 *   it itself (e.g. an invalid spec).
 * - `next` keeps the last known `adapters` when a pass did not learn them (failed poll).
 * - `equal` compares by value, so the status is written only when it changes.
 */
import * as Json from "../domain/Json.ts"
import { Option, Order } from "effect"
import type * as DittoServer from "../domain/DittoServer.ts"

/** The conditions `Ready` requires, in the order the status lists them. */
export const conditionTypes = [
  "ConfigReady",
  "WorkloadSynced",
  "Available",
  "DittoFSReachable",
  "Authenticated",
  "AdaptersSynced"
] as const

/** Conditions that inform without gating `Ready`. */
export const informationalTypes = ["Progressing"] as const

/** The condition types of a DittoServer's status. */
export type ConditionType = (typeof conditionTypes)[number] | (typeof informationalTypes)[number] | "Ready"

/** What a phase found out about one condition: its status, reason and message. */
export interface ConditionFact {
  readonly type: ConditionType
  readonly status: "True" | "False" | "Unknown"
  readonly reason: string
  readonly message: string
}

/** The conditions with one fact set; the transition time changes only when the status does. */
export const setCondition = (
  conditions: ReadonlyArray<DittoServer.Condition>,
  fact: ConditionFact,
  now: string,
  generation: number | undefined
): ReadonlyArray<DittoServer.Condition> => {
  const existing = conditions.find((condition) => condition.type === fact.type)
  const next: DittoServer.Condition = {
    type: fact.type,
    status: fact.status,
    reason: fact.reason,
    message: fact.message,
    lastTransitionTime: existing !== undefined && existing.status === fact.status ? existing.lastTransitionTime : now,
    ...(generation === undefined ? {} : { observedGeneration: generation })
  }
  return existing === undefined
    ? [...conditions, next]
    : conditions.map((condition) => (condition.type === fact.type ? next : condition))
}

/**
 * The `Ready` condition: True when every condition but the informational ones is True, else False
 * naming those that are not.
 */
export const readiness = (conditions: ReadonlyArray<DittoServer.Condition>): ConditionFact => {
  const failing = conditionTypes.filter((type) => conditions.find((condition) => condition.type === type)?.status !== "True")
  return failing.length === 0
    ? { type: "Ready", status: "True", reason: "AllConditionsMet", message: "All conditions are met" }
    : {
      type: "Ready",
      status: "False",
      reason: "ConditionsNotMet",
      message: `Not ready: [${failing.map((type) => `Not${type}`).join(" ")}]`
    }
}

const order = (type: string): number => {
  const index = [...conditionTypes, ...informationalTypes, "Ready"].indexOf(type)
  return index < 0 ? Number.MAX_SAFE_INTEGER : index
}

/**
 * What a pass sets in the status: condition facts, adapters, the observed generation, the time, the
 * workload counts and the phase.
 */
export interface Update {
  readonly facts: ReadonlyArray<ConditionFact>
  /** `None` keeps the adapters of the current status. */
  readonly adapters: Option.Option<ReadonlyArray<DittoServer.AdapterStatus>>
  readonly generation: number | undefined
  /** RFC 3339 time of this pass. */
  readonly now: string
  /** The phase, when the pass knows better than the Ready condition (e.g. `Deleting`). */
  readonly phase?: NonNullable<DittoServer.Status["phase"]>
  /** Replica counts and config hash of the workload, when the pass observed it. */
  readonly workload?: WorkloadCounts
}

/** The StatefulSet's replica counts and the configuration hash, for the status. */
export interface WorkloadCounts {
  readonly replicas: number
  readonly readyReplicas: number
  readonly availableReplicas: number
  readonly configHash: string
}

/**
 * The next status from the current one and a pass's update; fields the update does not name are
 * kept.
 */
export const next = (current: DittoServer.Status | undefined, update: Update): DittoServer.Status => {
  const withFacts = update.facts.reduce(
    (conditions, fact) => setCondition(conditions, fact, update.now, update.generation),
    current?.conditions ?? []
  )
  const ready = update.facts.find((fact) => fact.type === "Ready") ?? readiness(withFacts)
  const conditions = [...setCondition(withFacts, ready, update.now, update.generation)]
    .sort((a, b) => order(a.type) - order(b.type) || Order.String(a.type, b.type))
  const adapters = Option.getOrElse(update.adapters, () => current?.adapters ?? [])
  return {
    ...current,
    ...(update.generation === undefined ? {} : { observedGeneration: update.generation }),
    ...(update.workload === undefined ? {} : {
      replicas: update.workload.replicas,
      readyReplicas: update.workload.readyReplicas,
      availableReplicas: update.workload.availableReplicas,
      configHash: update.workload.configHash
    }),
    phase: update.phase ?? (ready.status === "True" ? "Running" : "Pending"),
    conditions,
    adapters
  }
}


/**
 * Whether two statuses are the same (as canonical JSON): the status is written only when it
 * changes.
 */
export const equal = (a: DittoServer.Status | undefined, b: DittoServer.Status | undefined): boolean =>
  Json.equal(a ?? {}, b ?? {})
