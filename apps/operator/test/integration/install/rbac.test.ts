/**
 * RBAC proven, not assumed. On a control plane that runs pods and Deployments, audits every
 * request of a ServiceAccount and enforces owner-reference permissions
 * (`OwnerReferencesPermissionEnforcement`, as hardened clusters do):
 *
 * - cluster-wide: `kubectl apply -f apps/operator/deploy/dittofs-operator.yaml` (the plain
 *   manifests: CRD, Namespace under the `restricted` Pod Security Standard, ServiceAccount,
 *   ClusterRole and binding, Lease Role, Deployment, whose pod is admitted and Ready);
 * - namespaced: `helm install` of the chart watching one namespace (a Role there, no ClusterRole).
 *
 * Each time the operator's bundle runs as a separate `node` process with a kubeconfig holding only
 * a token of its ServiceAccount (TokenRequest), through a DittoServer's whole life
 * (`Scenario.lifecycle`). Then, from the apiserver's audit log: it was never refused (no 401/403),
 * every request it made is granted by the installed rules, and every rule was used except the few
 * the scenario cannot reach, each named below with the reason. Writes outside the rules, with the
 * same token, are Forbidden. `dittoservers/finalizers` is shown to be needed: without it, setting
 * the owner reference the operator sets is refused.
 */
import { assert, layer } from "@effect/vitest"
import { DittoServer, K8s, Kubernetes } from "@dittofs-operator/core"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { locate } from "../../../../../scripts/launch/Binaries.ts"
import * as ChildProcesses from "../../../../../scripts/launch/ChildProcesses.ts"
import * as ControlPlane from "../../../../../scripts/launch/ControlPlane.ts"
import * as DittoFsServer from "../../../../../scripts/launch/DittoFsServer.ts"
import * as RunDir from "../../../../../scripts/launch/RunDir.ts"
import { chartDir, manifestsPath, releaseName, releaseNamespace } from "../../../scripts/render-manifests.ts"
import * as DittoFsLive from "../../../src/live/DittoFsLive.ts"
import * as KubernetesLive from "../../../src/live/KubernetesLive.ts"
import { ensure, eventually, freshNamespace, NamespaceResource } from "../e2e/harness.ts"
import {
  auditEntries,
  DeploymentResource,
  grantKey,
  grants,
  helm,
  isolatedBundle,
  kubectl,
  type PolicyRule,
  serviceAccountKubeconfig,
  startBundle
} from "./Install.ts"
import { lifecycle } from "./Scenario.ts"

class AuditedPlane extends Context.Service<AuditedPlane, ControlPlane.ControlPlane>()("AuditedPlane") {
  static readonly layer = Layer.effect(
    AuditedPlane,
    ControlPlane.start({
      crdFiles: [],
      workloads: true,
      deployments: true,
      auditServiceAccounts: true,
      admissionPlugins: ["OwnerReferencesPermissionEnforcement"]
    })
  )
}

const operatorUser = `system:serviceaccount:${releaseNamespace}:${releaseName}`

/**
 * Grants the scenario cannot reach, and why. Anything else granted and not used fails the test
 * (a rule nobody needs), and so does anything used and not granted.
 */
const unreachedGrants: Readonly<Record<string, string>> = {
  [grantKey("dittofs.dittofs.com", "dittoservers", "get")]: "re-read only after a write lost a race (Conflict)",
  [grantKey("dittofs.dittofs.com", "dittoservers/finalizers", "update")]:
    "checked by admission when an owner reference blocks deletion (proved separately), never a request of its own",
  [grantKey("", "events", "get")]: "re-read only after an Event update lost a race (Conflict)",
  [grantKey("", "secrets", "update")]: "token refresh at 80 % of the DittoFS token lifetime (12 minutes), or a generated Secret drifting",
  [grantKey("apps", "statefulsets", "get")]: "read from the reflector's store; a GET only after an update lost a race (Conflict)",
  [grantKey("", "configmaps", "get")]: "read from the reflector's store; a GET only after an update lost a race (Conflict)"
}

const RoleObject = Schema.fromJsonString(Schema.Struct({
  rules: Schema.Array(Schema.Struct({
    apiGroups: Schema.Array(Schema.String),
    resources: Schema.Array(Schema.String),
    verbs: Schema.Array(Schema.String),
    resourceNames: Schema.optionalKey(Schema.Array(Schema.String))
  }))
}))

/** The rules of an installed (Cluster)Role, as the apiserver holds them. */
const installedRules = (kubectlPath: string, plane: ControlPlane.ControlPlane, kind: "clusterrole" | "role", name: string, namespace?: string) =>
  kubectl(kubectlPath, plane, [...(namespace === undefined ? [] : ["-n", namespace]), "get", kind, name, "-o", "json"]).pipe(
    Effect.flatMap(({ stdout }) => Schema.decodeEffect(RoleObject)(stdout)),
    Effect.map((role): ReadonlyArray<PolicyRule> => role.rules)
  )

/** `Success`, or the reason a call failed. */
const outcome = <A, R>(effect: Effect.Effect<A, Kubernetes.KubernetesError | KubernetesLive.KubernetesConfigError, R>) =>
  Effect.match(effect, {
    onFailure: (error) => error._tag === "KubernetesError" ? `${error.reason}` : error._tag,
    onSuccess: () => "Success"
  })

/** Waits until the operator Deployment's pod is admitted and Ready. */
const deploymentReady = (namespace: string) =>
  eventually(
    "operator Deployment ready",
    Effect.flatMap(
      Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(DeploymentResource, namespace, releaseName)),
      (deployment) => {
        const status = (deployment as { readonly status?: { readonly readyReplicas?: number } }).status
        return ensure(status?.readyReplicas === 1, () => `status ${JSON.stringify(status)}`)
      }
    ),
    { timeout: "60 seconds", interval: "200 millis" }
  )

interface RunOptions {
  readonly plane: ControlPlane.ControlPlane
  /** Where the DittoServer lives. */
  readonly namespace: string
  /** `--namespace` flags of the operator. */
  readonly watch: ReadonlyArray<string>
  /** Writes with the operator's token that must be Forbidden, by name. */
  readonly forbidden: (namespace: string) => ReadonlyArray<readonly [string, Effect.Effect<unknown, Kubernetes.KubernetesError, Kubernetes.Kubernetes>]>
  /** The installed rules of the operator. */
  readonly rules: ReadonlyArray<PolicyRule>
}

/** Runs the bundle with the ServiceAccount's token through the lifecycle, then judges it by the audit log. */
const runAsServiceAccount = (options: RunOptions) =>
  Effect.gen(function*() {
    const { plane } = options
    const auditLog = plane.auditLogPath ?? ""
    const dir = yield* RunDir.make("dittofs-operator-rbac-")
    const built = yield* isolatedBundle
    const kubeconfig = yield* serviceAccountKubeconfig(plane, releaseNamespace, releaseName, join(dir, "operator.kubeconfig"))
    const dfs = yield* DittoFsServer.start({})

    const operator = yield* startBundle({
      bundle: built.file,
      dir,
      name: "operator",
      args: [
        "run", "--kubeconfig", kubeconfig, "--log-format", "json", "--log-level", "info", ...options.watch.flatMap((ns) => ["--namespace", ns]),
        // as the chart runs it: the Lease its Role names, in the release namespace
        "--leader-elect", "--leader-election-namespace", releaseNamespace, "--leader-election-id", releaseName
      ]
    })
    const [elapsed] = yield* Effect.timed(lifecycle(options.namespace, dfs))
    yield* Effect.logInfo(`lifecycle as ${operatorUser} in ${Duration.format(elapsed)}`)
    yield* ChildProcesses.terminate(operator)

    // The operator's own requests: never refused, all granted, every grant used (or named).
    const requests = yield* auditEntries(auditLog, operatorUser)
    assert.isAbove(requests.length, 50, "the audit log holds the operator's requests")
    const refused = requests.filter((request) => request.code === 401 || request.code === 403)
    assert.deepStrictEqual(refused, [], "the operator was never refused")
    const granted = grants(options.rules)
    const used = new Set(requests.map((request) => grantKey(request.apiGroup, request.resource, request.verb)))
    const usedNotGranted = [...used].filter((key) => !granted.has(key)).sort()
    assert.deepStrictEqual(usedNotGranted, [], "every request is granted")
    const unused = [...granted].filter((key) => !used.has(key) && unreachedGrants[key] === undefined).sort()
    assert.deepStrictEqual(unused, [], "every grant is used, or named as unreachable here")
    yield* Effect.logInfo(`the operator used: ${[...used].sort().join("; ")}`)
    const log = yield* Effect.promise(() => readFile(operator.logFile, "utf8"))
    assert.notInclude(log, "\"Forbidden\"", "no Forbidden in the operator's log")
    assert.include(log, "operator starting")

    // Outside the rules, with the same token: Forbidden, and the audit log shows each refusal.
    const asOperator = KubernetesLive.layer({ kubeconfigPath: kubeconfig })
    const probes = options.forbidden(options.namespace)
    for (const [what, write] of probes) {
      assert.strictEqual(yield* outcome(write.pipe(Effect.provide(asOperator))), "Forbidden", what)
    }
    const after = yield* auditEntries(auditLog, operatorUser)
    assert.strictEqual(after.filter((request) => request.code === 403).length, probes.length, "each refusal is in the audit log")
  }).pipe(Effect.scoped)

const secret = (namespace: string, name: string): K8s.Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  type: "Opaque",
  data: { key: Buffer.from("value").toString("base64") }
})

const deployment = (namespace: string): K8s.AnyObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "not-the-operators", namespace },
  spec: {
    selector: { matchLabels: { app: "x" } },
    template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "x", image: "x" }] } }
  }
})

const pod = (namespace: string): K8s.Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "not-the-operators", namespace },
  spec: { containers: [{ name: "x", image: "x" }] }
})

const ServiceAccountResource: Kubernetes.Resource<K8s.AnyObject> = { ...NamespaceResource, kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true, statusSubresource: false }
const rbacResource = (kind: "Role" | "RoleBinding", plural: string): Kubernetes.Resource<K8s.AnyObject> => ({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind,
  plural,
  namespaced: true,
  statusSubresource: false,
  schema: K8s.AnyObject
})

/**
 * With OwnerReferencesPermissionEnforcement, an owner reference that blocks the owner's deletion
 * (the operator sets `blockOwnerDeletion: true` on everything it owns) needs `update` on the
 * owner's `finalizers` subresource: the operator's rules without that grant are refused such a
 * create, the operator's rules are not. Two ServiceAccounts of their own, so the operator's audit
 * trail stays its own.
 */
const finalizersNeeded = (plane: ControlPlane.ControlPlane, rules: ReadonlyArray<PolicyRule>, namespace: string, dir: string) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    const withoutFinalizers = rules.filter((rule) => !rule.resources.includes("dittoservers/finalizers"))
    assert.strictEqual(withoutFinalizers.length, rules.length - 1, "one rule grants dittoservers/finalizers")
    for (const [name, granted] of [["with-finalizers", rules], ["without-finalizers", withoutFinalizers]] as const) {
      yield* kubernetes.create(ServiceAccountResource, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } })
      yield* kubernetes.create(rbacResource("Role", "roles"), { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace }, rules: granted })
      yield* kubernetes.create(rbacResource("RoleBinding", "rolebindings"), {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name, namespace }]
      })
    }
    const owner = yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* Schema.decodeEffect(DittoServer.DittoServer)({
      apiVersion: DittoServer.apiVersion,
      kind: DittoServer.kind,
      metadata: { name: "owner", namespace },
      spec: { storage: { metadataSize: "1Gi" } }
    }))
    const owned = (name: string): K8s.ConfigMap => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace,
        ownerReferences: [{
          apiVersion: DittoServer.apiVersion,
          kind: DittoServer.kind,
          name: "owner",
          uid: owner.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true
        }]
      },
      data: {}
    })
    const createAs = (serviceAccount: string) =>
      Effect.gen(function*() {
        const kubeconfig = yield* serviceAccountKubeconfig(plane, namespace, serviceAccount, join(dir, `${serviceAccount}.kubeconfig`))
        return yield* Effect.result(
          Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.ConfigMap, owned(serviceAccount))).pipe(Effect.provide(KubernetesLive.layer({ kubeconfigPath: kubeconfig })))
        )
      })
    const refused = yield* createAs("without-finalizers")
    const refusal = refused._tag === "Failure" && refused.failure._tag === "KubernetesError" ? refused.failure : undefined
    assert.strictEqual(refusal?.reason, "Forbidden", `without the grant: ${JSON.stringify(refused)}`)
    assert.include(refusal?.message ?? "", "blockOwnerDeletion")
    const allowed = yield* createAs("with-finalizers")
    assert.strictEqual(allowed._tag, "Success", `with the grant: ${JSON.stringify(allowed)}`)
    yield* kubernetes.delete(Kubernetes.Resources.DittoServer, namespace, "owner")
  })

const rbacPlane = layer(AuditedPlane.layer, { excludeTestServices: true, timeout: "2 minutes" })

/** The admin's Kubernetes and a DittoFS client, for the test's own reads and writes. */
const asAdmin = (plane: ControlPlane.ControlPlane) =>
  Effect.provide(Layer.mergeAll(KubernetesLive.layer({ kubeconfigPath: plane.kubeconfigPath }), DittoFsLive.layer()))

rbacPlane("installed cluster-wide from the plain manifests", (it) => {
  it.effect("with only its ServiceAccount's token: never refused, every grant used, nothing else allowed", () =>
    Effect.gen(function*() {
      const plane = yield* AuditedPlane
      yield* Effect.gen(function*() {
        const binaries = yield* locate
        const dir = yield* RunDir.make("dittofs-operator-rbac-")
        yield* kubectl(binaries.kubectl, plane, ["apply", "-f", manifestsPath])
        yield* kubectl(binaries.kubectl, plane, ["wait", "--for=condition=Established", "--timeout=60s", "crd/dittoservers.dittofs.dittofs.com"])
        // The pod of the Deployment is admitted under the restricted Pod Security Standard.
        const namespace = yield* Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(NamespaceResource, "", releaseNamespace))
        assert.strictEqual(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted")
        yield* deploymentReady(releaseNamespace)
        const operatorRules = yield* installedRules(binaries.kubectl, plane, "clusterrole", releaseName)
        const leaseRules = yield* installedRules(binaries.kubectl, plane, "role", `${releaseName}-leader-election`, releaseNamespace)
        const serverNamespace = yield* freshNamespace("rbac-cluster")
        yield* finalizersNeeded(plane, operatorRules, serverNamespace, dir)

        yield* runAsServiceAccount({
          plane,
          namespace: serverNamespace,
          watch: [],
          rules: [...operatorRules, ...leaseRules],
          forbidden: (ns) => [
            ["create a Deployment", Kubernetes.Kubernetes.use((k) => k.create(DeploymentResource, deployment(ns)))],
            ["create a Pod", Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.Pod, pod(ns)))],
            ["delete a Secret", Kubernetes.Kubernetes.use((k) => k.delete(Kubernetes.Resources.Secret, ns, "nas-dfs-admin"))],
            ["create a Namespace", Kubernetes.Kubernetes.use((k) => k.create(NamespaceResource, { apiVersion: "v1", kind: "Namespace", metadata: { name: "not-the-operators" } }))],
            ["create a Lease in the server's namespace", Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.Lease, lease(ns)))]
          ]
        })
      }).pipe(Effect.scoped, asAdmin(plane))
    }), Duration.toMillis(Duration.minutes(6)))
})

rbacPlane("installed with helm, watching one namespace", (it) => {
  it.effect("helm install makes the operator's objects; with a Role only: never refused, nothing outside its namespace", () =>
    Effect.gen(function*() {
      const plane = yield* AuditedPlane
      yield* Effect.gen(function*() {
        const binaries = yield* locate
        const kubernetes = yield* Kubernetes.Kubernetes
        const watched = yield* freshNamespace("rbac-watched")
        const other = yield* freshNamespace("rbac-other")
        yield* helm(binaries.helm, plane, [
          "install", releaseName, chartDir,
          "--namespace", releaseNamespace, "--create-namespace",
          "--set", `watchNamespaces={${watched}}`,
          "--wait", "--timeout", "90s"
        ])
        // What the chart made: CRD, ServiceAccount, a Role and RoleBinding in the watched
        // namespace only, the Lease Role, the Deployment with its pod Ready.
        const status = yield* helm(binaries.helm, plane, ["status", releaseName, "--namespace", releaseNamespace, "-o", "json"])
        assert.include(status.stdout, "\"status\":\"deployed\"")
        yield* kubectl(binaries.kubectl, plane, ["get", "crd/dittoservers.dittofs.dittofs.com"])
        yield* kubectl(binaries.kubectl, plane, ["-n", releaseNamespace, "get", `serviceaccount/${releaseName}`, `role/${releaseName}-leader-election`, `rolebinding/${releaseName}-leader-election`, `deployment/${releaseName}`])
        yield* kubectl(binaries.kubectl, plane, ["-n", watched, "get", `role/${releaseName}`, `rolebinding/${releaseName}`])
        const clusterRole = yield* Effect.flip(kubectl(binaries.kubectl, plane, ["get", `clusterrole/${releaseName}`]))
        assert.include(clusterRole.message, "NotFound")
        yield* deploymentReady(releaseNamespace)
        const rules = [
          ...yield* installedRules(binaries.kubectl, plane, "role", releaseName, watched),
          ...yield* installedRules(binaries.kubectl, plane, "role", `${releaseName}-leader-election`, releaseNamespace)
        ]
        yield* kubernetes.create(Kubernetes.Resources.Secret, secret(other, "someone-elses"))

        yield* runAsServiceAccount({
          plane,
          namespace: watched,
          watch: [watched],
          rules,
          forbidden: (ns) => [
            ["create a Secret in another namespace", Kubernetes.Kubernetes.use((k) => k.create(Kubernetes.Resources.Secret, secret(other, "not-the-operators")))],
            ["read a Secret in another namespace", Kubernetes.Kubernetes.use((k) => k.get(Kubernetes.Resources.Secret, other, "someone-elses"))],
            ["list DittoServers in every namespace", Kubernetes.Kubernetes.use((k) => k.listWithVersion(Kubernetes.Resources.DittoServer, undefined))],
            ["create a Deployment in its namespace", Kubernetes.Kubernetes.use((k) => k.create(DeploymentResource, deployment(ns)))]
          ]
        })

        // Uninstalled: the operator's objects go, the CRD stays (and with it every DittoServer).
        yield* helm(binaries.helm, plane, ["uninstall", releaseName, "--namespace", releaseNamespace, "--wait", "--timeout", "60s"])
        const deploymentGone = yield* Effect.flip(kubectl(binaries.kubectl, plane, ["-n", releaseNamespace, "get", `deployment/${releaseName}`]))
        assert.include(deploymentGone.message, "NotFound")
        yield* kubectl(binaries.kubectl, plane, ["get", "crd/dittoservers.dittofs.dittofs.com"])
      }).pipe(Effect.scoped, asAdmin(plane))
    }), Duration.toMillis(Duration.minutes(6)))
})

const lease = (namespace: string): K8s.Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "not-the-operators", namespace },
  spec: { holderIdentity: "x", leaseDurationSeconds: 15 }
})
