/**
 * Reading and writing the small text files of a launched environment (kubeconfig, tokens, keys,
 * component configurations).
 *
 * Contract: `writeText` creates or replaces the file with the given mode (default 0600: run dirs
 * hold secrets); `readText` reads it as UTF-8. Failures are `LaunchError`s naming the path.
 */
import { Effect } from "effect"
import { readFile, writeFile } from "node:fs/promises"
import { describeCause, LaunchError } from "./LaunchError.ts"

export const writeText = (path: string, text: string, mode = 0o600): Effect.Effect<void, LaunchError> =>
  Effect.tryPromise({
    try: () => writeFile(path, text, { mode }),
    catch: (cause) => new LaunchError({ step: `write ${path}`, message: describeCause(cause) })
  })

export const readText = (path: string): Effect.Effect<string, LaunchError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (cause) => new LaunchError({ step: `read ${path}`, message: describeCause(cause) })
  })
