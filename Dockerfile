# syntax=docker/dockerfile:1
#
# The DittoFS operator image: the operator bundled into one JavaScript file (`pnpm bundle`: its
# script form apps/operator/dist/dittofs-operator.snapshot.cjs) and started from a V8 startup
# snapshot of it, on a distroless Node.js runtime, as a non-root user, with nothing else: no
# shell, no package manager, no node_modules.
#
#   docker build -t dittofs-operator:0.1.0 .
#
# The Helm chart (apps/operator/deploy/helm/dittofs-operator) runs it with `args: [run, ...]`.
# The HEALTHCHECK (for a plain container engine) asks /healthz; Kubernetes ignores it and uses
# the chart's probes of the same endpoints.

# ---- build: the workspace's pinned Node and pnpm (scripts/env.sh), its locked dependencies ----
FROM node:24.22.3-bookworm-slim AS build
RUN npm install --global pnpm@10.34.9
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/core/package.json packages/core/
COPY apps/operator/package.json apps/operator/
COPY tools/mutation/package.json tools/mutation/
# Only what bundling needs: the root (esbuild) and the operator with its workspace dependencies.
RUN pnpm install --frozen-lockfile --ignore-scripts --filter dittofs-operator --filter "@dittofs-operator/operator..."
COPY packages/core/src packages/core/src
COPY apps/operator/src apps/operator/src
COPY apps/operator/scripts/bundle.ts apps/operator/scripts/
RUN node apps/operator/scripts/bundle.ts

# ---- runtime: Node.js only, uid 65532 ----
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /src/apps/operator/dist/dittofs-operator.snapshot.cjs /src/apps/operator/dist/THIRD-PARTY-NOTICES.txt /app/
# A V8 startup snapshot of the operator (its 1 MiB of JavaScript evaluated once, here, instead of
# at every start): made by this image's node with the ENTRYPOINT's flags, which is what a snapshot
# must be started with. As root, since /app is root's; only read at run time (a read-only root
# filesystem is fine).
USER 0:0
RUN ["/nodejs/bin/node", "--max-semi-space-size=1", "--memory-saver-mode", "--no-sparkplug", "--snapshot-blob", "/app/dittofs-operator.blob", "--build-snapshot", "/app/dittofs-operator.snapshot.cjs"]
USER 65532:65532
# `runtimeEnv` in apps/operator/scripts/bundle.ts: two malloc arenas (resident memory)
ENV MALLOC_ARENA_MAX=2
# No curl in distroless: node itself asks /healthz (the default --health-address :8081).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:8081/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=1 --memory-saver-mode --no-sparkplug: `nodeFlags`, and the rest `snapshotRunArgs`, in
# apps/operator/scripts/bundle.ts (`--` ends node's options, so `--help` and `--version` are the operator's)
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--memory-saver-mode", "--no-sparkplug", "--snapshot-blob", "/app/dittofs-operator.blob", "--"]
CMD ["run"]
