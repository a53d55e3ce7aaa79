/**
 * The Helm chart, rendered and linted with the helm built from its Go module (installs are in
 * `rbac.test.ts`): `helm lint --strict` passes; the plain manifests are the chart rendered with its
 * defaults; the CRD it installs is the generated one; watched namespaces turn the ClusterRole
 * into one Role per namespace and `--namespace` flags; the Deployment is non-root with a read-only
 * root filesystem and no capabilities; values the operator cannot honour yet are refused.
 */
import { assert, describe, it } from "@effect/vitest"
import { DittoServerCrd } from "@dittofs-operator/core/crd"
import { Effect } from "effect"
import { Yaml } from "effect/encoding"
import { readFileSync } from "node:fs"
import { locate } from "../../../../../scripts/launch/Binaries.ts"
import { lint, manifestsPath, renderManifests, template } from "../../../scripts/render-manifests.ts"

type Manifest = {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> }
  readonly [key: string]: unknown
}

/** The documents of a rendered chart. */
const documents = (rendered: string): ReadonlyArray<Manifest> =>
  rendered.split(/^---[ \t]*$/m)
    .map((text) => text.split("\n").filter((line) => !line.startsWith("#")).join("\n"))
    .filter((text) => text.trim() !== "")
    .map((text) => Yaml.parse(text) as Manifest)

const render = (args: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const binaries = yield* locate
    return documents(yield* Effect.promise(() => template(binaries.helm, args)))
  })

const renderFailure = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const binaries = yield* locate
    return yield* Effect.promise(() => template(binaries.helm, args).then(() => "rendered", (error: Error) => error.message))
  })

const kinds = (manifests: ReadonlyArray<Manifest>) => manifests.map((m) => `${m.kind} ${m.metadata.namespace ?? ""}/${m.metadata.name}`)

type Container = {
  readonly args: ReadonlyArray<string>
  readonly securityContext: Record<string, unknown>
  readonly ports?: unknown
  readonly livenessProbe?: unknown
}
const operatorContainer = (manifests: ReadonlyArray<Manifest>): Container => {
  const deployment = manifests.find((m) => m.kind === "Deployment") as unknown as {
    readonly spec: { readonly template: { readonly spec: { readonly containers: ReadonlyArray<Container>; readonly securityContext: Record<string, unknown> } } }
  }
  const container = deployment.spec.template.spec.containers[0]
  if (container === undefined) throw new Error("no container")
  return container
}

describe("the Helm chart", () => {
  it.live("passes helm lint --strict (defaults, and watching namespaces)", () =>
    Effect.gen(function*() {
      const binaries = yield* locate
      const results = yield* Effect.promise(() => lint(binaries.helm))
      for (const result of results) assert.include(result.stdout, "0 chart(s) failed")
    }))

  it.live("rendered with its defaults is the committed plain manifests", () =>
    Effect.gen(function*() {
      const binaries = yield* locate
      assert.strictEqual(yield* Effect.promise(() => renderManifests(binaries.helm)), readFileSync(manifestsPath, "utf8"))
    }))

  it.live("defaults: CRD, ServiceAccount, ClusterRole and binding, Lease Role, Deployment; the CRD is the generated one", () =>
    Effect.gen(function*() {
      const manifests = yield* render()
      assert.deepStrictEqual(kinds(manifests), [
        "ServiceAccount dittofs-system/dittofs-operator",
        "CustomResourceDefinition /dittoservers.dittofs.dittofs.com",
        "ClusterRole /dittofs-operator",
        "ClusterRoleBinding /dittofs-operator",
        "Role dittofs-system/dittofs-operator-leader-election",
        "RoleBinding dittofs-system/dittofs-operator-leader-election",
        "Deployment dittofs-system/dittofs-operator"
      ])
      const rendered = manifests.find((m) => m.kind === "CustomResourceDefinition")
      const generated = DittoServerCrd.make() as unknown as Manifest
      assert.deepStrictEqual({ ...rendered, metadata: { name: rendered?.metadata.name } }, { ...generated, metadata: { name: generated.metadata.name } })
      assert.strictEqual(rendered?.metadata.annotations?.["helm.sh/resource-policy"], "keep")
    }))

  it.live("the operator pod: non-root, read-only root filesystem, no capabilities, no privilege escalation", () =>
    Effect.gen(function*() {
      const manifests = yield* render()
      const container = operatorContainer(manifests)
      assert.deepStrictEqual(container.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] }
      })
      assert.deepStrictEqual(container.args, [
        "run", "--log-level=info", "--log-format=json", "--concurrency=4", "--instance=$(POD_NAME)",
        "--health-address=:8081", "--metrics-address=0",
        "--leader-elect", "--leader-election-id=dittofs-operator", "--leader-election-namespace=$(POD_NAMESPACE)",
        "--lease-duration=15", "--renew-deadline=10", "--retry-period=2"
      ])
    }))

  it.live("two replicas with leader election: probes on /healthz and /readyz, metrics Service and scrape annotations, the Lease Role names the Lease", () =>
    Effect.gen(function*() {
      const manifests = yield* render(["--set", "replicas=2", "--set", "metrics.enabled=true", "--set", "leaderElection.leaseName=ops-lease"])
      const deployment = manifests.find((m) => m.kind === "Deployment") as unknown as {
        spec: { replicas: number; strategy: { type: string }; template: { metadata: { annotations: Record<string, string> } } }
      }
      assert.strictEqual(deployment.spec.replicas, 2)
      assert.strictEqual(deployment.spec.strategy.type, "RollingUpdate")
      assert.deepInclude(deployment.spec.template.metadata.annotations, { "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics" })
      const container = operatorContainer(manifests) as unknown as {
        args: ReadonlyArray<string>
        ports: ReadonlyArray<{ name: string; containerPort: number }>
        livenessProbe: { httpGet: { path: string; port: string } }
        readinessProbe: { httpGet: { path: string; port: string } }
      }
      assert.includeMembers([...container.args], ["--metrics-address=:8080", "--leader-elect", "--leader-election-id=ops-lease"])
      assert.deepStrictEqual(container.ports, [{ name: "health", containerPort: 8081 }, { name: "metrics", containerPort: 8080 }])
      assert.deepStrictEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "health" })
      assert.deepStrictEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "health" })
      const service = manifests.find((m) => m.kind === "Service") as unknown as { metadata: { name: string }; spec: { ports: ReadonlyArray<{ port: number; targetPort: string }> } }
      assert.strictEqual(service.metadata.name, "dittofs-operator-metrics")
      assert.deepStrictEqual(service.spec.ports.map((p) => [p.port, p.targetPort]), [[8080, "metrics"]])
      const leaseRole = manifests.find((m) => m.kind === "Role" && m.metadata.name.endsWith("-leader-election")) as unknown as {
        rules: ReadonlyArray<{ verbs: ReadonlyArray<string>; resourceNames?: ReadonlyArray<string> }>
      }
      assert.deepStrictEqual(leaseRole.rules.map((rule) => [rule.verbs.join(","), rule.resourceNames ?? []]), [["create", []], ["get,update", ["ops-lease"]]])
    }))

  it.live("watching namespaces: a Role and RoleBinding in each, no ClusterRole, one --namespace each", () =>
    Effect.gen(function*() {
      const manifests = yield* render(["--set", "watchNamespaces={team-a,team-b,team-a}", "--set", "log.level=debug", "--set", "log.format=pretty"])
      assert.deepStrictEqual(kinds(manifests).filter((k) => k.startsWith("Cluster") || k.startsWith("Role")), [
        "Role team-a/dittofs-operator",
        "Role team-b/dittofs-operator",
        "Role dittofs-system/dittofs-operator-leader-election",
        "RoleBinding team-a/dittofs-operator",
        "RoleBinding team-b/dittofs-operator",
        "RoleBinding dittofs-system/dittofs-operator-leader-election"
      ])
      const args = operatorContainer(manifests).args
      assert.deepStrictEqual(args.filter((arg) => arg.startsWith("--namespace") || arg.startsWith("--log")), [
        "--log-level=debug",
        "--log-format=pretty",
        "--namespace=team-a",
        "--namespace=team-b"
      ])
    }))

  it.live("extra labels and annotations reach every object; the CRD and the Lease Role can be left out", () =>
    Effect.gen(function*() {
      const manifests = yield* render([
        "--set", "commonLabels.team=storage",
        "--set", "commonAnnotations.owner=platform",
        "--set", "crds.install=false",
        "--set", "leaderElection.enabled=false"
      ])
      assert.deepStrictEqual(kinds(manifests), [
        "ServiceAccount dittofs-system/dittofs-operator",
        "ClusterRole /dittofs-operator",
        "ClusterRoleBinding /dittofs-operator",
        "Deployment dittofs-system/dittofs-operator"
      ])
      for (const manifest of manifests) {
        assert.strictEqual(manifest.metadata.labels?.team, "storage", manifest.kind)
        assert.strictEqual(manifest.metadata.annotations?.owner, "platform", manifest.kind)
      }
    }))

  it.live("refuses settings that cannot work, and values outside the schema", () =>
    Effect.gen(function*() {
      assert.include(yield* renderFailure(["--set", "replicas=2", "--set", "leaderElection.enabled=false"]), "needs leaderElection.enabled")
      assert.include(yield* renderFailure(["--set", "leaderElection.renewDeadline=15"]), "must be less than leaseDuration")
      assert.include(yield* renderFailure(["--set", "metrics.enabled=true", "--set", "metrics.port=8081"]), "must differ from health.port")
      assert.include(yield* renderFailure(["--set", "log.level=loud"]), "log.level")
      assert.include(yield* renderFailure(["--set", "watchNamespaces={Not_A_Namespace}"]), "watchNamespaces")
    }))
})
