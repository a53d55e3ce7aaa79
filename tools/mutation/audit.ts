/**
 * `pnpm mutation:audit`: the nine hand-made mutants of the outside audit, each a behaviour change
 * a user would notice, re-applied one at a time to a scratch checkout of HEAD; for each, the unit
 * tests that import the changed file run (`vitest related`) and the tests that failed are written
 * to `bench/reports/mutation-audit.md`. A mutant no test kills fails the command.
 *
 * A mutant is an exact text replaced once: when the code moves on and the text is no longer
 * there, the command says so instead of passing.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

interface AuditMutant {
  readonly name: string
  readonly file: string
  readonly project: "core" | "operator"
  readonly original: string
  readonly replacement: string
}

const mutants: ReadonlyArray<AuditMutant> = [
  {
    name: "Naming: the port name hashes the raw adapter type, not the sanitized one",
    file: "packages/core/src/plan/Naming.ts",
    project: "core",
    original: "-${sha256Hex(sanitized).slice(0, 4)}",
    replacement: "-${sha256Hex(type).slice(0, 4)}"
  },
  {
    name: "AdapterExposure: only the API and metrics ports are reserved, not the other static ports",
    file: "packages/core/src/plan/AdapterExposure.ts",
    project: "core",
    original: "return [spec.controlPlane.port, spec.metrics.port, ...staticPorts]",
    replacement: "return [spec.controlPlane.port, spec.metrics.port]"
  },
  {
    name: "AdapterServices: the drift check ignores annotations",
    file: "packages/core/src/plan/AdapterServices.ts",
    project: "core",
    original: "|| !Annotations.inSync(observed.metadata.annotations, desiredAnnotations(input.spec))",
    replacement: ""
  },
  {
    name: "AdapterServices: the drift check ignores targetPort",
    file: "packages/core/src/plan/AdapterServices.ts",
    project: "core",
    original: "&& (observed.targetPort ?? observed.port) === desired.targetPort",
    replacement: ""
  },
  {
    name: "NetworkPolicies: the rule comparison ignores the port",
    file: "packages/core/src/plan/NetworkPolicies.ts",
    project: "core",
    original: "&& port.port === adapter.port && port.endPort === undefined",
    replacement: "&& port.endPort === undefined"
  },
  {
    name: "Auth: a refused refresh re-provisions the account instead of logging in",
    file: "packages/core/src/reconcile/Auth.ts",
    project: "core",
    original: "!isTransient(error), () => login(step.credentials))",
    replacement: "!isTransient(error), () => provision)"
  },
  {
    name: "WorkQueue: the backoff is not reset after a success",
    file: "apps/operator/src/runtime/WorkQueue.ts",
    project: "operator",
    original: "            failures.delete(key)\n            return { ...current, failures }\n",
    replacement: "            return { ...current, failures }\n"
  },
  {
    name: "WorkQueue: the last addAfter wins instead of the earliest",
    file: "apps/operator/src/runtime/WorkQueue.ts",
    project: "operator",
    original: "if (existing !== undefined && existing <= due) return [false, current]",
    replacement: ""
  },
  {
    name: "Controller: `relevant` ignored, the operator's own status writes trigger passes",
    file: "apps/operator/src/runtime/Controller.ts",
    project: "operator",
    original: "relevant(previous, current) ? queue.add(key) : Effect.void",
    replacement: "queue.add(key)"
  }
]

const root = fileURLToPath(new URL("../../", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "dittofs-audit-"))
const checkout = join(scratch, "checkout")
const sh = (command: string, args: ReadonlyArray<string>, cwd: string) => execFileSync(command, args, { cwd, stdio: "pipe" })

interface Result {
  readonly mutant: AuditMutant
  readonly killedBy: ReadonlyArray<string>
  readonly problem?: string
}

const runOne = (mutant: AuditMutant): Result => {
  const path = join(checkout, mutant.file)
  const source = readFileSync(path, "utf8")
  const occurrences = source.split(mutant.original).length - 1
  if (occurrences !== 1) return { mutant, killedBy: [], problem: `the original text occurs ${occurrences} times` }
  writeFileSync(path, source.replace(mutant.original, () => mutant.replacement))
  const report = join(scratch, "report.json")
  rmSync(report, { force: true })
  try {
    spawnSync(
      "pnpm",
      ["exec", "vitest", "related", "--run", mutant.file, "--project", mutant.project, "--reporter=json", `--outputFile=${report}`],
      { cwd: checkout, stdio: "ignore" }
    )
  } finally {
    writeFileSync(path, source)
  }
  if (!existsSync(report)) return { mutant, killedBy: [], problem: "vitest wrote no report" }
  const parsed = JSON.parse(readFileSync(report, "utf8")) as {
    readonly testResults: ReadonlyArray<{
      readonly name: string
      readonly message?: string
      readonly assertionResults: ReadonlyArray<{ readonly fullName: string; readonly status: string }>
    }>
  }
  const killedBy = parsed.testResults.flatMap((file) => {
    const relative = file.name.slice(checkout.length + 1)
    const failed = file.assertionResults.filter((test) => test.status === "failed").map((test) => `${relative} > ${test.fullName}`)
    return failed.length === 0 && file.message !== undefined && file.message !== "" ? [`${relative} (suite failed)`] : failed
  })
  return { mutant, killedBy }
}

try {
  sh("git", ["worktree", "add", "--detach", checkout, "HEAD"], root)
  sh("ln", ["-s", join(root, ".tools"), ".tools"], checkout)
  sh("pnpm", ["install", "--frozen-lockfile", "--offline", "--ignore-scripts"], checkout)
  const results = mutants.map((mutant) => {
    const result = runOne(mutant)
    console.error(`${result.problem !== undefined ? "NOT APPLIED" : result.killedBy.length > 0 ? "killed" : "SURVIVED"}: ${mutant.name}`)
    return result
  })
  const rows = results.map(({ killedBy, mutant, problem }) => {
    const by = problem ?? (killedBy.length === 0 ? "**survived**" : killedBy.map((test) => `\`${test}\``).join("<br>"))
    return `| ${mutant.name} (\`${mutant.file}\`) | ${by} |`
  })
  writeFileSync(
    join(root, "bench/reports/mutation-audit.md"),
    [
      "# The audit's mutants",
      "",
      `Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}.`,
      "Reproduce: `pnpm mutation:audit` (about 5 minutes). Each hand-made mutant of an outside audit, applied alone",
      "to a scratch checkout of HEAD; the unit tests that import the changed file run (`vitest related`); listed are the",
      "tests that failed, i.e. that kill the mutant.",
      "",
      "| mutant | killed by |",
      "|---|---|",
      ...rows,
      ""
    ].join("\n")
  )
  console.log("Wrote bench/reports/mutation-audit.md")
  process.exitCode = results.every((result) => result.killedBy.length > 0 && result.problem === undefined) ? 0 : 1
} finally {
  spawnSync("git", ["worktree", "remove", "--force", checkout], { cwd: root })
  rmSync(scratch, { recursive: true, force: true })
}
