import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    // `pnpm coverage` measures the core library (paths are relative to its project root).
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/**/index.ts", "src/crd.ts"],
      reporter: ["text", "json-summary"],
      thresholds: { lines: 95 }
    }
  }
})
