/**
 * The server's StatefulSet: created whole from the spec, then maintained by laying the
 * operator's fields over the observed object.
 *
 * Contract (total, pure):
 * - Owned: labels (merged), `replicas`, `updateStrategy.type` (`OnDelete` for the Managed
 *   rollout, `RollingUpdate` otherwise), the pod template's labels and hash annotations (merged),
 *   its service-account-token, security-context and grace-period settings, the `config` volume,
 *   and on the `dittofs` container (else the first): image, command (none: the image's
 *   entrypoint), args, the operator's env vars and volume mounts, `api`/`metrics` ports,
 *   resources, security context, probes and lifecycle. Everything else — other containers, a
 *   user's env vars, volumes, mounts and static ports, API-server defaults, status — is kept.
 * - Container ports: `api` and `metrics` are the operator's; `adapter-*` ports are
 *   `adapterPorts` when given, else kept as observed; every other port is a user's and is kept
 *   untouched. Ports equal up to order (`ContainerPorts.equal`) are left as observed: a
 *   reordering never writes the StatefulSet.
 * - Immutable fields are written on create only: `selector`, `serviceName`,
 *   `volumeClaimTemplates`. A later difference is reported in `blocked`, never written; only
 *   the claims the StatefulSet has are mounted, and the pod labels keep satisfying its selector.
 * - The Event says what changed: `ContainerPortsUpdated` (the reference message) when only
 *   adapter ports did, else `StatefulSetUpdated` naming the changed parts.
 */
import { Option } from "effect"
import type * as DittoServer from "../domain/DittoServer.ts"
import type { Container, ContainerPort, PersistentVolumeClaimTemplate, StatefulSet, StringMap } from "../domain/Kubernetes.ts"
import * as Quantity from "../domain/Quantity.ts"
import { mapsEqual } from "./Annotations.ts"
import { type EventNote, type Finding, normal } from "./Change.ts"
import * as ContainerPorts from "./ContainerPorts.ts"
import { annotations, selectorLabels, type WorkloadNames } from "./Naming.ts"
import { canonicalEqual, keepEquivalent, mergeMap, namedItems, overlayNamed, withoutKey } from "./OwnedFields.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"
import * as ServerPod from "./ServerPod.ts"

/** The kind of object this module plans. */
export const kind = "StatefulSet"

/**
 * What the server's StatefulSet is planned from: the server, its spec, its workload names, the
 * configuration hash and the adapter ports to declare.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  readonly names: WorkloadNames
  readonly configHash: string
  /** The adapter container ports to declare; `None` keeps the observed `adapter-*` ports. */
  readonly adapterPorts: Option.Option<ReadonlyArray<ContainerPort>>
}

/**
 * An overlaid StatefulSet and the wanted changes Kubernetes forbids on it (reported, not planned).
 */
export interface Overlay {
  readonly object: StatefulSet
  readonly blocked: ReadonlyArray<Finding>
}

/**
 * The StatefulSet's update strategy for a rollout strategy: `OnDelete` under Managed, else
 * `RollingUpdate`.
 */
export const updateStrategyType = (spec: DittoServer.Spec): "OnDelete" | "RollingUpdate" =>
  spec.rollout.strategy === "Managed" ? "OnDelete" : "RollingUpdate"

/** The index of the DittoFS container: the one named `dittofs`, else the first. */
export const serverContainerIndex = (containers: ReadonlyArray<Container>): number =>
  Math.max(0, containers.findIndex((container) => container.name === ServerPod.containerName))

const claimNamesOf = (claims: ReadonlyArray<PersistentVolumeClaimTemplate>): ReadonlySet<string> =>
  new Set(claims.map((claim) => claim.metadata.name))

const podInput = (input: Input, claims: ReadonlySet<string>): ServerPod.Input => ({
  spec: input.spec,
  serverName: input.server.name,
  names: input.names,
  configHash: input.configHash,
  claims
})

const adapterPortsOr = (input: Input, observed: ReadonlyArray<ContainerPort>): ReadonlyArray<ContainerPort> =>
  Option.match(input.adapterPorts, {
    onNone: () => observed,
    onSome: (ports) => ContainerPorts.sort(ports.filter(ContainerPorts.isAdapterPort))
  })

/**
 * The server's StatefulSet, owned by the server: one DittoFS container with its static and adapter
 * ports, volumes and claim templates, and the pod template's hashes.
 */
export const desired = (input: Input): StatefulSet => {
  const claims = ServerPod.claimTemplates(input.spec)
  const ports = [...ServerPod.staticPorts(input.spec), ...adapterPortsOr(input, [])]
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: {
      name: input.names.statefulSet,
      namespace: input.server.namespace,
      labels: selectorLabels(input.server.name),
      ownerReferences: [controllerReference(input.server)]
    },
    spec: {
      replicas: input.spec.replicas,
      serviceName: input.names.headlessService,
      selector: { matchLabels: selectorLabels(input.server.name) },
      updateStrategy: { type: updateStrategyType(input.spec) },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: ServerPod.podTemplate(podInput(input, claimNamesOf(claims)), ports),
      volumeClaimTemplates: claims
    }
  }
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const recordOf = (value: unknown): Readonly<Record<string, unknown>> => (isRecord(value) ? value : {})

const quantitiesEqual = (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && Quantity.equal(a[key], b[key]))
}

/**
 * Resource requirements equal by value: quantities compared as numbers (the API server stores
 * `0.5` as `500m`), and a request missing where a limit is set counts as the limit (the API
 * server's defaulting).
 */
export const resourcesEquivalent = (a: unknown, b: unknown): boolean => {
  if (!isRecord(a) || !isRecord(b)) return canonicalEqual(a, b)
  const normalized = (resources: Readonly<Record<string, unknown>>) => {
    const limits = recordOf(resources["limits"])
    return { limits, requests: { ...limits, ...recordOf(resources["requests"]) }, rest: withoutKey(withoutKey(resources, "limits"), "requests") }
  }
  const [x, y] = [normalized(a), normalized(b)]
  return quantitiesEqual(x.limits, y.limits) && quantitiesEqual(x.requests, y.requests) && canonicalEqual(x.rest, y.rest)
}

const overlayContainer = (observed: Container, wanted: ServerPod.ServerContainer): Container => {
  const rest = withoutKey(observed, "command")
  return {
    ...rest,
    name: wanted.name,
    image: wanted.image,
    // fields compared whole are written as wanted: the update is planned only when the overlay
    // differs canonically, so an observed copy in another key order is no drift either way
    args: wanted.args,
    env: overlayNamed(namedItems(rest["env"]), wanted.env, ServerPod.ownsEnv),
    ports: wanted.ports,
    volumeMounts: overlayNamed(namedItems(rest["volumeMounts"]), wanted.volumeMounts, ServerPod.ownsVolumeMount),
    resources: keepEquivalent<unknown>(rest["resources"], wanted.resources, resourcesEquivalent),
    securityContext: wanted.securityContext,
    livenessProbe: wanted.livenessProbe,
    readinessProbe: wanted.readinessProbe,
    startupProbe: wanted.startupProbe,
    lifecycle: wanted.lifecycle
  }
}

const claimFindings = (
  name: string,
  observed: ReadonlyArray<PersistentVolumeClaimTemplate>,
  wanted: ReadonlyArray<PersistentVolumeClaimTemplate>
): ReadonlyArray<Finding> => {
  const finding = (message: string): Finding => ({ kind, name, message: `${message}; volume claim templates are immutable (recreate the StatefulSet to change them, its volumes are kept)` })
  const storage = (claim: PersistentVolumeClaimTemplate) => claim.spec.resources?.requests?.["storage"]
  const shownStorage = (claim: PersistentVolumeClaimTemplate) => storage(claim) ?? "none"
  const missing = wanted.flatMap((claim): ReadonlyArray<Finding> => {
    const current = observed.find((candidate) => candidate.metadata.name === claim.metadata.name)
    if (current === undefined) return [finding(`volume claim ${claim.metadata.name} (${shownStorage(claim)}) is wanted but missing`)]
    const differences = [
      ...(Quantity.equal(storage(current), storage(claim)) ? [] : [`storage ${shownStorage(current)} -> ${shownStorage(claim)}`]),
      ...(claim.spec.storageClassName === undefined || claim.spec.storageClassName === current.spec.storageClassName
        ? []
        : [`storageClassName ${current.spec.storageClassName ?? "none"} -> ${claim.spec.storageClassName}`]),
      ...(canonicalEqual(current.spec.accessModes, claim.spec.accessModes) ? [] : ["access modes"])
    ]
    return differences.length === 0 ? [] : [finding(`volume claim ${claim.metadata.name}: ${differences.join(", ")}`)]
  })
  const unwanted = observed
    .filter((claim) => !wanted.some((candidate) => candidate.metadata.name === claim.metadata.name))
    .map((claim) => finding(`volume claim ${claim.metadata.name} is no longer wanted`))
  return [...missing, ...unwanted]
}

type UpdateStrategy = NonNullable<StatefulSet["spec"]["updateStrategy"]>

const overlayUpdateStrategy = (observed: StatefulSet, type: "OnDelete" | "RollingUpdate"): UpdateStrategy => {
  const current = observed.spec.updateStrategy
  if ((current?.type ?? "RollingUpdate") === type) return current ?? { type }
  return { ...withoutKey(current ?? {}, "rollingUpdate"), type }
}

/** The observed StatefulSet with the operator's fields of this spec laid over it. */
export const overlay = (input: Input, observed: StatefulSet): Overlay => {
  const name = observed.metadata.name
  const wantedClaims = ServerPod.claimTemplates(input.spec)
  const observedClaims = observed.spec.volumeClaimTemplates ?? []
  const observedClaimNames = claimNamesOf(observedClaims)
  const available = new Set([...claimNamesOf(wantedClaims)].filter((claim) => observedClaimNames.has(claim)))

  const observedTemplate = observed.spec.template
  const containers = observedTemplate.spec.containers
  const index = serverContainerIndex(containers)
  const observedPorts = containers[index]?.ports ?? []
  const { dynamic, static: staticPorts } = ContainerPorts.partition(observedPorts)
  const wantedPorts = [
    ...ServerPod.staticPorts(input.spec),
    ...staticPorts.filter((port) => !ServerPod.ownsPort(port)),
    ...adapterPortsOr(input, dynamic)
  ]
  const ports = ContainerPorts.equal(observedPorts, wantedPorts) ? observedPorts : wantedPorts
  const wanted = ServerPod.podTemplate(podInput(input, available), ports)

  const selector = selectorLabels(input.server.name)
  const observedSelector = observed.spec.selector
  const selectorKept = mapsEqual(observedSelector?.matchLabels, selector)
    && Object.keys(observedSelector ?? {}).every((key) => key === "matchLabels")
  const blocked: ReadonlyArray<Finding> = [
    ...(selectorKept ? [] : [{
      kind,
      name,
      message: `selector is ${JSON.stringify(observedSelector ?? {})}, not ${JSON.stringify({ matchLabels: selector })}; it is immutable (recreate the StatefulSet to change it)`
    }]),
    ...(observed.spec.serviceName === input.names.headlessService ? [] : [{
      kind,
      name,
      message: `serviceName is ${observed.spec.serviceName ?? "unset"}, not ${input.names.headlessService}; it is immutable (recreate the StatefulSet to change it)`
    }]),
    ...claimFindings(name, observedClaims, wantedClaims)
  ]
  // the pod labels must keep satisfying the selector the StatefulSet really has
  const podLabels: StringMap = {
    ...mergeMap(observedTemplate.metadata?.labels, wanted.metadata.labels),
    ...(selectorKept ? {} : observedSelector?.matchLabels)
  }
  const observedContainer = containers[index]
  const [wantedContainer] = wanted.spec.containers
  const podSpec = observedTemplate.spec
  return {
    blocked,
    object: {
      ...observed,
      metadata: { ...observed.metadata, labels: mergeMap(observed.metadata.labels, selector) },
      spec: {
        ...observed.spec,
        replicas: input.spec.replicas,
        updateStrategy: overlayUpdateStrategy(observed, updateStrategyType(input.spec)),
        template: {
          ...observedTemplate,
          metadata: {
            ...observedTemplate.metadata,
            labels: podLabels,
            annotations: mergeMap(observedTemplate.metadata?.annotations, wanted.metadata.annotations)
          },
          spec: {
            ...podSpec,
            automountServiceAccountToken: wanted.spec.automountServiceAccountToken,
            securityContext: wanted.spec.securityContext,
            terminationGracePeriodSeconds: wanted.spec.terminationGracePeriodSeconds,
            containers: observedContainer === undefined
              ? [wantedContainer]
              : containers.map((container, i) => (i === index ? overlayContainer(container, wantedContainer) : container)),
            volumes: overlayNamed(namedItems(podSpec["volumes"]), wanted.spec.volumes, ServerPod.ownsVolume)
          }
        }
      }
    }
  }
}

const restartHashOf = (statefulSet: StatefulSet): string | undefined =>
  statefulSet.spec.template.metadata?.annotations?.[annotations.restartHash]

const short = (hash: string | undefined): string => (hash === undefined ? "none" : hash.slice(0, 8))

const shownReplicas = (statefulSet: StatefulSet): string => String(statefulSet.spec.replicas ?? "unset")

/** The update strategy's type: none is RollingUpdate, as the API server defaults it. */
const strategyType = (statefulSet: StatefulSet): string => statefulSet.spec.updateStrategy?.type ?? "RollingUpdate"

const portsOf = (statefulSet: StatefulSet): ReadonlyArray<ContainerPort> => {
  const containers = statefulSet.spec.template.spec.containers
  return containers[serverContainerIndex(containers)]?.ports ?? []
}

/** The Event of creating the StatefulSet. */
export const createdEvent = (statefulSet: StatefulSet): EventNote => {
  const containers = statefulSet.spec.template.spec.containers
  const image = containers[serverContainerIndex(containers)]?.image ?? "none"
  return normal("StatefulSetCreated", `Created StatefulSet ${statefulSet.metadata.name} (image ${image})`)
}

/**
 * The Event of an update from `observed` to `next`: `ContainerPortsUpdated` when laying the
 * same fields over `observed` with its own adapter ports would have changed nothing.
 */
export const updatedEvent = (input: Input, observed: StatefulSet, next: StatefulSet): EventNote => {
  const withObservedAdapterPorts = overlay({ ...input, adapterPorts: Option.none() }, observed).object
  if (canonicalEqual(withObservedAdapterPorts, observed)) {
    const { dynamic, static: staticPorts } = ContainerPorts.partition(portsOf(next))
    return normal("ContainerPortsUpdated", `Updated StatefulSet container ports (${staticPorts.length} static + ${dynamic.length} dynamic)`)
  }
  const parts = [
    ...(observed.spec.replicas === next.spec.replicas ? [] : [`replicas ${shownReplicas(observed)} -> ${shownReplicas(next)}`]),
    ...(restartHashOf(observed) === restartHashOf(next)
      ? []
      : [`pod template (restart-hash ${short(restartHashOf(observed))} -> ${short(restartHashOf(next))})`]),
    ...(canonicalEqual(portsOf(observed), portsOf(next)) ? [] : ["container ports"]),
    ...(canonicalEqual(observed.spec.updateStrategy, next.spec.updateStrategy)
      ? []
      : [`update strategy ${strategyType(observed)} -> ${strategyType(next)}`]),
    ...(canonicalEqual(observed.metadata, next.metadata) ? [] : ["labels"])
  ]
  return normal("StatefulSetUpdated", `Updated StatefulSet ${next.metadata.name}: ${parts.length === 0 ? "pod template" : parts.join(", ")}`)
}
