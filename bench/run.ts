/** Runs every benchmark under bench/ and rewrites its report under bench/reports/. */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const benchmarks = ["planner.ts", "adapter-exposure.ts", "control-plane.ts", "client.ts", "cold-request.ts", "bundle.ts", "footprint.ts", "scale.ts"]
for (const file of benchmarks) {
  execFileSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { stdio: "inherit" })
}
