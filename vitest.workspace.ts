/**
 * The test projects of the workspace. `vitest.config.ts` imports this list into `test.projects`
 * (vitest 5 no longer reads this file on its own).
 *
 * - core: pure plans, laws, reconciles on the in-memory layers, the contract suites on the fakes.
 * - operator: the runner's unit tests (no external process).
 * - integration: the live layers and the operator against a real kube-apiserver + etcd + garbage
 *   collector (one per run, started by `test/integration/globalSetup.ts`, which fails when the
 *   binaries cannot be built), real `dfs` servers (started per suite) and, for the suites that
 *   need running pods, a workloads plane of their own (`WorkloadsPlane.ts`). `SKIP_INTEGRATION=1`
 *   reports them skipped, except when `CI` is set.
 * - package: the core library as its consumers get it: `pnpm pack`, the tarball installed into an
 *   empty project outside the workspace, the README example run on plain Node and type-checked
 *   against the packed declarations (no skip condition: it needs only pnpm and the local store).
 */
import { defineProject } from "vitest/config"
import { integrationSkipReason } from "./apps/operator/test/integration/skipIntegration.ts"

/** `SKIP_INTEGRATION=1` (never in CI): every integration test is reported skipped, hooks included. */
const skipIntegration = integrationSkipReason() !== undefined

export default [
  defineProject({
    // property tests over whole reconciles take seconds on a loaded 2-core machine: vitest's 5 s
    // default would fail them for slowness, not for a wrong result
    test: { name: "core", root: "packages/core", include: ["test/**/*.test.ts"], testTimeout: 60_000 }
  }),
  defineProject({
    test: { name: "operator", root: "apps/operator", include: ["test/unit/**/*.test.ts"], testTimeout: 60_000 }
  }),
  defineProject({
    // a build, a pack, an install and a type-check: tens of seconds on a loaded machine
    test: { name: "package", root: "packages/core", include: ["test-package/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 600_000 }
  }),
  defineProject({
    test: {
      name: "integration",
      root: "apps/operator",
      include: ["test/integration/**/*.test.ts"],
      globalSetup: ["test/integration/globalSetup.ts"],
      hookTimeout: 120_000,
      testTimeout: 120_000,
      ...(skipIntegration ? { testNamePattern: /(?!)/ } : {})
    }
  })
]
