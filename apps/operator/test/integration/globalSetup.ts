/**
 * Global setup of the `integration` project: ONE real control plane (etcd + kube-apiserver +
 * kube-controller-manager, with the CRDs of `apps/operator/deploy/crd/`) per test run, torn down
 * after the last test.
 *
 * Contract:
 * - Tests read `inject("kubeconfigPath")`, `inject("server")`, `inject("token")` and
 *   `inject("caFile")` (see `ProvidedContext` below).
 * - Missing binaries are built (`scripts/build-binaries.sh`); if that fails, the setup FAILS with
 *   the message saying how to build them: integration tests never pass by not running.
 * - `SKIP_INTEGRATION=1` skips them (nothing is started, every test is reported skipped), except
 *   when `CI` is set: CI always runs them.
 * - The plane is plain on purpose (no statefulset controller, scheduler or nodes: nothing but the
 *   operator writes a StatefulSet, so the end-to-end suites can count its writes by
 *   resourceVersion). A suite that needs running pods starts its own `WorkloadsPlane` (see there).
 */
import { Cause, Duration, Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import * as ControlPlane from "../../../../scripts/launch/ControlPlane.ts"
import { integrationSkipReason } from "./skipIntegration.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig of the run's control plane (JSON, which is YAML). */
    kubeconfigPath: string
    /** `https://127.0.0.1:<port>` */
    server: string
    /** Admin bearer token (group `system:masters`). */
    token: string
    /** CA of the apiserver's serving certificate (PEM file). */
    caFile: string
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const skipReason = integrationSkipReason()
  if (skipReason !== undefined) {
    console.warn(`integration tests SKIPPED (${skipReason}); no control plane started`)
    return undefined
  }
  if (process.env.SKIP_INTEGRATION === "1") {
    console.warn("SKIP_INTEGRATION=1 is ignored because CI is set: integration tests always run in CI")
  }
  const scope = Scope.makeUnsafe()
  const started = await Effect.runPromiseExit(
    ControlPlane.defaultCrdFiles.pipe(
      Effect.flatMap((crdFiles) => Effect.timed(ControlPlane.start({ crdFiles }))),
      Scope.provide(scope)
    )
  )
  if (Exit.isFailure(started)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const reasons = Cause.prettyErrors(started.cause).map((error) => error.message).join("\n")
    throw new Error(
      `integration tests cannot run: the control plane did not start.\n${reasons}\n` +
        "(a developer may skip them locally with SKIP_INTEGRATION=1)"
    )
  }
  const [elapsed, controlPlane] = started.value
  console.info(`integration control plane ready in ${(Duration.toMillis(elapsed) / 1000).toFixed(1)} s at ${controlPlane.server} (${controlPlane.dir})`)
  project.provide("kubeconfigPath", controlPlane.kubeconfigPath)
  project.provide("server", controlPlane.server)
  project.provide("token", controlPlane.token)
  project.provide("caFile", controlPlane.caFile)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
