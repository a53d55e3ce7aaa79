/**
 * `DittoFsMemory`: in-memory DittoFS control planes behind the core's `DittoFs` service, for
 * deterministic tests. Several servers can live side by side, one per base URL.
 *
 * Contract: behaves like a real `dfs` (v0.29.0) for the calls the operator makes, as the DittoFS
 * contract suite proves on both: admin and operator roles, 409 on a duplicate user, 401 for a
 * wrong password or an expired token (expiry follows the Effect `Clock`, so `TestClock` drives
 * it), refresh returning a new pair, adapters that stop and start, `Unreachable` for a stopped
 * or unknown server. Faults a real server cannot produce on demand are scriptable through
 * `DittoFsMemory.Control`: a raw (possibly malformed) adapter body, and failures of the next calls.
 */
import { Clock, Context, Effect, Layer, Redacted, Ref, Result } from "effect"
import * as Adapter from "../domain/Adapter.ts"
import * as DittoFs from "../services/DittoFs.ts"

/** A DittoFS API call, by name (for injected failures and request counts). */
export type Operation = "health" | "login" | "refresh" | "createUser" | "deleteUser" | "listAdapters" | "updateAdapter"

/** How an in-memory DittoFS server starts: its admin credentials, adapters and token lifetimes. */
export interface ServerOptions {
  readonly adminUsername?: string
  readonly adminPassword?: string
  /** Adapters at boot; default: nfs on 12049 and smb on 1445, both enabled and running. */
  readonly adapters?: ReadonlyArray<Adapter.Adapter>
  /** Access-token lifetime in seconds (default 900, like dfs). */
  readonly accessTokenSeconds?: number
  /** Refresh-token lifetime in seconds (default 168 h). */
  readonly refreshTokenSeconds?: number
}

interface UserRecord {
  readonly id: string
  readonly username: string
  readonly password: string
  readonly role: DittoFs.UserRole
  readonly enabled: boolean
}

interface Session {
  readonly username: string
  readonly role: DittoFs.UserRole
  readonly expiresAt: number
}

interface ServerState {
  readonly running: boolean
  readonly users: ReadonlyMap<string, UserRecord>
  readonly accessTokens: ReadonlyMap<string, Session>
  readonly refreshTokens: ReadonlyMap<string, Session>
  readonly adapters: ReadonlyArray<Adapter.Adapter>
  /** When set, `GET /api/v1/adapters` answers this body instead of the adapters. */
  readonly adapterBody: { readonly body: unknown } | undefined
  readonly faults: ReadonlyArray<{ readonly operation: Operation; readonly reason: DittoFs.ErrorReason; readonly times: number }>
  /** Requests answered, by operation (load on the server, e.g. the poll rate). */
  readonly requests: Readonly<Partial<Record<Operation, number>>>
  readonly accessTokenSeconds: number
  readonly refreshTokenSeconds: number
}

interface World {
  readonly servers: ReadonlyMap<string, ServerState>
  readonly tokens: number
}

/** The adapters of a server started without any: nfs and smb, enabled and running. */
export const defaultAdapters: ReadonlyArray<Adapter.Adapter> = [
  { id: "00000000-0000-4000-8000-00000000a001", type: "nfs", enabled: true, running: true, port: 12049 },
  { id: "00000000-0000-4000-8000-00000000a002", type: "smb", enabled: true, running: true, port: 1445 }
]

const newServer = (options: ServerOptions): ServerState => {
  const admin: UserRecord = {
    id: "00000000-0000-4000-8000-0000000000ad",
    username: options.adminUsername ?? "admin",
    password: options.adminPassword ?? "admin-password",
    role: "admin",
    enabled: true
  }
  return {
    running: true,
    users: new Map([[admin.username, admin]]),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    adapters: options.adapters ?? defaultAdapters,
    adapterBody: undefined,
    faults: [],
    requests: {},
    accessTokenSeconds: options.accessTokenSeconds ?? 900,
    refreshTokenSeconds: options.refreshTokenSeconds ?? 168 * 3600
  }
}

type Step<A> = readonly [Result.Result<A, DittoFs.DittoFsError>, World]

const fail = (reason: DittoFs.ErrorReason, message: string, operation: string) =>
  Result.fail(new DittoFs.DittoFsError({ reason, message, operation }))

/** Test-only controls of the in-memory DittoFS servers. */
export interface ControlApi {
  /** Adds (or replaces) a running server at this base URL. */
  readonly addServer: (baseUrl: string, options?: ServerOptions) => Effect.Effect<void>
  /** Stops or starts a server: a stopped one is `Unreachable`; its data is kept. */
  readonly setRunning: (baseUrl: string, running: boolean) => Effect.Effect<void>
  /** Replaces the adapters as if changed through the admin API. */
  readonly setAdapters: (baseUrl: string, adapters: ReadonlyArray<Adapter.Adapter>) => Effect.Effect<void>
  /** Serves this raw body for `GET /api/v1/adapters` (`undefined` restores the real list). */
  readonly setAdapterBody: (baseUrl: string, body: { readonly body: unknown } | undefined) => Effect.Effect<void>
  /** Makes the next `times` calls of an operation fail with a reason. */
  readonly failNext: (baseUrl: string, operation: Operation, reason: DittoFs.ErrorReason, times?: number) => Effect.Effect<void>
  /** The server's accounts. */
  readonly users: (baseUrl: string) => Effect.Effect<ReadonlyArray<DittoFs.User>>
  /** The server's adapters. */
  readonly adapters: (baseUrl: string) => Effect.Effect<ReadonlyArray<Adapter.Adapter>>
  /** How many requests of each operation the server answered (refused ones included). */
  readonly requests: (baseUrl: string) => Effect.Effect<Readonly<Partial<Record<Operation, number>>>>
}

/** The test controls of the in-memory DittoFS servers. */
export class Control extends Context.Service<Control, ControlApi>()(
  "@dittofs-operator/core/testing/DittoFsMemoryControl"
) {}

const userView = (user: UserRecord): DittoFs.User => ({ id: user.id, username: user.username, role: user.role, enabled: user.enabled })

/** The in-memory DittoFS servers, keyed by base URL, and their controls. */
export const make = (servers: Readonly<Record<string, ServerOptions>> = {}) =>
  Effect.gen(function*() {
    const world = yield* Ref.make<World>({
      servers: new Map(Object.entries(servers).map(([url, options]) => [url, newServer(options)])),
      tokens: 0
    })

    /** Runs one call against one server: reachability, injected faults, then the handler. */
    const call = <A>(
      baseUrl: string,
      operation: Operation,
      label: string,
      handler: (server: ServerState, now: number, tokens: number) => readonly [Result.Result<A, DittoFs.DittoFsError>, ServerState, number?]
    ): Effect.Effect<A, DittoFs.DittoFsError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(world, (current): Step<A> => {
          const server = current.servers.get(baseUrl)
          if (server === undefined || !server.running) {
            return [fail("Unreachable", `connect ECONNREFUSED ${baseUrl}`, label), current]
          }
          const withServer = (next: ServerState, tokens = current.tokens): World => ({
            servers: new Map(current.servers).set(baseUrl, {
              ...next,
              requests: { ...next.requests, [operation]: (next.requests[operation] ?? 0) + 1 }
            }),
            tokens
          })
          const faultIndex = server.faults.findIndex((fault) => fault.operation === operation)
          const fault = server.faults[faultIndex]
          if (fault !== undefined) {
            const faults = fault.times > 1
              ? server.faults.map((f, i) => (i === faultIndex ? { ...f, times: f.times - 1 } : f))
              : server.faults.filter((_, i) => i !== faultIndex)
            return [fail(fault.reason, `injected fault: ${operation}`, label), withServer({ ...server, faults })]
          }
          const [result, next, tokens] = handler(server, now, current.tokens)
          return [result, withServer(next, tokens)]
        })).pipe(Effect.flatMap((result) => Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)))

    const authorize = (server: ServerState, now: number, accessToken: DittoFs.Secret, roles: ReadonlyArray<DittoFs.UserRole>, label: string) => {
      const session = server.accessTokens.get(Redacted.value(accessToken))
      if (session === undefined || session.expiresAt <= now) return fail("Unauthorized", "Invalid or expired token", label)
      if (!roles.includes(session.role)) {
        return fail("Forbidden", roles.length === 1 && roles[0] === "admin" ? "Admin access required" : "Insufficient permissions", label)
      }
      return Result.succeed(session)
    }

    const issue = (server: ServerState, user: { readonly username: string; readonly role: DittoFs.UserRole }, now: number, tokens: number) => {
      const n = tokens + 1
      const access = `memory-access-${n}`
      const refresh = `memory-refresh-${n}`
      const token: DittoFs.Token = {
        access_token: Redacted.make(access),
        refresh_token: Redacted.make(refresh),
        token_type: "Bearer",
        expires_in: server.accessTokenSeconds,
        expires_at: new Date(now + server.accessTokenSeconds * 1000).toISOString()
      }
      const next: ServerState = {
        ...server,
        accessTokens: new Map(server.accessTokens).set(access, {
          ...user,
          expiresAt: now + server.accessTokenSeconds * 1000
        }),
        refreshTokens: new Map(server.refreshTokens).set(refresh, {
          ...user,
          expiresAt: now + server.refreshTokenSeconds * 1000
        })
      }
      return [Result.succeed(token), next, n] as const
    }

    const dittofs = DittoFs.DittoFs.of({
      health: (baseUrl) => call(baseUrl, "health", "GET /health", (server) => [Result.void, server]),
      login: (baseUrl, credentials) =>
        call(baseUrl, "login", "POST /api/v1/auth/login", (server, now, tokens) => {
          const user = server.users.get(credentials.username)
          if (user === undefined || user.password !== Redacted.value(credentials.password)) {
            return [fail("Unauthorized", "Invalid credentials", "POST /api/v1/auth/login"), server]
          }
          if (!user.enabled) return [fail("Forbidden", "User account is disabled", "POST /api/v1/auth/login"), server]
          return issue(server, user, now, tokens)
        }),
      refresh: (baseUrl, refreshToken) =>
        call(baseUrl, "refresh", "POST /api/v1/auth/refresh", (server, now, tokens) => {
          const session = server.refreshTokens.get(Redacted.value(refreshToken))
          const user = session === undefined ? undefined : server.users.get(session.username)
          if (session === undefined || session.expiresAt <= now || user === undefined) {
            return [fail("Unauthorized", "Invalid or expired refresh token", "POST /api/v1/auth/refresh"), server]
          }
          return issue(server, user, now, tokens)
        }),
      createUser: (baseUrl, accessToken, user) =>
        call(baseUrl, "createUser", "POST /api/v1/users", (server, now, tokens) => {
          const label = "POST /api/v1/users"
          const allowed = authorize(server, now, accessToken, ["admin"], label)
          if (Result.isFailure(allowed)) return [Result.fail(allowed.failure), server]
          if (user.username === "" || Redacted.value(user.password) === "") return [fail("BadRequest", "Username and password are required", label), server]
          if (server.users.has(user.username)) return [fail("Conflict", "User already exists", label), server]
          const record: UserRecord = {
            id: `00000000-0000-4000-8000-${(tokens + 1).toString(16).padStart(12, "0")}`,
            username: user.username,
            password: Redacted.value(user.password),
            role: user.role,
            enabled: true
          }
          return [Result.succeed(userView(record)), { ...server, users: new Map(server.users).set(record.username, record) }, tokens + 1]
        }),
      deleteUser: (baseUrl, accessToken, username) =>
        call(baseUrl, "deleteUser", `DELETE /api/v1/users/${username}`, (server, now) => {
          const label = `DELETE /api/v1/users/${username}`
          const allowed = authorize(server, now, accessToken, ["admin"], label)
          if (Result.isFailure(allowed)) return [Result.fail(allowed.failure), server]
          if (!server.users.has(username)) return [fail("NotFound", "User not found", label), server]
          const users = new Map(server.users)
          users.delete(username)
          // Like dfs: access tokens are stateless JWTs and keep working until they expire; refresh
          // tokens die with the user (dfs looks the user up on refresh).
          const revoke = (sessions: ReadonlyMap<string, Session>) =>
            new Map([...sessions].filter(([, session]) => session.username !== username))
          return [Result.void, { ...server, users, refreshTokens: revoke(server.refreshTokens) }]
        }),
      listAdapters: (baseUrl, accessToken) =>
        call(baseUrl, "listAdapters", "GET /api/v1/adapters", (server, now) => {
          const label = "GET /api/v1/adapters"
          const allowed = authorize(server, now, accessToken, ["admin", "operator"], label)
          if (Result.isFailure(allowed)) return [Result.fail(allowed.failure), server]
          const body = server.adapterBody === undefined ? structuredClone(server.adapters) : server.adapterBody.body
          const decoded = Adapter.decodeList(body)
          return [
            Result.isFailure(decoded) ? fail("BadResponse", decoded.failure.reason, label) : Result.succeed(decoded.success),
            server
          ]
        }),
      updateAdapter: (baseUrl, accessToken, type, change) =>
        call(baseUrl, "updateAdapter", `PUT /api/v1/adapters/${type}`, (server, now) => {
          const label = `PUT /api/v1/adapters/${type}`
          const allowed = authorize(server, now, accessToken, ["admin"], label)
          if (Result.isFailure(allowed)) return [Result.fail(allowed.failure), server]
          const existing = server.adapters.find((adapter) => adapter.type === type)
          if (existing === undefined) return [fail("NotFound", "Adapter not found", label), server]
          if (change.port !== undefined && (change.port < 1 || change.port > 65535)) {
            return [fail("BadRequest", "Invalid port", label), server]
          }
          const enabled = change.enabled ?? existing.enabled
          const updated: Adapter.Adapter = { ...existing, enabled, running: enabled, port: change.port ?? existing.port }
          return [
            Result.succeed(updated),
            { ...server, adapters: server.adapters.map((adapter) => (adapter.type === type ? updated : adapter)) }
          ]
        })
    })

    const updateServer = (baseUrl: string, f: (server: ServerState) => ServerState) =>
      Ref.update(world, (current) => {
        const server = current.servers.get(baseUrl)
        return server === undefined ? current : { ...current, servers: new Map(current.servers).set(baseUrl, f(server)) }
      })
    const readServer = <A>(baseUrl: string, f: (server: ServerState) => A, orElse: A) =>
      Effect.map(Ref.get(world), (current) => {
        const server = current.servers.get(baseUrl)
        return server === undefined ? orElse : f(server)
      })

    const control = Control.of({
      addServer: (baseUrl, options = {}) =>
        Ref.update(world, (current) => ({ ...current, servers: new Map(current.servers).set(baseUrl, newServer(options)) })),
      setRunning: (baseUrl, running) => updateServer(baseUrl, (server) => ({ ...server, running })),
      setAdapters: (baseUrl, adapters) => updateServer(baseUrl, (server) => ({ ...server, adapters })),
      setAdapterBody: (baseUrl, adapterBody) => updateServer(baseUrl, (server) => ({ ...server, adapterBody })),
      failNext: (baseUrl, operation, reason, times = 1) =>
        updateServer(baseUrl, (server) => ({ ...server, faults: [...server.faults, { operation, reason, times }] })),
      users: (baseUrl) => readServer(baseUrl, (server) => [...server.users.values()].map(userView), []),
      adapters: (baseUrl) => readServer(baseUrl, (server) => server.adapters, []),
      requests: (baseUrl) => readServer(baseUrl, (server) => server.requests, {})
    })
    return { dittofs, control }
  })

/** In-memory DittoFS servers: provides `DittoFs` and its test controls. */
export const layer = (servers: Readonly<Record<string, ServerOptions>> = {}): Layer.Layer<DittoFs.DittoFs | Control> =>
  Layer.effectContext(Effect.map(make(servers), ({ control, dittofs }) =>
    Context.make(DittoFs.DittoFs, dittofs).pipe(Context.add(Control, control))))
