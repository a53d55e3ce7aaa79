/**
 * A real DittoFS server (`dfs start --foreground`) on 127.0.0.1 for integration and end-to-end
 * tests.
 *
 * Contract of `start(options)` (needs a `Scope`):
 * - Fresh run dir (`<dir>/config.yaml`, data under `<dir>/data`, log `<dir>/dfs.log`, pid
 *   `<dir>/dfs.pid`); the control plane API listens on a free port of 127.0.0.1; the `admin`
 *   password is set through `DITTOFS_ADMIN_INITIAL_PASSWORD` (no forced change). `DITTOFS_*`
 *   variables of the launcher are not inherited, so a developer's environment cannot reconfigure
 *   the server.
 * - Returns once `GET /health` answers 200 and the two default adapters (a fresh `dfs` enables
 *   nfs:12049 and smb:1445) were moved through the API to free ports (smb bound to 127.0.0.1;
 *   dfs v0.29 ignores `bind_address` for nfs, which listens on all interfaces), so any number of
 *   servers run side by side.
 * - `accessTokenDuration` (optional) sets dfs's JWT access-token lifetime, for token-expiry tests;
 *   without it dfs uses its default (15 minutes).
 * - `stop` terminates the process (SIGTERM, then SIGKILL); `start` boots it again on the same
 *   data dir and port (users and adapters persist) and waits for `/health`. The scope's close
 *   terminates whatever process is current; the process also dies with the launcher
 *   (`setpriv --pdeathsig SIGKILL`).
 */
import { Duration, Effect, Option, Schedule, Schema, SynchronizedRef } from "effect"
import { randomBytes } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { type Binaries, locate } from "./Binaries.ts"
import * as ChildProcesses from "./ChildProcesses.ts"
import { freePorts } from "./FreePorts.ts"
import { describeCause, LaunchError } from "./LaunchError.ts"
import * as LoopbackHttp from "./LoopbackHttp.ts"
import * as RunDir from "./RunDir.ts"

export interface DittoFsServerOptions {
  /** Defaults to `Binaries.locate` (which builds missing binaries). */
  readonly binaries?: Binaries
  /** Defaults to a random 24-character password. */
  readonly adminPassword?: string
  /** How long to wait for `/health` at each start; default 30 s. */
  readonly readyTimeout?: Duration.Input
  /**
   * Lifetime of the access tokens dfs issues, as a Go duration (`controlplane.jwt.access_token_duration`,
   * e.g. `"8s"`); default dfs's own (15m). dfs v0.29 has no minimum; `"0s"` means its default.
   */
  readonly accessTokenDuration?: string
}

export interface DittoFsServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  readonly admin: { readonly username: string; readonly password: string }
  readonly dataDir: string
  /** The run dir: config, data, log, pid file. */
  readonly dir: string
  /** Where the adapters were moved after the first boot. */
  readonly adapterPorts: { readonly nfs: number; readonly smb: number }
  /** The pid of the running process, if any. */
  readonly pid: Effect.Effect<Option.Option<number>>
  /** Terminates the server (no-op when stopped). */
  readonly stop: Effect.Effect<void>
  /** Boots the server again on the same data dir and port (no-op when running). */
  readonly start: Effect.Effect<void, LaunchError>
}

const adminUsername = "admin"

/** YAML is a superset of JSON. Keys verified against dfs v0.29.0 `pkg/config` and `pkg/controlplane`. */
const configOf = (dataDir: string, port: number, jwtSecret: string, accessTokenDuration: string | undefined): string =>
  JSON.stringify(
    {
      logging: { level: "INFO", format: "text", output: "stdout" },
      shutdown_timeout: "5s",
      database: { type: "sqlite", sqlite: { path: join(dataDir, "controlplane.db") } },
      controlplane: {
        host: "127.0.0.1",
        port,
        jwt: { secret: jwtSecret, ...(accessTokenDuration === undefined ? {} : { access_token_duration: accessTokenDuration }) }
      },
      metrics: { enabled: false }
    },
    null,
    2
  )

const LoginResponse = Schema.fromJsonString(Schema.Struct({ access_token: Schema.String }))
const AdapterResponse = Schema.fromJsonString(Schema.Struct({ type: Schema.String, port: Schema.Int }))

const call = Effect.fn("DittoFsServer.call")(function*(
  request: LoopbackHttp.LoopbackRequest,
  step: string,
  expectedStatus: number
) {
  const response = yield* LoopbackHttp.request(request)
  if (response.status !== expectedStatus) {
    return yield* new LaunchError({ step, message: `HTTP ${response.status}: ${response.text.slice(0, 500)}` })
  }
  return response.text
})

const awaitHealthy = (baseUrl: string, timeout: Duration.Duration) => {
  const health = call({ url: `${baseUrl}/health`, timeout: "1 second" }, "GET /health", 200)
  return health.pipe(
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.fail(new LaunchError({ step: "wait for dfs", message: `GET /health not 200 within ${Duration.format(timeout)}` }))
    })
  )
}

/** Moves the default adapters off their fixed ports, so parallel servers never collide. */
const moveDefaultAdapters = Effect.fn("DittoFsServer.moveDefaultAdapters")(function*(
  baseUrl: string,
  password: string,
  ports: { readonly nfs: number; readonly smb: number }
) {
  const login = yield* call({
    url: `${baseUrl}/api/v1/auth/login`,
    method: "POST",
    body: { contentType: "application/json", text: JSON.stringify({ username: adminUsername, password }) }
  }, "log in as admin", 200)
  const { access_token } = yield* Schema.decodeEffect(LoginResponse)(login).pipe(
    Effect.mapError((error) => new LaunchError({ step: "log in as admin", message: error.message }))
  )
  for (const [type, port] of [["nfs", ports.nfs], ["smb", ports.smb]] as const) {
    const step = `move adapter ${type} to port ${port}`
    const updated = yield* call({
      url: `${baseUrl}/api/v1/adapters/${type}`,
      method: "PUT",
      bearerToken: access_token,
      body: { contentType: "application/json", text: JSON.stringify({ port, config: { bind_address: "127.0.0.1" } }) }
    }, step, 200)
    const adapter = yield* Schema.decodeEffect(AdapterResponse)(updated).pipe(
      Effect.mapError((error) => new LaunchError({ step, message: error.message }))
    )
    if (adapter.port !== port) {
      return yield* new LaunchError({ step, message: `dfs answered port ${adapter.port}` })
    }
  }
})

const writeConfig = (path: string, text: string) =>
  Effect.tryPromise({
    try: () => writeFile(path, text, { mode: 0o600 }),
    catch: (cause) => new LaunchError({ step: `write ${path}`, message: describeCause(cause) })
  })

export const start = Effect.fn("DittoFsServer.start")(function*(options: DittoFsServerOptions = {}) {
  const binaries = options.binaries ?? (yield* locate)
  const readyTimeout = Duration.fromInputUnsafe(options.readyTimeout ?? "30 seconds")
  const password = options.adminPassword ?? randomBytes(18).toString("base64url")
  const dir = yield* RunDir.make("dittofs-operator-dfs-")
  const dataDir = join(dir, "data")
  const configFile = join(dir, "config.yaml")
  const ports = yield* freePorts(["api", "nfs", "smb"])
  const baseUrl = `http://127.0.0.1:${ports.api}`
  yield* writeConfig(configFile, configOf(dataDir, ports.api, randomBytes(32).toString("hex"), options.accessTokenDuration))

  const current = yield* SynchronizedRef.make(Option.none<ChildProcesses.Child>())
  const spec: ChildProcesses.ChildSpec = {
    name: "dfs",
    command: binaries.dfs,
    args: ["start", "--foreground", "--config", configFile],
    dir,
    cwd: dir,
    dropEnv: (name) => name.startsWith("DITTOFS_"),
    env: {
      DITTOFS_ADMIN_INITIAL_PASSWORD: password,
      XDG_CONFIG_HOME: join(dir, "xdg-config"),
      XDG_STATE_HOME: join(dir, "xdg-state")
    }
  }
  const terminateCurrent = SynchronizedRef.updateEffect(current, (child) =>
    Option.match(child, {
      onNone: () => Effect.succeedNone,
      onSome: (running) => ChildProcesses.terminate(running, "10 seconds").pipe(Effect.as(Option.none()))
    }))
  const boot = SynchronizedRef.updateEffect(current, (child) =>
    Option.isSome(child) ? Effect.succeed(child) : Effect.gen(function*() {
      const dfs = yield* ChildProcesses.spawn(spec)
      yield* Effect.raceFirst(
        awaitHealthy(baseUrl, readyTimeout).pipe(
          Effect.catch((error) =>
            Effect.flatMap(ChildProcesses.logTail(dfs), (tail) =>
              Effect.fail(new LaunchError({ step: error.step, message: `${error.message}; last lines of ${dfs.logFile}:\n${tail}` }))))
        ),
        ChildProcesses.failWhenExited(dfs, "wait for dfs")
      ).pipe(Effect.onError(() => ChildProcesses.terminate(dfs)))
      return Option.some(dfs)
    }))
  yield* Effect.addFinalizer(() => terminateCurrent)
  yield* boot
  const adapterPorts = { nfs: ports.nfs, smb: ports.smb }
  yield* moveDefaultAdapters(baseUrl, password, adapterPorts)

  const server: DittoFsServer = {
    baseUrl,
    admin: { username: adminUsername, password },
    dataDir,
    dir,
    adapterPorts,
    pid: SynchronizedRef.get(current).pipe(Effect.map(Option.map((child) => child.pid))),
    stop: terminateCurrent,
    start: boot.pipe(Effect.asVoid)
  }
  return server
})
