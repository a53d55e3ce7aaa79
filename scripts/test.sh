#!/usr/bin/env bash
# The one command that installs everything and runs every check: toolchain, dependencies,
# control-plane, DittoFS and helm binaries (built once, cached), type-check with the Effect
# language service, generated files up to date (CRD, manifests rendered from the Helm chart), helm
# lint, the core's API reference built without a warning, then every vitest project (unit,
# contract, integration, end-to-end, install: chart, bundle, Dockerfile, RBAC; the packed core
# library). Ends with one line `N passed, N failed[, N skipped]`; exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*" >&2; }

step "bootstrap (Node, pnpm, dependencies)"
bash scripts/bootstrap.sh || { echo "0 passed, 1 failed"; exit 1; }
source scripts/env.sh

step "binaries (etcd, kube-apiserver, kube-controller-manager, kubectl, kube-scheduler, kwok, dfs, dfsctl, helm)"
if bin_dir="$(bash scripts/build-binaries.sh | tail -n 1)" && [[ -d "$bin_dir" ]]; then
  export DITTOFS_OPERATOR_BIN_DIR="$bin_dir"
else
  echo "binaries could not be built: the integration tests will fail and say so" >&2
fi

checks_failed=0
checks_passed=0
check() {
  local name="$1"; shift
  step "$name"
  if "$@"; then checks_passed=$((checks_passed + 1)); else echo "FAILED: $name" >&2; checks_failed=$((checks_failed + 1)); fi
}
check "type-check (tsc + Effect language service)" tsc -p tsconfig.json
check "generated CRD is up to date" node apps/operator/scripts/generate-crd.ts --check
check "helm lint of the chart" node apps/operator/scripts/render-manifests.ts --lint
check "plain manifests are the chart rendered (helm template)" node apps/operator/scripts/render-manifests.ts --check
check "API reference of the core builds without a warning (TypeDoc)" pnpm --silent apidoc

step "tests"
mkdir -p .run
report=".run/vitest-report.json"
rm -f "$report"
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
vitest_status=$?

node --input-type=module -e '
  import { readFileSync, existsSync } from "node:fs"
  const [report, status, checksPassed, checksFailed] = process.argv.slice(1)
  let passed = Number(checksPassed), failed = Number(checksFailed), skipped = 0
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"))
    passed += r.numPassedTests
    failed += r.numFailedTests
    skipped += r.numPendingTests + r.numTodoTests
    if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites
  } else {
    failed += 1
  }
  if (Number(status) !== 0 && failed === 0) failed = 1
  console.log(`${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : ""))
  process.exitCode = failed > 0 ? 1 : 0
' "$report" "$vitest_status" "$checks_passed" "$checks_failed"
