/**
 * `pnpm mutation [folder | folder/File ...] [stryker options]`: runs StrykerJS with
 * `stryker.config.mjs` once per shard (a source file; all of them by default, see `Shards.ts`), one
 * after the other, each writing its results as it ends, then rewrites
 * `bench/reports/mutation.md` from every shard's committed incremental file, so shards run on
 * different days add up to one report. `runs.json` keeps when and how long each shard ran.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { type Report, render, type ShardRun, summarise } from "./Summary.ts"
import { shards, shardsNamed } from "./Shards.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const stryker = fileURLToPath(new URL("node_modules/.bin/stryker", import.meta.url))
const runsFile = fileURLToPath(new URL("runs.json", import.meta.url))
const incrementalFile = (shard: string) => fileURLToPath(new URL(`incremental/${shard}.json`, import.meta.url))

const args = process.argv.slice(2)
if (args.some((arg) => arg === "--mutate" || arg === "-m" || arg.startsWith("--mutate="))) {
  console.error("pnpm mutation runs whole shards: name a folder or a folder/File, e.g. plan/Naming")
  process.exit(2)
}
const named = args.filter((arg) => !arg.startsWith("-"))
const options = args.filter((arg) => arg.startsWith("-") && arg !== "--report")
/** `--report`: no run, the report only (after results were added by hand or on another machine). */
const selected = args.includes("--report") ? [] : named.length === 0 ? shards : named.flatMap(shardsNamed)

const runs: Record<string, ShardRun> = existsSync(runsFile) ? JSON.parse(readFileSync(runsFile, "utf8")) : {}
for (const shard of selected) {
  const started = performance.now()
  console.log(`== mutation shard ${shard.name} (${shard.folder})`)
  const run = spawnSync(stryker, ["run", "tools/mutation/stryker.config.mjs", ...options], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, MUTATION_SHARD: shard.name }
  })
  if (run.status !== 0) process.exit(run.status ?? 1)
  runs[shard.name] = { date: new Date().toISOString().slice(0, 10), minutes: (performance.now() - started) / 60_000 }
  writeFileSync(runsFile, JSON.stringify(runs, null, 2) + "\n")
}

const reports: Array<readonly [string, Report]> = shards.flatMap((shard) =>
  existsSync(incrementalFile(shard.name)) ? [[shard.name, JSON.parse(readFileSync(incrementalFile(shard.name), "utf8"))] as const] : []
)
const summary = summarise(reports)
writeFileSync(`${root}/bench/reports/mutation.md`, render(summary, runs))
console.log(`Wrote bench/reports/mutation.md (${reports.length} of ${shards.length} shards)`)
