/**
 * The one failure type of the test-environment launchers (control plane, `dfs`).
 *
 * Contract: `step` names what was being done (`start etcd`, `wait for kube-apiserver`, ...);
 * `message` says what went wrong and, for a child process, ends with the tail of its log. A
 * message never contains a bearer token or a password.
 */
import { Schema } from "effect"

export class LaunchError extends Schema.TaggedError<LaunchError>()("LaunchError", {
  step: Schema.String,
  message: Schema.String
}) {}

/** The message of any thrown value, for wrapping Node errors into a `LaunchError`. */
export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause)
