/**
 * Bundle benchmark: what the operator's single-file artefact weighs and how fast it starts.
 * - Size: the bundle (and gzipped), its largest packages, and how long esbuild takes.
 * - `--version` (load the program, parse the command line, exit): the bundle from a folder with
 *   no node_modules vs the sources (`node apps/operator/src/main.ts`, type stripping and
 *   node_modules), `BENCH_RUNS` (default 10) of each, alternating.
 * - `run` against a plain control plane, a DittoServer waiting: from spawning `node` to the
 *   operator's first write for it (its ConfigMap exists), and the resident memory (VmRSS, VmHWM)
 *   of the process 2 s later; `BENCH_RUNS` of each, bundle and sources alternating, each on a
 *   fresh namespace (DittoFS is unreachable: the workload is made without it).
 * Writes bench/reports/bundle.md; stops everything it started. Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Kubernetes, Naming } from "@dittofs-operator/core"
import { Clock, Console, Effect } from "effect"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { eventually, freshNamespace, timedMillis } from "../apps/operator/test/integration/e2e/harness.ts"
import { isolatedBundle } from "../apps/operator/test/integration/install/Install.ts"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ChildProcesses from "../scripts/launch/ChildProcesses.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import * as RunDir from "../scripts/launch/RunDir.ts"
import * as Sample from "../scripts/launch/Sample.ts"
import { machine, type Summary, summarize } from "./Measure.ts"

const runs = Number(process.env.BENCH_RUNS ?? 10)
const reportFile = fileURLToPath(new URL("reports/bundle.md", import.meta.url))
const sourceMain = fileURLToPath(new URL("../apps/operator/src/main.ts", import.meta.url))

const ms = (value: number) => value.toFixed(0)
const mib = (kib: number) => (kib / 1024).toFixed(1)
const row = (name: string, s: Summary, unit: (value: number) => string = ms) =>
  `| ${name} | ${s.n} | ${unit(s.min)} | ${unit(s.p50)} | ${unit(s.max)} | ${unit(s.mean)} |`

/** VmRSS and VmHWM of a process, in KiB. */
const memoryOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN)
  return { rss: field("VmRSS"), hwm: field("VmHWM") }
}

const program = Effect.gen(function*() {
  const loadAtStart = loadavg().map((load) => load.toFixed(1)).join(", ")
  const binaries = yield* locate
  const [bundleMillis, built] = yield* timedMillis(isolatedBundle)
  const gzipped = gzipSync(readFileSync(built.file)).length

  // --version: program load and exit.
  const versionOf = (args: ReadonlyArray<string>) => {
    const started = performance.now()
    execFileSync(process.execPath, [...args, "--version"], { cwd: "/", env: { PATH: process.env.PATH ?? "" } })
    return performance.now() - started
  }
  const versionBundle: Array<number> = []
  const versionSource: Array<number> = []
  for (let i = 0; i < runs; i++) {
    versionBundle.push(versionOf([built.file]))
    versionSource.push(versionOf([sourceMain]))
  }
  yield* Console.log(`--version: bundle p50 ${ms(summarize(versionBundle).p50)} ms, sources p50 ${ms(summarize(versionSource).p50)} ms`)

  // run: spawn → first write for a waiting DittoServer.
  const firstWrite = { bundle: [] as Array<number>, source: [] as Array<number> }
  const memory = { bundle: [] as Array<{ rss: number; hwm: number }>, source: [] as Array<{ rss: number; hwm: number }> }
  yield* Effect.gen(function*() {
    const plane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles })
    const dir = yield* RunDir.make("dittofs-operator-bench-bundle-")
    const once = (kind: "bundle" | "source", i: number) =>
      Effect.gen(function*() {
        const namespace = yield* freshNamespace(`bench-${kind}`)
        yield* Sample.apply({ namespace, apiUrl: "http://127.0.0.1:9", adminPassword: "unused", pollingInterval: "30s" })
        const started = yield* Clock.currentTimeMillis
        const child = yield* ChildProcesses.spawnScoped({
          name: `${kind}-${i}`,
          command: process.execPath,
          args: [kind === "bundle" ? built.file : sourceMain, "run", "--kubeconfig", plane.kubeconfigPath, "--namespace", namespace],
          dir,
          dropEnv: (name) => name === "KUBECONFIG"
        })
        yield* eventually(
          "ConfigMap",
          Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.ConfigMap, namespace, Naming.workloadNames("nas").configMap)),
          { timeout: "60 seconds", interval: "10 millis" }
        )
        firstWrite[kind].push((yield* Clock.currentTimeMillis) - started)
        yield* Effect.sleep("2 seconds")
        memory[kind].push(memoryOf(child.pid))
      }).pipe(Effect.scoped)
    yield* Effect.gen(function*() {
      for (let i = 0; i < runs; i++) {
        yield* once("bundle", i)
        yield* once("source", i)
        yield* Console.log(`run ${i + 1}/${runs}: first write bundle ${ms(firstWrite.bundle.at(-1) ?? 0)} ms, sources ${ms(firstWrite.source.at(-1) ?? 0)} ms`)
      }
    }).pipe(Effect.provide(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath })))
  }).pipe(Effect.scoped)

  const now = yield* Clock.currentTimeMillis
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`
  const report = [
    "# Bundle benchmark",
    "",
    `Date: ${new Date(now).toISOString().slice(0, 10)}. Machine: ${machine()}; load average at start ${loadAtStart} (1, 5, 15 min).`,
    `Binaries: ${basename(binaries.dir)}.`,
    "Reproduce: `pnpm bench` (or `node bench/bundle.ts`); `BENCH_RUNS` sets the count.",
    "",
    "The bundle: `pnpm bundle` (`apps/operator/scripts/bundle.ts`), esbuild, ES module for Node 24, tree-shaken and",
    "minified, in a folder with no node_modules. The sources: `node apps/operator/src/main.ts` (Node strips the types;",
    "dependencies from the workspace's node_modules).",
    "",
    "## Size",
    "",
    `- \`dittofs-operator.mjs\`: ${kib(built.bytes)} (${built.bytes.toLocaleString("en-US")} bytes), ${kib(gzipped)} gzipped; built in ${ms(bundleMillis)} ms.`,
    `- Largest parts: ${built.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${kib(bytes)}`).join(", ")}.`,
    "",
    `## \`--version\` (ms, ${runs} of each, alternating): load, parse the command line, exit`,
    "",
    "| program | n | min | p50 | max | mean |",
    "|---|---:|---:|---:|---:|---:|",
    row("bundle", summarize(versionBundle)),
    row("sources", summarize(versionSource)),
    "",
    `## \`run\` against a local control plane (${runs} of each, alternating)`,
    "",
    "From spawning `node` to the operator's first write for a DittoServer that was waiting (its ConfigMap exists):",
    "start-up, kubeconfig, the first list and watch of six kinds, one pass (DittoFS unreachable).",
    "",
    "| program | n | min | p50 | max | mean |",
    "|---|---:|---:|---:|---:|---:|",
    row("bundle: spawn → first write (ms)", summarize(firstWrite.bundle)),
    row("sources: spawn → first write (ms)", summarize(firstWrite.source)),
    row("bundle: resident memory 2 s later (MiB)", summarize(memory.bundle.map((m) => m.rss)), mib),
    row("sources: resident memory 2 s later (MiB)", summarize(memory.source.map((m) => m.rss)), mib),
    row("bundle: peak resident memory (MiB)", summarize(memory.bundle.map((m) => m.hwm)), mib),
    row("sources: peak resident memory (MiB)", summarize(memory.source.map((m) => m.hwm)), mib),
    ""
  ].join("\n")
  writeFileSync(reportFile, report)
  yield* Console.log(report)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
