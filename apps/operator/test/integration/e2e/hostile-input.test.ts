/**
 * Hostile but valid input, end to end on the real apiserver: a DittoServer with a 63-char name,
 * and a DittoFS (the stand-in, since a real dfs accepts only its own adapter types) reporting
 * adapter types in unicode and of 300 chars, two adapters on one port and one on the API port.
 * Every object the operator makes is accepted by the apiserver (names bounded, labels valid), the
 * conflicting adapters are left out and named in the status, the others are exposed, and the
 * operator keeps polling.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsStub from "./DittoFsStub.ts"
import {
  e2e,
  ensure,
  eventually,
  expectCondition,
  exposure,
  freshNamespace,
  kubeconfigPath,
  runOperator,
  type ServerRef
} from "./support.ts"

const adapter = (id: string, type: string, port: number) => ({
  id,
  type,
  enabled: true,
  running: true,
  port,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z"
})

const unicodeType = "NFS-über-ſtraße-İ\u0301"
const longType = `${"x".repeat(150)}-${"y".repeat(149)}`
const apiPort = 8080

const adapters: DittoFsStub.AdaptersAnswer = {
  _tag: "Json",
  label: "hostile",
  body: [
    adapter("a1", "nfs", 12049),
    adapter("a2", unicodeType, 12050),
    adapter("a3", longType, 12051),
    adapter("a4", "ftp", 13260),
    adapter("a5", "iscsi", 13260),
    adapter("a6", "webdav", apiPort)
  ]
}

/** A DNS-1035 label: what a Service name must be. */
const dns1035Label = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/
/** A label value. */
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/

describe("Hostile input", () => {
  it.live("a 63-char server name, unicode and 300-char adapter types, a shared port and the API port: valid objects, no crash, the conflicts named", () =>
    e2e(Effect.gen(function*() {
      const stub = yield* DittoFsStub.start({ adminPassword: "stub-admin-password", adapters })
      const namespace = yield* freshNamespace("e2e-hostile")
      const name = `n${"a".repeat(61)}s`
      assert.strictEqual(name.length, 63)
      yield* Sample.apply({ name, namespace, apiUrl: stub.baseUrl, adminPassword: stub.adminPassword, pollingInterval: "1s" })
      const server: ServerRef = { namespace, name }
      yield* runOperator({ kubeconfigPath, namespace })

      const exposed = yield* eventually(
        "four adapters exposed",
        Effect.flatMap(exposure(server), (current) =>
          Effect.as(ensure(current.services.length === 4 && current.policies.length === 4, () => `${current.services.length} Services`), current)),
        { timeout: "20 seconds" }
      )
      const ports = (objects: ReadonlyArray<number | undefined>) => [...objects].sort((a, b) => (a ?? 0) - (b ?? 0))
      assert.deepStrictEqual(
        ports(exposed.services.map((service) => service.spec.ports?.[0]?.port)),
        [12049, 12050, 12051, 13260],
        "nfs, the unicode and the long type, and the first of the two on 13260 (ftp); not iscsi, not the API port"
      )
      for (const service of [...exposed.services, ...exposed.policies]) {
        assert.match(service.metadata.name, dns1035Label, `${service.kind} ${service.metadata.name}`)
        for (const [key, value] of Object.entries(service.metadata.labels ?? {})) {
          assert.match(value, labelValue, `label ${key} of ${service.metadata.name}`)
        }
      }
      assert.isTrue(exposed.services.every((service) => service.spec.ports?.[0]?.port !== apiPort))
      assert.deepStrictEqual(
        (exposed.statefulSet.spec.template.spec.containers[0]?.ports ?? []).filter((port) => port.containerPort === apiPort).length,
        1,
        "the API port is declared once, as the server's own"
      )

      const conflicts = yield* eventually("AdaptersSynced False", expectCondition(server, "AdaptersSynced", "False", "AdapterConflicts"), {
        timeout: "10 seconds"
      })
      assert.include(conflicts?.message ?? "", "iscsi")
      assert.include(conflicts?.message ?? "", "webdav")
      // and the operator goes on: two more polls, the same objects
      const served = (yield* stub.adapterRequests).length
      yield* eventually("two more polls", Effect.flatMap(stub.adapterRequests, (requests) => ensure(requests.length >= served + 2, "not yet")), {
        timeout: "10 seconds"
      })
      assert.deepStrictEqual((yield* exposure(server)).services.map((service) => service.metadata.uid), exposed.services.map((service) => service.metadata.uid))
    })), { timeout: 120_000 })
})
