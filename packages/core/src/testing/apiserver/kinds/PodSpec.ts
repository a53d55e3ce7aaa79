/**
 * The `core/v1` PodSpec defaults kube-apiserver fills in, shared by Pods and the pod templates of
 * workloads (a StatefulSet's `spec.template.spec`).
 *
 * Contract: `defaultPodSpec` is pure and idempotent (defaulting a defaulted spec changes nothing);
 * fields the caller set are kept as they are.
 */
import { fieldsOf, type JsonObject } from "../Json.ts"

/** The API server's pull policy default: `Always` for `:latest` or no tag, else `IfNotPresent`. */
export const defaultPullPolicy = (image: string | undefined): string => {
  if (image === undefined || image.includes("@")) return "IfNotPresent"
  const lastSegment = image.slice(image.lastIndexOf("/") + 1)
  const colon = lastSegment.lastIndexOf(":")
  const tag = colon === -1 ? "" : lastSegment.slice(colon + 1)
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent"
}

export const defaultContainer = (container: JsonObject): Record<string, unknown> => {
  const ports = container["ports"]
  const image = container["image"]
  return {
    ...container,
    ...(Array.isArray(ports) ? { ports: ports.map((port) => ({ ...fieldsOf(port), protocol: fieldsOf(port)["protocol"] ?? "TCP" })) } : {}),
    resources: container["resources"] ?? {},
    terminationMessagePath: container["terminationMessagePath"] ?? "/dev/termination-log",
    terminationMessagePolicy: container["terminationMessagePolicy"] ?? "File",
    imagePullPolicy: container["imagePullPolicy"] ?? defaultPullPolicy(typeof image === "string" ? image : undefined)
  }
}

export const defaultPodSpec = (spec: JsonObject): Record<string, unknown> => {
  const containers = spec["containers"]
  return {
    ...spec,
    ...(Array.isArray(containers) ? { containers: containers.map((container) => defaultContainer(fieldsOf(container))) } : {}),
    restartPolicy: spec["restartPolicy"] ?? "Always",
    terminationGracePeriodSeconds: spec["terminationGracePeriodSeconds"] ?? 30,
    dnsPolicy: spec["dnsPolicy"] ?? "ClusterFirst",
    securityContext: spec["securityContext"] ?? {},
    schedulerName: spec["schedulerName"] ?? "default-scheduler"
  }
}
