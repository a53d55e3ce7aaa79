/**
 * `pnpm start`: the operator on a local control plane with a local DittoFS, until Ctrl-C.
 *
 * Starts etcd + kube-apiserver + the garbage collector (with the DittoServer CRD) and the
 * workloads plane (statefulset controller, kube-scheduler, kwok: the sample's pod `nas-0` is
 * Running and Ready, though no container runs), one real `dfs`, applies the sample DittoServer
 * `nas` (pointed at that dfs), runs the operator in this process, and prints how to watch the
 * cluster and switch adapters. Everything stops on Ctrl-C.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger } from "effect"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as KubernetesLive from "../apps/operator/src/live/KubernetesLive.ts"
import * as Operator from "../apps/operator/src/Operator.ts"
import { locate } from "./launch/Binaries.ts"
import * as ControlPlane from "./launch/ControlPlane.ts"
import * as DittoFsServer from "./launch/DittoFsServer.ts"
import * as Sample from "./launch/Sample.ts"

const program = Effect.gen(function*() {
  const binaries = yield* locate
  yield* Console.log("starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and dfs …")
  const controlPlane = yield* ControlPlane.start({ binaries, crdFiles: yield* ControlPlane.defaultCrdFiles, workloads: true })
  const dittofs = yield* DittoFsServer.start({ binaries })
  yield* Sample.apply({ apiUrl: dittofs.baseUrl, adminPassword: dittofs.admin.password }).pipe(
    Effect.provide(KubernetesLive.layer({ kubeconfigPath: controlPlane.kubeconfigPath }))
  )
  const env = join(controlPlane.dir, "env.sh")
  yield* Effect.promise(() =>
    writeFile(env, [
      `export KUBECONFIG=${controlPlane.kubeconfigPath}`,
      `export PATH=${binaries.dir}:$PATH`,
      `export DITTOFS_URL=${dittofs.baseUrl}`,
      ""
    ].join("\n"))
  )
  yield* Console.log([
    "",
    "The operator is running: DittoServer default/nas follows the adapters of the local dfs.",
    "In another shell:",
    `  source ${env}`,
    "  kubectl get dittoservers,services,networkpolicies -w        # watch Services come and go",
    "  kubectl get statefulsets,pods -o wide                      # nas-0 runs on the simulated node kwok-node-0",
    `  dfsctl login --server $DITTOFS_URL -u admin -p '${dittofs.admin.password}'`,
    "  dfsctl adapter list",
    "  dfsctl adapter disable smb        # its Service goes within one polling cycle (5 s)",
    "  dfsctl adapter enable smb",
    "  kubectl get events --field-selector involvedObject.name=nas",
    "Ctrl-C stops everything.",
    ""
  ].join("\n"))
  return yield* Layer.launch(Operator.layer({ kubeconfigPath: controlPlane.kubeconfigPath }))
})

program.pipe(
  Effect.scoped,
  Effect.provide(Logger.layer([Logger.consolePretty()])),
  NodeRuntime.runMain
)
