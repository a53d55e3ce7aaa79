/**
 * `pnpm mutation [stryker options]`: runs StrykerJS with `stryker.config.mjs`, then summarises its
 * JSON report. A run over the whole scope (no `--mutate`) rewrites `bench/reports/mutation.md`;
 * a scoped run (`--mutate <file>`, while iterating) only prints its summary.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { render, summarise } from "./Summary.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const args = process.argv.slice(2)
const stryker = fileURLToPath(new URL("node_modules/.bin/stryker", import.meta.url))

const started = performance.now()
const run = spawnSync(stryker, ["run", "tools/mutation/stryker.config.mjs", ...args], { cwd: root, stdio: "inherit" })
const minutes = (performance.now() - started) / 60_000
if (run.status !== 0) process.exit(run.status ?? 1)

const report = JSON.parse(readFileSync(`${root}/reports/mutation/mutation.json`, "utf8"))
const summary = summarise(report)
const scoped = args.some((arg) => arg === "--mutate" || arg === "-m" || arg.startsWith("--mutate="))
const markdown = render(summary, { minutes, command: ["pnpm mutation", ...args].join(" ") })
if (scoped) {
  console.log(markdown)
} else {
  writeFileSync(`${root}/bench/reports/mutation.md`, markdown)
  console.log(`Wrote bench/reports/mutation.md (${minutes.toFixed(0)} min)`)
}
