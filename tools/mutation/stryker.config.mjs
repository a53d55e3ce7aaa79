// @ts-check
/**
 * StrykerJS over the core library and the operator's runtime, one shard (a source file) per run:
 * `MUTATION_SHARD=plan/Naming` mutates `packages/core/src/plan/Naming.ts` only (`Shards.ts`). Run it from the
 * repository root through `pnpm mutation [shard...]`, which runs the shards one after the other.
 * Reports go to the git-ignored `reports/mutation/<shard>.{html,json}`; each shard's incremental
 * file `tools/mutation/incremental/<shard>.json` is committed, so a later run only re-tests mutants
 * whose code or tests changed, and it is what `bench/reports/mutation.md` is made from.
 *
 * TypeScript: the project type-checks with TypeScript 7 (tsgo), which no longer ships the JS
 * compiler API (`typescript` 7.0.2 exports only `version`). Stryker needs that API twice: the
 * core rewrites tsconfig paths in its sandbox (`ts.parseConfigFileTextToJson`), and the
 * TypeScript checker builds programs with it (`ts.sys`, `createSolutionBuilderWithWatch`); its
 * `experimentalNativePreview` mode does not load 7.0.2 either (it imports
 * `@typescript/native/unstable/sync`, which the released package does not provide, and still
 * parses the tsconfig with the JS API). So this workspace package gives Stryker TypeScript
 * 6.0.3, the last release with the JS API and the same type system as 7 (it checks the whole
 * project clean): mutants that do not compile are reported as CompileError and left out of the
 * score, as they would be with tsgo. The project's own `tsc` stays 7.0.2.
 */
import { shardNamed } from "./Shards.ts"

const shard = shardNamed(process.env.MUTATION_SHARD ?? "")

export default {
  packageManager: "pnpm",
  plugins: [
    // Resolved from this package: with pnpm, Stryker's default `@stryker-mutator/*` glob only sees
    // the core's own dependencies.
    import.meta.resolve("@stryker-mutator/vitest-runner"),
    import.meta.resolve("@stryker-mutator/typescript-checker")
  ],
  mutate: [shard.file],
  testRunner: "vitest",
  vitest: { configFile: "tools/mutation/vitest.config.ts", related: true },
  coverageAnalysis: "perTest",
  // A static mutant (a module-level constant: a Schema, a label key, a named Schedule) runs once at
  // import, so per-test coverage cannot narrow it down and every test runs for each one: about a
  // minute apiece here, most of a run for a third of the mutants. Their values are pinned by the
  // tests that use them (label keys, the CRD's generated schema, the backoff delays), so the run
  // skips them; the report counts them as ignored.
  ignoreStatic: true,
  checkers: ["typescript"],
  tsconfigFile: "tools/mutation/tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The machine has 2 cores, shared with other work: at most two test runners.
  concurrency: 2,
  timeoutMS: 10000,
  incremental: true,
  incrementalFile: `tools/mutation/incremental/${shard.name}.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `reports/mutation/${shard.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${shard.name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  ignorePatterns: [".tools", "reports", "bench/reports", "scripts/go", "coverage", ".run", "*.log"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always"
}
