/**
 * The sample DittoServer of the local environment and of the end-to-end tests: a DittoServer
 * pointed at a local `dfs` through the `dittofs.io/api-url` annotation, and the user's Secret
 * with that dfs's admin password (`spec.identity.admin.passwordSecretRef`). The operator makes
 * everything else: ConfigMap, Secrets, Services, StatefulSet, NetworkPolicies. On a plain control
 * plane the StatefulSet stays an object (no nodes); on the workloads plane its pod `<name>-0`
 * becomes Running and Ready on the simulated node, though no container runs — the local `dfs`
 * plays the server.
 */
import { DittoServer, type K8s, Kubernetes } from "@dittofs-operator/core"
import { Effect, Schema } from "effect"

export interface SampleOptions {
  readonly name?: string
  readonly namespace?: string
  /** The local dfs's API URL. */
  readonly apiUrl: string
  readonly adminPassword: string
  readonly pollingInterval?: string
  readonly adapterServices?: { readonly type?: K8s.ServiceType; readonly annotations?: Record<string, string> }
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

/** The user's Secret holding the dfs admin password. */
export const adminSecretName = (options: SampleOptions): string => `${options.name ?? "nas"}-dfs-admin`

export const adminSecret = (options: SampleOptions): K8s.Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: adminSecretName(options), namespace: options.namespace ?? "default" },
  type: "Opaque",
  data: { password: base64(options.adminPassword) }
})

export const dittoServer = (options: SampleOptions) =>
  Schema.decodeEffect(DittoServer.DittoServer)({
    apiVersion: DittoServer.apiVersion,
    kind: DittoServer.kind,
    metadata: {
      name: options.name ?? "nas",
      namespace: options.namespace ?? "default",
      annotations: { "dittofs.io/api-url": options.apiUrl }
    },
    spec: {
      storage: { metadataSize: "1Gi" },
      identity: { admin: { passwordSecretRef: { name: adminSecretName(options), key: "password" } } },
      adapterDiscovery: { pollingInterval: options.pollingInterval ?? "5s" },
      adapterServices: { type: "NodePort", ...options.adapterServices }
    }
  }).pipe(Effect.orDie)

/** Creates the admin-password Secret and the DittoServer; returns the stored DittoServer. */
export const apply = (options: SampleOptions) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes.Kubernetes
    yield* kubernetes.create(Kubernetes.Resources.Secret, adminSecret(options))
    return yield* kubernetes.create(Kubernetes.Resources.DittoServer, yield* dittoServer(options))
  })
