/**
 * The DittoFS contract suite against the in-memory `DittoFsMemory`; the same suite runs against a
 * real `dfs` in the integration project (`apps/operator/test/integration/DittoFsLive.contract.test.ts`).
 */
import { Effect, Layer, Redacted } from "effect"
import { DittoFsContractServer, dittoFsContract } from "../../src/testing/contract/DittoFsContract.ts"
import * as DittoFsMemory from "../../src/testing/DittoFsMemory.ts"

const baseUrl = "http://127.0.0.1:18080"
const admin = { username: "admin", password: "contract-admin-password" }

const memoryServer = Layer.effect(
  DittoFsContractServer,
  Effect.gen(function*() {
    const control = yield* DittoFsMemory.Control
    return DittoFsContractServer.of({
      baseUrl,
      admin: { username: admin.username, password: Redacted.make(admin.password) },
      stop: control.setRunning(baseUrl, false),
      start: control.setRunning(baseUrl, true)
    })
  })
).pipe(Layer.provideMerge(DittoFsMemory.layer({ [baseUrl]: { adminPassword: admin.password } })))

dittoFsContract("DittoFs contract: DittoFsMemory", memoryServer)
