/**
 * Whether the integration tests run in this environment: one rule, read by `vitest.workspace.ts`
 * (to report every test skipped) and by the global setup (to start nothing).
 *
 * Contract: skipped only when `SKIP_INTEGRATION=1` and `CI` is unset or empty; CI always runs them.
 */
export const integrationSkipReason = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env.SKIP_INTEGRATION === "1" && (env.CI ?? "") === "" ? "SKIP_INTEGRATION=1" : undefined
