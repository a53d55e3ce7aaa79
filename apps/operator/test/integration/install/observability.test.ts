/**
 * What an operator in production shows of itself, from the bundle run as its own process
 * against the run's control plane and a real `dfs`:
 *
 * - `/metrics`, scraped during the run, parses as Prometheus text (a strict parser) and holds
 *   controller-runtime's reconcile and work-queue series and ours (adapter polls, active
 *   adapters, API requests by verb and code);
 * - every log line is one JSON object; the lines of a pass name its object and pass;
 * - `plan NAMESPACE/NAME` with the operator stopped prints the changes a pass would make (text
 *   and `--output json`) and writes nothing: every object's resourceVersion is unchanged;
 * - SIGTERM: the operator exits 0;
 * - no password, token or JWT key of the run appears in any log line, any plan output or any
 *   Event.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes } from "@dittofs-operator/core"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { readFile } from "node:fs/promises"
import { createServer } from "node:net"
import { promisify } from "node:util"
import { inject } from "vitest"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import * as Prometheus from "../../support/PrometheusText.ts"
import {
  awaitExposed,
  eventually,
  expectCondition,
  expectGone,
  freshNamespace,
  secretValue,
  setAdapterEnabled
} from "../e2e/harness.ts"
import { isolatedBundle, startBundle } from "./Install.ts"

const freePort = Effect.callback<number>((resume) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const runBundle = (file: string, args: ReadonlyArray<string>) =>
  Effect.promise(() => promisify(execFile)(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, cwd: "/" }))

/** Every object of the namespace the operator could write, by `kind/name`: its resourceVersion. */
const resourceVersions = (namespace: string) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const { raw, Resources } = Kubernetes
    const kinds = [
      raw(Resources.DittoServer), raw(Resources.Service), raw(Resources.NetworkPolicy), raw(Resources.Secret),
      raw(Resources.ConfigMap), raw(Resources.StatefulSet), raw(Resources.Event)
    ]
    const entries: Array<readonly [string, string]> = []
    for (const resource of kinds) {
      const items = yield* kubernetes.list(resource, namespace)
      for (const item of items) entries.push([`${resource.kind}/${item.metadata.name}`, item.metadata.resourceVersion ?? ""])
    }
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)))
  })

describe("observability and plan", () => {
  it.live("metrics scraped and parsed, JSON logs, plan writes nothing, exit 0 on SIGTERM, no secret in logs, plans or Events", () =>
    Effect.gen(function*() {
      const kubeconfigPath = inject("kubeconfigPath")
      const built = yield* isolatedBundle
      yield* Effect.gen(function*() {
        const kubernetes = yield* Kubernetes.Kubernetes
        const namespace = yield* freshNamespace("observe")
        const dfs = yield* DittoFsServer.start({})
        yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
        const dir = yield* RunDir.make("dittofs-operator-observe-")
        const port = yield* freePort
        const operator = yield* startBundle({
          bundle: built.file,
          dir,
          name: "operator",
          args: [
            "run", "--kubeconfig", kubeconfigPath, "--namespace", namespace, "--log-format", "json",
            "--health-address", `127.0.0.1:${port}`, "--metrics-address", `127.0.0.1:${port}`
          ],
          env: { DITTOFS_OPERATOR_LOG_LEVEL: "debug" }
        })
        const server = { namespace, name: "nas" }
        yield* awaitExposed(server, ["nfs", "smb"], "60 seconds")
        yield* eventually("authenticated", expectCondition(server, "Authenticated", "True"), { timeout: "30 seconds" })
        yield* setAdapterEnabled(dfs, "smb", false)
        yield* awaitExposed(server, ["nfs"], "30 seconds")
        yield* setAdapterEnabled(dfs, "smb", true)
        yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")

        // /metrics during the run
        const scrape = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))
        const families = Prometheus.parse(scrape)
        const value = (name: string, labels: Record<string, string> = {}) => Prometheus.value(families, name, labels) ?? 0
        const controller = { controller: "dittoservers" }
        assert.isAbove(value("controller_runtime_reconcile_total", { ...controller, result: "requeue_after" }), 3)
        assert.isAbove(value("controller_runtime_reconcile_time_seconds_count", controller), 3)
        assert.strictEqual(value("controller_runtime_max_concurrent_reconciles", controller), 4)
        assert.isDefined(families.get("controller_runtime_reconcile_errors_total"))
        assert.isDefined(families.get("controller_runtime_active_workers"))
        assert.isAbove(value("workqueue_adds_total", { name: "dittoservers" }), 3)
        assert.isAbove(value("workqueue_queue_duration_seconds_count", { name: "dittoservers" }), 3)
        assert.isAbove(value("workqueue_work_duration_seconds_count", { name: "dittoservers" }), 3)
        assert.isDefined(families.get("workqueue_depth"))
        assert.isAbove(value("dittofs_adapter_poll_total", { result: "success" }), 3)
        assert.isAbove(value("dittofs_adapter_poll_duration_seconds_count"), 3)
        assert.strictEqual(value("dittofs_adapters_active", { endpoint: dfs.baseUrl }), 2)
        for (const verb of ["list", "watch", "create", "update"]) {
          assert.isAbove(value("rest_client_requests_total", { verb }), 0, `API requests: ${verb}`)
        }
        assert.strictEqual((yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/readyz`))).status, 200)

        // SIGTERM: a clean stop, exit 0
        yield* operator.signal("SIGTERM")
        assert.deepStrictEqual(yield* operator.exited, { code: 0, signal: null })

        // plan, with the operator stopped: smb stopped in dfs -> its Service and NetworkPolicy would go
        yield* setAdapterEnabled(dfs, "smb", false)
        const before = yield* resourceVersions(namespace)
        const text = (yield* runBundle(built.file, ["plan", `${namespace}/nas`, "--kubeconfig", kubeconfigPath])).stdout
        const json = (yield* runBundle(built.file, ["plan", `${namespace}/nas`, "--kubeconfig", kubeconfigPath, "--output", "json"])).stdout
        const after = yield* resourceVersions(namespace)
        yield* Effect.logInfo(`plan:\n${text}`)
        assert.deepStrictEqual(after, before, "plan wrote nothing: every resourceVersion unchanged")
        assert.include(text, `- delete Service ${namespace}/nas-adapter-smb`)
        assert.include(text, `- delete NetworkPolicy ${namespace}/nas-adapter-smb`)
        assert.include(text, `~ update StatefulSet ${namespace}/nas`)
        assert.include(text, "Event Normal AdapterServiceDeleted: Deleted Service nas-adapter-smb")
        const planned = JSON.parse(json) as { target: string; changes: ReadonlyArray<{ system: string; verb?: string; kind?: string; name?: string }> }
        assert.strictEqual(planned.target, `${namespace}/nas`)
        assert.deepInclude(planned.changes.map((c) => `${c.verb} ${c.kind} ${c.name}`), "delete Service nas-adapter-smb")
        // nothing happened in the cluster: the smb Service is still there
        yield* kubernetes.get(Kubernetes.Resources.Service, namespace, "nas-adapter-smb")

        // the secrets of this run (not the account's name, server URL or token times, which the
        // credentials Secret also holds and Events may name)
        const secretKeys = new Set(["password", "access-token", "refresh-token", "jwt-secret"])
        const secrets = [dfs.admin.password]
        for (const name of ["nas-operator-credentials", "nas-jwt-secret"]) {
          const secret = yield* kubernetes.get(Kubernetes.Resources.Secret, namespace, name)
          for (const key of Object.keys(secret.data ?? {}).filter((candidate) => secretKeys.has(candidate))) {
            const decoded = secretValue(secret, key) ?? ""
            if (decoded.length >= 16) secrets.push(decoded)
          }
        }
        assert.isAtLeast(secrets.length, 4, "admin password, operator password, access and refresh tokens, JWT key")

        // the operator again, through deletion, then every log line and Event
        const again = yield* startBundle({
          bundle: built.file,
          dir,
          name: "operator-2",
          args: ["run", "--kubeconfig", kubeconfigPath, "--namespace", namespace, "--health-address", "0", "--metrics-address", "0"],
          env: { DITTOFS_OPERATOR_LOG_LEVEL: "debug" }
        })
        yield* awaitExposed(server, ["nfs"], "60 seconds")
        const events = JSON.stringify(yield* kubernetes.list(Kubernetes.raw(Kubernetes.Resources.Event), namespace))
        yield* kubernetes.delete(Kubernetes.Resources.DittoServer, namespace, "nas")
        yield* eventually("the DittoServer deleted", expectGone(Kubernetes.Resources.DittoServer, namespace, "nas"), { timeout: "60 seconds" })
        yield* again.signal("SIGTERM")
        assert.deepStrictEqual(yield* again.exited, { code: 0, signal: null })

        const logs = [
          ...(yield* Effect.promise(() => readFile(operator.logFile, "utf8"))).split("\n"),
          ...(yield* Effect.promise(() => readFile(again.logFile, "utf8"))).split("\n")
        ].filter((line) => line.trim() !== "")
        assert.isAbove(logs.length, 20)
        const parsed = logs.map((line) => JSON.parse(line) as { message?: unknown; level?: string; annotations?: Record<string, unknown> })
        assert.isTrue(parsed.some((line) => line.level === "DEBUG"), "debug lines: the level came from DITTOFS_OPERATOR_LOG_LEVEL")
        const passLines = parsed.filter((line) => line.annotations?.["reconcileId"] !== undefined)
        assert.isAbove(passLines.length, 0, "lines of a pass carry its reconcileId")
        assert.isTrue(passLines.every((line) => line.annotations?.["key"] === `${namespace}/nas`), "and its object's key")
        for (const secret of secrets) {
          const where = [
            ...logs.filter((line) => line.includes(secret)).map((line) => `log: ${line.slice(0, 200)}`),
            ...(events.includes(secret) ? ["an Event"] : []),
            ...(text.includes(secret) || json.includes(secret) ? ["the plan"] : [])
          ]
          assert.deepStrictEqual(where, [], `a secret of ${secret.length} characters leaked`)
        }
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath }), DittoFsLive.layer()))
      )
    }).pipe(Effect.scoped), 240_000)
})
