/**
 * The operator's command line.
 *
 *   node apps/operator/src/main.ts run [--kubeconfig FILE] [--namespace NS]... [--dittofs-url URL]
 *                                      [--concurrency N] [--log-format json|pretty] [--instance NAME]
 *                                      [--log-level LEVEL]
 *   node apps/operator/src/main.ts crd            print the DittoServer CRD
 *
 * `run` watches DittoServers until SIGINT/SIGTERM, then stops its watches and workers.
 * Without `--kubeconfig` it uses KUBECONFIG, the in-cluster service account or ~/.kube/config.
 * `--namespace` may be repeated; without it every namespace is watched. The same file, bundled
 * (`pnpm bundle`), is the operator's single-file artefact `apps/operator/dist/dittofs-operator.mjs`.
 */
import { DittoServerCrd } from "@dittofs-operator/core/crd"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer, Logger, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as Operator from "./Operator.ts"

const run = Command.make(
  "run",
  {
    kubeconfig: Flag.String("kubeconfig").pipe(Flag.optional, Flag.withDescription("kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)")),
    namespaces: Flag.String("namespace").pipe(
      Flag.atLeast(0),
      Flag.withDescription("watch only this namespace; repeat for several (default: every namespace)")
    ),
    dittofsUrl: Flag.String("dittofs-url").pipe(
      Flag.optional,
      Flag.withDescription("DittoFS API URL for servers without the dittofs.io/api-url annotation (for control planes without nodes)")
    ),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDefault(4), Flag.withDescription("reconciles at once")),
    logFormat: Flag.Literals("log-format", ["json", "pretty"]).pipe(Flag.withDefault("json")),
    instance: Flag.String("instance").pipe(
      Flag.optional,
      Flag.withDescription("reportingInstance of the Events it records, e.g. the pod name (default: none)")
    )
  },
  ({ concurrency, dittofsUrl, instance, kubeconfig, logFormat, namespaces }) => {
    const options: Operator.OperatorOptions = {
      concurrency,
      namespaces,
      ...Option.match(kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) }),
      ...Option.match(dittofsUrl, { onNone: () => ({}), onSome: (apiUrlOverride) => ({ apiUrlOverride }) }),
      ...Option.match(instance, { onNone: () => ({}), onSome: (value) => ({ instance: value }) })
    }
    const watched = Operator.watchedNamespaces(options)
    const logger = Logger.layer([logFormat === "json" ? Logger.consoleJson : Logger.consolePretty()])
    return Effect.logInfo("operator starting").pipe(
      Effect.annotateLogs({
        namespaces: watched.length === 0 ? "(all)" : watched.join(","),
        dittofsUrl: options.apiUrlOverride ?? "(in-cluster)"
      }),
      Effect.andThen(Layer.launch(Operator.layer(options))),
      Effect.provide(logger)
    )
  }
)

const printCrd = Command.make("crd", {}, () => Console.log(JSON.stringify(DittoServerCrd.make(), null, 2)))

Command.make("dittofs-operator").pipe(
  Command.withSubcommands([run, printCrd]),
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
