/**
 * The Dockerfile, as far as it can be tested without a container engine: its stages are replayed
 * on this machine. The build stage's COPY instructions are carried out from the repository (minus
 * `.dockerignore`) into an empty folder, its install runs there (offline, from the local package
 * store) and its bundling step must succeed with only what was copied; the runtime stage's
 * `COPY --from=build` must find its files, and its ENTRYPOINT + CMD, run as its USER (uid 65532)
 * from the copied layout, must work; the runtime stage's exec-form RUN (the startup snapshot) runs as
 * its user, warning-free, and the entrypoint starts from what it made. Its pinned Node and pnpm are the
 * project's (`scripts/env.sh`).
 * Not tested: the base images themselves, and building or running the image.
 */
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Schedule } from "effect"
import { execFile, spawn } from "node:child_process"
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import { runtimeEnv, snapshotBuildArgs, snapshotEntryName, snapshotName, snapshotRunArgs } from "../../../scripts/bundle.ts"

const repo = fileURLToPath(new URL("../../../../../", import.meta.url))

interface Instruction {
  readonly keyword: string
  readonly rest: string
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
const instructions = (text: string): ReadonlyArray<Instruction> =>
  text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/)
      return { keyword: keyword.toUpperCase(), rest: rest.join(" ") }
    })

interface Stage {
  readonly from: string
  readonly name: string
  readonly instructions: ReadonlyArray<Instruction>
}

const stages = (all: ReadonlyArray<Instruction>): ReadonlyArray<Stage> => {
  const result: Array<{ from: string; name: string; instructions: Array<Instruction> }> = []
  for (const instruction of all) {
    if (instruction.keyword === "FROM") {
      const [image = "", , name = ""] = instruction.rest.split(/\s+/)
      result.push({ from: image, name, instructions: [] })
    } else result.at(-1)?.instructions.push(instruction)
  }
  return result
}

/** `COPY [--from=x] src... dest` (JSON or plain form). */
const copyOf = (rest: string) => {
  const words = rest.split(/\s+/)
  const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length)
  const args = words.filter((word) => !word.startsWith("--"))
  const paths = args.length > 0 && args[0]?.startsWith("[") === true ? JSON.parse(args.join(" ")) as Array<string> : args
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" }
}

/** The patterns of `.dockerignore` as a predicate on context-relative paths. */
const ignoredBy = (text: string) => {
  const patterns = text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))
  return (path: string): boolean => {
    const segments = path.split(sep)
    return patterns.some((pattern) =>
      pattern.startsWith("**/") ? segments.includes(pattern.slice(3)) : path === pattern || path.startsWith(`${pattern}/`)
    )
  }
}

class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {}

const sh = (command: string, args: ReadonlyArray<string>, cwd: string, env: Readonly<Record<string, string>> = {}) =>
  Effect.tryPromise({
    try: () => promisify(execFile)(command, [...args], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }),
    catch: (cause) => new CommandFailed({ message: `${command} ${args.join(" ")}: ${(cause as Error).message}` })
  })

describe("the Dockerfile", () => {
  it.live("its stages, replayed without a container engine: the build stage bundles from what it copies, the runtime stage's entrypoint runs as uid 65532", () =>
    Effect.gen(function*() {
      const dockerfile = instructions(readFileSync(join(repo, "Dockerfile"), "utf8"))
      const ignored = ignoredBy(readFileSync(join(repo, ".dockerignore"), "utf8"))
      const [build, runtime, ...more] = stages(dockerfile)
      assert.deepStrictEqual(more, [], "two stages")
      if (build === undefined || runtime === undefined) return assert.fail("two stages")

      // Pinned like the project's toolchain.
      const env = readFileSync(join(repo, "scripts/env.sh"), "utf8")
      const nodeVersion = /NODE_VERSION=(\S+)/.exec(env)?.[1]
      const pnpmVersion = /PNPM_VERSION=(\S+)/.exec(env)?.[1]
      assert.strictEqual(build.from, `node:${nodeVersion}-bookworm-slim`)
      assert.isTrue(build.instructions.some((i) => i.keyword === "RUN" && i.rest === `npm install --global pnpm@${pnpmVersion}`))
      assert.include(runtime.from, "nodejs24")
      assert.include(runtime.from, ":nonroot")

      // The build stage, in an empty folder.
      const root = yield* RunDir.make("dittofs-operator-image-")
      chmodSync(root, 0o755)
      let workdir = "/"
      for (const { keyword, rest } of build.instructions) {
        if (keyword === "WORKDIR") {
          workdir = rest
          mkdirSync(join(root, workdir), { recursive: true })
        } else if (keyword === "COPY") {
          const { dest, from, sources } = copyOf(rest)
          assert.isUndefined(from)
          for (const source of sources) {
            assert.isTrue(existsSync(join(repo, source)), `COPY ${source}: exists`)
            assert.isFalse(ignored(source), `COPY ${source}: not in .dockerignore`)
            const target = join(root, dest.startsWith("/") ? dest : join(workdir, dest), dest.endsWith("/") ? source.split("/").at(-1) ?? "" : "")
            cpSync(join(repo, source), target, {
              recursive: true,
              filter: (path) => !ignored(relative(repo, path))
            })
          }
        } else if (keyword === "RUN" && rest.startsWith("pnpm install")) {
          const args = rest.split(/\s+/).slice(1).map((arg) => arg.replace(/^"(.*)"$/, "$1"))
          yield* sh("pnpm", [...args, "--offline"], join(root, workdir))
        } else if (keyword === "RUN" && rest.startsWith("node ")) {
          yield* sh("node", rest.split(/\s+/).slice(1), join(root, workdir))
        }
      }

      // The runtime stage: its COPY --from=build finds the bundle, the entrypoint runs as its user.
      let appDir = "/"
      let user = ""
      let entrypoint: ReadonlyArray<string> = []
      let cmd: ReadonlyArray<string> = []
      let healthcheck: ReadonlyArray<string> = []
      const imageEnv: Record<string, string> = {}
      const runs: Array<{ readonly user: string; readonly env: Readonly<Record<string, string>>; readonly args: ReadonlyArray<string> }> = []
      for (const { keyword, rest } of runtime.instructions) {
        if (keyword === "WORKDIR") appDir = rest
        if (keyword === "USER") user = rest
        if (keyword === "ENV") {
          const [name = "", ...value] = rest.split("=")
          imageEnv[name] = value.join("=")
        }
        if (keyword === "RUN") {
          assert.isTrue(rest.startsWith("["), "exec form: distroless has no shell")
          runs.push({ user, env: { ...imageEnv }, args: JSON.parse(rest) as Array<string> })
        }
        if (keyword === "ENTRYPOINT") entrypoint = JSON.parse(rest) as Array<string>
        if (keyword === "CMD") cmd = JSON.parse(rest) as Array<string>
        if (keyword === "HEALTHCHECK") {
          assert.include(rest, "/healthz", "a HEALTHCHECK goes through the health endpoint")
          healthcheck = JSON.parse(rest.slice(rest.indexOf("CMD ") + 4)) as Array<string>
        }
        if (keyword === "COPY") {
          const { dest, from, sources } = copyOf(rest)
          assert.strictEqual(from, build.name)
          for (const source of sources) {
            assert.isTrue(existsSync(join(root, source)), `COPY --from=${from} ${source}: built`)
            const target = join(root, "runtime", dest, source.split("/").at(-1) ?? "")
            mkdirSync(dirname(target), { recursive: true })
            cpSync(join(root, source), target)
          }
        }
      }
      assert.strictEqual(user, "65532:65532")
      assert.deepStrictEqual(imageEnv, runtimeEnv, "the environment the benchmarks measured")
      const blob = `${appDir}/${snapshotName}`
      assert.deepStrictEqual(entrypoint, ["/nodejs/bin/node", ...snapshotRunArgs(blob)])
      assert.deepStrictEqual(cmd, ["run"])
      chmodSync(join(root, "runtime"), 0o755)
      const [uid, gid] = user.split(":")
      /** A path of the image in the replayed layout. */
      const inImage = (path: string) => join(root, "runtime", path)
      /** A command line of the image, its paths in the replayed layout and this machine's node. */
      const replayed = (args: ReadonlyArray<string>) =>
        args.map((arg, i) => i === 0 ? process.execPath : arg.startsWith(`${appDir}/`) ? inImage(arg) : arg)

      // The startup snapshot: made with the ENTRYPOINT's node and flags, from the script COPY brought
      assert.strictEqual(runs.length, 1, "one RUN: the startup snapshot")
      const [snapshotRun] = runs
      if (snapshotRun === undefined) return assert.fail("one RUN")
      assert.deepStrictEqual(snapshotRun.args, ["/nodejs/bin/node", ...snapshotBuildArgs(`${appDir}/${snapshotEntryName}`, blob)])
      assert.strictEqual(snapshotRun.user, "0:0", "made as root, who owns /app")
      const [snapshotNode = "", ...snapshotArgs] = replayed(snapshotRun.args)
      const made = yield* sh(snapshotNode, snapshotArgs, "/", snapshotRun.env)
      assert.notInclude(made.stderr, "Warning", "nothing of the program is in the snapshot that Node cannot vouch for")
      chmodSync(inImage(blob), 0o644)

      const entry = replayed(entrypoint)
      const asUser = (args: ReadonlyArray<string>) =>
        sh("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", ...entry, ...args], "/", imageEnv)
      assert.strictEqual((yield* asUser(["--version"])).stdout.trim(), "dittofs-operator v0.1.0")
      assert.include((yield* asUser([...cmd, "--help"])).stdout, "--namespace")

      // The HEALTHCHECK, run as the image would: healthy while the operator runs, unhealthy once it stopped.
      assert.strictEqual(healthcheck[0], entrypoint[0], "the HEALTHCHECK runs the image's node")
      const probe = sh("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", process.execPath, ...healthcheck.slice(1)], "/").pipe(
        Effect.as("healthy"),
        Effect.orElseSucceed(() => "unhealthy")
      )
      // liveness needs no API server: one that refuses every connection will do
      const kubeconfig = join(root, "kubeconfig")
      writeFileSync(kubeconfig, JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "none", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } }],
        users: [{ name: "none", user: { token: "none" } }],
        contexts: [{ name: "none", context: { cluster: "none", user: "none" } }],
        "current-context": "none"
      }))
      chmodSync(kubeconfig, 0o644)
      const operator = spawn("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", ...entry, ...cmd, "--kubeconfig", kubeconfig, "--namespace", "healthcheck-none", "--metrics-address", "0"], { stdio: "ignore", env: { ...process.env, ...imageEnv } })
      const exited = new Promise((resolve) => operator.once("exit", resolve))
      yield* Effect.addFinalizer(() => Effect.sync(() => void operator.kill("SIGKILL")))
      const healthy = yield* probe.pipe(
        Effect.filterOrFail((result) => result === "healthy", () => "unhealthy"),
        Effect.retry(Schedule.spaced("200 millis")),
        Effect.timeout("30 seconds"),
        Effect.orElseSucceed(() => "never healthy")
      )
      assert.strictEqual(healthy, "healthy")
      operator.kill("SIGTERM")
      yield* Effect.promise(() => exited)
      assert.strictEqual(yield* probe, "unhealthy")
    }).pipe(Effect.scoped), 300_000)
})
