/**
 * The `config.yaml` the operator renders, fed to the real `dfs` v0.29 with the environment the
 * planned StatefulSet gives its container (every Secret reference resolved, as the kubelet
 * would; a reference to a missing key fails the test, as it would stop the pod):
 * - `dfs config validate` accepts it with no warning — no unknown key, the JWT secret present;
 * - `dfs config show` reads back what the spec says (host, ports, database, admin, lifetimes);
 * - the minimal spec, with its port and SQLite path moved to this machine, runs under
 *   `dfs start` with the container's own arguments and answers the container's probes; the
 *   admin logs in with the generated password.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoServer, type K8s, Ownership, Workload } from "@dittofs-operator/core"
import { Effect, Option, Schedule, Schema } from "effect"
import { execFile } from "node:child_process"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { locate } from "../../../../scripts/launch/Binaries.ts"
import * as ChildProcesses from "../../../../scripts/launch/ChildProcesses.ts"
import { freePorts } from "../../../../scripts/launch/FreePorts.ts"
import * as LoopbackHttp from "../../../../scripts/launch/LoopbackHttp.ts"
import * as RunDir from "../../../../scripts/launch/RunDir.ts"

const server: Ownership.ServerIdentity = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const generated = { jwtSecret: "Jwt0123456789abcdefghijABCDEFGHIJ", adminPassword: "Adm1n-Generated_Passw0rd" }

/** Secrets a user created for the specs of the table (key → text). */
const userSecrets: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  pg: { host: "db.example", database: "dittofs", user: "dittofs", password: "s3cr3t: with # odd chars", sslmode: "require" },
  s3: { accessKeyId: "AKIA0000", secretAccessKey: "shh", endpoint: "http://minio:9000" },
  "my-jwt": { signing: "user-provided-signing-key-of-32+-chars" },
  "my-admin": { pw: "user-admin-password" }
}

const specOf = (fields: Record<string, unknown>): DittoServer.Spec =>
  Schema.decodeSync(DittoServer.Spec)({ storage: { metadataSize: "1Gi" }, ...fields })

const workloadOf = (spec: DittoServer.Spec): Workload.Plan =>
  Workload.plan({
    server,
    spec,
    adapterPorts: Option.none(),
    observed: { configMap: Option.none(), statefulSet: Option.none(), services: [], secrets: [], networkPolicies: [], pods: [] },
    generated
  })

const created = <A>(changes: ReadonlyArray<{ readonly _tag: string; readonly object: A }>): ReadonlyArray<A> =>
  changes.flatMap((change) => (change._tag === "Create" ? [change.object] : []))

const configText = (workload: Workload.Plan): string => created(workload.configMaps)[0]?.data?.["config.yaml"] ?? ""

const container = (workload: Workload.Plan): K8s.Container => {
  const found = created(workload.statefulSets)[0]?.spec.template.spec.containers.find((candidate) => candidate.name === "dittofs")
  if (found === undefined) throw new Error("no dittofs container planned")
  return found
}

const EnvVar = Schema.Struct({
  name: Schema.String,
  value: Schema.optionalKey(Schema.String),
  valueFrom: Schema.optionalKey(Schema.Struct({
    secretKeyRef: Schema.Struct({ name: Schema.String, key: Schema.String, optional: Schema.optionalKey(Schema.Boolean) })
  }))
})

/** The container's environment as the kubelet resolves it, from the planned and the users' Secrets. */
const containerEnv = (workload: Workload.Plan): Record<string, string> => {
  const planned = Object.fromEntries(created(workload.secrets).map((secret) => [
    secret.metadata.name,
    Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]))
  ]))
  const secrets: Readonly<Record<string, Readonly<Record<string, string>>>> = { ...userSecrets, ...planned }
  const env = Schema.decodeUnknownSync(Schema.Array(EnvVar))(container(workload)["env"])
  return Object.fromEntries(env.flatMap((variable): ReadonlyArray<readonly [string, string]> => {
    if (variable.value !== undefined) return [[variable.name, variable.value]]
    const ref = variable.valueFrom?.secretKeyRef
    const value = ref === undefined ? undefined : secrets[ref.name]?.[ref.key]
    if (value !== undefined) return [[variable.name, value]]
    if (ref?.optional === true) return []
    throw new Error(`${variable.name}: Secret ${ref?.name}/${ref?.key} does not resolve: the pod could not start`)
  }))
}

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs dfs with exactly this environment (no DITTOFS_* of ours leaks in). */
const dfs = (args: ReadonlyArray<string>, env: Record<string, string>, dir: string) =>
  Effect.flatMap(Effect.orDie(locate), (binaries) =>
    Effect.callback<Run>((resume) => {
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("DITTOFS_")))
      execFile(binaries.dfs, [...args], {
        env: { ...inherited, XDG_CONFIG_HOME: join(dir, "xdg-config"), XDG_STATE_HOME: join(dir, "xdg-state"), ...env },
        timeout: 30_000
      }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr }))
      })
    }))

const writeConfig = (dir: string, name: string, text: string) =>
  Effect.promise(async () => {
    const path = join(dir, `${name}.yaml`)
    await writeFile(path, text, { mode: 0o600 })
    return path
  })

const Shown = Schema.fromJsonString(Schema.Struct({
  controlplane: Schema.Struct({
    host: Schema.String,
    port: Schema.Int,
    jwt: Schema.Struct({ access_token_duration: Schema.Unknown, refresh_token_duration: Schema.Unknown })
  }),
  database: Schema.Struct({
    type: Schema.String,
    sqlite: Schema.Struct({ path: Schema.String }),
    postgres: Schema.Struct({ host: Schema.String, user: Schema.String, sslmode: Schema.String })
  }),
  admin: Schema.Struct({ username: Schema.String }),
  metrics: Schema.Struct({ enabled: Schema.Boolean, host: Schema.String, port: Schema.Int }),
  logging: Schema.Struct({ format: Schema.String, output: Schema.String })
}))

/** A duration as `dfs config show` prints it: Go's `1h0m0s`, or nanoseconds. */
const nanos = (shown: unknown): number => {
  if (typeof shown === "number") return shown
  const text = String(shown)
  const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6 }
  return [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)].reduce((sum, [, amount = "0", unit = "s"]) => sum + Number(amount) * (units[unit] ?? 0), 0)
}

const table: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ["minimal", {}],
  ["metrics on", { metrics: { enabled: true } }],
  ["postgres", { database: { postgresSecretRef: { name: "pg", key: "dsn" } } }],
  ["s3", { s3: { credentialsSecretRef: { secretName: "s3" }, region: "us-east-1" } }],
  ["custom ports", { controlPlane: { port: 18081 }, metrics: { enabled: true, port: 19092 } }],
  ["own secrets, sqlite path and token lifetimes", {
    database: { sqlite: { path: "/var/lib/dittofs/state/cp.db" } },
    identity: {
      jwt: { secretRef: { name: "my-jwt", key: "signing" }, accessTokenDuration: "5m", refreshTokenDuration: "24h" },
      admin: { username: "yes", passwordSecretRef: { name: "my-admin", key: "pw" } }
    }
  }],
  ["hostile admin name, unparsable lifetime", { identity: { admin: { username: "a: b # c" }, jwt: { secretRef: { name: "my-jwt", key: "signing" }, accessTokenDuration: "soon" } } }]
]

describe("config.yaml against dfs v0.29", () => {
  for (const [name, fields] of table) {
    it.live(`${name}: dfs config validate accepts it without warning, config show reads the spec back`, () =>
      Effect.scoped(Effect.gen(function*() {
        const dir = yield* Effect.orDie(RunDir.make("dittofs-operator-config-"))
        const spec = specOf(fields)
        const workload = workloadOf(spec)
        const env = containerEnv(workload)
        const file = yield* writeConfig(dir, "config", configText(workload))

        const validate = yield* dfs(["config", "validate", "--config", file], env, dir)
        assert.strictEqual(validate.code, 0, `${validate.stdout}\n${validate.stderr}`)
        assert.include(validate.stdout, "Validation: OK\n")
        assert.notInclude(validate.stdout, "warning")
        assert.notInclude(validate.stderr, "unknown keys")

        const show = yield* dfs(["config", "show", "--output", "json", "--config", file], env, dir)
        assert.strictEqual(show.code, 0, show.stderr)
        const loaded = yield* Effect.orDie(Schema.decodeEffect(Shown)(show.stdout))
        assert.deepStrictEqual([loaded.controlplane.host, loaded.controlplane.port], ["0.0.0.0", spec.controlPlane.port])
        assert.deepStrictEqual([loaded.logging.format, loaded.logging.output], ["json", "stdout"])
        assert.strictEqual(loaded.admin.username, spec.identity?.admin?.username ?? "admin")
        const postgres = spec.database?.postgresSecretRef !== undefined
        assert.strictEqual(loaded.database.type, postgres ? "postgres" : "sqlite")
        if (postgres) {
          assert.deepStrictEqual([loaded.database.postgres.host, loaded.database.postgres.user, loaded.database.postgres.sslmode], ["db.example", "dittofs", "require"])
        } else {
          assert.strictEqual(loaded.database.sqlite.path, spec.database?.sqlite?.path ?? "/data/controlplane/controlplane.db")
        }
        assert.strictEqual(loaded.metrics.enabled, spec.metrics.enabled)
        if (spec.metrics.enabled) assert.deepStrictEqual([loaded.metrics.host, loaded.metrics.port], ["0.0.0.0", spec.metrics.port])
        const access = spec.identity?.jwt?.accessTokenDuration
        assert.strictEqual(nanos(loaded.controlplane.jwt.access_token_duration), access === "5m" ? 300e9 : 900e9)
        assert.strictEqual(nanos(loaded.controlplane.jwt.refresh_token_duration), spec.identity?.jwt?.refreshTokenDuration === "24h" ? 86_400e9 : 604_800e9)
      })))
  }

  it.live("minimal: dfs runs with the container's arguments and environment, answers its probes, and the admin logs in", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* Effect.orDie(RunDir.make("dittofs-operator-config-"))
      const { api } = yield* Effect.orDie(freePorts(["api"]))
      const dataDir = join(dir, "data")
      yield* Effect.promise(() => mkdir(dataDir))
      // the pod's port and volumes, moved to this machine
      const spec = specOf({ controlPlane: { port: api }, database: { sqlite: { path: join(dataDir, "controlplane", "controlplane.db") } } })
      const workload = workloadOf(spec)
      const planned = container(workload)
      const args = yield* Effect.orDie(Schema.decodeUnknownEffect(Schema.Array(Schema.String))(planned["args"]))
      assert.strictEqual(args.at(-1), "/config/config.yaml")
      const file = yield* writeConfig(dir, "config", configText(workload))
      const binaries = yield* Effect.orDie(locate)
      const child = yield* Effect.orDie(ChildProcesses.spawnScoped({
        name: "dfs",
        command: binaries.dfs,
        args: [...args.slice(0, -1), file],
        dir,
        cwd: dir,
        dropEnv: (variable) => variable.startsWith("DITTOFS_"),
        env: { ...containerEnv(workload), XDG_CONFIG_HOME: join(dir, "xdg-config"), XDG_STATE_HOME: join(dir, "xdg-state") }
      }, "10 seconds"))

      const probe = (field: "livenessProbe" | "readinessProbe" | "startupProbe") => {
        const httpGet = Schema.decodeUnknownSync(Schema.Struct({ httpGet: Schema.Struct({ path: Schema.String, port: Schema.Int, scheme: Schema.Literal("HTTP") }) }))(planned[field]).httpGet
        return LoopbackHttp.request({ url: `http://127.0.0.1:${httpGet.port}${httpGet.path}`, timeout: "1 second" })
      }
      const healthy = probe("startupProbe").pipe(
        Effect.filterOrFail((response) => response.status === 200),
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo({ duration: "30 seconds" }))),
        Effect.raceFirst(ChildProcesses.failWhenExited(child, "dfs start"))
      )
      const started = yield* Effect.orDie(healthy)
      assert.include(started.text, "\"healthy\"")
      assert.strictEqual((yield* Effect.orDie(probe("livenessProbe"))).status, 200)
      assert.strictEqual((yield* Effect.orDie(probe("readinessProbe"))).status, 200)

      const adminSecret = created(workload.secrets).find((secret) => secret.metadata.name === "ditto-admin-credentials")
      const password = Buffer.from(adminSecret?.data?.["password"] ?? "", "base64").toString("utf8")
      const login = yield* Effect.orDie(LoopbackHttp.request({
        url: `http://127.0.0.1:${api}/api/v1/auth/login`,
        method: "POST",
        body: { contentType: "application/json", text: JSON.stringify({ username: "admin", password }) }
      }))
      assert.strictEqual(login.status, 200, login.text)
      assert.notInclude(login.text, "\"must_change_password\":true")
    })))
})
