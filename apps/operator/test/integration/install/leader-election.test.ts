/**
 * Two replicas of the bundle on a control plane that audits ServiceAccounts, each with a token
 * of its own ServiceAccount (same rules, installed from the plain manifests), electing a leader on
 * the Lease the chart's Role names:
 *
 * - one leads, the other stands by (both ready); SIGKILL of the leader: the follower takes over
 *   once the lease has expired; SIGTERM of the leader: it releases the Lease, exits 0, and the
 *   follower takes over within a retry period;
 * - SIGSTOP of the leader (a frozen or partitioned process) past its lease: the follower takes
 *   over; on SIGCONT the old leader finds its renew deadline passed and writes nothing;
 * - judged from the apiserver's audit log: every write (but the Lease's own) was made by the
 *   replica whose term it was — no object was written by both in one term.
 */
import { assert, layer } from "@effect/vitest"
import { Kubernetes } from "@dittofs-operator/core"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { createServer } from "node:net"
import { join } from "node:path"
import { locate } from "../../../../../scripts/launch/Binaries.ts"
import * as ChildProcesses from "../../../../../scripts/launch/ChildProcesses.ts"
import * as ControlPlane from "../../../../../scripts/launch/ControlPlane.ts"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import { manifestsPath, releaseName, releaseNamespace } from "../../../scripts/render-manifests.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import * as Prometheus from "../../support/PrometheusText.ts"
import { awaitExposed, ensure, eventually, freshNamespace, setAdapterEnabled } from "../e2e/harness.ts"
import { isolatedBundle, kubectl, serviceAccountKubeconfig, startBundle } from "./Install.ts"

class AuditedPlane extends Context.Service<AuditedPlane, ControlPlane.ControlPlane>()("LeaderElectionPlane") {
  static readonly layer = Layer.effect(AuditedPlane, ControlPlane.start({ crdFiles: [], auditServiceAccounts: true }))
}

const leaseName = "dittofs-operator"
const userOf = (serviceAccount: string) => `system:serviceaccount:${releaseNamespace}:${serviceAccount}`

const freePort = Effect.callback<number>((resume) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const httpGet = (port: number, path: string) =>
  Effect.tryPromise(async () => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`)
    return { status: response.status, body: await response.text() }
  })

const holder = Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Lease, releaseNamespace, leaseName)).pipe(
  Effect.map((lease) => lease.spec.holderIdentity ?? ""),
  Effect.orElseSucceed(() => "(none)")
)

/** Milliseconds until the Lease is held by `identity` (polled every 50 ms). */
const awaitHolder = (identity: string, timeout: Duration.Input) =>
  Effect.gen(function*() {
    const start = Date.now()
    yield* eventually(`Lease held by ${identity}`, Effect.flatMap(holder, (current) => ensure(current === identity, `held by ${current}`)), {
      timeout,
      interval: "50 millis"
    })
    return Date.now() - start
  })

const AuditLine = Schema.fromJsonString(Schema.Struct({
  auditID: Schema.String,
  verb: Schema.String,
  user: Schema.Struct({ username: Schema.String }),
  requestReceivedTimestamp: Schema.String,
  objectRef: Schema.optionalKey(Schema.Struct({
    resource: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    name: Schema.optionalKey(Schema.String)
  })),
  responseStatus: Schema.optionalKey(Schema.Struct({ code: Schema.optionalKey(Schema.Int) }))
}))
const decodeAudit = Schema.decodeUnknownOption(AuditLine)

interface Write {
  readonly user: string
  readonly at: number
  readonly what: string
  readonly lease: boolean
  readonly code: number
}

/** Every write request of the given users, by the time the apiserver received it. */
const writesOf = (auditLog: string, users: ReadonlyArray<string>) =>
  Effect.map(Effect.promise(() => readFile(auditLog, "utf8")), (text) => {
    const byId = new Map<string, Write>()
    for (const line of text.split("\n")) {
      const decoded = decodeAudit(line)
      if (decoded._tag === "None") continue
      const event = decoded.value
      if (!users.includes(event.user.username) || !["create", "update", "patch", "delete"].includes(event.verb)) continue
      const ref = event.objectRef
      byId.set(event.auditID, {
        user: event.user.username,
        at: Date.parse(event.requestReceivedTimestamp),
        what: `${event.verb} ${ref?.resource ?? ""} ${ref?.namespace ?? ""}/${ref?.name ?? ""}`,
        lease: ref?.resource === "leases",
        code: event.responseStatus?.code ?? 0
      })
    }
    return [...byId.values()].sort((a, b) => a.at - b.at)
  })

const plane = layer(AuditedPlane.layer, { excludeTestServices: true, timeout: "2 minutes" })

plane("leader election between two replicas", (it) => {
  it.effect("one writer per term: SIGKILL and SIGTERM takeovers measured, a frozen leader writes nothing after its term", () =>
    Effect.gen(function*() {
      const controlPlane = yield* AuditedPlane
      yield* Effect.gen(function*() {
        const binaries = yield* locate
        const admin = (args: ReadonlyArray<string>) => kubectl(binaries.kubectl, controlPlane, args)
        yield* admin(["apply", "-f", manifestsPath])
        yield* admin(["wait", "--for=condition=Established", "--timeout=60s", "crd/dittoservers.dittofs.dittofs.com"])
        // a second ServiceAccount with the same grants, so the audit log tells the replicas apart
        const second = `${releaseName}-b`
        yield* admin(["-n", releaseNamespace, "create", "serviceaccount", second])
        yield* admin(["create", "clusterrolebinding", second, `--clusterrole=${releaseName}`, `--serviceaccount=${releaseNamespace}:${second}`])
        yield* admin(["-n", releaseNamespace, "create", "rolebinding", `${second}-leader-election`, `--role=${releaseName}-leader-election`, `--serviceaccount=${releaseNamespace}:${second}`])

        const dir = yield* RunDir.make("dittofs-operator-leader-")
        const built = yield* isolatedBundle
        const kubeconfigs = {
          a: yield* serviceAccountKubeconfig(controlPlane, releaseNamespace, releaseName, join(dir, "a.kubeconfig")),
          b: yield* serviceAccountKubeconfig(controlPlane, releaseNamespace, second, join(dir, "b.kubeconfig"))
        }
        const ports = { a: yield* freePort, b: yield* freePort }
        let runs = 0
        const start = (replica: "a" | "b") =>
          Effect.gen(function*() {
            const child = yield* startBundle({
              bundle: built.file,
              dir,
              name: `operator-${replica}-${++runs}`,
              args: [
                "run", "--kubeconfig", kubeconfigs[replica], "--log-format", "json", "--instance", replica,
                "--leader-elect", "--leader-election-namespace", releaseNamespace,
                "--health-address", `127.0.0.1:${ports[replica]}`, "--metrics-address", `127.0.0.1:${ports[replica]}`
              ]
            })
            yield* eventually(`${replica} ready`, Effect.flatMap(Effect.orElseSucceed(httpGet(ports[replica], "/readyz"), () => ({ status: 0, body: "" })), (r) =>
              ensure(r.status === 200, () => `readyz ${r.status} ${r.body}`)), { timeout: "60 seconds", interval: "100 millis" })
            return child
          })
        const leaderStatus = (replica: "a" | "b") =>
          Effect.map(httpGet(ports[replica], "/metrics"), (r) => Prometheus.value(Prometheus.parse(r.body), "leader_election_master_status", { name: leaseName }))

        // a leads, b stands by (ready: caches synced)
        let a = yield* start("a")
        yield* awaitHolder("a", "30 seconds")
        let b = yield* start("b")
        assert.strictEqual(yield* holder, "a")
        assert.deepStrictEqual([yield* leaderStatus("a"), yield* leaderStatus("b")], [1, 0])

        const namespace = yield* freshNamespace("leader")
        const dfs = yield* DittoFsServer.start({})
        yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
        const server = { namespace, name: "nas" }
        yield* awaitExposed(server, ["nfs", "smb"], "60 seconds")

        // SIGKILL of the leader: b takes over when a's lease has expired (15 s after it saw the last renewal)
        yield* a.signal("SIGKILL")
        const killTakeover = yield* awaitHolder("b", "40 seconds")
        yield* setAdapterEnabled(dfs, "smb", false)
        yield* awaitExposed(server, ["nfs"], "30 seconds")
        a = yield* start("a")

        // SIGTERM of the leader: it finishes, releases the Lease and exits 0; a takes over at its next retry
        const stopped = Date.now()
        yield* b.signal("SIGTERM")
        const termTakeover = yield* awaitHolder("a", "20 seconds")
        const exit = yield* b.exited
        const stopMillis = Date.now() - stopped
        assert.deepStrictEqual(exit, { code: 0, signal: null }, "a stopped operator exits 0")
        yield* setAdapterEnabled(dfs, "smb", true)
        yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")
        b = yield* start("b")

        // SIGSTOP of the leader past its lease: b takes over; a, continued, finds its term over
        yield* a.signal("SIGSTOP")
        const frozenTakeover = yield* awaitHolder("b", "40 seconds")
        yield* setAdapterEnabled(dfs, "smb", false)
        yield* awaitExposed(server, ["nfs"], "30 seconds")
        const resumed = Date.now()
        yield* a.signal("SIGCONT")
        yield* Effect.sleep("4 seconds")
        yield* setAdapterEnabled(dfs, "smb", true)
        yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")
        yield* Effect.sleep("3 seconds")
        assert.strictEqual(yield* holder, "b")
        assert.deepStrictEqual([yield* leaderStatus("a"), yield* leaderStatus("b")], [0, 1])
        const aLog = yield* Effect.promise(() => readFile(a.logFile, "utf8"))
        assert.include(aLog, "lost leadership")

        // From the apiserver: terms are the runs of successful Lease writes by one replica; every
        // other write falls inside a term of its writer.
        const users = [userOf(releaseName), userOf(second)]
        const writes = yield* writesOf(controlPlane.auditLogPath ?? "", users)
        const leaseWrites = writes.filter((w) => w.lease && w.code >= 200 && w.code < 300)
        const terms: Array<{ user: string; from: number; to: number }> = []
        for (const write of leaseWrites) {
          const last = terms.at(-1)
          if (last === undefined || last.user !== write.user) {
            if (last !== undefined) last.to = write.at
            terms.push({ user: write.user, from: write.at, to: Number.POSITIVE_INFINITY })
          }
        }
        assert.deepStrictEqual(terms.map((t) => t.user === users[0] ? "a" : "b"), ["a", "b", "a", "b"], "four terms: a, b (kill), a (term), b (stop)")
        const objectWrites = writes.filter((w) => !w.lease)
        assert.isAbove(objectWrites.length, 20, "the replicas wrote objects")
        const outside = objectWrites.filter((w) => !terms.some((t) => t.user === w.user && w.at >= t.from && w.at < t.to))
        assert.deepStrictEqual(outside.map((w) => `${w.user} ${w.what} at ${new Date(w.at).toISOString()}`), [], "every write in its writer's term")
        const afterResume = objectWrites.filter((w) => w.user === users[0] && w.at >= resumed - 1000)
        assert.deepStrictEqual(afterResume.map((w) => w.what), [], "the continued ex-leader wrote nothing")
        const perTerm = terms.map((t) => objectWrites.filter((w) => w.at >= t.from && w.at < t.to).length)

        yield* Effect.logInfo(
          `takeover after SIGKILL: ${killTakeover} ms; after SIGTERM: ${termTakeover} ms (old leader exited 0 after ${stopMillis} ms); ` +
            `after SIGSTOP: ${frozenTakeover} ms; object writes per term: ${perTerm.join(", ")}`
        )
        assert.isAtMost(termTakeover, 4_000, "a released Lease is taken within a retry period or two")
        assert.isAtMost(killTakeover, 20_000, "an expired Lease is taken within lease duration + retry period")
        assert.isAtLeast(killTakeover, 10_000, "not before the lease can have expired")
        yield* ChildProcesses.terminate(a)
        yield* ChildProcesses.terminate(b)
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath: controlPlane.kubeconfigPath }), DittoFsLive.layer()))
      )
    }), Duration.toMillis(Duration.minutes(6)))
})
