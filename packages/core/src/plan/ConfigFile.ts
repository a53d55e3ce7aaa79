/**
 * The DittoFS configuration file (`config.yaml`) a DittoServer spec describes, as the reference
 * operator renders it, restricted to the keys DittoFS v0.29 reads (`pkg/config`,
 * `pkg/controlplane/api/config.go`, `pkg/controlplane/store/gorm.go`).
 *
 * Contract (total, pure):
 * - `render(spec)` is deterministic: the same spec gives the same text, byte for byte, keys in a
 *   fixed order; `hash` is the SHA-256 (hex) of that text — the pod template's
 *   `dittofs.io/config-hash` and `status.configHash`.
 * - Every key is one v0.29 knows (it warns about, and ignores, any other): no `cache:` or
 *   `telemetry:` block, no `controlplane.jwt.issuer` (all three only in the reference).
 * - No secret is ever in the file: the JWT signing key (`DITTOFS_CONTROLPLANE_SECRET`), the admin
 *   password (`DITTOFS_ADMIN_INITIAL_PASSWORD`) and the PostgreSQL connection
 *   (`DITTOFS_DATABASE_POSTGRES_*`) come from the environment (see `ServerPod`).
 * - The API, and the metrics endpoint when enabled, listen on 0.0.0.0 (v0.29 defaults both to
 *   127.0.0.1, unreachable from a Service or a probe).
 * - Token lifetimes are written as the spec gives them when they are positive Go durations,
 *   otherwise as the defaults (15m, 168h): a value DittoFS cannot parse would stop it at boot.
 * - PostgreSQL is used exactly when `database.postgresSecretRef` is set (the reference rule,
 *   whatever `database.type` says); otherwise SQLite at `database.sqlite.path`.
 */
import { createHash } from "node:crypto"
import { Duration, Option } from "effect"
import type * as DittoServer from "../domain/DittoServer.ts"
import * as GoDuration from "../domain/GoDuration.ts"

/** The key of the rendered configuration in the ConfigMap, and its file name in the container. */
export const fileName = "config.yaml"

/**
 * The values the configuration takes where the spec says nothing (the reference operator's
 * defaults).
 */
export const defaults = {
  sqlitePath: "/data/controlplane/controlplane.db",
  accessTokenDuration: "15m",
  refreshTokenDuration: "168h",
  adminUsername: "admin",
  shutdownTimeout: "30s",
  metricsPath: "/metrics"
} as const

/** Every interface of the pod: a Service or a probe reaches the server only there. */
export const listenAddress = "0.0.0.0"

/** How long DittoFS may take to shut down (`shutdown_timeout`), in seconds. */
export const shutdownTimeoutSeconds = 30

/** The rendered `config.yaml` and its hash. */
export interface Rendered {
  readonly text: string
  /** SHA-256 of `text`, hex. */
  readonly hash: string
}

type Scalar = string | number | boolean
/** A YAML mapping with its keys in the order they are written. */
type Mapping = ReadonlyArray<readonly [key: string, value: Scalar | Mapping]>

const reserved = /^(true|false|yes|no|on|off|y|n|null|~)$/i
const plainText = /^[A-Za-z/_][A-Za-z0-9_./-]*$/
const goDurationText = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/
const dottedAddress = /^\d+(\.\d+){3}$/

/** Whether YAML reads this text, written plain, back as the same string. */
const isPlain = (text: string): boolean =>
  (plainText.test(text) && !reserved.test(text)) || goDurationText.test(text) || dottedAddress.test(text)

/** A scalar YAML reads back as the same value: a string plain when unambiguous, else JSON-quoted. */
const scalar = (value: Scalar): string => (typeof value === "string" && !isPlain(value) ? JSON.stringify(value) : String(value))

const emit = (mapping: Mapping, depth = 0): string =>
  mapping.map(([key, value]) => {
    const indent = "  ".repeat(depth)
    return typeof value === "object" ? `${indent}${key}:\n${emit(value, depth + 1)}` : `${indent}${key}: ${scalar(value)}\n`
  }).join("")

const header = "# DittoFS configuration, rendered by the DittoFS operator from the DittoServer spec.\n" +
  "# Edits are overwritten; secrets come from the environment, never from this file.\n"

/** The spec's Go duration when DittoFS accepts it and it is positive, else the default. */
const positiveDuration = (text: string | undefined, fallback: string): string =>
  text !== undefined && Option.exists(GoDuration.parse(text), Duration.isPositive) ? text : fallback

/** Whether the spec asks for a PostgreSQL control-plane database (a `postgresSecretRef` is set). */
export const usesPostgres = (spec: DittoServer.Spec): boolean => spec.database?.postgresSecretRef !== undefined

/** Where the control-plane SQLite database lives (whether or not it is used). */
export const sqlitePath = (spec: DittoServer.Spec): string => spec.database?.sqlite?.path ?? defaults.sqlitePath

const database = (spec: DittoServer.Spec): Mapping =>
  usesPostgres(spec)
    ? [["type", "postgres"]]
    : [["type", "sqlite"], ["sqlite", [["path", sqlitePath(spec)]]]]

const metrics = (spec: DittoServer.Spec): Mapping =>
  spec.metrics.enabled
    ? [["enabled", true], ["host", listenAddress], ["port", spec.metrics.port], ["path", defaults.metricsPath]]
    : [["enabled", false]]

/** The configuration as an ordered mapping (exposed for tests that read it back). */
const document = (spec: DittoServer.Spec): Mapping => {
  const jwt = spec.identity?.jwt
  return [
    ["logging", [["level", "INFO"], ["format", "json"], ["output", "stdout"]]],
    ["shutdown_timeout", defaults.shutdownTimeout],
    ["database", database(spec)],
    ["controlplane", [
      ["host", listenAddress],
      ["port", spec.controlPlane.port],
      ["jwt", [
        ["access_token_duration", positiveDuration(jwt?.accessTokenDuration, defaults.accessTokenDuration)],
        ["refresh_token_duration", positiveDuration(jwt?.refreshTokenDuration, defaults.refreshTokenDuration)]
      ]]
    ]],
    ["admin", [["username", spec.identity?.admin?.username ?? defaults.adminUsername]]],
    ["metrics", metrics(spec)]
  ]
}

/** The SHA-256 of a UTF-8 text, in hex. */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/**
 * Renders DittoFS's `config.yaml` (as v0.29 reads it) from a spec, with its SHA-256: the pod
 * template's `dittofs.io/config-hash`. Pure and deterministic.
 */
export const render = (spec: DittoServer.Spec): Rendered => {
  const text = header + emit(document(spec))
  return { text, hash: sha256Hex(text) }
}
