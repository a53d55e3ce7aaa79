/**
 * `KubeConfig`: where the API server is and how to authenticate to it, from a kubeconfig file or
 * the in-cluster service account — the part of `@kubernetes/client-node`'s `KubeConfig` the live
 * layer needs, as plain data for a Node `https.Agent` and a header.
 *
 * Contract:
 * - `load(path)` reads that file; `load()` reads, as kubectl and client-node do, the first of:
 *   the files in `KUBECONFIG` (`:`-separated, merged: the first file to name a cluster, user or
 *   context wins, `current-context` from the first file that sets one), `~/.kube/config`, the
 *   in-cluster service account (`KUBERNETES_SERVICE_HOST`/`_PORT` and
 *   `/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}`).
 * - A kubeconfig is YAML (JSON is YAML). Of the current context it reads the cluster's `server`,
 *   `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name`, and the user's
 *   `token`, `tokenFile`, `client-certificate(-data)`, `client-key(-data)`, `username`/`password`
 *   and `exec` (a credential plugin that prints an `ExecCredential` with a token). File paths are
 *   relative to the kubeconfig's folder. Anything it cannot use (no current context, a missing
 *   cluster or user, `auth-provider`, a proxy, an exec plugin's client certificate) fails with
 *   `KubeConfigError` when loading, never at the first request.
 * - TLS material is read once, at load; the `Authorization` header is computed per request by
 *   `authorization`: a token file (the in-cluster token rotates) is read again at most once a
 *   minute, an exec plugin's token is kept until its `expirationTimestamp` (or, without one, for
 *   the process's life, as client-node does). It answers at once (a string, or undefined for
 *   none) when the header is at hand, and with a Promise only when it must read a file or run the
 *   plugin: a request then does not wait for a turn of the event loop it has no use for.
 */
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, isAbsolute, join } from "node:path"
import { load as parseYaml } from "js-yaml"
import { Schema } from "effect"

export class KubeConfigError extends Schema.TaggedError<KubeConfigError>()("KubeConfigError", {
  message: Schema.String
}) {}

/** TLS settings of the connection to the API server, for an `https.Agent`. */
export interface Tls {
  readonly ca?: Buffer
  readonly cert?: Buffer
  readonly key?: Buffer
  readonly rejectUnauthorized: boolean
  readonly servername?: string
}

/** The `Authorization` header: at hand, or a Promise of it. */
export type Authorization = () => string | undefined | Promise<string | undefined>

export interface ClusterConfig {
  /** The API server's URL, without a trailing slash. */
  readonly server: string
  readonly tls: Tls
  /** The `Authorization` header for the next request (undefined: none); a Promise when it must be read or made first. */
  readonly authorization: Authorization
  /** Where it came from, for messages. */
  readonly source: string
}

export const inClusterDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type Named<A> = { readonly name?: unknown } & Record<string, unknown> & { readonly [K in keyof A]?: A[K] }

const record = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}

const string = (value: unknown): string | undefined => typeof value === "string" && value !== "" ? value : undefined

const fail = (message: string): never => {
  throw new KubeConfigError({ message })
}

/** The kubeconfig files of `KUBECONFIG`, else `~/.kube/config`, that exist. */
const defaultFiles = (env: NodeJS.ProcessEnv): ReadonlyArray<string> => {
  const listed = (env["KUBECONFIG"] ?? "").split(":").filter((file) => file !== "" && existsSync(file))
  if (listed.length > 0) return listed
  const home = join(env["HOME"] ?? homedir(), ".kube", "config")
  return existsSync(home) ? [home] : []
}

interface Parsed {
  readonly file: string
  readonly document: Record<string, unknown>
}

const parse = (file: string): Parsed => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (thrown) {
    return fail(`cannot read ${file}: ${thrown instanceof Error ? thrown.message : String(thrown)}`)
  }
  try {
    return { file, document: record(parseYaml(text)) }
  } catch (thrown) {
    return fail(`${file} is not YAML: ${thrown instanceof Error ? thrown.message : String(thrown)}`)
  }
}

/** The entry named `name` of a list (`clusters`, `users`, `contexts`) across the files, and its file. */
const entry = (parsed: ReadonlyArray<Parsed>, list: string, field: string, name: string) => {
  for (const { document, file } of parsed) {
    const items = Array.isArray(document[list]) ? document[list] as ReadonlyArray<Named<object>> : []
    const found = items.find((item) => item.name === name)
    if (found !== undefined) return { value: record(found[field]), file }
  }
  return fail(`the kubeconfig has no ${list.slice(0, -1)} named "${name}"`)
}

/** Inline base64 data, or the file a path names (relative to the kubeconfig's folder). */
const material = (value: Record<string, unknown>, field: string, file: string): Buffer | undefined => {
  const data = string(value[`${field}-data`])
  if (data !== undefined) return Buffer.from(data, "base64")
  const path = string(value[field])
  if (path === undefined) return undefined
  const resolved = isAbsolute(path) ? path : join(dirname(file), path)
  try {
    return readFileSync(resolved)
  } catch (thrown) {
    return fail(`cannot read ${field} ${resolved}: ${thrown instanceof Error ? thrown.message : String(thrown)}`)
  }
}

const relativeTo = (file: string, path: string): string => isAbsolute(path) ? path : join(dirname(file), path)

/** A token file, read again at most once a minute (a projected service-account token rotates). */
const tokenFromFile = (path: string): Authorization => {
  let cached: { readonly header: string; readonly at: number } | undefined
  return () => {
    const now = performance.now()
    if (cached !== undefined && now - cached.at <= 60_000) return cached.header
    return readFile(path, "utf8").then((token) => {
      cached = { header: `Bearer ${token.trim()}`, at: now }
      return cached.header
    })
  }
}

/** An exec credential plugin's token, kept until it expires. */
const tokenFromExec = (exec: Record<string, unknown>, file: string): Authorization => {
  const command = string(exec["command"]) ?? fail("the user's exec plugin has no command")
  const args = Array.isArray(exec["args"]) ? exec["args"].map(String) : []
  const extraEnv = Array.isArray(exec["env"])
    ? Object.fromEntries(exec["env"].map(record).map((pair) => [String(pair["name"]), String(pair["value"])]))
    : {}
  const apiVersion = string(exec["apiVersion"]) ?? "client.authentication.k8s.io/v1"
  // a command given as a relative path with a slash is relative to the kubeconfig's folder
  const resolved = command.includes("/") ? relativeTo(file, command) : command
  let cached: { readonly header: string; readonly expires: number } | undefined
  const run = async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(resolved, args, {
        env: { ...process.env, ...extraEnv, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } }) },
        timeout: 60_000
      }, (error, out) => error === null ? resolve(out) : reject(error))
    })
    const status = record(record(JSON.parse(stdout))["status"])
    const token = string(status["token"])
    if (token === undefined) throw new Error(`the exec plugin ${command} returned no token (client certificates from plugins are not supported)`)
    const expiry = string(status["expirationTimestamp"])
    cached = { header: `Bearer ${token}`, expires: expiry === undefined ? Number.POSITIVE_INFINITY : Date.parse(expiry) - 10_000 }
    return cached.header
  }
  // the wall clock, as the plugin's `expirationTimestamp` is: this runs at the HTTP edge, outside
  // Effect's Clock, and a TestClock could not make a real plugin's token expire anyway
  return () => cached !== undefined && Date.now() < cached.expires ? cached.header : run()
}

const constant = (header: string | undefined): Authorization => () => header

/** The cluster config of a kubeconfig's current context (files merged in order). */
export const fromFiles = (files: ReadonlyArray<string>): ClusterConfig => {
  const parsed = files.map(parse)
  const source = files.join(":")
  const contextName = parsed.map(({ document }) => string(document["current-context"])).find((name) => name !== undefined) ??
    fail(`the kubeconfig ${source} has no current context`)
  const context = entry(parsed, "contexts", "context", contextName).value
  const cluster = entry(parsed, "clusters", "cluster", string(context["cluster"]) ?? fail(`context "${contextName}" names no cluster`))
  const server = string(cluster.value["server"]) ?? fail(`the cluster of context "${contextName}" has no server`)
  if (string(cluster.value["proxy-url"]) !== undefined) fail("proxy-url is not supported")
  const userName = string(context["user"])
  const user = userName === undefined ? { value: {}, file: cluster.file } : entry(parsed, "users", "user", userName)
  const u = user.value
  if (u["auth-provider"] !== undefined) fail("auth-provider is not supported (use an exec plugin)")
  const insecure = cluster.value["insecure-skip-tls-verify"] === true
  const ca = material(cluster.value, "certificate-authority", cluster.file)
  const cert = material(u, "client-certificate", user.file)
  const key = material(u, "client-key", user.file)
  const servername = string(cluster.value["tls-server-name"])
  const token = string(u["token"])
  const tokenFile = string(u["tokenFile"])
  const username = string(u["username"])
  const authorization = token !== undefined
    ? constant(`Bearer ${token}`)
    : tokenFile !== undefined
    ? tokenFromFile(relativeTo(user.file, tokenFile))
    : u["exec"] !== undefined
    ? tokenFromExec(record(u["exec"]), user.file)
    : username !== undefined
    ? constant(`Basic ${Buffer.from(`${username}:${string(u["password"]) ?? ""}`).toString("base64")}`)
    : constant(undefined)
  return {
    server: server.replace(/\/+$/, ""),
    tls: {
      rejectUnauthorized: !insecure,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(servername === undefined ? {} : { servername })
    },
    authorization,
    source
  }
}

/** The in-cluster service account's config, when the process runs in a pod. */
export const inCluster = (env: NodeJS.ProcessEnv, dir = inClusterDir): ClusterConfig | undefined => {
  const host = env["KUBERNETES_SERVICE_HOST"]
  const port = env["KUBERNETES_SERVICE_PORT"]
  if (host === undefined || port === undefined || !existsSync(join(dir, "token"))) return undefined
  const ca = join(dir, "ca.crt")
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    tls: { rejectUnauthorized: true, ...(existsSync(ca) ? { ca: readFileSync(ca) } : {}) },
    authorization: tokenFromFile(join(dir, "token")),
    source: "the in-cluster service account"
  }
}

/** The cluster config of a kubeconfig file, or of the default places when none is given. Throws `KubeConfigError`. */
export const load = (path?: string, env: NodeJS.ProcessEnv = process.env): ClusterConfig => {
  if (path !== undefined) return fromFiles([path])
  const files = defaultFiles(env)
  if (files.length > 0) return fromFiles(files)
  return inCluster(env) ?? fail("no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a cluster")
}
