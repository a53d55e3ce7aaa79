/**
 * `ConfigFile.render`: read back with a small YAML reader that resolves plain scalars the way
 * YAML 1.1 does (Go's yaml.v3 → viper: `yes` is a boolean, `1e3` a number), so a value that
 * would not come back as the same string fails here; every key is one DittoFS v0.29 reads.
 * (The integration test `config-file.test.ts` feeds the same files to the real `dfs`.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { createHash } from "node:crypto"
import { ConfigFile, DittoServer } from "../../src/index.ts"

const specOf = (fields: Record<string, unknown> = {}): DittoServer.Spec =>
  Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })

type Node = { [key: string]: Node | Scalar }
type Scalar = string | number | boolean | null

/** YAML 1.1 resolution of a plain scalar, as yaml.v3 and viper apply it. */
const plainScalar = (text: string): Scalar => {
  if (/^(y|yes|true|on)$/i.test(text)) return true
  if (/^(n|no|false|off)$/i.test(text)) return false
  if (/^(null|~)$/i.test(text)) return null
  if (/^[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?$/.test(text) || /^0[xo][0-9a-f]+$/i.test(text)) return Number(text.replace(/_/g, ""))
  return text
}

const readYaml = (text: string): Node => {
  const root: Node = {}
  const stack: Array<{ readonly indent: number; readonly node: Node }> = [{ indent: -1, node: root }]
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue
    const match = /^( *)([a-z_]+):(?: (.+))?$/.exec(line)
    if (match === null) throw new Error(`unreadable line: ${JSON.stringify(line)}`)
    const [, spaces = "", key = "", value] = match
    while ((stack.at(-1)?.indent ?? -1) >= spaces.length) stack.pop()
    const parent = stack.at(-1)?.node ?? root
    if (value === undefined) {
      const child: Node = {}
      parent[key] = child
      stack.push({ indent: spaces.length, node: child })
    } else {
      if (value.startsWith("\"")) {
        parent[key] = JSON.parse(value)
      } else {
        // a plain scalar YAML reads differently from its text: an indicator first, a comment, a key
        if (/^[-?:,\[\]{}#&*!|>'"%@`]/.test(value) || / #|: /.test(value)) throw new Error(`YAML would not read ${value} as written`)
        parent[key] = plainScalar(value)
      }
    }
  }
  return root
}

const at = (node: Node, path: string): Node | Scalar | undefined =>
  path.split(".").reduce<Node | Scalar | undefined>((inner, key) =>
    typeof inner === "object" && inner !== null ? inner[key] : undefined, node)

const leafPaths = (node: Node, prefix = ""): ReadonlyArray<string> =>
  Object.entries(node).flatMap(([key, value]) =>
    typeof value === "object" && value !== null ? leafPaths(value, `${prefix}${key}.`) : [`${prefix}${key}`])

/** Keys DittoFS v0.29.0 reads (pkg/config/config.go, metrics.go; pkg/controlplane/api/config.go, store/gorm.go). */
const knownKeys = new Set([
  "logging.level", "logging.format", "logging.output",
  "shutdown_timeout",
  "database.type", "database.sqlite.path",
  "database.postgres.host", "database.postgres.port", "database.postgres.database", "database.postgres.user",
  "database.postgres.sslmode",
  "controlplane.host", "controlplane.port", "controlplane.jwt.access_token_duration", "controlplane.jwt.refresh_token_duration",
  "admin.username", "admin.email",
  "metrics.enabled", "metrics.host", "metrics.port", "metrics.path", "metrics.auth"
])

const goDuration = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/

const Fields = Schema.Struct({
  port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  metrics: Schema.Struct({ enabled: Schema.Boolean, port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })) }),
  username: Schema.optionalKey(Schema.Union([Schema.Literals(["admin", "yes", "No", "null", "~", "1e3", "0x1F", "a: b", "#x", "ünï", "x # y", "- a", "'q'", "\"q\"", ""]), Schema.String])),
  sqlitePath: Schema.optionalKey(Schema.Union([Schema.Literals(["/data/controlplane/controlplane.db", "C:\\db", "/d/a b.db", "true"]), Schema.String])),
  postgres: Schema.Boolean,
  access: Schema.optionalKey(Schema.Union([Schema.Literals(["5m", "1h30m", "0s", "-1m", "soon", "1.5h", ""]), Schema.String])),
  refresh: Schema.optionalKey(Schema.Literals(["24h", "nope"]))
})

const specFrom = (fields: typeof Fields.Type): DittoServer.Spec =>
  specOf({
    controlPlane: { port: fields.port },
    metrics: fields.metrics,
    identity: {
      ...(fields.username === undefined ? {} : { admin: { username: fields.username } }),
      ...(fields.access === undefined && fields.refresh === undefined ? {} : {
        jwt: {
          secretRef: { name: "s", key: "k" },
          ...(fields.access === undefined ? {} : { accessTokenDuration: fields.access }),
          ...(fields.refresh === undefined ? {} : { refreshTokenDuration: fields.refresh })
        }
      })
    },
    database: {
      ...(fields.sqlitePath === undefined ? {} : { sqlite: { path: fields.sqlitePath } }),
      ...(fields.postgres ? { postgresSecretRef: { name: "pg", key: "dsn" } } : {})
    }
  })

describe("ConfigFile.render", () => {
  it("renders the minimal spec like the reference, without the keys v0.29 does not know", () => {
    const { hash, text } = ConfigFile.render(specOf())
    assert.strictEqual(text.replace(/^#.*\n/gm, ""), [
      "logging:",
      "  level: INFO",
      "  format: json",
      "  output: stdout",
      "shutdown_timeout: 30s",
      "database:",
      "  type: sqlite",
      "  sqlite:",
      "    path: /data/controlplane/controlplane.db",
      "controlplane:",
      "  host: 0.0.0.0",
      "  port: 8080",
      "  jwt:",
      "    access_token_duration: 15m",
      "    refresh_token_duration: 168h",
      "admin:",
      "  username: admin",
      "metrics:",
      "  enabled: false",
      ""
    ].join("\n"))
    assert.strictEqual(hash, createHash("sha256").update(text).digest("hex"))
  })

  it("postgres: only the type, the connection comes from the environment", () => {
    const document = readYaml(ConfigFile.render(specOf({ database: { type: "sqlite", postgresSecretRef: { name: "pg", key: "dsn" } } })).text)
    assert.deepStrictEqual(document["database"], { type: "postgres" })
  })

  it.prop("reads back as the spec says, every key one v0.29 knows, deterministically", { fields: Fields }, ({ fields }) => {
    const spec = specFrom(fields)
    const rendered = ConfigFile.render(spec)
    assert.deepStrictEqual(ConfigFile.render(specFrom(fields)), rendered)
    assert.strictEqual(rendered.hash, createHash("sha256").update(rendered.text, "utf8").digest("hex"))
    const document = readYaml(rendered.text)
    for (const path of leafPaths(document)) assert.isTrue(knownKeys.has(path), `unknown key ${path}`)
    assert.strictEqual(at(document, "controlplane.port"), fields.port)
    assert.strictEqual(at(document, "controlplane.host"), "0.0.0.0")
    assert.strictEqual(at(document, "admin.username"), fields.username ?? "admin")
    assert.strictEqual(at(document, "database.type"), fields.postgres ? "postgres" : "sqlite")
    assert.strictEqual(at(document, "database.sqlite.path"), fields.postgres ? undefined : fields.sqlitePath ?? "/data/controlplane/controlplane.db")
    assert.strictEqual(at(document, "metrics.enabled"), fields.metrics.enabled)
    assert.strictEqual(at(document, "metrics.port"), fields.metrics.enabled ? fields.metrics.port : undefined)
    assert.strictEqual(at(document, "metrics.host"), fields.metrics.enabled ? "0.0.0.0" : undefined)
    const access = String(at(document, "controlplane.jwt.access_token_duration"))
    const refresh = String(at(document, "controlplane.jwt.refresh_token_duration"))
    assert.match(access, goDuration)
    assert.match(refresh, goDuration)
    const positive = (text: string | undefined) => text !== undefined && goDuration.test(text) && /[1-9]/.test(text)
    assert.strictEqual(access, positive(fields.access) ? fields.access : "15m")
    assert.strictEqual(refresh, positive(fields.refresh) ? fields.refresh : "168h")
  }, { arbitrary: { runs: 500 }, timeout: 60_000 })
})

describe("ConfigFile.render, value by value", () => {
  const line = (spec: DittoServer.Spec, key: string) => ConfigFile.render(spec).text.split("\n").find((l) => l.trimStart().startsWith(`${key}:`))?.trim()
  const username = (name: string) => line(specOf({ identity: { admin: { username: name } } }), "username")

  it("writes a name plain only when YAML reads it back as the same string", () => {
    assert.deepStrictEqual(
      ["admin", "yes", "No", "null", "~", "on", "y", "1e3", "0x1f", "a b", "-x", "_svc.account/x-1", ""].map(username),
      [
        "username: admin",
        "username: \"yes\"",
        "username: \"No\"",
        "username: \"null\"",
        "username: \"~\"",
        "username: \"on\"",
        "username: \"y\"",
        "username: \"1e3\"",
        "username: \"0x1f\"",
        "username: \"a b\"",
        "username: \"-x\"",
        "username: _svc.account/x-1",
        "username: \"\""
      ]
    )
    assert.strictEqual(line(specOf({ database: { sqlite: { path: "./cp.db" } } }), "path"), "path: \"./cp.db\"")
  })

  it("keeps a positive Go duration as written, and falls back to the default for zero, negative or unreadable ones", () => {
    const durations = (access: string, refresh: string) => {
      const spec = specOf({ identity: { jwt: { secretRef: { name: "j", key: "k" }, accessTokenDuration: access, refreshTokenDuration: refresh } } })
      return [line(spec, "access_token_duration"), line(spec, "refresh_token_duration")]
    }
    assert.deepStrictEqual(durations("1h30m", "2.5h"), ["access_token_duration: 1h30m", "refresh_token_duration: 2.5h"])
    assert.deepStrictEqual(durations("0s", "-1h"), ["access_token_duration: 15m", "refresh_token_duration: 168h"])
    assert.deepStrictEqual(durations("soon", ""), ["access_token_duration: 15m", "refresh_token_duration: 168h"])
  })

  it("serves metrics on every interface at the spec's port when enabled", () => {
    const text = ConfigFile.render(specOf({ metrics: { enabled: true, port: 9191 } })).text
    assert.include(text, "metrics:\n  enabled: true\n  host: 0.0.0.0\n  port: 9191\n  path: /metrics\n")
  })
})
