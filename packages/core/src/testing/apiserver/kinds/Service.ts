/**
 * `v1` Service: what kube-apiserver defaults, allocates and rejects.
 *
 * Contract:
 * - Names are DNS-1035 labels (stricter than API servers with RelaxedServiceNameValidation, 1.34+).
 * - Defaults: type ClusterIP, protocol TCP, targetPort = port, sessionAffinity None (and its
 *   config for ClientIP), internalTrafficPolicy Cluster, ipFamilies/ipFamilyPolicy (IPv4
 *   SingleStack; dual stack for a selectorless headless Service), externalTrafficPolicy for
 *   NodePort and LoadBalancer, allocateLoadBalancerNodePorts for LoadBalancer; status
 *   `{ loadBalancer: {} }`.
 * - A clusterIP is allocated once and never changes (`None` makes it headless). nodePorts for
 *   NodePort and LoadBalancer are allocated from 30000-32767 without collisions with any other
 *   Service; an explicit one is honoured unless out of range or taken; they are kept across
 *   updates that omit them (matched by port name) and dropped when the type becomes ClusterIP.
 * - Ports are required (except headless), named when several, without duplicate names or
 *   port/protocol pairs.
 */
import { Option, Result } from "effect"
import { Service, type ServicePort } from "../../../domain/Kubernetes.ts"
import { fieldsOf } from "../Json.ts"
import { type AdmissionRequest, type ClusterView, type Counters, decodeAs, define, previousAs } from "../Kind.ts"

const nodePortRange = { first: 30000, last: 32767 } as const

const clusterIPCounter = "services/clusterIP"
const nodePortCounter = "services/nodePort"

const allocateClusterIP = (counters: Counters): readonly [string, Counters] => {
  const n = (counters[clusterIPCounter] ?? 10) + 1
  return [`10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`, { ...counters, [clusterIPCounter]: n }]
}

/** The next free nodePort after the last one allocated, wrapping around the range. */
const allocateNodePort = (counters: Counters, taken: ReadonlySet<number>): readonly [number, Counters] => {
  const last = counters[nodePortCounter] ?? nodePortRange.first
  let candidate = last
  do {
    candidate = candidate >= nodePortRange.last ? nodePortRange.first : candidate + 1
  } while (taken.has(candidate) && candidate !== last)
  return [candidate, { ...counters, [nodePortCounter]: candidate }]
}

/** The nodePorts of every stored Service but the one admitted. */
const nodePortsTaken = (cluster: ClusterView): Set<number> => {
  const taken = new Set<number>()
  for (const [key, object] of cluster.objects({ group: "", plural: "services" })) {
    if (key === cluster.self) continue
    const decoded = decodeAs(Service, object)
    if (Result.isFailure(decoded)) continue
    for (const port of decoded.success.spec.ports ?? []) if (port.nodePort !== undefined) taken.add(port.nodePort)
  }
  return taken
}

const needsNodePorts = (type: string | undefined): boolean => type === "NodePort" || type === "LoadBalancer"

const admit = (request: AdmissionRequest) => {
  const decoded = decodeAs(Service, request.object)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
  const service = decoded.success
  const old = previousAs(Service, request.previous)
  let counters = request.cluster.counters
  const errors: Array<string> = []
  const type = service.spec.type ?? "ClusterIP"
  const needsNodePort = needsNodePorts(type)
  const oldPorts = Option.match(old, { onNone: () => [], onSome: (value) => value.spec.ports ?? [] })
  const oldNeedsNodePort = Option.exists(old, (value) => needsNodePorts(value.spec.type))

  const requestedIP = service.spec.clusterIP === "" ? undefined : service.spec.clusterIP
  const oldIP = Option.getOrUndefined(Option.flatMapNullishOr(old, (value) => value.spec.clusterIP))
  if (requestedIP !== undefined && oldIP !== undefined && requestedIP !== oldIP) {
    errors.push(`spec.clusterIPs[0]: Invalid value: ["${requestedIP}"]: may not change once set`)
  }
  let clusterIP = oldIP ?? requestedIP
  const headless = clusterIP === "None"
  const requested = service.spec.ports ?? []
  if (requested.length === 0 && !headless) errors.push("spec.ports: Required value")

  const names = new Set<string>()
  const endpoints = new Set<string>()
  const taken = nodePortsTaken(request.cluster)
  const assigned = new Set<number>()
  const nodePorts: Array<number | undefined> = []
  requested.forEach((port, i) => {
    if (port.name === undefined || port.name === "") {
      if (requested.length > 1) errors.push(`spec.ports[${i}].name: Required value`)
    } else if (names.has(port.name)) {
      errors.push(`spec.ports[${i}].name: Duplicate value: "${port.name}"`)
    } else {
      names.add(port.name)
    }
    if (port.port < 1 || port.port > 65535) errors.push(`spec.ports[${i}].port: Invalid value: ${port.port}: must be between 1 and 65535, inclusive`)
    const endpoint = `${port.port}/${port.protocol ?? "TCP"}`
    if (endpoints.has(endpoint)) errors.push(`spec.ports[${i}]: Duplicate value: ${endpoint}`)
    endpoints.add(endpoint)
    const previousPort = oldPorts.find((candidate) => (candidate.name ?? "") === (port.name ?? ""))
    const explicit = port.nodePort === undefined || port.nodePort === 0 ? undefined : port.nodePort
    if (!needsNodePort) {
      if (explicit !== undefined && explicit !== previousPort?.nodePort) {
        errors.push(`spec.ports[${i}].nodePort: Forbidden: may not be used when \`type\` is '${type}'`)
      }
      nodePorts.push(undefined)
    } else if (explicit !== undefined) {
      if (explicit < nodePortRange.first || explicit > nodePortRange.last) {
        errors.push(`spec.ports[${i}].nodePort: Invalid value: ${explicit}: provided port is not in the valid range. The range of valid ports is ${nodePortRange.first}-${nodePortRange.last}`)
      } else if (taken.has(explicit) || assigned.has(explicit)) {
        errors.push(`spec.ports[${i}].nodePort: Invalid value: ${explicit}: provided port is already allocated`)
      }
      assigned.add(explicit)
      nodePorts.push(explicit)
    } else {
      const kept = oldNeedsNodePort && previousPort?.nodePort !== undefined && !assigned.has(previousPort.nodePort)
        ? previousPort.nodePort
        : undefined
      if (kept !== undefined) assigned.add(kept)
      nodePorts.push(kept)
    }
  })
  if (errors.length > 0) return Result.fail(errors)

  if (clusterIP === undefined) [clusterIP, counters] = allocateClusterIP(counters)
  const ports: Array<ServicePort> = []
  for (const [i, port] of requested.entries()) {
    let nodePort = nodePorts[i]
    if (needsNodePort && nodePort === undefined) {
      ;[nodePort, counters] = allocateNodePort(counters, new Set([...taken, ...assigned]))
      assigned.add(nodePort)
    }
    const { nodePort: _dropped, ...rest } = port
    ports.push({
      ...rest,
      protocol: port.protocol ?? "TCP",
      targetPort: port.targetPort ?? port.port,
      ...(nodePort === undefined ? {} : { nodePort })
    })
  }
  const { allocateLoadBalancerNodePorts: _alb, externalTrafficPolicy: _etp, ...specRest } = service.spec
  const sessionAffinity = service.spec["sessionAffinity"] ?? "None"
  const oldSpec = fieldsOf(Option.getOrUndefined(Option.map(old, (value) => value.spec)))
  const selectorless = headless && service.spec.selector === undefined
  const spec = {
    ...specRest,
    type,
    clusterIP,
    clusterIPs: [clusterIP],
    sessionAffinity,
    ...(sessionAffinity === "ClientIP"
      ? { sessionAffinityConfig: service.spec["sessionAffinityConfig"] ?? { clientIP: { timeoutSeconds: 10800 } } }
      : {}),
    ports,
    ipFamilies: service.spec["ipFamilies"] ?? oldSpec["ipFamilies"] ?? (selectorless ? ["IPv4", "IPv6"] : ["IPv4"]),
    ipFamilyPolicy: service.spec["ipFamilyPolicy"] ?? oldSpec["ipFamilyPolicy"] ?? (selectorless ? "RequireDualStack" : "SingleStack"),
    internalTrafficPolicy: service.spec["internalTrafficPolicy"] ?? "Cluster",
    ...(needsNodePort ? { externalTrafficPolicy: service.spec["externalTrafficPolicy"] ?? "Cluster" } : {}),
    ...(type === "LoadBalancer" ? { allocateLoadBalancerNodePorts: service.spec["allocateLoadBalancerNodePorts"] ?? true } : {})
  }
  return Result.succeed({ object: { ...service, spec }, counters })
}

export const kind = define({
  nameRule: "DNS1035Label",
  initialStatus: () => ({ loadBalancer: {} }),
  admit
})
