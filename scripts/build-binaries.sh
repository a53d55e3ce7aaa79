#!/usr/bin/env bash
# Build and cache the Go binaries the integration tests need:
#   etcd, kube-apiserver, kube-controller-manager, kubectl, dfs, dfsctl,
#   for the pod lifecycle of the workloads plane kube-scheduler and kwok,
#   and helm for the operator's chart.
#
# Pins live in scripts/go/versions.env (the only place to bump a version).
# Each binary is built from a scratch module under scripts/go/<name>/ whose
# go.mod and go.sum are committed, so every build is verified against
# committed hashes (-mod=readonly: go.sum is authoritative).
#
# Usage:
#   scripts/build-binaries.sh [NAME...]   build what is missing (default: all);
#                                         the bin dir is the LAST line of stdout:
#                                           BIN=$(scripts/build-binaries.sh | tail -1)
#   scripts/build-binaries.sh --regen [DIR...]
#                                         regenerate scripts/go/<DIR>/{go.mod,go.sum,tools.go}
#                                         from versions.env (after bumping a pin or adding a
#                                         binary; default: every module dir)
#   scripts/build-binaries.sh --print-dir print the bin dir without building
#   scripts/build-binaries.sh --help
#
# Binaries are cached outside the repo, per scratch module, in
#   ${DITTOFS_OPERATOR_CACHE:-$HOME/.cache/dittofs-operator}/bin/modules/<module stamp>/
# where <module stamp> = <dir>-<pin>_<go version>_<hash>, the hash covering that
# module's pin, its go.mod, go.sum and tools.go, and the build recipe: bumping
# one pin (or adding a module) rebuilds only that module's binaries. The bin dir
# the tests use,
#   .../bin/<stamp>/  with <stamp> = k8s-<v>_etcd-<v>_dittofs-<v>_kwok-<v>_helm-<v>_<go version>_<hash>
# (the hash covering every module stamp), holds hard links to those binaries.
# A binary is built only when its module folder lacks it; binaries of the
# earlier layout (one folder per stamp of all modules, before helm) are adopted
# from there when their modules are unchanged, not rebuilt.
# Progress goes to stderr; stdout carries only the bin dir. On failure the
# script exits non-zero and prints nothing on stdout.
#
# Environment: DITTOFS_OPERATOR_CACHE (cache root), GO (go command; default
# `go` on PATH, else /usr/local/go/bin/go). GOTOOLCHAIN is forced to `local`:
# a pin that needs a newer Go fails with a clear message instead of silently
# fetching another toolchain.
set -euo pipefail

# Bump when the way binaries are built changes (flags, ldflags), so cached
# binaries built the old way are not reused.
RECIPE_REV=1
HEARTBEAT_SECONDS=30

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
GO_DIR="$SCRIPT_DIR/go"
VERSIONS_FILE="$GO_DIR/versions.env"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'build-binaries: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source-path=SCRIPTDIR source=go/versions.env
source "$VERSIONS_FILE"
: "${K8S_VERSION:?K8S_VERSION missing in $VERSIONS_FILE}"
: "${ETCD_VERSION:?ETCD_VERSION missing in $VERSIONS_FILE}"
: "${DITTOFS_VERSION:?DITTOFS_VERSION missing in $VERSIONS_FILE}"
: "${KWOK_VERSION:?KWOK_VERSION missing in $VERSIONS_FILE}"
: "${HELM_VERSION:?HELM_VERSION missing in $VERSIONS_FILE}"
[[ $HELM_VERSION =~ ^v([0-9]+)\. ]] || die "HELM_VERSION '$HELM_VERSION' is not v<major>.<minor>.<patch>"
HELM_MAJOR=${BASH_REMATCH[1]}
HELM_MODULE="helm.sh/helm/v$HELM_MAJOR"
[[ $K8S_VERSION =~ ^v1\.([0-9]+)\.[0-9]+ ]] || die "K8S_VERSION '$K8S_VERSION' is not v1.<minor>.<patch>"
K8S_MINOR=${BASH_REMATCH[1]}
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}" # v1.36.3 -> v0.36.3

if [[ -z ${GO:-} ]]; then
  if command -v go >/dev/null 2>&1; then GO=go
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "no go command on PATH (and no /usr/local/go/bin/go)"
  fi
fi
export GOTOOLCHAIN=local

# name | scratch module (scripts/go/<dir>) | main package | ldflags flavour
BINARIES=(
  "etcd|etcd|go.etcd.io/etcd/server/v3|plain"
  "dfs|dittofs|github.com/marmos91/dittofs/cmd/dfs|dittofs"
  "dfsctl|dittofs|github.com/marmos91/dittofs/cmd/dfsctl|dittofs"
  "kube-apiserver|kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|k8s"
  "kube-controller-manager|kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|k8s"
  "kubectl|kubernetes|k8s.io/kubernetes/cmd/kubectl|k8s"
  "kube-scheduler|kubernetes|k8s.io/kubernetes/cmd/kube-scheduler|k8s"
  "kwok|kwok|sigs.k8s.io/kwok/cmd/kwok|kwok"
  "helm|helm|$HELM_MODULE/cmd/helm|helm"
)
MODULE_DIRS=(etcd dittofs kubernetes kwok helm)

# Root module and pinned version of a scratch module dir.
module_root() {
  case $1 in
    kubernetes) echo "k8s.io/kubernetes $K8S_VERSION" ;;
    etcd) echo "go.etcd.io/etcd/server/v3 $ETCD_VERSION" ;;
    dittofs) echo "github.com/marmos91/dittofs $DITTOFS_VERSION" ;;
    kwok) echo "sigs.k8s.io/kwok $KWOK_VERSION" ;;
    helm) echo "$HELM_MODULE $HELM_VERSION" ;;
    *) die "unknown module dir $1" ;;
  esac
}

go_version() { "$GO" env GOVERSION; } # e.g. go1.26.8

# ---------------------------------------------------------------- --regen ---

# Path of the published go.mod of module@version (downloaded via the proxy).
published_gomod() {
  local mod=$1 ver=$2 json gomod
  json=$(cd / && GOFLAGS=-mod=mod "$GO" mod download -json "$mod@$ver") ||
    die "cannot download $mod@$ver"
  gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -f $gomod ]] || die "no go.mod for $mod@$ver in: $json"
  printf '%s\n' "$gomod"
}

# Staging modules required at v0.0.0 by k8s.io/kubernetes (from its require blocks).
k8s_staging_modules() {
  awk '
    /^require[ \t]*\(/ { inreq = 1; next }
    inreq && /^[ \t]*\)/ { inreq = 0; next }
    inreq && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }
    !inreq && $1 == "require" && $2 ~ /^k8s\.io\// && $3 == "v0.0.0" { print $2 }
  ' "$1" | LC_ALL=C sort -u
}

version_ge() { # version_ge A B: A >= B (dotted numbers)
  [[ $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1) == "$1" ]]
}

regen_module() {
  local dir=$1 root ver gomod godir local_go tmp entry name sub pkg flavour
  read -r root ver <<<"$(module_root "$dir")"
  log "regen scripts/go/$dir: $root $ver"
  gomod=$(published_gomod "$root" "$ver")
  godir=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  [[ -n $godir ]] || godir=1.22
  local_go=$(go_version); local_go=${local_go#go}
  version_ge "$local_go" "$godir" ||
    die "$root@$ver needs Go >= $godir, this machine has go$local_go (GOTOOLCHAIN=local; install a newer Go or pick an older pin)"

  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN

  {
    echo "// Code generated by scripts/build-binaries.sh --regen; DO NOT EDIT."
    echo
    echo "//go:build tools"
    echo
    echo "// Package tools pins the main packages built by scripts/build-binaries.sh"
    echo "// so that go.mod and go.sum of this scratch module cover them."
    echo "package tools"
    echo
    echo "import ("
    for entry in "${BINARIES[@]}"; do
      IFS='|' read -r name sub pkg flavour <<<"$entry"
      [[ $sub == "$dir" ]] && printf '\t_ "%s"\n' "$pkg"
    done
    echo ")"
  } >"$tmp/tools.go"

  {
    echo "// Scratch module: builds $root binaries for the integration tests."
    echo "// Generated by scripts/build-binaries.sh --regen from scripts/go/versions.env; do not edit."
    echo "module dittofs-operator/scripts/go/$dir"
    echo
    echo "go $godir"
    echo
    echo "require $root $ver"
    if [[ $dir == kubernetes ]]; then
      local staging count=0
      echo
      echo "// One line per staging module that $root@$ver requires at v0.0.0."
      echo "replace ("
      while read -r staging; do
        [[ -n $staging ]] || continue
        printf '\t%s => %s %s\n' "$staging" "$staging" "$K8S_STAGING_VERSION"
        count=$((count + 1))
      done < <(k8s_staging_modules "$gomod")
      echo ")"
      ((count > 0)) || die "found no v0.0.0 staging requires in $gomod"
      log "  $count replace lines (staging modules => $K8S_STAGING_VERSION)"
    fi
  } >"$tmp/go.mod"

  (cd "$tmp" && GOFLAGS=-mod=mod "$GO" mod tidy) || die "go mod tidy failed for scripts/go/$dir"
  mkdir -p "$GO_DIR/$dir"
  cp "$tmp/go.mod" "$tmp/go.sum" "$tmp/tools.go" "$GO_DIR/$dir/"
  log "  wrote scripts/go/$dir/{go.mod,go.sum,tools.go} ($(wc -l <"$tmp/go.sum") go.sum lines)"
}

regen() {
  local dir known known_dir
  local -a dirs=("$@")
  ((${#dirs[@]})) || dirs=("${MODULE_DIRS[@]}")
  for dir in "${dirs[@]}"; do
    known=0
    for known_dir in "${MODULE_DIRS[@]}"; do [[ $known_dir == "$dir" ]] && known=1; done
    ((known)) || die "unknown module dir '$dir' (known: ${MODULE_DIRS[*]})"
  done
  for dir in "${dirs[@]}"; do regen_module "$dir"; done
  log "regenerated; build with: scripts/build-binaries.sh (then commit scripts/go/)"
}

# ------------------------------------------------------------------ build ---

# Fail if a scratch module does not match the pins (someone bumped
# versions.env without --regen, or edited go.mod by hand).
check_modules() {
  local dir root ver f
  for dir in "${MODULE_DIRS[@]}"; do
    read -r root ver <<<"$(module_root "$dir")"
    for f in go.mod go.sum tools.go; do
      [[ -f $GO_DIR/$dir/$f ]] || die "missing scripts/go/$dir/$f; run: scripts/build-binaries.sh --regen"
    done
    awk -v m="$root" -v v="$ver" '
      { sub(/^require[ \t]+/, "") } $1 == m && $2 == v { found = 1 } END { exit !found }
    ' "$GO_DIR/$dir/go.mod" ||
      die "scripts/go/$dir/go.mod does not require $root $ver (versions.env changed?); run: scripts/build-binaries.sh --regen"
  done
  grep -q "=> k8s.io/[^ ]* $K8S_STAGING_VERSION\$" "$GO_DIR/kubernetes/go.mod" ||
    die "scripts/go/kubernetes/go.mod replaces do not use $K8S_STAGING_VERSION; run: scripts/build-binaries.sh --regen"
}

# Stamp of one scratch module's binaries: its pin, its files, the Go version, the recipe.
module_stamp() {
  local dir=$1 root ver gov hash
  read -r root ver <<<"$(module_root "$dir")"
  gov=$(go_version)
  hash=$(
    {
      printf 'recipe=%s\nmodule=%s\nroot=%s\nversion=%s\ngo=%s\n' "$RECIPE_REV" "$dir" "$root" "$ver" "$gov"
      cat "$GO_DIR/$dir/go.mod" "$GO_DIR/$dir/go.sum" "$GO_DIR/$dir/tools.go"
    } | sha256sum
  )
  printf '%s-%s_%s_%s\n' "$dir" "$ver" "$gov" "${hash:0:10}"
}

# Stamp of the bin dir: every module stamp.
compute_stamp() {
  local gov hash dir
  gov=$(go_version)
  hash=$(for dir in "${MODULE_DIRS[@]}"; do module_stamp "$dir"; done | sha256sum)
  printf 'k8s-%s_etcd-%s_dittofs-%s_kwok-%s_helm-%s_%s_%s\n' \
    "$K8S_VERSION" "$ETCD_VERSION" "$DITTOFS_VERSION" "$KWOK_VERSION" "$HELM_VERSION" "$gov" "${hash:0:10}"
}

# Stamp of the earlier layout (one folder for the binaries of etcd, dittofs,
# kubernetes and kwok): where binaries built before per-module folders are.
LEGACY_MODULE_DIRS=(etcd dittofs kubernetes kwok)
legacy_stamp() {
  local gov hash dir
  gov=$(go_version)
  hash=$(
    {
      printf 'recipe=%s\nk8s=%s\netcd=%s\ndittofs=%s\nkwok=%s\ngo=%s\n' \
        1 "$K8S_VERSION" "$ETCD_VERSION" "$DITTOFS_VERSION" "$KWOK_VERSION" "$gov"
      for dir in "${LEGACY_MODULE_DIRS[@]}"; do
        cat "$GO_DIR/$dir/go.mod" "$GO_DIR/$dir/go.sum" "$GO_DIR/$dir/tools.go"
      done
    } | sha256sum
  )
  printf 'k8s-%s_etcd-%s_dittofs-%s_kwok-%s_%s_%s\n' \
    "$K8S_VERSION" "$ETCD_VERSION" "$DITTOFS_VERSION" "$KWOK_VERSION" "$gov" "${hash:0:10}"
}

# Release time of module (as recorded by the module proxy), RFC 3339 UTC.
module_time() {
  (cd "$GO_DIR/$2" && "$GO" list -mod=readonly -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$1") 2>/dev/null || true
}

# Commit of module@version, if the proxy recorded its origin.
module_commit() {
  local json
  json=$(cd "$GO_DIR/$2" && "$GO" mod download -json "$1@$3" 2>/dev/null) || return 0
  sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)",\{0,1\}$/\1/p' <<<"$json" | head -1
}

ldflags_for() {
  local flavour=$1 sub=$2 flags="-s -w" t c p
  case $flavour in
    plain) ;;
    helm)
      flags+=" -X $HELM_MODULE/internal/version.version=$HELM_VERSION -X $HELM_MODULE/internal/version.gitTreeState=clean"
      c=$(module_commit "$HELM_MODULE" "$sub" "$HELM_VERSION")
      [[ -n $c ]] && flags+=" -X $HELM_MODULE/internal/version.gitCommit=$c"
      ;;
    kwok)
      # kwok reports consts.Version (its release process overrides it the same way)
      flags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.PreRelease=GA"
      ;;
    dittofs)
      t=$(module_time github.com/marmos91/dittofs "$sub")
      c=$(module_commit github.com/marmos91/dittofs "$sub" "$DITTOFS_VERSION")
      flags+=" -X main.version=${DITTOFS_VERSION#v} -X main.commit=${c:-unknown} -X main.date=${t:-unknown}"
      ;;
    k8s)
      t=$(module_time k8s.io/kubernetes "$sub")
      c=$(module_commit k8s.io/kubernetes "$sub" "$K8S_VERSION")
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR"
        flags+=" -X $p.gitTreeState=archive"
        # the module proxy records no commit for k8s.io/kubernetes: empty
        # rather than the in-tree "$Format:%H$" placeholder
        flags+=" -X $p.gitCommit=$c"
        [[ -n $t ]] && flags+=" -X $p.buildDate=$t"
      done
      ;;
    *) die "unknown ldflags flavour $flavour" ;;
  esac
  printf '%s\n' "$flags"
}

BUILD_PID=""
HEARTBEAT_PID=""
TMP_OUT=""
cleanup() {
  if [[ -n $HEARTBEAT_PID ]]; then kill "$HEARTBEAT_PID" 2>/dev/null || true; fi
  if [[ -n $BUILD_PID ]]; then kill "$BUILD_PID" 2>/dev/null || true; fi
  if [[ -n $TMP_OUT ]]; then rm -f "$TMP_OUT"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP

build_one() {
  local name=$1 sub=$2 pkg=$3 flavour=$4 bin_dir=$5
  local out="$bin_dir/$name" ldflags start rc=0 elapsed
  ldflags=$(ldflags_for "$flavour" "$sub")
  TMP_OUT="$bin_dir/.$name.tmp.$$"
  log "building $name ($pkg) ..."
  start=$SECONDS
  (
    cd "$GO_DIR/$sub"
    exec env CGO_ENABLED=0 "$GO" build -p 2 -mod=readonly -trimpath -ldflags "$ldflags" -o "$TMP_OUT" "$pkg"
  ) &
  BUILD_PID=$!
  (
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    n=0
    while :; do
      sleep "$HEARTBEAT_SECONDS" & s=$!
      wait "$s"
      n=$((n + HEARTBEAT_SECONDS))
      printf 'still building %s (%d s)\n' "$name" "$n" >&2
    done
  ) &
  HEARTBEAT_PID=$!
  wait "$BUILD_PID" || rc=$?
  BUILD_PID=""
  kill "$HEARTBEAT_PID" 2>/dev/null || true
  wait "$HEARTBEAT_PID" 2>/dev/null || true
  HEARTBEAT_PID=""
  elapsed=$((SECONDS - start))
  if ((rc != 0)); then
    rm -f "$TMP_OUT"
    die "building $name failed (exit $rc) after $elapsed s"
  fi
  chmod 0755 "$TMP_OUT"
  mv -f "$TMP_OUT" "$out"
  TMP_OUT=""
  log "built $name in $elapsed s"
}

# Puts a file at dst as a hard link to src (a copy across file systems), atomically.
link_into() {
  local src=$1 dst=$2 tmp
  tmp="$(dirname "$dst")/.$(basename "$dst").tmp.$$"
  ln -f "$src" "$tmp" 2>/dev/null || cp -f "$src" "$tmp"
  mv -f "$tmp" "$dst"
}

build() {
  local -a wanted=("$@") todo=()
  local entry name sub pkg flavour w known stamp cache_root bin_dir mod_dir legacy total_start built=0 adopted=0
  for w in "${wanted[@]}"; do
    known=0
    for entry in "${BINARIES[@]}"; do [[ ${entry%%|*} == "$w" ]] && known=1; done
    ((known)) || die "unknown binary '$w' (known: ${BINARIES[*]%%|*})"
  done

  check_modules
  stamp=$(compute_stamp)
  cache_root="${DITTOFS_OPERATOR_CACHE:-$HOME/.cache/dittofs-operator}/bin"
  bin_dir="$cache_root/$stamp"

  missing() {
    todo=()
    for entry in "${BINARIES[@]}"; do
      name=${entry%%|*}
      if ((${#wanted[@]})); then
        known=0
        for w in "${wanted[@]}"; do [[ $w == "$name" ]] && known=1; done
        ((known)) || continue
      fi
      [[ -x $bin_dir/$name ]] || todo+=("$entry")
    done
  }

  missing
  if ((${#todo[@]} == 0)); then
    log "all binaries cached in $bin_dir"
    printf '%s\n' "$bin_dir"
    return 0
  fi

  mkdir -p "$bin_dir"
  # One builder at a time per cache (another run may be building the same modules).
  exec 9>"$cache_root/.lock"
  if ! flock -n 9; then
    log "waiting for another build-binaries.sh run (lock $cache_root/.lock) ..."
    flock 9
  fi
  missing # re-check: the other run may have built them
  if ((${#todo[@]} == 0)); then
    log "all binaries cached in $bin_dir (built by another run)"
    printf '%s\n' "$bin_dir"
    return 0
  fi

  legacy="$cache_root/$(legacy_stamp)"
  log "bin dir: $bin_dir ($(go_version), ${#todo[@]} missing)"
  total_start=$SECONDS
  for entry in "${todo[@]}"; do
    IFS='|' read -r name sub pkg flavour <<<"$entry"
    mod_dir="$cache_root/modules/$(module_stamp "$sub")"
    mkdir -p "$mod_dir"
    if [[ ! -x $mod_dir/$name ]]; then
      if [[ " ${LEGACY_MODULE_DIRS[*]} " == *" $sub "* && -x $legacy/$name ]]; then
        link_into "$legacy/$name" "$mod_dir/$name"
        log "adopted $name from $legacy (same module files)"
        adopted=$((adopted + 1))
      else
        build_one "$name" "$sub" "$pkg" "$flavour" "$mod_dir"
        built=$((built + 1))
      fi
    fi
    link_into "$mod_dir/$name" "$bin_dir/$name"
  done
  {
    printf 'stamp=%s\nk8s=%s\netcd=%s\ndittofs=%s\nkwok=%s\nhelm=%s\ngo=%s\nrecipe=%s\n' \
      "$stamp" "$K8S_VERSION" "$ETCD_VERSION" "$DITTOFS_VERSION" "$KWOK_VERSION" "$HELM_VERSION" "$(go_version)" "$RECIPE_REV"
    for sub in "${MODULE_DIRS[@]}"; do printf 'module=%s\n' "$(module_stamp "$sub")"; done
  } >"$bin_dir/VERSIONS"
  log "$built built, $adopted adopted, ${#todo[@]} linked in $((SECONDS - total_start)) s into $bin_dir"
  printf '%s\n' "$bin_dir"
}

case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2 ;;
  --regen) shift; regen "$@" ;;
  --print-dir)
    check_modules
    printf '%s\n' "${DITTOFS_OPERATOR_CACHE:-$HOME/.cache/dittofs-operator}/bin/$(compute_stamp)"
    ;;
  -*) die "unknown option $1 (see --help)" ;;
  *) build "$@" ;;
esac
