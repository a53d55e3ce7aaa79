/**
 * The operator's command line (`--help` on each command lists its flags and their variables).
 *
 *   dittofs-operator run [flags]          run the controllers until SIGTERM/SIGINT
 *   dittofs-operator plan NAMESPACE/NAME  print what one pass would change, writing nothing
 *   dittofs-operator crd                  print the DittoServer CRD
 *   dittofs-operator version              print the version
 *
 * Every flag of `run` has an environment variable, `DITTOFS_OPERATOR_` and the flag's name in
 * capitals with `_` for `-` (a flag wins over its variable): e.g. `--concurrency` and
 * `DITTOFS_OPERATOR_CONCURRENCY`; the watched namespaces as a comma-separated list. Without
 * `--kubeconfig` it uses KUBECONFIG, the in-cluster service account or ~/.kube/config.
 *
 * On SIGTERM (or SIGINT) `run` stops taking work, lets passes in flight finish (at most 10 s),
 * releases its Lease and exits 0. The same file, bundled (`pnpm bundle`), is the operator's
 * single-file artefact `apps/operator/dist/dittofs-operator.mjs`; the image starts it from a V8
 * startup snapshot of the same program (`apps/operator/scripts/bundle.ts`).
 */
import { DittoServerCrd } from "@dittofs-operator/core/crd"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Console, Duration, Effect, Exit, Layer, Logger, type LogLevel, Option, References, Schema } from "effect"
import { Argument, Command, Flag, GlobalFlag } from "effect/cli"
import { hostname } from "node:os"
import { startupSnapshot } from "node:v8"
import * as Operator from "./Operator.ts"
import * as Plan from "./Plan.ts"
import * as Endpoints from "./runtime/Endpoints.ts"
import * as LeaderElection from "./runtime/LeaderElection.ts"

export const version = "0.1.0"

const env = (flag: string) => `DITTOFS_OPERATOR_${flag.toUpperCase().replaceAll("-", "_")}`

const stringFlag = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withFallbackConfig(Config.String(env(name))), Flag.optional, Flag.withDescription(`${description} [$${env(name)}]`))

const intFlag = (name: string, fallback: number, description: string) =>
  Flag.Int(name).pipe(Flag.withFallbackConfig(Config.Int(env(name))), Flag.withDefault(fallback), Flag.withDescription(`${description} [$${env(name)}]`))

const kubeconfig = stringFlag("kubeconfig", "kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)")
const dittofsUrl = stringFlag("dittofs-url", "DittoFS API URL for servers without the dittofs.io/api-url annotation (for control planes without nodes)")
const logFormat = Flag.Literals("log-format", ["json", "pretty"]).pipe(
  Flag.withFallbackConfig(Config.Literals(["json", "pretty"], env("log-format"))),
  Flag.withDefault("json"),
  Flag.withDescription(`json: one object a line (default); pretty: for people [$${env("log-format")}]`)
)

/** `--log-level`'s names, for its variable too (any case). */
const logLevels: Readonly<Record<string, LogLevel.LogLevel>> = {
  all: "All", trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", warning: "Warn", error: "Error", fatal: "Fatal", none: "None"
}

/** The logger of `--log-format`, and the level of `--log-level` or, without it, its variable. */
const logging = <A, E, R>(format: "json" | "pretty", program: Effect.Effect<A, E, R>, stderr = false) =>
  Effect.gen(function*() {
    const flagged = yield* GlobalFlag.LogLevel
    const fromEnv = Option.flatMap(
      yield* Config.option(Config.String(env("log-level"))).pipe(Effect.orElseSucceed(Option.none<string>)),
      (text) => Option.fromNullishOr(logLevels[text.trim().toLowerCase()])
    )
    const level = Option.orElse(flagged, () => fromEnv)
    const json = stderr ? Logger.withConsoleError(Logger.formatJson) : Logger.consoleJson
    const logged = Effect.provide(program, Logger.layer([format === "json" ? json : Logger.consolePretty()])).pipe(
      Effect.provideService(Logger.LogToStderr, stderr)
    )
    return yield* Option.match(level, {
      onNone: () => logged,
      onSome: (minimum) => Effect.provideService(logged, References.MinimumLogLevel, minimum)
    })
  })

/** A command line that cannot be run as given. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** `[host]:port`, or nothing for `0` or empty. */
const address = (flag: string, text: string): Effect.Effect<Option.Option<Endpoints.Address>, UsageError> => {
  if (text === "0" || text === "") return Effect.succeedNone
  const parsed = Endpoints.parseAddress(text)
  return parsed === undefined ? Effect.fail(new UsageError({ message: `--${flag}: expected [host]:port, got ${text}` })) : Effect.succeedSome(parsed)
}

const run = Command.make(
  "run",
  {
    kubeconfig,
    namespaces: Flag.String("namespace").pipe(
      Flag.atLeast(0),
      Flag.withDescription(`watch only this namespace; repeat for several (default: every namespace) [$${env("namespaces")}, comma-separated]`)
    ),
    dittofsUrl,
    concurrency: intFlag("concurrency", 4, "reconciles at once, per watched namespace"),
    logFormat,
    instance: stringFlag("instance", "this replica's name: reportingInstance of its Events and holder of the Lease (default: POD_NAME, else host name and pid)"),
    leaderElect: Flag.Boolean("leader-elect").pipe(
      Flag.withFallbackConfig(Config.Boolean(env("leader-elect"))),
      Flag.withDefault(false),
      Flag.withDescription(`elect a leader on a Lease, for several replicas [$${env("leader-elect")}]`)
    ),
    leaseName: Flag.String("leader-election-id").pipe(
      Flag.withFallbackConfig(Config.String(env("leader-election-id"))),
      Flag.withDefault("dittofs-operator"),
      Flag.withDescription(`the Lease's name [$${env("leader-election-id")}]`)
    ),
    leaseNamespace: stringFlag("leader-election-namespace", "the Lease's namespace (default: POD_NAMESPACE, else the in-cluster namespace, else default)"),
    leaseDuration: intFlag("lease-duration", 15, "seconds a follower waits after the leader's last renewal before taking over"),
    renewDeadline: intFlag("renew-deadline", 10, "seconds the leader keeps trying to renew before it stops writing (less than the lease duration)"),
    retryPeriod: intFlag("retry-period", 2, "seconds between attempts to acquire or renew the Lease"),
    healthAddress: Flag.String("health-address").pipe(
      Flag.withFallbackConfig(Config.String(env("health-address"))),
      Flag.withDefault(":8081"),
      Flag.withDescription(`serve /healthz and /readyz here ([host]:port; 0: not at all) [$${env("health-address")}]`)
    ),
    metricsAddress: Flag.String("metrics-address").pipe(
      Flag.withFallbackConfig(Config.String(env("metrics-address"))),
      Flag.withDefault(":8080"),
      Flag.withDescription(`serve /metrics (Prometheus text) here ([host]:port, may equal --health-address; 0: not at all) [$${env("metrics-address")}]`)
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const fromEnv = yield* Config.option(Config.String(env("namespaces"))).pipe(Effect.orElseSucceed(Option.none<string>))
      const namespaces = flags.namespaces.length > 0
        ? flags.namespaces
        : Option.match(fromEnv, { onNone: () => [], onSome: (list) => list.split(",").map((n) => n.trim()).filter((n) => n !== "") })
      if (flags.renewDeadline >= flags.leaseDuration) return yield* new UsageError({ message: "--renew-deadline must be less than --lease-duration" })
      if (flags.retryPeriod >= flags.renewDeadline) return yield* new UsageError({ message: "--retry-period must be less than --renew-deadline" })
      const instance = Option.getOrElse(flags.instance, () => process.env["POD_NAME"] ?? `${hostname()}-${process.pid}`)
      const healthAddress = Option.getOrUndefined(yield* address("health-address", flags.healthAddress))
      const metricsAddress = Option.getOrUndefined(yield* address("metrics-address", flags.metricsAddress))
      const leaseNamespace = Option.getOrElse(flags.leaseNamespace, () => process.env["POD_NAMESPACE"] ?? Plan.inClusterNamespace() ?? "default")
      const leaderElection: LeaderElection.Config | undefined = flags.leaderElect
        ? {
          namespace: leaseNamespace,
          leaseName: flags.leaseName,
          identity: instance,
          leaseDuration: Duration.seconds(flags.leaseDuration),
          renewDeadline: Duration.seconds(flags.renewDeadline),
          retryPeriod: Duration.seconds(flags.retryPeriod)
        }
        : undefined
      const options: Operator.OperatorOptions = {
        concurrency: flags.concurrency,
        drainTimeout: Duration.seconds(10),
        namespaces,
        instance,
        ...Option.match(flags.kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) }),
        ...Option.match(flags.dittofsUrl, { onNone: () => ({}), onSome: (apiUrlOverride) => ({ apiUrlOverride }) }),
        ...(leaderElection === undefined ? {} : { leaderElection }),
        ...(healthAddress === undefined ? {} : { healthAddress }),
        metricsAddress
      }
      const watched = Operator.watchedNamespaces(options)
      return yield* logging(
        flags.logFormat,
        Effect.logInfo("operator starting").pipe(
          Effect.annotateLogs({
            version,
            instance,
            namespaces: watched.length === 0 ? "(all)" : watched.join(","),
            dittofsUrl: options.apiUrlOverride ?? "(in-cluster)",
            leaderElection: leaderElection === undefined ? "off" : `${leaderElection.namespace}/${leaderElection.leaseName}`,
            healthAddress: healthAddress === undefined ? "off" : `${healthAddress.host}:${healthAddress.port}`,
            metricsAddress: metricsAddress === undefined ? "off" : `${metricsAddress.host}:${metricsAddress.port}`
          }),
          Effect.andThen(Layer.launch(Operator.layer(options))),
          Effect.onInterrupt(() => Effect.logInfo("operator stopped"))
        )
      )
    })
).pipe(Command.withDescription("Run the operator: watch DittoServers and reconcile them until SIGTERM or SIGINT"))

const plan = Command.make(
  "plan",
  {
    target: Argument.String("namespace/name").pipe(Argument.withDescription("the DittoServer to plan for")),
    kubeconfig,
    dittofsUrl,
    output: Flag.Literals("output", ["text", "json"]).pipe(
      Flag.withAlias("o"),
      Flag.withDefault("text"),
      Flag.withDescription("text: a readable diff (default); json: the changes as one JSON document")
    ),
    logFormat: logFormat.pipe(Flag.withDefault("pretty"))
  },
  (flags) =>
    logging(
      flags.logFormat,
      Effect.gen(function*() {
        const changes = yield* Plan.plan({
          target: flags.target,
          ...Option.match(flags.kubeconfig, { onNone: () => ({}), onSome: (kubeconfigPath) => ({ kubeconfigPath }) }),
          ...Option.match(flags.dittofsUrl, { onNone: () => ({}), onSome: (apiUrlOverride) => ({ apiUrlOverride }) })
        })
        yield* Console.log(flags.output === "json" ? JSON.stringify(Plan.toJson(changes), null, 2) : Plan.render(changes))
      }),
      true // stdout holds the plan only
    )
).pipe(Command.withDescription("Print the changes one pass would make to a DittoServer (Kubernetes objects, Events, DittoFS calls) without making any"))

const printCrd = Command.make("crd", {}, () => Console.log(JSON.stringify(DittoServerCrd.make(), null, 2))).pipe(
  Command.withDescription("Print the DittoServer CustomResourceDefinition (JSON)")
)

const printVersion = Command.make("version", {}, () => Console.log(version)).pipe(
  Command.withDescription("Print the operator's version")
)

/** SIGTERM/SIGINT interrupt `run`: a clean stop, so exit 0 (failures still exit 1). */
const teardown = <E, A>(exit: Exit.Exit<E, A>, onExit: (code: number) => void) =>
  onExit(Exit.isSuccess(exit) || Exit.hasInterrupts(exit) && exit.cause.reasons.every((reason) => reason._tag === "Interrupt") ? 0 : 1)

/** Runs the command line of `process.argv`. */
const main = () =>
  Command.make("dittofs-operator").pipe(
    Command.withDescription("The DittoFS operator: Kubernetes objects for DittoFS servers and their protocol adapters"),
    Command.withSubcommands([run, plan, printCrd, printVersion]),
    Command.run({ version }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain({ teardown })
  )

// Run now; or, when `node --build-snapshot` is evaluating this program for a startup snapshot,
// once the snapshot is started (`node --snapshot-blob`: its modules are evaluated already). Node
// then passes no script name, so one is put where the command line expects it.
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(() => {
    process.argv.splice(1, 0, "dittofs-operator")
    main()
  })
} else main()
