/**
 * Where the Go binaries of the test environment are (etcd, kube-apiserver,
 * kube-controller-manager, kubectl, dfs, dfsctl, kube-scheduler and kwok for the workloads plane, and
 * helm for the operator's chart).
 *
 * Contract: `locate` uses `DITTOFS_OPERATOR_BIN_DIR` when it is set (nothing is built), otherwise
 * runs `scripts/build-binaries.sh` (which builds what is missing into its cache; its progress is
 * forwarded to stderr) and takes the folder from the last line of its stdout. Every binary must
 * be an executable file there, or the result is a `BinaryMissing` whose message says how to build
 * it.
 */
import { Effect, Schema } from "effect"
import { spawn } from "node:child_process"
import { constants } from "node:fs"
import { access } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export class BinaryMissing extends Schema.TaggedError<BinaryMissing>()("BinaryMissing", {
  binary: Schema.String,
  message: Schema.String
}) {}

export interface Binaries {
  readonly dir: string
  readonly etcd: string
  readonly kubeApiserver: string
  readonly kubeControllerManager: string
  readonly kubectl: string
  readonly kubeScheduler: string
  readonly kwok: string
  readonly dfs: string
  readonly dfsctl: string
  readonly helm: string
}

export const buildScript = fileURLToPath(new URL("../build-binaries.sh", import.meta.url))
const buildHint = "run `bash scripts/build-binaries.sh`"

const stderrTailLines = 15

/** Runs the build script; its stderr is shown live, its last stdout line is the bin dir. */
const runBuildScript = Effect.callback<string, BinaryMissing>((resume) => {
  const script = spawn("bash", [buildScript], { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderrTail: Array<string> = []
  script.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
  script.stderr.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk)
    stderrTail = [...stderrTail, ...chunk.toString("utf8").split("\n").filter((line) => line !== "")]
      .slice(-stderrTailLines)
  })
  const missing = (reason: string) =>
    resume(Effect.fail(new BinaryMissing({ binary: "*", message: `binaries missing: ${reason}; ${buildHint}` })))
  script.once("error", (cause) => missing(`cannot run ${buildScript}: ${cause.message}`))
  script.once("close", (code) => {
    const dir = stdout.trimEnd().split("\n").at(-1) ?? ""
    if (code === 0 && dir !== "") resume(Effect.succeed(dir))
    else missing(`${buildScript} failed (exit ${code}):\n${stderrTail.join("\n")}\n`)
  })
  return Effect.sync(() => void script.kill("SIGTERM"))
})

const requireExecutable = (dir: string, binary: string, hint: string) =>
  Effect.tryPromise({
    try: () => access(join(dir, binary), constants.X_OK),
    catch: () => new BinaryMissing({ binary, message: `binary ${binary} missing (looked in ${dir}): ${hint}` })
  }).pipe(Effect.as(join(dir, binary)))

export const locate: Effect.Effect<Binaries, BinaryMissing> = Effect.gen(function*() {
  const fromEnv = process.env.DITTOFS_OPERATOR_BIN_DIR
  const overridden = fromEnv !== undefined && fromEnv !== ""
  const dir = overridden ? fromEnv : yield* runBuildScript
  const hint = overridden ? `${buildHint} and unset DITTOFS_OPERATOR_BIN_DIR` : buildHint
  const [etcd, kubeApiserver, kubeControllerManager, kubectl, kubeScheduler, kwok, dfs, dfsctl, helm] = yield* Effect.all([
    requireExecutable(dir, "etcd", hint),
    requireExecutable(dir, "kube-apiserver", hint),
    requireExecutable(dir, "kube-controller-manager", hint),
    requireExecutable(dir, "kubectl", hint),
    requireExecutable(dir, "kube-scheduler", hint),
    requireExecutable(dir, "kwok", hint),
    requireExecutable(dir, "dfs", hint),
    requireExecutable(dir, "dfsctl", hint),
    requireExecutable(dir, "helm", hint)
  ])
  return { dir, etcd, kubeApiserver, kubeControllerManager, kubectl, kubeScheduler, kwok, dfs, dfsctl, helm }
}).pipe(Effect.withSpan("Binaries.locate"))
