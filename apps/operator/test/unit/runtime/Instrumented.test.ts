/**
 * The measured services, read back as a scrape would: every Kubernetes request is counted by verb
 * and the status code its outcome stands for, a closed fence refuses writes before they reach the
 * API server (and leaves the cluster as it was), and the DittoFS polls and refreshes are counted by
 * result with the active adapters per endpoint, timed by the Clock. Each test has its own metric
 * registry.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Adapter, DittoFs, type K8s, Kubernetes } from "@dittofs-operator/core"
import { DittoFsMemory, KubernetesMemory } from "@dittofs-operator/core/testing"
import { Effect, Metric, Redacted, Ref, Stream } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import * as Instrumented from "../../../src/runtime/Instrumented.ts"
import * as Metrics from "../../../src/runtime/Metrics.ts"
import * as Prometheus from "../../support/PrometheusText.ts"

const R = Kubernetes.Resources
const namespace = "storage"

const scrape = Effect.map(PrometheusMetrics.format(), Prometheus.parse)
const requests = (verb: string, code: string) =>
  Effect.map(scrape, (families) => Prometheus.value(families, "rest_client_requests_total", { verb, code }) ?? 0)

const configMap = (name: string, data: Record<string, string> = {}): K8s.ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data
})

/** A test with its own registry over an in-memory cluster, the wrapper fenced by `open`. */
const withCluster = <A, E>(
  test: (kubernetes: Kubernetes.Api, open: Ref.Ref<boolean>) => Effect.Effect<A, E, Kubernetes.Kubernetes | KubernetesMemory.Control>
) =>
  Effect.gen(function*() {
    const open = yield* Ref.make(true)
    const kubernetes = Instrumented.kubernetes(yield* Kubernetes.Kubernetes, Ref.get(open))
    return yield* test(kubernetes, open)
  }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()), Effect.provide(KubernetesMemory.layer()))

describe("Instrumented.statusOfReason", () => {
  it("gives each error reason the HTTP status it was classified from", () => {
    const statuses: ReadonlyArray<readonly [Kubernetes.ErrorReason, string]> = [
      ["BadRequest", "400"],
      ["Unauthorized", "401"],
      ["Forbidden", "403"],
      ["NotFound", "404"],
      ["Conflict", "409"],
      ["AlreadyExists", "409"],
      ["Gone", "410"],
      ["Invalid", "422"],
      ["TooManyRequests", "429"],
      ["Unavailable", "503"],
      ["Timeout", "504"],
      ["BadResponse", "<error>"]
    ]
    assert.deepStrictEqual(statuses.map(([reason]) => [reason, Instrumented.statusOfReason(reason)]), statuses.map(([reason, status]) => [reason, status]))
  })
})

describe("Metrics.tagged", () => {
  it("makes a metric's series once per attribute set: the same instance for the same set, another for another", () => {
    const get = Metrics.tagged(Metrics.apiRequestsTotal, { verb: "get", code: "200" })
    assert.strictEqual(Metrics.tagged(Metrics.apiRequestsTotal, { verb: "get", code: "200" }), get)
    assert.strictEqual(Metrics.tagged(Metrics.apiRequestsTotal, { verb: "get", code: "200" }), get, "a third time, from the memo")
    assert.notStrictEqual(Metrics.tagged(Metrics.apiRequestsTotal, { verb: "list", code: "200" }), get)
    assert.notStrictEqual(Metrics.tagged(Metrics.adapterPollTotal, { verb: "get", code: "200" }), get, "per metric")
  })
})

describe("Instrumented.kubernetes", () => {
  it.effect("counts every request by verb and code, successes and failures", () =>
    withCluster((kubernetes) =>
      Effect.gen(function*() {
        const created = yield* kubernetes.create(R.ConfigMap, configMap("a"))
        yield* Effect.flip(kubernetes.create(R.ConfigMap, configMap("a")))
        yield* kubernetes.get(R.ConfigMap, namespace, "a")
        yield* Effect.flip(kubernetes.get(R.ConfigMap, namespace, "missing"))
        yield* kubernetes.list(R.ConfigMap, namespace)
        yield* kubernetes.listWithVersion(R.ConfigMap, namespace)
        const updated = yield* kubernetes.update(R.ConfigMap, { ...created, data: { k: "v" } })
        yield* Effect.flip(kubernetes.update(R.ConfigMap, { ...created, data: { k: "stale" } }))
        yield* kubernetes.delete(R.ConfigMap, namespace, "a")
        yield* Effect.flip(kubernetes.delete(R.ConfigMap, namespace, "a"))
        assert.deepStrictEqual(updated.data, { k: "v" })
        const counted = yield* Effect.forEach(
          [["create", "201"], ["create", "409"], ["get", "200"], ["get", "404"], ["list", "200"], ["update", "200"], ["update", "409"], ["delete", "200"], ["delete", "404"]] as const,
          ([verb, code]) => Effect.map(requests(verb, code), (n) => `${verb} ${code}: ${n}`)
        )
        assert.deepStrictEqual(counted, ["create 201: 1", "create 409: 1", "get 200: 1", "get 404: 1", "list 200: 2", "update 200: 1", "update 409: 1", "delete 200: 1", "delete 404: 1"])
      })))

  it.effect("counts a status update as an update and a status patch as a patch", () =>
    withCluster((kubernetes) =>
      Effect.gen(function*() {
        const created = yield* kubernetes.create(R.ConfigMap, configMap("b"))
        yield* Effect.flip(kubernetes.updateStatus(R.Pod, { apiVersion: "v1", kind: "Pod", metadata: { name: "none", namespace }, spec: { containers: [] } }))
        yield* Effect.flip(kubernetes.patchStatus(R.Pod, { apiVersion: "v1", kind: "Pod", metadata: { name: "none", namespace }, spec: { containers: [] } }, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "none", namespace },
          spec: { containers: [] },
          status: { phase: "Running" }
        }))
        assert.strictEqual(created.metadata.name, "b")
        assert.deepStrictEqual([yield* requests("update", "404"), yield* requests("patch", "404")], [1, 1])
      })))

  it.effect("counts a status update that succeeds as update 200 and a status patch as patch 200", () =>
    withCluster((kubernetes) =>
      Effect.gen(function*() {
        const pod: K8s.Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace }, spec: { containers: [{ name: "c", image: "i" }] } }
        const created = yield* kubernetes.create(R.Pod, pod)
        const updated = yield* kubernetes.updateStatus(R.Pod, { ...created, status: { phase: "Pending" } })
        const patched = yield* kubernetes.patchStatus(R.Pod, updated, { ...updated, status: { phase: "Running" } })
        assert.strictEqual(patched.status?.phase, "Running")
        assert.deepStrictEqual([yield* requests("update", "200"), yield* requests("patch", "200")], [1, 1])
      })))

  it.effect("counts a watch that fails by the status its error stands for", () =>
    withCluster((kubernetes) =>
      Effect.gen(function*() {
        const control = yield* KubernetesMemory.Control
        const first = yield* kubernetes.create(R.ConfigMap, configMap("f"))
        yield* kubernetes.update(R.ConfigMap, { ...first, data: { k: "v" } })
        yield* control.compact
        const error = yield* Effect.flip(
          kubernetes.watch(R.ConfigMap, namespace, { resourceVersion: first.metadata.resourceVersion ?? "" }).pipe(Stream.runDrain)
        )
        assert.strictEqual(error.reason, "Gone")
        assert.deepStrictEqual([yield* requests("watch", "200"), yield* requests("watch", "410")], [1, 1])
      })))

  it.effect("counts a watch once when it starts", () =>
    withCluster((kubernetes) =>
      Effect.gen(function*() {
        yield* kubernetes.create(R.ConfigMap, configMap("c"))
        const first = yield* kubernetes.watch(R.ConfigMap, namespace, { resourceVersion: "0" }).pipe(Stream.take(1), Stream.runCollect)
        assert.strictEqual(first.length, 1)
        assert.strictEqual(yield* requests("watch", "200"), 1)
      })))

  it.effect("a closed fence refuses every write before the API server, names it, and counts nothing; reads go on", () =>
    withCluster((kubernetes, open) =>
      Effect.gen(function*() {
        const created = yield* kubernetes.create(R.ConfigMap, configMap("d", { k: "v" }))
        yield* Ref.set(open, false)
        const refused = yield* Effect.all([
          Effect.flip(kubernetes.create(R.ConfigMap, configMap("e"))),
          Effect.flip(kubernetes.update(R.ConfigMap, { ...created, data: { k: "changed" } })),
          Effect.flip(kubernetes.updateStatus(R.ConfigMap, created)),
          Effect.flip(kubernetes.patchStatus(R.ConfigMap, created, created)),
          Effect.flip(kubernetes.delete(R.ConfigMap, namespace, "d"))
        ])
        assert.deepStrictEqual(refused.map((error) => [error.reason, error.operation]), [
          ["Unavailable", "create v1 ConfigMap storage/e"],
          ["Unavailable", "update v1 ConfigMap storage/d"],
          ["Unavailable", "update status v1 ConfigMap storage/d"],
          ["Unavailable", "patch status v1 ConfigMap storage/d"],
          ["Unavailable", "delete v1 ConfigMap storage/d"]
        ])
        assert.match(refused[0]?.message ?? "", /^not the leader: writes are fenced/)
        const stored = yield* kubernetes.list(R.ConfigMap, namespace)
        assert.deepStrictEqual(stored.map((object) => [object.metadata.name, object.data]), [["d", { k: "v" }]], "the cluster as it was")
        assert.deepStrictEqual(
          [yield* requests("create", "201"), yield* requests("update", "200"), yield* requests("delete", "200"), yield* requests("list", "200")],
          [1, 0, 0, 1],
          "a refused write never reached the API server"
        )
        yield* Ref.set(open, true)
        yield* kubernetes.delete(R.ConfigMap, namespace, "d")
        assert.deepStrictEqual(yield* kubernetes.list(R.ConfigMap, namespace), [])
      })))

  it.effect("names the group of a grouped kind in a refused write, and no namespace for an object without one", () =>
    withCluster((kubernetes, open) =>
      Effect.gen(function*() {
        yield* Ref.set(open, false)
        const error = yield* Effect.flip(kubernetes.delete(R.StatefulSet, namespace, "ditto"))
        assert.strictEqual(error.operation, "delete apps/v1 StatefulSet storage/ditto")
        const { namespace: _namespace, ...clusterWide } = configMap("g").metadata
        const unplaced = yield* Effect.flip(kubernetes.create(R.ConfigMap, { ...configMap("g"), metadata: clusterWide }))
        assert.strictEqual(unplaced.operation, "create v1 ConfigMap /g")
      })))
})

describe("Instrumented.dittoFs", () => {
  const baseUrl = "http://ditto-api:8080"
  const adapter = (type: string, enabled: boolean, running: boolean): Adapter.Adapter => ({
    type,
    port: 12000 + type.length,
    enabled,
    running
  })
  const withDittoFs = <A, E>(test: (dittoFs: DittoFs.Api, control: DittoFsMemory.ControlApi) => Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const control = yield* DittoFsMemory.Control
      yield* control.addServer(baseUrl, { adminUsername: "admin", adminPassword: "secret" })
      return yield* test(Instrumented.dittoFs(yield* DittoFs.DittoFs), control)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()), Effect.provide(DittoFsMemory.layer()))
  const metric = (name: string, labels: Record<string, string>) => Effect.map(scrape, (families) => Prometheus.value(families, name, labels))

  it.effect("counts polls by result, times each, and sets the adapters enabled and running", () =>
    withDittoFs((dittoFs, control) =>
      Effect.gen(function*() {
        const token = yield* dittoFs.login(baseUrl, { username: "admin", password: Redacted.make("secret") })
        yield* control.setAdapters(baseUrl, [adapter("nfs", true, true), adapter("smb", true, false), adapter("s3", false, true), adapter("ftp", true, true)])
        yield* dittoFs.listAdapters(baseUrl, token.access_token)
        assert.strictEqual(yield* metric("dittofs_adapters_active", { endpoint: baseUrl }), 2, "nfs and ftp")
        yield* control.failNext(baseUrl, "listAdapters", "Unreachable")
        yield* Effect.flip(dittoFs.listAdapters(baseUrl, token.access_token))
        assert.deepStrictEqual(
          [
            yield* metric("dittofs_adapter_poll_total", { result: "success" }),
            yield* metric("dittofs_adapter_poll_total", { result: "Unreachable" }),
            yield* metric("dittofs_adapter_poll_duration_seconds_count", {})
          ],
          [1, 1, 2],
          "a failed poll is timed too"
        )
        assert.strictEqual(yield* metric("dittofs_adapters_active", { endpoint: baseUrl }), 2, "a failed poll leaves the last count")
      })))

  it.effect("counts token refreshes by result", () =>
    withDittoFs((dittoFs, control) =>
      Effect.gen(function*() {
        const token = yield* dittoFs.login(baseUrl, { username: "admin", password: Redacted.make("secret") })
        yield* dittoFs.refresh(baseUrl, token.refresh_token)
        yield* control.failNext(baseUrl, "refresh", "Unauthorized")
        yield* Effect.flip(dittoFs.refresh(baseUrl, token.refresh_token))
        assert.deepStrictEqual(
          [yield* metric("dittofs_token_refresh_total", { result: "success" }), yield* metric("dittofs_token_refresh_total", { result: "Unauthorized" })],
          [1, 1]
        )
        assert.strictEqual(yield* metric("dittofs_adapter_poll_total", { result: "success" }), undefined, "a refresh is not a poll")
      })))
})

describe("Metrics.secondsSince", () => {
  it.effect("is the Clock's time since the start in seconds, never negative", () =>
    Effect.gen(function*() {
      const start = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      yield* TestClock.adjust("1500 millis")
      assert.strictEqual(yield* Metrics.secondsSince(start), 1.5)
      assert.strictEqual(yield* Metrics.secondsSince(start + 5_000), 0, "a start in the future")
    }))
})
