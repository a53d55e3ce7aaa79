/**
 * The HTTP endpoints of the operator on the in-memory API server, on the live clock: `/readyz`
 * fails until the caches have synced (and while the Lease cannot be read), `/healthz` fails when
 * a runtime fiber dies, `/metrics` parses as Prometheus text with controller-runtime's names.
 */
import { assert, describe, it } from "@effect/vitest"
import { Kubernetes } from "@dittofs-operator/core"
import { KubernetesMemory } from "@dittofs-operator/core/testing"
import { Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { TestConsole } from "effect/testing"
import { createServer } from "node:net"
import * as Operator from "../../src/Operator.ts"
import * as Endpoints from "../../src/runtime/Endpoints.ts"
import * as Health from "../../src/runtime/Health.ts"
import * as LeaderElection from "../../src/runtime/LeaderElection.ts"
import * as Prometheus from "../support/PrometheusText.ts"
import { capture, logged } from "./runtime/Logs.ts"

const freePort = Effect.callback<number>((resume) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const get = (port: number, path: string, host = "127.0.0.1") =>
  Effect.promise(async () => {
    const response = await fetch(`http://${host}:${port}${path}`)
    return { status: response.status, body: await response.text() }
  })

/** Polls until `path` answers `status` (at most 10 s). */
const until = (port: number, path: string, status: number, host = "127.0.0.1") =>
  get(port, path, host).pipe(
    Effect.filterOrFail((response) => response.status === status, (response) => `${path}: ${response.status} ${response.body}`),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeout("10 seconds")
  )

/** The in-memory API server, with lists (and Lease reads) failing while `down` is set. */
const flaky = (down: Ref.Ref<boolean>) =>
  Layer.effect(
    Kubernetes.Kubernetes,
    Effect.gen(function*() {
      const api = yield* Kubernetes.Kubernetes
      const unavailable = new Kubernetes.KubernetesError({ reason: "Unavailable", message: "down", operation: "test" })
      const gate = <A>(effect: Effect.Effect<A, Kubernetes.KubernetesError>) =>
        Effect.flatMap(Ref.get(down), (isDown) => (isDown ? Effect.fail(unavailable) : effect))
      return Kubernetes.Kubernetes.of({
        ...api,
        listWithVersion: (resource, namespace, options) => gate(api.listWithVersion(resource, namespace, options)),
        get: (resource, namespace, name) => gate(api.get(resource, namespace, name))
      })
    })
  ).pipe(Layer.provide(KubernetesMemory.layer()))

describe("Endpoints", () => {
  it("parses addresses", () => {
    assert.deepStrictEqual(Endpoints.parseAddress(":8081"), { host: "0.0.0.0", port: 8081 })
    assert.deepStrictEqual(Endpoints.parseAddress("127.0.0.1:80"), { host: "127.0.0.1", port: 80 })
    assert.deepStrictEqual(Endpoints.parseAddress("[::1]:9"), { host: "::1", port: 9 })
    assert.isUndefined(Endpoints.parseAddress("host"))
    assert.isUndefined(Endpoints.parseAddress(":70000"))
    assert.deepStrictEqual(Endpoints.parseAddress(" 8081 "), { host: "0.0.0.0", port: 8081 }, "a bare port, trimmed")
    assert.deepStrictEqual(Endpoints.parseAddress("localhost:65535"), { host: "localhost", port: 65535 })
    assert.isUndefined(Endpoints.parseAddress(":65536"))
    assert.isUndefined(Endpoints.parseAddress("8081x"))
    assert.isUndefined(Endpoints.parseAddress("x:123456"))
    assert.deepStrictEqual(Endpoints.parseAddress("[fe80::1]x:9"), { host: "[fe80::1]x", port: 9 }, "brackets come off only around the whole host")
    assert.deepStrictEqual(Endpoints.parseAddress("x[::1]:9"), { host: "x[::1]", port: 9 }, "not from the end of a host alone")
  })

  it.live("readyz fails until every cache has synced and the Lease was read; healthz and metrics answer", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const down = yield* Ref.make(true)
      yield* Layer.build(Operator.layerOn(flaky(down), {
        namespace: "default",
        healthAddress: { host: "127.0.0.1", port },
        leaderElection: { namespace: "default", leaseName: "dittofs-operator", identity: "test", ...LeaderElection.defaults, retryPeriod: Duration.millis(200), renewDeadline: Duration.seconds(1), leaseDuration: Duration.seconds(2) }
      }))
      const notReady = yield* until(port, "/readyz", 503)
      assert.include(notReady.body, "[-]synced-dittoservers failed")
      assert.include(notReady.body, "[-]leader-election failed")
      assert.strictEqual((yield* until(port, "/healthz", 200)).status, 200)
      yield* Ref.set(down, false)
      const ready = yield* until(port, "/readyz", 200)
      assert.include(ready.body, "[+]synced-statefulsets ok")
      assert.include(ready.body, "[+]leader-election ok")

      const metrics = yield* get(port, "/metrics")
      assert.strictEqual(metrics.status, 200)
      const families = Prometheus.parse(metrics.body)
      assert.strictEqual(Prometheus.value(families, "leader_election_master_status", { name: "dittofs-operator" }), 1)
      assert.isDefined(families.get("workqueue_depth"))
      assert.strictEqual(Prometheus.value(families, "controller_runtime_max_concurrent_reconciles", { controller: "dittoservers" }), 4)
      assert.isAbove(Prometheus.value(families, "rest_client_requests_total", { verb: "list", code: "503" }) ?? 0, 0)
      assert.isAbove(Prometheus.value(families, "rest_client_requests_total", { verb: "list", code: "200" }) ?? 0, 0)
    }).pipe(Effect.scoped))

  it.live("serves the probes and the metrics apart on two addresses, and nothing where one is off", () =>
    Effect.gen(function*() {
      const [healthPort, metricsPort] = [yield* freePort, yield* freePort]
      yield* Layer.build(Endpoints.layer({ host: "127.0.0.1", port: healthPort }, { host: "127.0.0.1", port: metricsPort }))
      assert.strictEqual((yield* until(healthPort, "/healthz", 200)).status, 200)
      assert.strictEqual((yield* get(healthPort, "/metrics")).status, 404, "no metrics on the health address")
      assert.strictEqual((yield* until(metricsPort, "/metrics", 200)).status, 200)
      assert.strictEqual((yield* get(metricsPort, "/readyz")).status, 404, "no probes on the metrics address")
      const metricsOnly = yield* freePort
      yield* Layer.build(Endpoints.layer(undefined, { host: "127.0.0.1", port: metricsOnly }))
      assert.strictEqual((yield* until(metricsOnly, "/metrics", 200)).status, 200)
      assert.strictEqual((yield* get(metricsOnly, "/healthz")).status, 404, "probes off")
    }).pipe(Effect.scoped, Effect.provide(Health.layer)))

  it.live("one port on two hosts is two servers: the probes on one, the metrics on the other", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      yield* Layer.build(Endpoints.layer({ host: "127.0.0.1", port }, { host: "127.0.0.2", port }))
      assert.strictEqual((yield* until(port, "/metrics", 200, "127.0.0.2")).status, 200)
      assert.strictEqual((yield* until(port, "/healthz", 200)).status, 200)
      assert.strictEqual((yield* get(port, "/metrics")).status, 404, "no metrics on the health host")
    }).pipe(Effect.scoped, Effect.provide(Health.layer)))

  it.live("serves quietly: no log line when it starts listening, none per request", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      yield* Layer.build(Endpoints.layer({ host: "127.0.0.1", port }))
      yield* until(port, "/healthz", 200)
      yield* get(port, "/metrics")
      yield* Effect.logInfo("the test's own line")
      assert.deepStrictEqual((yield* logged).map(({ message }) => message), ["the test's own line"])
    }).pipe(Effect.scoped, capture, Effect.provide([Health.layer, TestConsole.layer])))

  it.live("healthz fails when a runtime fiber has died", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const health = yield* Health.Health
      const fiber = yield* Effect.forkChild(Effect.never)
      yield* health.addLiveness({ name: "reflector-things", ok: Effect.sync(() => fiber.pollUnsafe() === undefined) })
      yield* Layer.build(Endpoints.layer({ host: "127.0.0.1", port }))
      assert.strictEqual((yield* until(port, "/healthz", 200)).body, "[+]reflector-things ok\nhealthz check passed\n")
      yield* Fiber.interrupt(fiber)
      assert.strictEqual((yield* until(port, "/healthz", 503)).body, "[-]reflector-things failed\nhealthz check failed\n")
      assert.strictEqual((yield* get(port, "/readyz")).status, 503, "nothing registered: not ready")
    }).pipe(Effect.scoped, Effect.provide(Health.layer)))
})
