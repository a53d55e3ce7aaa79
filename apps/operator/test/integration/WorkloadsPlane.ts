/**
 * A control plane that runs pods, for the integration suites that need them: etcd,
 * kube-apiserver, kube-controller-manager with the statefulset controller, kube-scheduler, kwok
 * and one simulated Node (`ControlPlane.start({ workloads: true })`), with the operator's CRDs.
 *
 * Contract: `WorkloadsPlane.layer` starts one such plane when it is built and stops it when it is
 * released; share it over a file's tests with `layer(WorkloadsPlane.layer, { excludeTestServices:
 * true, timeout })` from `@effect/vitest`. If it cannot start (binaries missing, a child exits, a
 * time-out) the layer fails and so does every test using it: never a silent skip. It logs how long
 * it took to start.
 *
 * Why per suite, not the global setup's plane: the run's shared plane stays plain on purpose. On a
 * workloads plane the statefulset controller is a second writer of every StatefulSet (status,
 * revisions, pods), and the end-to-end suites judge the operator by resourceVersions and write
 * counts that only the operator may move (R4: ten idle cycles change no resourceVersion, a change
 * is followed by no further write). So only a suite that needs pods pays for a plane that runs
 * them: a few seconds at its start, in its own vitest worker, alongside the other suites (see
 * `bench/reports/control-plane.md`), and its pods and Node are its own.
 */
import { Context, Duration, Effect, Layer } from "effect"
import * as ControlPlane from "../../../../scripts/launch/ControlPlane.ts"

export class WorkloadsPlane extends Context.Service<WorkloadsPlane, ControlPlane.ControlPlane>()("WorkloadsPlane") {
  static readonly layer = Layer.effect(
    WorkloadsPlane,
    Effect.gen(function*() {
      const crdFiles = yield* ControlPlane.defaultCrdFiles
      const [elapsed, plane] = yield* Effect.timed(ControlPlane.start({ crdFiles, workloads: true }))
      yield* Effect.logInfo(
        `workloads control plane ready in ${(Duration.toMillis(elapsed) / 1000).toFixed(1)} s at ${plane.server} (${plane.dir}), nodes: ${plane.nodes.join(", ")}`
      )
      return plane
    })
  )
}
