/**
 * The baseline NetworkPolicy `<cr>-baseline`: admits ingress to the server's pods on the API
 * port (and the metrics port when enabled), TCP, from anywhere. It must exist before any adapter
 * NetworkPolicy selects the pods, or the first one would cut the operator off the API.
 *
 * Contract (total, pure): owned are the labels (merged, with
 * `dittofs.io/baseline-networkpolicy: "true"`), the pod selector, the policy types and the
 * ingress rules; rules that mean the same (a missing protocol is TCP) are left as observed.
 * Egress is not restricted.
 */
import type * as DittoServer from "../domain/DittoServer.ts"
import type { NetworkPolicy, NetworkPolicyIngressRule } from "../domain/Kubernetes.ts"
import { type EventNote, normal } from "./Change.ts"
import { baselineNetworkPolicyLabels, selectorLabels } from "./Naming.ts"
import { canonicalEqual, keepEquivalent, mergeMap } from "./OwnedFields.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"

/** The kind of object this module plans. */
export const kind = "NetworkPolicy"

/** What the baseline NetworkPolicy is planned from: the server, its spec and the policy's name. */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  readonly name: string
}

/** The baseline ingress: the API port, and the metrics port while metrics are on. */
export const ingress = (spec: DittoServer.Spec): ReadonlyArray<NetworkPolicyIngressRule> => [{
  ports: [
    { protocol: "TCP", port: spec.controlPlane.port },
    ...(spec.metrics.enabled ? [{ protocol: "TCP" as const, port: spec.metrics.port }] : [])
  ]
}]

/** Ingress only: egress is not restricted. */
const policyTypes: ReadonlyArray<"Ingress" | "Egress"> = ["Ingress"]

/** The rules with Kubernetes' defaults made explicit (protocol TCP). */
const normalized = (rules: ReadonlyArray<NetworkPolicyIngressRule>): unknown =>
  rules.map((rule) => ({ ...rule, ports: (rule.ports ?? []).map((port) => ({ ...port, protocol: port.protocol ?? "TCP" })) }))

/**
 * The baseline NetworkPolicy, owned by the server: ingress to its pods on the API and metrics
 * ports.
 */
export const desired = (input: Input): NetworkPolicy => ({
  apiVersion: "networking.k8s.io/v1",
  kind,
  metadata: {
    name: input.name,
    namespace: input.server.namespace,
    labels: baselineNetworkPolicyLabels(input.server.name),
    ownerReferences: [controllerReference(input.server)]
  },
  spec: {
    podSelector: { matchLabels: selectorLabels(input.server.name) },
    policyTypes,
    ingress: ingress(input.spec)
  }
})

/**
 * The observed NetworkPolicy with the operator's labels, selector, policy types and ingress laid
 * over it.
 */
export const overlay = (input: Input, observed: NetworkPolicy): NetworkPolicy => {
  const wanted = desired(input)
  return {
    ...observed,
    metadata: { ...observed.metadata, labels: mergeMap(observed.metadata.labels, baselineNetworkPolicyLabels(input.server.name)) },
    spec: {
      ...observed.spec,
      podSelector: keepEquivalent(observed.spec.podSelector, wanted.spec.podSelector),
      policyTypes: keepEquivalent(observed.spec.policyTypes, policyTypes),
      ingress: keepEquivalent(observed.spec.ingress, ingress(input.spec), (a, b) => canonicalEqual(normalized(a), normalized(b)))
    }
  }
}

const ports = (policy: NetworkPolicy): string =>
  (policy.spec.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => String(port.port ?? "all"))).join(",") || "none"

/** The Event of creating the NetworkPolicy. */
export const createdEvent = (policy: NetworkPolicy): EventNote =>
  normal("NetworkPolicyCreated", `Created NetworkPolicy ${policy.metadata.name} admitting TCP ${ports(policy)}`)

/** The Event of updating the NetworkPolicy: the port change, or what else changed. */
export const updatedEvent = (observed: NetworkPolicy, next: NetworkPolicy): EventNote =>
  normal(
    "NetworkPolicyUpdated",
    ports(observed) === ports(next)
      ? `Updated NetworkPolicy ${next.metadata.name}: selector, labels or policy types`
      : `Updated NetworkPolicy ${next.metadata.name} (ports ${ports(observed)} -> ${ports(next)})`
  )
