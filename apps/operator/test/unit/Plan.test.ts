/**
 * `plan` on the in-memory layers: one pass with every write held back. The changes name what a
 * pass would create and update (Secret values redacted), and nothing reaches the API server or
 * DittoFS: a counting wrapper sees 0 writes, and the cluster is as it was.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoFs, Kubernetes } from "@dittofs-operator/core"
import { DittoFsMemory, KubernetesMemory } from "@dittofs-operator/core/testing"
import { Effect, Layer, Ref } from "effect"
import * as Sample from "../../../../scripts/launch/Sample.ts"
import * as Plan from "../../src/Plan.ts"

const baseUrl = "http://dfs.local:8080"
const password = "admin-secret-password"

describe("Plan", () => {
  it("diff: changed, added and removed fields; Secret values redacted", () => {
    assert.deepStrictEqual(
      Plan.diff({ metadata: { resourceVersion: "1", labels: { a: "1" } }, spec: { x: 1 } }, { metadata: { resourceVersion: "2", labels: { a: "2" } }, spec: { y: 2 } }, "Service"),
      [{ path: "metadata.labels.a", before: "1", after: "2" }, { path: "spec.x", before: 1 }, { path: "spec.y", after: 2 }]
    )
    assert.deepStrictEqual(Plan.diff(undefined, { data: { password: "c2VjcmV0" } }, "Secret"), [{ path: "data.password", after: "(redacted)" }])
  })

  it.effect("a first pass planned: the workload and the account, nothing written", () =>
    Effect.gen(function*() {
      yield* Sample.apply({ namespace: "default", apiUrl: baseUrl, adminPassword: password, pollingInterval: "10s" })
      const kubernetes = yield* Kubernetes.Kubernetes
      const dittoFs = yield* DittoFs.DittoFs
      const writes = yield* Ref.make<ReadonlyArray<string>>([])
      const count = (what: string) => Ref.update(writes, (all) => [...all, what])
      const countedKubernetes: Kubernetes.Api = {
        ...kubernetes,
        create: (resource, object) => Effect.andThen(count(`create ${resource.kind}`), kubernetes.create(resource, object)),
        update: (resource, object) => Effect.andThen(count(`update ${resource.kind}`), kubernetes.update(resource, object)),
        updateStatus: (resource, object) => Effect.andThen(count(`status ${resource.kind}`), kubernetes.updateStatus(resource, object)),
        patchStatus: (resource, previous, next) => Effect.andThen(count(`status ${resource.kind}`), kubernetes.patchStatus(resource, previous, next)),
        delete: (resource, ns, name, pre) => Effect.andThen(count(`delete ${resource.kind}`), kubernetes.delete(resource, ns, name, pre))
      }
      const countedDittoFs: DittoFs.Api = {
        ...dittoFs,
        createUser: (url, token, user) => Effect.andThen(count("createUser"), dittoFs.createUser(url, token, user)),
        deleteUser: (url, token, name) => Effect.andThen(count("deleteUser"), dittoFs.deleteUser(url, token, name)),
        refresh: (url, token) => Effect.andThen(count("refresh"), dittoFs.refresh(url, token)),
        updateAdapter: (url, token, type, change) => Effect.andThen(count("updateAdapter"), dittoFs.updateAdapter(url, token, type, change))
      }
      const snapshot = Effect.map(
        Effect.forEach([
          Kubernetes.raw(Kubernetes.Resources.DittoServer), Kubernetes.raw(Kubernetes.Resources.Secret),
          Kubernetes.raw(Kubernetes.Resources.Service), Kubernetes.raw(Kubernetes.Resources.StatefulSet)
        ], (resource) => kubernetes.list(resource, "default")),
        (lists) => JSON.stringify(lists)
      )
      const before = yield* snapshot
      const plan = yield* Plan.planWith({ target: "default/nas" }).pipe(
        Effect.provide(Layer.mergeAll(
          Layer.succeed(Kubernetes.Kubernetes, Kubernetes.Kubernetes.of(countedKubernetes)),
          Layer.succeed(DittoFs.DittoFs, DittoFs.DittoFs.of(countedDittoFs))
        ))
      )
      assert.deepStrictEqual(yield* Ref.get(writes), [], "no write reached the API server or DittoFS")
      assert.strictEqual(yield* snapshot, before, "the cluster is as it was")
      const kinds = plan.changes.map((change) => change.system === "kubernetes" ? `${change.verb} ${change.kind} ${change.name}` : `dittofs ${change.call}`)
      for (const expected of ["update DittoServer nas", "create ConfigMap nas-config", "create StatefulSet nas", "create Service nas-api", "dittofs create account"]) {
        assert.include(kinds, expected)
      }
      const rendered = Plan.render(plan)
      assert.include(rendered, "Plan for DittoServer default/nas")
      assert.include(rendered, "+ create StatefulSet default/nas")
      assert.notInclude(rendered, password)
      assert.notInclude(JSON.stringify(plan), password)
      assert.include(rendered, "(redacted)")
    }).pipe(Effect.provide(Layer.mergeAll(
      KubernetesMemory.layer(),
      DittoFsMemory.layer({ [baseUrl]: { adminPassword: password, adapters: [{ type: "nfs", enabled: true, running: true, port: 12049 }] } })
    ))))

  it.effect("a target that is not namespace/name, or a missing server, is a PlanError", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Effect.flip(Plan.planWith({ target: "nas" })))._tag, "PlanError")
      assert.include((yield* Effect.flip(Plan.planWith({ target: "default/none" }))).message, "NotFound")
    }).pipe(Effect.provide(Layer.mergeAll(KubernetesMemory.layer(), DittoFsMemory.layer({})))))
})
