/**
 * A reflector's source on the `Kubernetes` service: a consistent list, and watches resumed from
 * its resourceVersion that the API server closes every few minutes (the reflector reopens them).
 */
import type { Kubernetes } from "@dittofs-operator/core"
import type { ListWatch } from "./Reflector.ts"

/** How long the API server keeps one watch open before the reflector reopens it. */
export const watchTimeoutSeconds = 290

export const listWatch = <A>(
  kubernetes: Kubernetes.Api,
  resource: Kubernetes.Resource<A>,
  namespace: string | undefined,
  options: Kubernetes.ListOptions = {}
): ListWatch<A, Kubernetes.KubernetesError> => ({
  list: kubernetes.listWithVersion(resource, namespace, options),
  watch: (resourceVersion) =>
    kubernetes.watch(resource, namespace, { ...options, resourceVersion, timeoutSeconds: watchTimeoutSeconds })
})
