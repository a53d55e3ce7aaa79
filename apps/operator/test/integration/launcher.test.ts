/**
 * The test-environment launchers themselves: the run's control plane (started by the global
 * setup) answers and its kubeconfig works with client-node and kubectl; and no child of a
 * launcher (`all`: the workloads plane and a dfs) survives the launcher being killed with SIGKILL
 * (no finalizer runs then: only `setpriv --pdeathsig` stands between a crashed test run and leaked
 * etcd/apiserver/scheduler/kwok/dfs processes).
 */
import { ApiextensionsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node"
import { assert, it } from "@effect/vitest"
import { Data, Duration, Effect, Schedule } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { readdir, readFile, rm } from "node:fs/promises"
import { basename, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { inject } from "vitest"
import { locate } from "../../../../scripts/launch/Binaries.ts"
import { crdDir, defaultCrdFiles } from "../../../../scripts/launch/ControlPlane.ts"
import * as LoopbackHttp from "../../../../scripts/launch/LoopbackHttp.ts"

const launcherMain = fileURLToPath(new URL("../../../../scripts/launch/main.ts", import.meta.url))

it.live("the control plane answers /readyz to the admin token and refuses an unknown token", () =>
  Effect.gen(function*() {
    const ca = yield* Effect.promise(() => readFile(inject("caFile"), "utf8"))
    const ready = yield* LoopbackHttp.request({ url: `${inject("server")}/readyz`, bearerToken: inject("token"), ca })
    assert.deepStrictEqual([ready.status, ready.text], [200, "ok"])
    const stranger = yield* LoopbackHttp.request({ url: `${inject("server")}/api/v1/namespaces`, bearerToken: "not-a-token", ca })
    assert.strictEqual(stranger.status, 401)
  }))

it.live("the kubeconfig works with client-node and kubectl; the operator's CRDs are Established", () =>
  Effect.gen(function*() {
    const kubeConfig = new KubeConfig()
    kubeConfig.loadFromFile(inject("kubeconfigPath"))
    const namespace = yield* Effect.promise(() => kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: "default" }))
    assert.strictEqual(namespace.status?.phase, "Active")

    const kubectl = (yield* locate).kubectl
    const { stdout } = yield* Effect.promise(() =>
      promisify(execFile)(kubectl, ["--kubeconfig", inject("kubeconfigPath"), "get", "namespace", "default", "-o", "name"])
    )
    assert.strictEqual(stdout.trim(), "namespace/default")

    const crdFiles = yield* defaultCrdFiles
    const crds = yield* Effect.promise(() => kubeConfig.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition())
    const established = crds.items
      .filter((crd) => crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
      .map((crd) => crd.metadata?.name)
    assert.strictEqual(established.length, crds.items.length, "every CRD is Established")
    if (crdFiles.includes(join(crdDir, "dittoservers.yaml"))) {
      assert.include(established, "dittoservers.dittofs.dittofs.com")
    }
  }))

/** Alive = exists and is not a zombie (an orphan's zombie waits for a reaper but holds nothing). */
const isAlive = (pid: number) =>
  Effect.promise(() =>
    readFile(`/proc/${pid}/stat`, "utf8").then(
      (stat) => !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)),
      () => false
    )
  )

class LauncherExited extends Data.TaggedError("LauncherExited")<{ readonly message: string }> {}

/** The first stdout line of the launcher, a JSON object of run dirs (see `scripts/launch/main.ts --json`). */
const firstLine = (child: ChildProcess) =>
  Effect.callback<string, LauncherExited>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
      const newline = stdout.indexOf("\n")
      if (newline >= 0) resume(Effect.succeed(stdout.slice(0, newline)))
    })
    child.once("exit", (code) =>
      resume(Effect.fail(new LauncherExited({ message: `launcher exited (${code}) before it was ready:\n${stderr}` }))))
  })

const pidFiles = (dir: string) =>
  Effect.promise(() => readdir(dir)).pipe(
    Effect.map((names) => names.filter((name) => name.endsWith(".pid")).map((name) => join(dir, name))),
    Effect.flatMap((files) =>
      Effect.forEach(files, (file) =>
        Effect.promise(() => readFile(file, "utf8")).pipe(
          Effect.map((text) => ({ name: basename(file, ".pid"), pid: Number(text.trim()) }))
        )))
  )

it.live("no child of a launcher survives a SIGKILL of the launcher", () =>
  Effect.gen(function*() {
    const launcher = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(process.execPath, [launcherMain, "all", "--json"], { stdio: ["ignore", "pipe", "pipe"] })),
      (child) => Effect.sync(() => void child.kill("SIGKILL"))
    )
    const line = yield* firstLine(launcher).pipe(Effect.timeout("90 seconds"), Effect.orDie)
    const dirs: { readonly controlPlaneDir: string; readonly dittoFsDir: string } = JSON.parse(line)
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all([dirs.controlPlaneDir, dirs.dittoFsDir].map((dir) => rm(dir, { recursive: true, force: true }))))
    )
    const children = [...yield* pidFiles(dirs.controlPlaneDir), ...yield* pidFiles(dirs.dittoFsDir)]
    // Whatever happens below, nothing this test started may outlive it.
    yield* Effect.addFinalizer(() =>
      Effect.forEach(children, ({ pid }) =>
        Effect.flatMap(isAlive(pid), (alive) => alive ? Effect.sync(() => process.kill(pid, "SIGKILL")) : Effect.void))
    )
    // `all` starts the workloads plane: kube-scheduler and kwok must die with the launcher too.
    assert.deepStrictEqual(
      children.map((child) => child.name).sort(),
      ["dfs", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    )
    assert.deepStrictEqual(yield* Effect.forEach(children, ({ pid }) => isAlive(pid)), children.map(() => true))

    launcher.kill("SIGKILL")

    const survivors = Effect.filter(children, ({ pid }) => isAlive(pid))
    const [waited] = yield* survivors.pipe(
      Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (alive) => alive.length === 0 }),
      Effect.timeoutOption("5 seconds"),
      Effect.timed
    )
    const stillAlive = yield* survivors
    assert.deepStrictEqual(stillAlive.map((child) => child.name), [], "children alive 5 s after the launcher was killed")
    yield* Effect.logInfo(`all ${children.length} children gone ${Duration.format(waited)} after the launcher's SIGKILL`)
  }))
