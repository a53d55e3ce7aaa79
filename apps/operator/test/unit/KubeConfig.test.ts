/**
 * `KubeConfig`: every way of naming the API server and authenticating that the live layer
 * supports, from files written here (the real API server's kubeconfig is covered by the live
 * contract suite, and the in-cluster account by the install tests' ServiceAccount kubeconfigs).
 */
import { assert, describe, it } from "@effect/vitest"
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KubeConfig from "../../src/live/KubeConfig.ts"

const dir = () => mkdtempSync(join(tmpdir(), "kubeconfig-"))

const config = (cluster: Record<string, unknown>, user: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "Config",
  clusters: [{ name: "other", cluster: { server: "https://other:1" } }, { name: "c", cluster }],
  users: [{ name: "u", user }],
  contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
  "current-context": "ctx"
})

const write = (folder: string, name: string, value: unknown) => {
  const file = join(folder, name)
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value))
  return file
}

const failure = (f: () => unknown): string => {
  try {
    f()
  } catch (thrown) {
    assert.instanceOf(thrown, KubeConfig.KubeConfigError)
    return (thrown as KubeConfig.KubeConfigError).message
  }
  return assert.fail("expected a KubeConfigError")
}

describe("KubeConfig", () => {
  it("reads the current context's server, inline CA and client certificate, and a token", async () => {
    const folder = dir()
    const file = write(folder, "config", config(
      { server: "https://api:6443/", "certificate-authority-data": Buffer.from("CA").toString("base64"), "tls-server-name": "kubernetes" },
      { token: "t0k", "client-certificate-data": Buffer.from("CERT").toString("base64"), "client-key-data": Buffer.from("KEY").toString("base64") }
    ))
    const loaded = KubeConfig.load(file)
    assert.strictEqual(loaded.server, "https://api:6443")
    assert.strictEqual(loaded.tls.ca?.toString(), "CA")
    assert.strictEqual(loaded.tls.cert?.toString(), "CERT")
    assert.strictEqual(loaded.tls.key?.toString(), "KEY")
    assert.strictEqual(loaded.tls.servername, "kubernetes")
    assert.isTrue(loaded.tls.rejectUnauthorized)
    // a token at hand is answered at once, not as a Promise
    assert.strictEqual(loaded.authorization(), "Bearer t0k")
  })

  it("reads YAML, with file paths relative to the kubeconfig's folder and a token file", async () => {
    const folder = dir()
    write(folder, "ca.crt", "CA-FILE")
    write(folder, "token", "from-file\n")
    const file = write(folder, "config", [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: c",
      "  cluster:",
      "    server: https://api:6443",
      "    certificate-authority: ca.crt",
      "users:",
      "- name: u",
      "  user:",
      "    tokenFile: token",
      "contexts:",
      "- name: ctx",
      "  context: {cluster: c, user: u}",
      "current-context: ctx",
      ""
    ].join("\n"))
    const loaded = KubeConfig.load(file)
    assert.strictEqual(loaded.tls.ca?.toString(), "CA-FILE")
    const first = loaded.authorization()
    assert.instanceOf(first, Promise, "the file is read first")
    assert.strictEqual(await first, "Bearer from-file")
    // then kept for a minute: a new token in the file is not read yet, and the header is at hand
    write(folder, "token", "rotated\n")
    assert.strictEqual(loaded.authorization(), "Bearer from-file")
  })

  it("turns TLS verification off only when asked, and sends basic auth or nothing", async () => {
    const folder = dir()
    const basic = KubeConfig.load(write(folder, "a", config({ server: "http://api", "insecure-skip-tls-verify": true }, { username: "me", password: "pw" })))
    assert.isFalse(basic.tls.rejectUnauthorized)
    assert.strictEqual(basic.authorization(), `Basic ${Buffer.from("me:pw").toString("base64")}`)
    const none = KubeConfig.load(write(folder, "b", config({ server: "https://api" }, {})))
    assert.strictEqual(none.authorization(), undefined)
  })

  it("runs an exec plugin and keeps its token until it expires", async () => {
    const folder = dir()
    const counter = join(folder, "calls")
    const plugin = write(folder, "plugin.sh", [
      "#!/bin/sh",
      `echo x >> ${counter}`,
      `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'"$GREETING"'","expirationTimestamp":"2999-01-01T00:00:00Z"}}'`,
      ""
    ].join("\n"))
    chmodSync(plugin, 0o755)
    const loaded = KubeConfig.load(write(folder, "config", config({ server: "https://api" }, {
      exec: { apiVersion: "client.authentication.k8s.io/v1", command: "./plugin.sh", env: [{ name: "GREETING", value: "hi" }] }
    })))
    assert.strictEqual(await loaded.authorization(), "Bearer exec-hi")
    assert.strictEqual(loaded.authorization(), "Bearer exec-hi", "kept, at hand")
    const { readFileSync } = await import("node:fs")
    assert.strictEqual(readFileSync(counter, "utf8").trim().split("\n").length, 1)
  })

  it("merges KUBECONFIG's files, the first to name an entry winning", () => {
    const folder = dir()
    const first = write(folder, "first", { "current-context": "ctx", clusters: [{ name: "c", cluster: { server: "https://first" } }] })
    const second = write(folder, "second", config({ server: "https://second" }, { token: "t" }))
    assert.strictEqual(KubeConfig.load(undefined, { KUBECONFIG: `${first}:${join(folder, "missing")}:${second}` }).server, "https://first")
  })

  it("falls back to the in-cluster service account", async () => {
    const folder = dir()
    write(folder, "token", "sa-token")
    write(folder, "ca.crt", "SA-CA")
    const loaded = KubeConfig.inCluster({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, folder)
    assert.isDefined(loaded)
    assert.strictEqual(loaded?.server, "https://10.0.0.1:443")
    assert.strictEqual(loaded?.tls.ca?.toString(), "SA-CA")
    assert.strictEqual(await loaded?.authorization(), "Bearer sa-token")
    assert.strictEqual(KubeConfig.inCluster({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, folder)?.server, "https://[fd00::1]:443")
    assert.isUndefined(KubeConfig.inCluster({}, folder))
  })

  it("fails when loading, with what is missing", () => {
    const folder = dir()
    assert.include(failure(() => KubeConfig.load(join(folder, "absent"))), "cannot read")
    assert.include(failure(() => KubeConfig.load(write(folder, "a", { clusters: [] }))), "no current context")
    assert.include(failure(() => KubeConfig.load(write(folder, "b", { ...config({ server: "https://api" }, {}), "current-context": "nope" }))), `no context named "nope"`)
    assert.include(failure(() => KubeConfig.load(write(folder, "c", config({}, {})))), "has no server")
    assert.include(failure(() => KubeConfig.load(write(folder, "d", config({ server: "https://api" }, { "auth-provider": { name: "gcp" } })))), "auth-provider")
    assert.include(failure(() => KubeConfig.load(write(folder, "e", config({ server: "https://api", "certificate-authority": "nope.crt" }, {})))), "nope.crt")
    assert.include(failure(() => KubeConfig.load(write(folder, "f", "a: [b"))), "not YAML")
    assert.include(failure(() => KubeConfig.load(undefined, { HOME: folder })), "not in a cluster")
  })
})
