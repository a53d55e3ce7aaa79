/**
 * Fault, end to end: the adapter list comes back malformed (`{}`, `null`, a text body), which a
 * real dfs never does, so the DittoServer points at a stand-in DittoFS (`DittoFsStub`) that first
 * answers a good list. For each malformed answer: `AdaptersSynced` goes False with reason
 * `PollFailed`, and over further polls nothing is deleted or rewritten (same uids and
 * resourceVersions of the Services, NetworkPolicies and StatefulSet); a good answer again brings
 * `AdaptersSynced` back.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsStub from "./DittoFsStub.ts"
import {
  awaitExposed,
  e2e,
  ensure,
  eventually,
  expectCondition,
  exposure,
  freshNamespace,
  kubeconfigPath,
  runOperator,
  type ServerRef,
  versions
} from "./support.ts"

const good: DittoFsStub.AdaptersAnswer = {
  _tag: "Json",
  label: "good",
  body: [
    { id: "a1", type: "nfs", enabled: true, running: true, port: 12049, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" },
    { id: "a2", type: "smb", enabled: true, running: true, port: 12445, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }
  ]
}

const malformed: ReadonlyArray<DittoFsStub.AdaptersAnswer> = [
  { _tag: "Json", label: "an object", body: {} },
  { _tag: "Json", label: "null", body: null },
  { _tag: "Raw", label: "a text body", contentType: "text/plain; charset=utf-8", body: "adapters: nfs, smb\n" }
]

const everything = (server: ServerRef) =>
  Effect.map(exposure(server), (current) => ({
    services: versions(current.services),
    policies: versions(current.policies),
    statefulSet: versions([current.statefulSet])
  }))

describe("Fault: malformed adapter list", () => {
  it.live("a malformed adapter list deletes nothing and sets AdaptersSynced False with reason PollFailed", () =>
    e2e(Effect.gen(function*() {
      const stub = yield* DittoFsStub.start({ adminPassword: "stub-admin-password", adapters: good })
      const namespace = yield* freshNamespace("e2e-malformed")
      const created = yield* Sample.apply({ namespace, apiUrl: stub.baseUrl, adminPassword: stub.adminPassword, pollingInterval: "1s" })
      const server: ServerRef = { namespace, name: created.metadata.name }
      yield* runOperator({ kubeconfigPath, namespace })

      yield* awaitExposed(server, ["nfs", "smb"], "15 seconds")
      yield* eventually("AdaptersSynced True", expectCondition(server, "AdaptersSynced", "True"), { timeout: "10 seconds" })
      const before = yield* everything(server)

      for (const answer of malformed) {
        const served = (yield* stub.adapterRequests).length
        yield* stub.answerAdapters(answer)
        // Two polls answered with it: nothing deleted or rewritten, and the condition says why.
        yield* eventually(
          `two polls answered with ${answer.label}`,
          Effect.flatMap(stub.adapterRequests, (requests) =>
            ensure(requests.slice(served).filter((label) => label === answer.label).length >= 2, "not yet")),
          { timeout: "10 seconds" }
        )
        assert.deepStrictEqual(yield* everything(server), before, `nothing changed after ${answer.label}`)
        const failed = yield* eventually(
          `AdaptersSynced False after ${answer.label}`,
          expectCondition(server, "AdaptersSynced", "False", "PollFailed"),
          { timeout: "5 seconds" }
        )
        yield* Effect.logInfo(`fault: ${answer.label} → AdaptersSynced False/PollFailed: ${failed?.message}`)
        yield* expectCondition(server, "DittoFSReachable", "True")

        yield* stub.answerAdapters(good)
        yield* eventually("AdaptersSynced True again", expectCondition(server, "AdaptersSynced", "True"), { timeout: "10 seconds" })
      }
      assert.deepStrictEqual(yield* everything(server), before, "the good list again: nothing to change")
    })), 60_000)
})
