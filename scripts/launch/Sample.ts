/**
 * The sample DittoServer of the local environment and of the end-to-end tests: the DittoServer
 * (pointed at a local `dfs` through the `dittofs.io/api-url` annotation), its admin credentials
 * Secret, and the StatefulSet it would run in — created here until the operator generates its
 * workload itself. On a plain control plane it stays an object (no nodes); on the workloads plane
 * its pod `<name>-0` becomes Running and Ready on the simulated node, though no container runs.
 */
import { DittoServer, type K8s, Kubernetes, Resources } from "@dittofs-operator/core"
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

export const adminSecret = (options: SampleOptions): K8s.Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `${options.name ?? "nas"}-admin-credentials`, namespace: options.namespace ?? "default" },
  type: "Opaque",
  data: { username: base64("admin"), password: base64(options.adminPassword) }
})

export const statefulSet = (options: SampleOptions, server: { readonly uid: string }): K8s.StatefulSet => {
  const name = options.name ?? "nas"
  const labels = { app: "dittofs-server", instance: name }
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      ownerReferences: [{ apiVersion: DittoServer.apiVersion, kind: DittoServer.kind, name, uid: server.uid, controller: true, blockOwnerDeletion: true }]
    },
    spec: {
      replicas: 1,
      serviceName: `${name}-headless`,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: "dittofs",
            image: "marmos91c/dittofs:latest",
            ports: [
              { name: "api", containerPort: 8080, protocol: "TCP" },
              { name: "metrics", containerPort: 9090, protocol: "TCP" }
            ]
          }]
        }
      }
    }
  }
}

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
      adapterDiscovery: { pollingInterval: options.pollingInterval ?? "5s" },
      adapterServices: { type: "NodePort", ...options.adapterServices }
    }
  }).pipe(Effect.orDie)

/** Creates the admin Secret, the DittoServer and its StatefulSet; returns the stored DittoServer. */
export const apply = (options: SampleOptions) =>
  Effect.gen(function*() {
    const kubernetes = yield* Kubernetes
    yield* kubernetes.create(Resources.Secret, adminSecret(options))
    const server = yield* kubernetes.create(Resources.DittoServer, yield* dittoServer(options))
    yield* kubernetes.create(Resources.StatefulSet, statefulSet(options, { uid: server.metadata.uid ?? "" }))
    return server
  })
