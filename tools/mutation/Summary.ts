/**
 * The summary of the shards' Stryker reports (mutation-testing-report-schema, one per shard): the
 * score per folder, and every surviving mutant with the reason it is equivalent (from
 * `Equivalent.ts`), or a flag saying it is not justified yet.
 *
 * Score = detected / valid = (killed + timeout) / (killed + timeout + survived + no coverage);
 * compile errors (the TypeScript checker rejected the mutant) and ignored mutants do not count.
 */
import { cpus, totalmem } from "node:os"
import { equivalents } from "./Equivalent.ts"
import { folders, shards } from "./Shards.ts"

type Status = "Killed" | "Survived" | "NoCoverage" | "CompileError" | "RuntimeError" | "Timeout" | "Ignored" | "Pending"

interface Position {
  readonly line: number
  readonly column: number
}

interface ReportMutant {
  readonly id: string
  readonly mutatorName: string
  readonly replacement?: string
  readonly location: { readonly start: Position; readonly end: Position }
  readonly status: Status
  readonly static?: boolean
}

export interface Report {
  readonly files: Readonly<Record<string, { readonly source: string; readonly mutants: ReadonlyArray<ReportMutant> }>>
  readonly framework?: { readonly version?: string }
}

/** When a shard last ran, and for how long. */
export interface ShardRun {
  readonly date: string
  readonly minutes: number
}

export interface Survivor {
  readonly file: string
  readonly line: number
  readonly mutator: string
  readonly original: string
  readonly replacement: string
  readonly why: string | undefined
}

export interface Counts {
  readonly folder: string
  /** Whether the shard has a report at all. */
  readonly measured: boolean
  readonly killed: number
  readonly timeout: number
  readonly survived: number
  readonly noCoverage: number
  readonly compileError: number
  readonly ignored: number
  readonly score: number
}

export interface Summary {
  readonly folders: ReadonlyArray<Counts & { readonly shards: ReadonlyArray<{ readonly name: string; readonly run: boolean }> }>
  readonly total: Counts
  readonly survivors: ReadonlyArray<Survivor>
  /** Every file with results, with its shard's name. */
  readonly files: ReadonlyArray<{ readonly file: string; readonly shard: string; readonly counts: Counts }>
  readonly strykerVersion: string
}

/** Whitespace-insensitive, so a justification survives reformatting. */
const squash = (text: string) => text.replace(/\s+/g, " ").trim()

const textAt = (source: string, { end, start }: { readonly start: Position; readonly end: Position }): string => {
  const lines = source.split("\n")
  if (start.line === end.line) return (lines[start.line - 1] ?? "").slice(start.column - 1, end.column - 1)
  return [
    (lines[start.line - 1] ?? "").slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    (lines[end.line - 1] ?? "").slice(0, end.column - 1)
  ].join("\n")
}

const count = (folder: string, measured: boolean, mutants: ReadonlyArray<ReportMutant>): Counts => {
  const n = (...statuses: ReadonlyArray<Status>) => mutants.filter((m) => statuses.includes(m.status)).length
  const killed = n("Killed")
  const timeout = n("Timeout")
  const survived = n("Survived")
  const noCoverage = n("NoCoverage")
  const valid = killed + timeout + survived + noCoverage
  return {
    folder,
    measured,
    killed,
    timeout,
    survived,
    noCoverage,
    compileError: n("CompileError", "RuntimeError"),
    ignored: n("Ignored"),
    score: valid === 0 ? 100 : (100 * (killed + timeout)) / valid
  }
}

/** Merges the shards' reports (shard name, report): a file belongs to the shard whose folder holds it. */
export const summarise = (reports: ReadonlyArray<readonly [string, Report]>): Summary => {
  const entries = reports
    .flatMap(([name, report]) => {
      const file = shards.find((shard) => shard.name === name)?.file
      return Object.entries(report.files).filter(([path]) => path === file)
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const inFolder = (prefix: string) => entries.filter(([file]) => file.startsWith(prefix)).flatMap(([, f]) => f.mutants)
  const survivors = entries.flatMap(([file, result]) =>
    result.mutants
      .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
      .map((m): Survivor => {
        const original = squash(textAt(result.source, m.location))
        const replacement = squash(m.replacement ?? "")
        const why = equivalents.find((e) =>
          e.file === file && e.mutator === m.mutatorName && squash(e.original) === original && squash(e.replacement) === replacement
        )?.why
        return { file, line: m.location.start.line, mutator: m.mutatorName, original, replacement, why }
      })
      .sort((a, b) => a.line - b.line)
  )
  const measured = new Set(reports.map(([name]) => name))
  const shardsOf = (label: string) => shards.filter((shard) => shard.folder === label)
  return {
    folders: folders.map(([label, folder]) => ({
      ...count(label, shardsOf(label).some((shard) => measured.has(shard.name)), inFolder(folder)),
      shards: shardsOf(label).map((shard) => ({ name: shard.name, run: measured.has(shard.name) }))
    })),
    total: count("total", measured.size > 0, entries.flatMap(([, f]) => f.mutants)),
    files: entries.map(([file, result]) => ({
      file,
      shard: shards.find((shard) => shard.file === file)?.name ?? file,
      counts: count(file, true, result.mutants)
    })),
    survivors,
    strykerVersion: reports[0]?.[1].framework?.version ?? "?"
  }
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/`/g, "'")

/** The part of `original` the mutant changed, with a little context: `…a >= b…` → `…a > b…`. */
const change = (original: string, replacement: string): string => {
  let prefix = 0
  while (prefix < original.length && prefix < replacement.length && original[prefix] === replacement[prefix]) prefix++
  let suffix = 0
  while (
    suffix < original.length - prefix && suffix < replacement.length - prefix
    && original[original.length - 1 - suffix] === replacement[replacement.length - 1 - suffix]
  ) suffix++
  const context = 12
  const part = (text: string) => {
    const from = Math.max(0, prefix - context)
    const to = Math.min(text.length, text.length - suffix + context)
    const middle = text.slice(from, to)
    const shown = middle.length > 100 ? `${middle.slice(0, 99)}…` : middle
    return `${from > 0 ? "…" : ""}${shown}${to < text.length ? "…" : ""}`
  }
  return `\`${cell(part(original))}\` → \`${cell(part(replacement))}\``
}

export const render = (summary: Summary, runs: Readonly<Record<string, ShardRun>>): string => {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`
  const when = (shard: string) => {
    const run = runs[shard]
    return run === undefined ? "–" : `${run.date}, ${run.minutes.toFixed(0)} min`
  }
  type FolderCounts = Summary["folders"][number]
  const row = (c: Counts, shardList: FolderCounts["shards"] = []) => {
    const missing = shardList.filter((shard) => !shard.run).length
    const score = c.killed + c.timeout + c.survived + c.noCoverage === 0 ? "–" : `${c.score.toFixed(1)} %`
    const dates = shardList.flatMap((shard) => (runs[shard.name] === undefined ? [] : [runs[shard.name]!.date])).sort()
    const runsCell = shardList.length === 0 ? "" : `${dates.length} of ${shardList.length} files${dates.length === 0 ? "" : `, last ${dates.at(-1)}`}`
    return c.measured
      ? `| ${c.folder} | ${score}${missing > 0 ? ` (${missing} of ${shardList.length} files not run)` : ""} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.compileError} | ${c.ignored} | ${runsCell} |`
      : `| ${c.folder} | not run yet | | | | | | | ${runsCell} |`
  }
  const unjustified = summary.survivors.filter((s) => s.why === undefined).length
  return [
    "# Mutation testing",
    "",
    `Machine of the last run: ${machine}. StrykerJS ${summary.strykerVersion}.`,
    "Reproduce: `pnpm mutation [shard...]` (`bash scripts/bootstrap.sh` first on a fresh machine); HTML reports in",
    "`reports/mutation/<shard>.html`. Each shard (a few files, see `tools/mutation/Shards.ts`) runs on its own and",
    "keeps its results in the committed `tools/mutation/incremental/<shard>.json`, so the next run re-tests only",
    "mutants whose code or tests changed (`--force` re-tests everything); this page is made from those files. Not",
    "part of CI: a full run takes hours on 2 cores. Property tests run 25 times without shrinking under mutation",
    "(`tools/mutation/fewer-runs.setup.ts`); test files share a worker (`isolate: false`).",
    "",
    "Scope: `packages/core/src/**` (without the fakes under `src/testing/` and index files) and",
    "`apps/operator/src/runtime/**`. Score = (killed + timeout) / (killed + timeout + survived + no coverage);",
    "mutants the TypeScript checker rejects do not compile, so they do not count; static mutants (module-level",
    "constants, evaluated once at import) are ignored, see `tools/mutation/stryker.config.mjs`.",
    "",
    "| folder | score | killed | timeout | survived | no coverage | compile error | ignored | last run |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...summary.folders.map((folder) => row(folder, folder.shards)),
    row(summary.total),
    "",
    "## Per file",
    "",
    "| file | score | killed | timeout | survived | no coverage | last run |",
    "|---|---:|---:|---:|---:|---:|---|",
    ...summary.files.map((f) =>
      `| ${f.file.replace(/^.*\/src\//, "")} | ${f.counts.killed + f.counts.timeout + f.counts.survived + f.counts.noCoverage === 0 ? "–" : `${f.counts.score.toFixed(1)} %`} | ${f.counts.killed} | ${f.counts.timeout} | ${f.counts.survived} | ${f.counts.noCoverage} | ${when(f.shard)} |`
    ),
    "",
    `## Surviving mutants (${summary.survivors.length}${unjustified === 0 ? ", all equivalent" : `, ${unjustified} not justified yet`})`,
    "",
    "Each one changes nothing a user, the cluster or DittoFS can observe; why is said per mutant.",
    "",
    "| where | mutator | original → replacement | why it is equivalent |",
    "|---|---|---|---|",
    ...summary.survivors.map((s) =>
      `| ${s.file.replace(/^.*\/src\//, "")}:${s.line} | ${s.mutator} | ${change(s.original, s.replacement)} | ${s.why ?? "**not justified yet**"} |`
    ),
    ""
  ].join("\n")
}
