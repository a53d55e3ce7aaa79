/**
 * Control-plane benchmark: what the workloads plane costs and how fast it runs pods.
 * - Start-up (until `ControlPlane.start` returns) and stop (until its scope is closed) of the plain
 *   plane and of the workloads plane, `BENCH_STARTS` (default 5) of each, alternating, with the
 *   operator's CRDs, as the integration setup and the suites that need pods start them.
 * - On one workloads plane, `BENCH_PODS` (default 10) times: a StatefulSet (one replica, a
 *   volumeClaimTemplate, `OnDelete`) created → its pod Running and Ready; that pod's deletion
 *   requested → the new pod (new UID) Running and Ready. Observed by polling the pod every 20 ms.
 * Writes bench/reports/control-plane.md; stops everything it started. Asserts nothing.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Clock, Console, Effect, Exit, Scope } from "effect"
import { writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { basename } from "node:path"
import { fileURLToPath } from "node:url"
import { timedMillis } from "../apps/operator/test/integration/e2e/harness.ts"
import {
  awaitReadyPod,
  clientsOf,
  createStatefulSet,
  deletePod,
  freshNamespace,
  statefulSetOf
} from "../apps/operator/test/integration/StatefulSetPods.ts"
import { locate } from "../scripts/launch/Binaries.ts"
import * as ControlPlane from "../scripts/launch/ControlPlane.ts"
import { machine, type Summary, summarize } from "./Measure.ts"

const starts = Number(process.env.BENCH_STARTS ?? 5)
const pods = Number(process.env.BENCH_PODS ?? 10)
const reportFile = fileURLToPath(new URL("reports/control-plane.md", import.meta.url))

const ms = (value: number) => value.toFixed(0)
const row = (name: string, s: Summary) =>
  `| ${name} | ${s.n} | ${ms(s.min)} | ${ms(s.p50)} | ${ms(s.max)} | ${ms(s.mean)} |`

const program = Effect.gen(function*() {
  // Start-up is CPU-bound: the load of the machine when it started is part of the result.
  const loadAtStart = loadavg().map((load) => load.toFixed(1)).join(", ")
  const binaries = yield* locate
  const crdFiles = yield* ControlPlane.defaultCrdFiles

  /** Start-up and stop of one plane, in milliseconds. */
  const startAndStop = (workloads: boolean) =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const [startMillis] = yield* timedMillis(ControlPlane.start({ binaries, crdFiles, workloads }).pipe(Scope.provide(scope)))
      const [stopMillis] = yield* timedMillis(Scope.close(scope, Exit.void))
      return { startMillis, stopMillis }
    })

  const plain: Array<{ startMillis: number; stopMillis: number }> = []
  const withWorkloads: Array<{ startMillis: number; stopMillis: number }> = []
  for (let i = 0; i < starts; i++) {
    plain.push(yield* startAndStop(false))
    withWorkloads.push(yield* startAndStop(true))
    yield* Console.log(
      `start ${i + 1}/${starts}: plain ${ms(plain.at(-1)?.startMillis ?? 0)} ms, workloads ${ms(withWorkloads.at(-1)?.startMillis ?? 0)} ms`
    )
  }

  const created: Array<number> = []
  const recreated: Array<number> = []
  yield* Effect.gen(function*() {
    const plane = yield* ControlPlane.start({ binaries, crdFiles, workloads: true })
    const clients = clientsOf(plane.kubeconfigPath)
    const namespace = yield* freshNamespace(clients, "bench")
    for (let i = 0; i < pods; i++) {
      const name = `web-${i}`
      const [createMillis, pod] = yield* timedMillis(
        Effect.andThen(createStatefulSet(clients, namespace, statefulSetOf(name, "v1")), awaitReadyPod(clients, namespace, name, { timeout: "30 seconds" }))
      )
      const [recreateMillis] = yield* timedMillis(
        Effect.andThen(
          deletePod(clients, namespace, `${name}-0`),
          awaitReadyPod(clients, namespace, name, { timeout: "30 seconds", notUid: pod.metadata?.uid ?? "" })
        )
      )
      created.push(createMillis)
      recreated.push(recreateMillis)
      yield* Console.log(`pod ${i + 1}/${pods}: created → Ready ${ms(createMillis)} ms, deleted → new pod Ready ${ms(recreateMillis)} ms`)
    }
  }).pipe(Effect.scoped)

  const now = yield* Clock.currentTimeMillis
  const plainStart = summarize(plain.map((s) => s.startMillis))
  const workloadsStart = summarize(withWorkloads.map((s) => s.startMillis))
  const report = [
    "# Control-plane benchmark",
    "",
    `Date: ${new Date(now).toISOString().slice(0, 10)}. Machine: ${machine()}; load average at start ${loadAtStart} (1, 5, 15 min).`,
    `Binaries: ${basename(binaries.dir)}.`,
    "Reproduce: `pnpm bench` (or `node bench/control-plane.ts`); `BENCH_STARTS` and `BENCH_PODS` set the counts.",
    "",
    "Plain plane: etcd + kube-apiserver + kube-controller-manager (garbagecollector, namespace), the operator's CRDs.",
    "Workloads plane: the same with the statefulset controller, plus kube-scheduler (volume plugins off), kwok",
    "(`--manage-all-nodes`, the stages of `scripts/launch/kwok/`) and the Node `kwok-node-0`; ready once the Node is Ready",
    "and the scheduler's `/readyz` answers. Start-up runs until `ControlPlane.start` returns, stop until its scope is closed.",
    "",
    `## Start-up and stop (ms, ${starts} of each, alternating)`,
    "",
    "| plane | n | min | p50 | max | mean |",
    "|---|---:|---:|---:|---:|---:|",
    row("plain: start", plainStart),
    row("workloads: start", workloadsStart),
    row("plain: stop", summarize(plain.map((s) => s.stopMillis))),
    row("workloads: stop", summarize(withWorkloads.map((s) => s.stopMillis))),
    "",
    `The workloads plane costs ${ms(workloadsStart.p50 - plainStart.p50)} ms more to start (p50), ${ms(workloadsStart.mean - plainStart.mean)} ms (mean).`,
    "",
    `## Pod lifecycle on the workloads plane (ms, ${pods} StatefulSets)`,
    "",
    "| transition | n | min | p50 | max | mean |",
    "|---|---:|---:|---:|---:|---:|",
    row("StatefulSet created → pod `<name>-0` Running and Ready", summarize(created)),
    row("pod deletion requested → new pod (new UID) Running and Ready", summarize(recreated)),
    "",
    "The claim `data-<name>-0` stays Pending throughout (no provisioner); the scheduler runs without the volume plugins.",
    ""
  ].join("\n")
  writeFileSync(reportFile, report)
  yield* Console.log(report)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
