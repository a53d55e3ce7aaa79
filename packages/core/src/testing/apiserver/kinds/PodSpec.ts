/**
 * The `core/v1` PodSpec defaults kube-apiserver fills in, shared by Pods and the pod templates of
 * workloads (a StatefulSet's `spec.template.spec`).
 *
 * Contract:
 * - `defaultPodSpec` is pure and idempotent (defaulting a defaulted spec changes nothing);
 *   fields the caller set are kept as they are. It fills in restartPolicy, dnsPolicy,
 *   terminationGracePeriodSeconds, securityContext and schedulerName; per container (and init
 *   container) imagePullPolicy (from the image tag), terminationMessagePath/Policy, `resources`
 *   (quantities rounded up to milli units and canonical, `1024Mi` stored as `1Gi`), the ports'
 *   protocol, the probes' timeouts, periods and thresholds and their httpGet path and scheme, an
 *   env `fieldRef`'s apiVersion; per volume an emptyDir when it names no source, the
 *   defaultMode (0644) of configMap, secret, downwardAPI and projected volumes, a hostPath's type.
 * - `resourcesError` is the 400 detail of the first container resource that is not a quantity;
 *   `resourceErrors` the field errors of requests above their limits.
 */
import { Option } from "effect"
import { fieldsOf, type JsonObject } from "../Json.ts"
import * as Quantity from "../../../domain/Quantity.ts"
import * as ResourceList from "../ResourceList.ts"

/** The API server's pull policy default: `Always` for `:latest` or no tag, else `IfNotPresent`. */
export const defaultPullPolicy = (image: string | undefined): string => {
  if (image === undefined || image.includes("@")) return "IfNotPresent"
  const lastSegment = image.slice(image.lastIndexOf("/") + 1)
  const colon = lastSegment.lastIndexOf(":")
  const tag = colon === -1 ? "" : lastSegment.slice(colon + 1)
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent"
}

const mapList = (value: unknown, f: (item: JsonObject) => Record<string, unknown>): unknown =>
  Array.isArray(value) ? value.map((item) => f(fieldsOf(item))) : value

/** `resources.requests` and `resources.limits` as stored: every quantity canonical. */
export const defaultResources = (resources: unknown): Record<string, unknown> => {
  const fields = fieldsOf(resources)
  const canonical = (list: unknown) => Option.getOrElse(ResourceList.canonicalResourceList(list), () => list)
  return {
    ...fields,
    ...(fields["requests"] === undefined ? {} : { requests: canonical(fields["requests"]) }),
    ...(fields["limits"] === undefined ? {} : { limits: canonical(fields["limits"]) })
  }
}

const defaultProbe = (probe: unknown): unknown => {
  if (probe === undefined) return undefined
  const fields = fieldsOf(probe)
  const httpGet = fields["httpGet"]
  return {
    ...fields,
    ...(httpGet === undefined ? {} : {
      httpGet: { ...fieldsOf(httpGet), path: fieldsOf(httpGet)["path"] ?? "/", scheme: fieldsOf(httpGet)["scheme"] ?? "HTTP" }
    }),
    timeoutSeconds: fields["timeoutSeconds"] ?? 1,
    periodSeconds: fields["periodSeconds"] ?? 10,
    successThreshold: fields["successThreshold"] ?? 1,
    failureThreshold: fields["failureThreshold"] ?? 3
  }
}

const defaultEnv = (env: JsonObject): Record<string, unknown> => {
  const valueFrom = env["valueFrom"]
  const fieldRef = fieldsOf(valueFrom)["fieldRef"]
  return fieldRef === undefined ? { ...env } : {
    ...env,
    valueFrom: { ...fieldsOf(valueFrom), fieldRef: { ...fieldsOf(fieldRef), apiVersion: fieldsOf(fieldRef)["apiVersion"] ?? "v1" } }
  }
}

export const defaultContainer = (container: JsonObject): Record<string, unknown> => {
  const image = container["image"]
  const probes = Object.fromEntries(
    ["livenessProbe", "readinessProbe", "startupProbe"].flatMap((key) => container[key] === undefined ? [] : [[key, defaultProbe(container[key])]])
  )
  return {
    ...container,
    ...(container["ports"] === undefined ? {} : { ports: mapList(container["ports"], (port) => ({ ...port, protocol: port["protocol"] ?? "TCP" })) }),
    ...(container["env"] === undefined ? {} : { env: mapList(container["env"], defaultEnv) }),
    ...probes,
    resources: defaultResources(container["resources"]),
    terminationMessagePath: container["terminationMessagePath"] ?? "/dev/termination-log",
    terminationMessagePolicy: container["terminationMessagePolicy"] ?? "File",
    imagePullPolicy: container["imagePullPolicy"] ?? defaultPullPolicy(typeof image === "string" ? image : undefined)
  }
}

/** Volume sources whose files get a `defaultMode` (0644 = 420). */
const moded = ["configMap", "secret", "downwardAPI", "projected"]

const defaultVolume = (volume: JsonObject): Record<string, unknown> => {
  const sources = Object.keys(volume).filter((key) => key !== "name")
  if (sources.length === 0) return { ...volume, emptyDir: {} }
  const defaulted: Record<string, unknown> = { ...volume }
  for (const source of moded) {
    if (volume[source] !== undefined) defaulted[source] = { ...fieldsOf(volume[source]), defaultMode: fieldsOf(volume[source])["defaultMode"] ?? 420 }
  }
  if (volume["hostPath"] !== undefined) defaulted["hostPath"] = { ...fieldsOf(volume["hostPath"]), type: fieldsOf(volume["hostPath"])["type"] ?? "" }
  return defaulted
}

export const defaultPodSpec = (spec: JsonObject): Record<string, unknown> => ({
  ...spec,
  ...(spec["containers"] === undefined ? {} : { containers: mapList(spec["containers"], defaultContainer) }),
  ...(spec["initContainers"] === undefined ? {} : { initContainers: mapList(spec["initContainers"], defaultContainer) }),
  ...(spec["volumes"] === undefined ? {} : { volumes: mapList(spec["volumes"], defaultVolume) }),
  restartPolicy: spec["restartPolicy"] ?? "Always",
  terminationGracePeriodSeconds: spec["terminationGracePeriodSeconds"] ?? 30,
  dnsPolicy: spec["dnsPolicy"] ?? "ClusterFirst",
  securityContext: spec["securityContext"] ?? {},
  schedulerName: spec["schedulerName"] ?? "default-scheduler"
})

/**
 * The field errors of the containers' resources, at `path` (`spec`, `spec.template.spec`): a
 * request above its limit.
 */
export const resourceErrors = (spec: JsonObject, path: string): ReadonlyArray<string> =>
  ["initContainers", "containers"].flatMap((key) => {
    const containers = spec[key]
    return Array.isArray(containers) ? containers.flatMap((container, i) => {
      const resources = fieldsOf(fieldsOf(container)["resources"])
      const limits = fieldsOf(resources["limits"])
      return Object.entries(fieldsOf(resources["requests"])).flatMap(([name, request]) => {
        const limit = limits[name]
        if (typeof request !== "string" || typeof limit !== "string") return []
        return Option.exists(Quantity.compare(request, limit), (order) => order > 0)
          ? [`${path}.${key}[${i}].resources.requests: Invalid value: ${JSON.stringify(request)}: must be less than or equal to ${name} limit of ${limit}`]
          : []
      })
    }) : []
  })

/** The 400 detail of the first resource quantity of a container that does not parse. */
export const resourcesError = (spec: JsonObject): Option.Option<string> => {
  for (const key of ["containers", "initContainers"]) {
    const containers = spec[key]
    if (!Array.isArray(containers)) continue
    for (const container of containers) {
      const resources = fieldsOf(fieldsOf(container)["resources"])
      for (const list of [resources["requests"], resources["limits"]]) {
        if (list !== undefined && Option.isNone(ResourceList.canonicalResourceList(list))) return Option.some(ResourceList.quantityError)
      }
    }
  }
  return Option.none()
}
