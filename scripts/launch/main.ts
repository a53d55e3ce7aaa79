/**
 * Starts the test environment by hand, until Ctrl-C:
 *
 *   node scripts/launch/main.ts controlplane [--workloads] [--crd FILE]... [--no-crds]
 *                                                                          etcd + kube-apiserver + controller manager
 *   node scripts/launch/main.ts dfs                                          one real `dfs`
 *   node scripts/launch/main.ts all [--json]                                 both, the control plane with workloads
 *
 * `--workloads` adds the pod lifecycle (statefulset controller, kube-scheduler, kwok and one
 * simulated Node): StatefulSets get Running, Ready pods. `all` always has it, so `kubectl get
 * pods` shows something. Without `--crd`, the CRDs of `apps/operator/deploy/crd/*.yaml` are
 * applied; `--no-crds` applies none (to install the operator's manifests or chart, CRD included,
 * on a bare control plane). `--json` prints one line `{"controlPlaneDir":…,"dittoFsDir":…}` once everything is
 * ready (tests read the pid files there). Otherwise it writes `env.sh` into the control plane's run
 * dir (or dfs's): KUBECONFIG (admin), PATH with the built binaries (kubectl, helm, dfsctl),
 * DITTOFS_URL and DITTOFS_ADMIN_PASSWORD, and prints how to source it. Everything is torn down on
 * SIGINT/SIGTERM (exit 130); `KEEP_RUN_DIR=1` keeps the run dirs.
 */
import { Cause, Console, Duration, Effect, Exit, Fiber, Option } from "effect"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { locate } from "./Binaries.ts"
import * as ControlPlane from "./ControlPlane.ts"
import * as DittoFsServer from "./DittoFsServer.ts"
import { describeCause, LaunchError } from "./LaunchError.ts"

const usage = "usage: node scripts/launch/main.ts controlplane [--workloads] [--crd FILE]... [--no-crds] | dfs | all [--json]"

interface Command {
  readonly controlPlane: boolean
  readonly dittoFs: boolean
  readonly json: boolean
  readonly workloads: boolean
  readonly crdFiles: ReadonlyArray<string>
  readonly noCrds: boolean
}

const parse = (argv: ReadonlyArray<string>): Option.Option<Command> => {
  const [mode, ...rest] = argv
  const crdFiles: Array<string> = []
  let json = false
  let workloads = false
  let noCrds = false
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]
    const value = rest[i + 1]
    if (arg === "--json") json = true
    else if (arg === "--workloads" && mode !== "dfs") workloads = true
    else if (arg === "--no-crds" && mode !== "dfs") noCrds = true
    else if (arg === "--crd" && value !== undefined) {
      crdFiles.push(value)
      i++
    } else return Option.none()
  }
  if (noCrds && crdFiles.length > 0) return Option.none()
  switch (mode) {
    case "controlplane":
      return Option.some({ controlPlane: true, dittoFs: false, json, workloads, crdFiles, noCrds })
    case "dfs":
      return Option.some({ controlPlane: false, dittoFs: true, json, workloads: false, crdFiles, noCrds })
    case "all":
      return Option.some({ controlPlane: true, dittoFs: true, json, workloads: true, crdFiles, noCrds })
    default:
      return Option.none()
  }
}

const run = (command: Command) =>
  Effect.gen(function*() {
    const binaries = yield* locate
    const output: Record<string, string> = {}
    const exports: Array<string> = [`export PATH=${binaries.dir}:$PATH`]
    let envDir = ""
    if (command.controlPlane) {
      const crdFiles = command.noCrds ? [] : command.crdFiles.length > 0 ? command.crdFiles : yield* ControlPlane.defaultCrdFiles
      const [elapsed, controlPlane] = yield* Effect.timed(ControlPlane.start({ binaries, crdFiles, workloads: command.workloads }))
      output.controlPlaneDir = controlPlane.dir
      envDir = controlPlane.dir
      exports.push(`export KUBECONFIG=${controlPlane.kubeconfigPath}`)
      if (!command.json) {
        yield* Console.log(`control plane ready in ${(Duration.toMillis(elapsed) / 1000).toFixed(1)} s at ${controlPlane.server}`)
        yield* Console.log(`  CRDs: ${crdFiles.length === 0 ? "(none)" : crdFiles.join(", ")}`)
        yield* Console.log(
          controlPlane.nodes.length === 0
            ? "  nodes: none (pods are never scheduled; --workloads runs them)"
            : `  nodes: ${controlPlane.nodes.join(", ")} (kwok: pods become Running and Ready, no containers run)`
        )
        yield* Console.log(`  logs and pids: ${controlPlane.dir}`)
        yield* Console.log(`  export KUBECONFIG=${controlPlane.kubeconfigPath}`)
        yield* Console.log(`  ${binaries.kubectl} --kubeconfig ${controlPlane.kubeconfigPath} get namespaces`)
      }
    }
    if (command.dittoFs) {
      const [elapsed, dfs] = yield* Effect.timed(DittoFsServer.start({ binaries }))
      output.dittoFsDir = dfs.dir
      if (envDir === "") envDir = dfs.dir
      exports.push(`export DITTOFS_URL=${dfs.baseUrl}`, `export DITTOFS_ADMIN_PASSWORD='${dfs.admin.password}'`)
      if (!command.json) {
        const passwordFile = join(dfs.dir, "admin-password")
        yield* Effect.tryPromise({
          try: () => writeFile(passwordFile, `${dfs.admin.password}\n`, { mode: 0o600 }),
          catch: (cause) => new LaunchError({ step: `write ${passwordFile}`, message: describeCause(cause) })
        })
        yield* Console.log(`dfs ready in ${(Duration.toMillis(elapsed) / 1000).toFixed(1)} s at ${dfs.baseUrl}`)
        yield* Console.log(`  admin user: ${dfs.admin.username}, password in ${passwordFile}`)
        yield* Console.log(`  adapters: nfs :${dfs.adapterPorts.nfs}, smb 127.0.0.1:${dfs.adapterPorts.smb}`)
        yield* Console.log(`  logs and pid: ${dfs.dir}`)
      }
    }
    if (command.json) yield* Console.log(JSON.stringify(output))
    else {
      const envFile = join(envDir, "env.sh")
      yield* Effect.tryPromise({
        try: () => writeFile(envFile, `${exports.join("\n")}\n`, { mode: 0o600 }),
        catch: (cause) => new LaunchError({ step: `write ${envFile}`, message: describeCause(cause) })
      })
      yield* Console.log(`in another shell: source ${envFile}   # ${exports.map((line) => line.split("=")[0]?.replace("export ", "")).join(", ")}`)
      yield* Console.log("running; Ctrl-C stops everything")
    }
    return yield* Effect.never
  }).pipe(Effect.scoped)

const command = parse(process.argv.slice(2))
if (Option.isNone(command)) {
  console.error(usage)
  process.exitCode = 2
} else {
  const fiber = Effect.runFork(run(command.value))
  const stop = () => void Effect.runFork(Fiber.interrupt(fiber))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  fiber.addObserver((exit) => {
    process.removeListener("SIGINT", stop)
    process.removeListener("SIGTERM", stop)
    if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
      console.error(Cause.pretty(exit.cause))
      process.exitCode = 1
    } else process.exitCode = 130
  })
}
