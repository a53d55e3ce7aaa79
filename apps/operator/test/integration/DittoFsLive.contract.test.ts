/**
 * The DittoFS contract suite against a real `dfs` (v0.29.0, started for this file and torn down
 * after it) through `DittoFsLive`: the same tests `DittoFsMemory` passes in the core project.
 */
import { Effect, Layer, Redacted } from "effect"
// The core's package exports do not list the contract suites (they import vitest): a relative import.
import { DittoFsContractServer, dittoFsContract } from "../../../../packages/core/src/testing/contract/DittoFsContract.ts"
import * as DittoFsServer from "../../../../scripts/launch/DittoFsServer.ts"
import * as DittoFsLive from "../../src/live/DittoFsLive.ts"

const realServer = Layer.effect(
  DittoFsContractServer,
  Effect.gen(function*() {
    const server = yield* DittoFsServer.start()
    return DittoFsContractServer.of({
      baseUrl: server.baseUrl,
      admin: { username: server.admin.username, password: Redacted.make(server.admin.password) },
      stop: server.stop,
      start: Effect.orDie(server.start)
    })
  })
)

dittoFsContract("DittoFs contract: DittoFsLive against a real dfs", Layer.merge(realServer, DittoFsLive.layer()))
