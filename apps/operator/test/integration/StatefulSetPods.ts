/**
 * A StatefulSet and its pods on a control plane that runs them (`ControlPlane.start({ workloads:
 * true })`), through client-node's typed clients: the fixture of the pod-lifecycle tests and of
 * `bench/control-plane.ts` (so it imports nothing from vitest).
 *
 * Contract:
 * - `clientsOf(kubeconfigPath)` builds typed clients; every call goes through `call`, which turns
 *   a rejection into an `ApiCallFailed` carrying the HTTP status (0 when there was none).
 * - `freshNamespace(clients, prefix)` creates a namespace named by the server and deletes it when
 *   the scope closes (its pods go with it: kwok finishes their deletion).
 * - `statefulSetOf(name, config)` is a one-replica StatefulSet with a volumeClaimTemplate `data`
 *   and `updateStrategy: OnDelete`; `config` is written into the pod template (annotation
 *   `dittofs.io/config` and env `DITTOFS_CONFIG`), so changing it changes the template.
 * - `awaitReadyPod` waits until `<name>-0` exists, is Running and Ready (and optionally is not the
 *   pod `notUid`), and returns it; `setConfig` changes the template with a strategic merge patch
 *   (no resourceVersion: the statefulset controller writes the status concurrently).
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  type V1StatefulSet
} from "@kubernetes/client-node"
import { Data, type Duration, Effect } from "effect"
import { ensure, eventually, type TimedOut } from "./e2e/harness.ts"

export class ApiCallFailed extends Data.TaggedError("ApiCallFailed")<{
  readonly what: string
  readonly status: number
  readonly message: string
}> {}

export interface Clients {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
}

export const clientsOf = (kubeconfigPath: string): Clients => {
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(kubeconfigPath)
  return { core: kubeConfig.makeApiClient(CoreV1Api), apps: kubeConfig.makeApiClient(AppsV1Api) }
}

export const call = <A>(what: string, request: () => Promise<A>): Effect.Effect<A, ApiCallFailed> =>
  Effect.tryPromise({
    try: request,
    catch: (cause) =>
      cause instanceof ApiException
        ? new ApiCallFailed({ what, status: cause.code, message: String(cause.body).slice(0, 500) })
        : new ApiCallFailed({ what, status: 0, message: cause instanceof Error ? cause.message : String(cause) })
  })

export const freshNamespace = (clients: Clients, prefix: string) =>
  Effect.acquireRelease(
    call("create namespace", () => clients.core.createNamespace({ body: { metadata: { generateName: `${prefix}-` } } })).pipe(
      Effect.flatMap((created) =>
        created.metadata?.name === undefined
          ? Effect.fail(new ApiCallFailed({ what: "create namespace", status: 0, message: "no name in the answer" }))
          : Effect.succeed(created.metadata.name)
      )
    ),
    (name) =>
      call(`delete namespace ${name}`, () => clients.core.deleteNamespace({ name })).pipe(
        Effect.catch((error) => Effect.logWarning(`${error.what}: ${error.status} ${error.message}`))
      )
  )

export const configAnnotation = "dittofs.io/config"

export const statefulSetOf = (name: string, config: string): V1StatefulSet => {
  const labels = { app: "workloads-test", instance: name }
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name },
    spec: {
      replicas: 1,
      serviceName: `${name}-headless`,
      selector: { matchLabels: labels },
      updateStrategy: { type: "OnDelete" },
      template: {
        metadata: { labels, annotations: { [configAnnotation]: config } },
        spec: {
          containers: [{
            name: "dittofs",
            image: "marmos91c/dittofs:latest",
            env: [{ name: "DITTOFS_CONFIG", value: config }],
            ports: [{ name: "api", containerPort: 8080, protocol: "TCP" }],
            volumeMounts: [{ name: "data", mountPath: "/data" }]
          }]
        }
      },
      volumeClaimTemplates: [{
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }
      }]
    }
  }
}

export const createStatefulSet = (clients: Clients, namespace: string, body: V1StatefulSet) =>
  call(`create StatefulSet ${body.metadata?.name}`, () => clients.apps.createNamespacedStatefulSet({ namespace, body }))

export const readStatefulSet = (clients: Clients, namespace: string, name: string) =>
  call(`read StatefulSet ${name}`, () => clients.apps.readNamespacedStatefulSet({ namespace, name }))

export const readPod = (clients: Clients, namespace: string, name: string) =>
  call(`read Pod ${name}`, () => clients.core.readNamespacedPod({ namespace, name }))

export const deletePod = (clients: Clients, namespace: string, name: string) =>
  call(`delete Pod ${name}`, () => clients.core.deleteNamespacedPod({ namespace, name }))

/** Changes the pod template's config (annotation and env) with a strategic merge patch (containers and env merge by name). */
export const setConfig = (clients: Clients, namespace: string, name: string, config: string) =>
  call(`patch StatefulSet ${name}`, () =>
    clients.apps.patchNamespacedStatefulSet(
      {
        namespace,
        name,
        body: {
          spec: {
            template: {
              metadata: { annotations: { [configAnnotation]: config } },
              spec: { containers: [{ name: "dittofs", env: [{ name: "DITTOFS_CONFIG", value: config }] }] }
            }
          }
        }
      },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch)
    ))

export const isReady = (pod: V1Pod): boolean =>
  pod.status?.phase === "Running" &&
  (pod.status.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True")

export const configOf = (pod: V1Pod): string | undefined => pod.metadata?.annotations?.[configAnnotation]

/** `<name>-0` once it is Running and Ready (and, with `notUid`, a pod other than that one). */
export const awaitReadyPod = (
  clients: Clients,
  namespace: string,
  statefulSet: string,
  options: { readonly timeout: Duration.Input; readonly notUid?: string }
): Effect.Effect<V1Pod, TimedOut> => {
  const name = `${statefulSet}-0`
  return eventually(
    `pod ${namespace}/${name} Running and Ready${options.notUid === undefined ? "" : " (a new one)"}`,
    Effect.gen(function*() {
      const pod = yield* readPod(clients, namespace, name)
      yield* ensure(options.notUid === undefined || pod.metadata?.uid !== options.notUid, "still the old pod")
      yield* ensure(pod.metadata?.deletionTimestamp === undefined, "being deleted")
      yield* ensure(isReady(pod), () => `phase ${pod.status?.phase}, conditions ${JSON.stringify(pod.status?.conditions ?? [])}`)
      return pod
    }),
    { timeout: options.timeout, interval: "20 millis" }
  )
}
