/**
 * Child processes of a launcher that never outlive it.
 *
 * Contract:
 * - `spawn` starts `command` under `setpriv --pdeathsig SIGKILL`, so the kernel kills it when the
 *   launching process dies, even by SIGKILL. Its stdout and stderr are appended to
 *   `<dir>/<name>.log` and its pid is written to `<dir>/<name>.pid`.
 * - `terminate` sends SIGTERM, waits up to the grace period, then SIGKILL, and returns once the
 *   process has exited (a process that already exited is left alone).
 * - `spawnScoped` = `spawn` + `terminate` when the scope closes.
 * - `failWhenExited` turns an exit into a `LaunchError` carrying the tail of the log, to race
 *   against a readiness wait (a crash is reported at once, not after the time-out).
 */
import { Deferred, Duration, Effect, Option } from "effect"
import { spawn as spawnProcess } from "node:child_process"
import { closeSync, openSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describeCause, LaunchError } from "./LaunchError.ts"

export interface ChildSpec {
  /** Short name: the log is `<dir>/<name>.log`, the pid file `<dir>/<name>.pid`. */
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly dir: string
  /** Added to (and overriding) the launcher's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** Variables of the launcher's environment the child must not inherit. */
  readonly dropEnv?: (name: string) => boolean
  readonly cwd?: string
}

export interface ExitStatus {
  readonly code: number | null
  readonly signal: string | null
}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly logFile: string
  readonly pidFile: string
  /** Completes when the process has exited. */
  readonly exited: Effect.Effect<ExitStatus>
  readonly hasExited: Effect.Effect<boolean>
  /** Sends a signal unless the process already exited. */
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
}

const describeExit = (status: ExitStatus): string =>
  status.signal !== null ? `was killed by ${status.signal}` : `exited with code ${status.code}`

/** The last `lines` lines of a child's log (or why it could not be read). */
export const logTail = (child: Pick<Child, "logFile">, lines = 40): Effect.Effect<string> =>
  Effect.tryPromise(() => readFile(child.logFile, "utf8")).pipe(
    Effect.map((text) => text.trimEnd().split("\n").slice(-lines).join("\n")),
    Effect.catch((error) => Effect.succeed(`(log ${child.logFile} unreadable: ${describeCause(error.cause)})`))
  )

const inheritedEnv = (drop: ((name: string) => boolean) | undefined): NodeJS.ProcessEnv =>
  drop === undefined ? process.env : Object.fromEntries(Object.entries(process.env).filter(([name]) => !drop(name)))

const openLog = (path: string) =>
  Effect.try({
    try: () => openSync(path, "a"),
    catch: (cause) => new LaunchError({ step: `open ${path}`, message: describeCause(cause) })
  })

export const spawn = Effect.fn("ChildProcesses.spawn")(function*(spec: ChildSpec) {
  const logFile = join(spec.dir, `${spec.name}.log`)
  const pidFile = join(spec.dir, `${spec.name}.pid`)
  const logFd = yield* openLog(logFile)
  const exit = Deferred.makeUnsafe<ExitStatus>()
  const childProcess = yield* Effect.callback<ReturnType<typeof spawnProcess>, LaunchError>((resume) => {
    const child = spawnProcess("setpriv", ["--pdeathsig", "SIGKILL", "--", spec.command, ...spec.args], {
      stdio: ["ignore", logFd, logFd],
      // Own process group: a terminal's Ctrl-C reaches only the launcher, which stops its
      // children in order (the kernel still kills them if the launcher dies).
      detached: true,
      env: { ...inheritedEnv(spec.dropEnv), ...spec.env },
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd })
    })
    closeSync(logFd)
    child.once("error", (cause) =>
      resume(Effect.fail(new LaunchError({ step: `start ${spec.name}`, message: describeCause(cause) }))))
    child.once("spawn", () => resume(Effect.succeed(child)))
    child.once("exit", (code, signal) => Deferred.doneUnsafe(exit, Effect.succeed({ code, signal })))
  })
  const pid = childProcess.pid ?? -1
  yield* Effect.tryPromise({
    try: () => writeFile(pidFile, `${pid}\n`),
    catch: (cause) => new LaunchError({ step: `write ${pidFile}`, message: describeCause(cause) })
  }).pipe(Effect.onError(() => Effect.sync(() => void childProcess.kill("SIGKILL"))))
  const child: Child = {
    name: spec.name,
    pid,
    logFile,
    pidFile,
    exited: Deferred.await(exit),
    hasExited: Deferred.isDone(exit),
    signal: (signal) =>
      Effect.flatMap(Deferred.isDone(exit), (done) => done ? Effect.void : Effect.sync(() => void childProcess.kill(signal)))
  }
  return child
})

export const terminate = Effect.fn("ChildProcesses.terminate")(function*(
  child: Child,
  grace: Duration.Input = "5 seconds"
) {
  if (yield* child.hasExited) return
  yield* child.signal("SIGTERM")
  if (Option.isSome(yield* Effect.timeoutOption(child.exited, grace))) return
  yield* Effect.logWarning(`${child.name} (pid ${child.pid}) ignored SIGTERM for ${Duration.format(Duration.fromInputUnsafe(grace))}; sending SIGKILL`)
  yield* child.signal("SIGKILL")
  yield* child.exited
})

export const spawnScoped = (spec: ChildSpec, grace?: Duration.Input) =>
  Effect.acquireRelease(spawn(spec), (child) => terminate(child, grace))

/** Fails with the exit status and log tail as soon as `child` exits; never succeeds. */
export const failWhenExited = (child: Child, step: string): Effect.Effect<never, LaunchError> =>
  Effect.flatMap(child.exited, (status) =>
    Effect.flatMap(logTail(child), (tail) =>
      Effect.fail(
        new LaunchError({
          step,
          message: `${child.name} ${describeExit(status)}; last lines of ${child.logFile}:\n${tail}`
        })
      )))
