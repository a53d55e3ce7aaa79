/**
 * What one phase of a DittoServer pass hands back: the status facts it learned, when it wants
 * to run again, and what failed. Phases never fail as Effects, so one phase's failure never
 * keeps the next from running; the pass merges their results once.
 *
 * Contract (pure): `merge` concatenates facts and errors in phase order and keeps the shortest
 * action (`Action.shortest`).
 */
import type * as Status from "../plan/Status.ts"
import { type Action, awaitChange, shortest } from "./Action.ts"
import type { PhaseError } from "./PassError.ts"

export interface PhaseResult {
  readonly facts: ReadonlyArray<Status.ConditionFact>
  readonly action: Action
  readonly errors: ReadonlyArray<PhaseError>
}

export const result = (
  facts: ReadonlyArray<Status.ConditionFact>,
  action: Action = awaitChange,
  errors: ReadonlyArray<PhaseError> = []
): PhaseResult => ({ facts, action, errors })

export const merge = (results: ReadonlyArray<PhaseResult>): PhaseResult => ({
  facts: results.flatMap((phase) => phase.facts),
  action: shortest(results.map((phase) => phase.action)),
  errors: results.flatMap((phase) => phase.errors)
})
