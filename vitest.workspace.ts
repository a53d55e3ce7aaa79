/**
 * The test projects of the workspace. `vitest.config.ts` imports this list into `test.projects`
 * (vitest 5 no longer reads this file on its own).
 *
 * - core: pure plans, laws, reconciles on the in-memory layers, the contract suites on the fakes.
 * - operator: the runner's unit tests (no external process).
 * - integration: the live layers and the operator against a real kube-apiserver + etcd + garbage
 *   collector and a real `dfs` (started by the global setup).
 */
import { defineProject } from "vitest/config"

export default [
  defineProject({
    test: { name: "core", root: "packages/core", include: ["test/**/*.test.ts"] }
  }),
  defineProject({
    test: { name: "operator", root: "apps/operator", include: ["test/unit/**/*.test.ts"] }
  })
]
