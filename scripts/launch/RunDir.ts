/**
 * A private temporary folder for one launched environment (logs, pid files, certificates,
 * data directories).
 *
 * Contract: `make(prefix)` creates `${TMPDIR:-/tmp}/<prefix><random>` and removes it when the
 * scope closes, unless `KEEP_RUN_DIR=1` (then its path is logged so it can be inspected). Acquire
 * it before the processes that write into it: scopes release in reverse order, so the folder is
 * removed only after they were stopped.
 */
import { Config, Effect } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describeCause, LaunchError } from "./LaunchError.ts"

export const keepRunDir = Config.Boolean("KEEP_RUN_DIR").pipe(Config.withDefault(false))

const remove = (dir: string) =>
  Effect.tryPromise({
    try: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
    catch: (cause) => new LaunchError({ step: "remove run dir", message: `${dir}: ${describeCause(cause)}` })
  }).pipe(Effect.catch((error) => Effect.logWarning(error.message)))

export const make = Effect.fn("RunDir.make")(function*(prefix: string) {
  const keep = yield* keepRunDir.pipe(
    Effect.mapError((error) => new LaunchError({ step: "read KEEP_RUN_DIR", message: error.message }))
  )
  return yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => mkdtemp(join(tmpdir(), prefix)),
      catch: (cause) => new LaunchError({ step: "create run dir", message: describeCause(cause) })
    }),
    (dir) => keep ? Effect.logInfo(`KEEP_RUN_DIR=1: kept ${dir}`) : remove(dir)
  )
})
