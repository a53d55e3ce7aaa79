/**
 * What a reconcile asks of the controller once it is done: run again after a delay, or wait for
 * the next change of the object (kube-rs `Action`).
 */
import type { Duration } from "effect"

export type Action =
  | { readonly _tag: "Requeue"; readonly after: Duration.Duration }
  | { readonly _tag: "AwaitChange" }

export const requeue = (after: Duration.Duration): Action => ({ _tag: "Requeue", after })

export const awaitChange: Action = { _tag: "AwaitChange" }
