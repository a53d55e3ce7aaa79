/**
 * Fault, end to end: the operator dies between a Service write and the StatefulSet write of one
 * pass. An adapter stops; the first operator deletes the adapter's Service and NetworkPolicy
 * (the exposure phase), then its StatefulSet update never returns and the operator is stopped
 * right there (its scope closed, the update abandoned — for the cluster, as if the process had
 * been killed). A new operator converges with exactly one StatefulSet write, and leaves no orphan:
 * every adapter object is controlled by the DittoServer and matches a running adapter.
 */
import { assert, describe, it } from "@effect/vitest"
import { K8s, Kubernetes } from "@dittofs-operator/core"
import { Deferred, Effect, Option, Ref, Schema } from "effect"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import {
  adapterPolicies,
  adapterServices,
  always,
  awaitExposed,
  countsSince,
  e2e,
  ensure,
  eventually,
  freshNamespace,
  kubeconfigPath,
  portNames,
  runOperator,
  setAdapterEnabled,
  statefulSet,
  writeCounter
} from "./support.ts"

const metadataOf = Schema.decodeUnknownOption(K8s.AnyObject)

describe("Fault: operator killed mid-pass", () => {
  it.live("killed between the Service write and the StatefulSet write, a new operator converges with one StatefulSet write and no orphan", () =>
    e2e(Effect.gen(function*() {
      const namespace = yield* freshNamespace("e2e-killed")
      const dfs = yield* DittoFsServer.start({})
      const created = yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
      const server = { namespace, name: created.metadata.name }

      // the first operator: its StatefulSet updates hang once smb has been stopped
      const armed = yield* Ref.make(false)
      const hanging = yield* Deferred.make<void>()
      const hangOnStatefulSet = (kubernetes: Kubernetes.Api): Kubernetes.Api => ({
        ...kubernetes,
        update: (resource, object) =>
          Effect.gen(function*() {
            const isStatefulSet = Option.isSome(Option.filter(metadataOf(object), () => resource.kind === "StatefulSet"))
            if (!isStatefulSet || !(yield* Ref.get(armed))) return yield* kubernetes.update(resource, object)
            yield* Deferred.succeed(hanging, undefined)
            return yield* Effect.never
          })
      })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* runOperator({ kubeconfigPath, namespace, wrap: hangOnStatefulSet })
        yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")
        yield* Ref.set(armed, true) // the next StatefulSet update hangs
        yield* setAdapterEnabled(dfs, "smb", false)
        yield* eventually(
          "smb's Service deleted by the first operator",
          Effect.flatMap(adapterServices(server), (services) => ensure(services.length === 1, `${services.length} Services`)),
          { timeout: "15 seconds" }
        )
        yield* Deferred.await(hanging).pipe(Effect.timeout("15 seconds")) // that pass's StatefulSet update
      }))
      assert.include(portNames(yield* statefulSet(server)), "adapter-smb", "the first operator never wrote the StatefulSet")

      const writes = yield* writeCounter
      const before = yield* writes.snapshot
      yield* runOperator({ kubeconfigPath, namespace, wrap: writes.wrap })
      yield* eventually(
        "the StatefulSet follows",
        Effect.flatMap(statefulSet(server), (sts) => ensure(!portNames(sts).includes("adapter-smb"), () => portNames(sts).join(","))),
        { timeout: "30 seconds" }
      )
      yield* Effect.sleep("3 seconds") // three more polls
      const counts = countsSince(before, yield* writes.snapshot)
      assert.strictEqual(counts.get("update StatefulSet"), 1, `writes: ${JSON.stringify([...counts])}`)
      assert.isUndefined(counts.get("create StatefulSet"))

      const uid = created.metadata.uid ?? ""
      const controlledByServer = (object: { readonly metadata: K8s.ObjectMeta }) =>
        (object.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === uid)
      yield* always(
        Effect.gen(function*() {
          const services = yield* adapterServices(server)
          const policies = yield* adapterPolicies(server)
          yield* ensure(
            services.length === 1 && policies.length === 1 && [...services, ...policies].every(controlledByServer),
            "only nfs's Service and NetworkPolicy, both the DittoServer's"
          )
        }),
        { during: "2 seconds" }
      )
    })), { timeout: 180_000 })
})
