/**
 * A DittoServer's whole life, as the install suites drive it against an operator running
 * elsewhere (its bundle, with its own credentials): applied with the admin password of a local
 * `dfs`, its workload made and its pod Running on the simulated Node, both adapters exposed and the
 * server Ready; an adapter stopped and started again; the adapter Services' annotations changed; a
 * configuration change (metrics on) that recreates the pod once; deleted, with everything it
 * owned gone through the garbage collector.
 *
 * Contract: `lifecycle(server, dfs)` needs the test's own (admin) `Kubernetes` and a `DittoFs`
 * client, and fails with the step that did not happen in time. It reads the cluster; it never
 * talks to the operator.
 */
import { type K8s, Kubernetes, Naming } from "@dittofs-operator/core"
import { Effect, Option } from "effect"
import * as Sample from "../../../../../scripts/launch/Sample.ts"
import {
  adapterServices,
  awaitExposed,
  type DfsRef,
  ensure,
  eventually,
  expectCondition,
  expectGone,
  modify,
  type ServerRef,
  setAdapterEnabled
} from "../e2e/harness.ts"

const pod = (server: ServerRef) =>
  Kubernetes.Kubernetes.use((kubernetes) =>
    kubernetes.get(Kubernetes.Resources.Pod, server.namespace, `${server.name}-0`).pipe(
      Effect.asSome,
      Effect.catchIf((error) => error.reason === "NotFound", () => Effect.succeedNone)
    ))

const isReady = (current: K8s.Pod): boolean =>
  current.metadata.deletionTimestamp === undefined
  && (current.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")

/** A Ready `<name>-0` other than `notUid`: its uid. */
export const readyPod = (server: ServerRef, notUid?: string) =>
  eventually(
    `pod ${server.name}-0 Ready${notUid === undefined ? "" : " (a new one)"}`,
    Effect.flatMap(pod(server), (current) =>
      Effect.as(
        ensure(Option.isSome(current) && isReady(current.value) && current.value.metadata.uid !== notUid, "not yet"),
        Option.match(current, { onNone: () => "", onSome: (p) => p.metadata.uid ?? "" })
      )),
    { timeout: "60 seconds", interval: "200 millis" }
  )

const annotation = { key: "example.com/load-balancer-tier", value: "internal" }

/** Applies the sample DittoServer `nas` in `namespace` and walks it through its life. */
export const lifecycle = (namespace: string, dfs: DfsRef) =>
  Effect.gen(function*() {
    const server: ServerRef = { namespace, name: "nas" }
    yield* Sample.apply({ namespace, apiUrl: dfs.baseUrl, adminPassword: dfs.admin.password, pollingInterval: "1s" })

    // Made: the workload, a Running pod, both adapters exposed, Ready.
    const firstPod = yield* readyPod(server)
    yield* awaitExposed(server, ["nfs", "smb"], "60 seconds")
    yield* eventually("Ready", expectCondition(server, "Ready", "True"), { timeout: "60 seconds" })

    // Adapters toggled: smb's Service, NetworkPolicy and port go, then come back.
    yield* setAdapterEnabled(dfs, "smb", false)
    yield* awaitExposed(server, ["nfs"], "30 seconds")
    yield* setAdapterEnabled(dfs, "smb", true)
    yield* awaitExposed(server, ["nfs", "smb"], "30 seconds")

    // The adapter Services' annotations changed: they are updated in place.
    yield* modify(Kubernetes.Resources.DittoServer, namespace, "nas", (current) => ({
      ...current,
      spec: { ...current.spec, adapterServices: { ...current.spec.adapterServices, annotations: { [annotation.key]: annotation.value } } }
    }))
    yield* eventually(
      "adapter Services annotated",
      Effect.flatMap(adapterServices(server), (services) =>
        ensure(
          services.length === 2 && services.every((service) => service.metadata.annotations?.[annotation.key] === annotation.value),
          () => `annotations ${JSON.stringify(services.map((service) => service.metadata.annotations))}`
        )),
      { timeout: "30 seconds" }
    )

    // A configuration change: the ConfigMap, the baseline NetworkPolicy and a metrics Service
    // follow, and the pod is recreated once.
    yield* modify(Kubernetes.Resources.DittoServer, namespace, "nas", (current) => ({
      ...current,
      spec: { ...current.spec, metrics: { ...current.spec.metrics, enabled: true } }
    }))
    yield* readyPod(server, firstPod)
    const names = Naming.workloadNames("nas")
    yield* eventually(
      "metrics Service",
      Kubernetes.Kubernetes.use((kubernetes) => kubernetes.get(Kubernetes.Resources.Service, namespace, names.metricsService)),
      { timeout: "30 seconds" }
    )
    yield* eventually("Ready again", expectCondition(server, "Ready", "True"), { timeout: "60 seconds" })

    // Deleted: the finalizer is released, the garbage collector takes the rest.
    yield* Kubernetes.Kubernetes.use((kubernetes) => kubernetes.delete(Kubernetes.Resources.DittoServer, namespace, "nas"))
    const gone = <A>(resource: Parameters<typeof expectGone<A>>[0], name: string) =>
      eventually(`${resource.kind} ${name} gone`, expectGone(resource, namespace, name), { timeout: "90 seconds", interval: "200 millis" })
    yield* gone(Kubernetes.Resources.DittoServer, "nas")
    yield* gone(Kubernetes.Resources.StatefulSet, "nas")
    yield* gone(Kubernetes.Resources.Service, "nas-adapter-nfs")
    yield* gone(Kubernetes.Resources.NetworkPolicy, names.baselineNetworkPolicy)
  })
