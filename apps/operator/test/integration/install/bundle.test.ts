/**
 * The runnable artefact: the operator bundled into one JavaScript file runs with plain `node`,
 * from a folder with no `node_modules` in reach. It prints its version and the CRD the chart
 * installs, and, started against the run's control plane, it reconciles a DittoServer of a real
 * `dfs` end to end: workload made, adapters exposed, Ready.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoServerCrd } from "@dittofs-operator/core/crd"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { readFileSync, statSync } from "node:fs"
import { promisify } from "node:util"
import { inject } from "vitest"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import { awaitExposed, eventually, expectCondition, freshNamespace } from "../e2e/harness.ts"
import { isolatedBundle, startBundle } from "./Install.ts"

/** `node <bundle> <args>` with an empty environment but PATH: its stdout. */
const runBundle = (file: string, args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    promisify(execFile)(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, cwd: "/" })
  )

describe("the operator bundle", () => {
  it.live("one file, no node_modules: prints its version and the CRD, and reconciles a DittoServer against the control plane", () =>
    Effect.gen(function*() {
      const built = yield* isolatedBundle
      assert.isBelow(built.bytes, 4 * 1024 * 1024, "under 4 MiB")
      assert.isAbove(statSync(built.notices).size, 1000, "third-party notices next to it")
      assert.include(readFileSync(built.notices, "utf8"), "== effect ")

      assert.strictEqual((yield* runBundle(built.file, ["--version"])).stdout.trim(), "dittofs-operator v0.1.0")
      assert.deepStrictEqual(JSON.parse((yield* runBundle(built.file, ["crd"])).stdout), DittoServerCrd.make())

      const kubeconfigPath = inject("kubeconfigPath")
      yield* Effect.gen(function*() {
        const namespace = yield* freshNamespace("bundle")
        const dfs = yield* DittoFsServer.start({})
        yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })
        const dir = yield* RunDir.make("dittofs-operator-bundle-run-")
        yield* startBundle({
          bundle: built.file,
          dir,
          name: "operator",
          args: ["run", "--kubeconfig", kubeconfigPath, "--namespace", namespace, "--log-format", "json"]
        })
        const server = { namespace, name: "nas" }
        yield* awaitExposed(server, ["nfs", "smb"], "60 seconds")
        yield* eventually("authenticated", expectCondition(server, "Authenticated", "True"), { timeout: "30 seconds" })
        const log = readFileSync(`${dir}/operator.log`, "utf8")
        assert.include(log, "\"message\":\"operator starting\"")
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath }), DittoFsLive.layer()))
      )
    }).pipe(Effect.scoped), 180_000)
})
