/**
 * The vitest configuration Stryker runs each mutant against: the unit projects only (`core`,
 * `operator`). The integration project needs built binaries and a control plane, and a mutant
 * of the core or of the runtime is always covered by the unit projects. Property tests run fewer
 * times and do not shrink (`fewer-runs.setup.ts`), and test files share their worker and its
 * module cache (`isolate: false`): each mutant's run then costs its tests, not a fresh import of
 * Effect per test file.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import projects from "../../vitest.workspace.ts"

const unit = new Set(["core", "operator"])
const fewerRuns = fileURLToPath(new URL("fewer-runs.setup.ts", import.meta.url))

export default defineConfig({
  test: {
    projects: projects
      .filter((project) => typeof project.test?.name === "string" && unit.has(project.test.name))
      .map((project) => ({ ...project, test: { ...project.test, setupFiles: [fewerRuns], isolate: false } }))
  }
})
