/**
 * One NetworkPolicy per active adapter that admits ingress to the server's pods on that adapter's
 * port only (TCP); it goes away with the adapter. Egress is not restricted.
 *
 * Contract (total, pure): same shape and rules as `AdapterServices` — only labelled objects
 * controlled by this server are touched; drift is the pod selector, the policy types, the ingress
 * rules and the operator's labels; applying the plan and planning again yields an empty plan.
 */
import { Option } from "effect"
import type { NetworkPolicy, NetworkPolicyIngressRule, StringMap } from "../domain/Kubernetes.ts"
import type * as ActiveAdapters from "./ActiveAdapters.ts"
import { includes, mapsEqual } from "./Annotations.ts"
import { type Change, diffByKey, normal, type Plan } from "./Change.ts"
import { adapterNetworkPolicyLabels, adapterResourceName, labels, labelValue, selectorLabels } from "./Naming.ts"
import { adapterTypeOf, controllerReference, isManagedBy, type ServerIdentity } from "./Ownership.ts"

/**
 * What the adapter NetworkPolicies are planned from: the server, the active adapters and the
 * observed adapter NetworkPolicies.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly active: ReadonlyArray<ActiveAdapters.Active>
  readonly observed: ReadonlyArray<NetworkPolicy>
}

const typeLabel = (object: { readonly metadata: { readonly labels?: StringMap } }): string => adapterTypeOf(object.metadata)

/**
 * Whether a NetworkPolicy is an adapter policy controlled by this server (its labels and controller
 * reference).
 */
export const isManaged = (policy: NetworkPolicy, server: ServerIdentity): boolean =>
  isManagedBy(policy.metadata, server, labels.adapterNetworkPolicy)

const ingressFor = (adapter: ActiveAdapters.Active): Array<NetworkPolicyIngressRule> => [
  { ports: [{ protocol: "TCP", port: adapter.port }] }
]

/**
 * Whether ingress rules admit exactly what {@link ingressFor} does: one rule, from any source, on the
 * adapter's port alone (no range) over TCP (a missing protocol is TCP).
 */
const admitsOnlyAdapterPort = (rules: ReadonlyArray<NetworkPolicyIngressRule>, adapter: ActiveAdapters.Active): boolean => {
  const [rule, ...otherRules] = rules
  const [port, ...otherPorts] = rule?.ports ?? []
  return rule !== undefined && otherRules.length === 0 && (rule.from ?? []).length === 0
    && port !== undefined && otherPorts.length === 0
    && (port.protocol ?? "TCP") === "TCP" && port.port === adapter.port && port.endPort === undefined
}

/** Whether a policy's types are exactly `Ingress`: the policy leaves egress alone. */
const ingressOnly = (types: ReadonlyArray<string> | undefined): boolean => types?.length === 1 && types[0] === "Ingress"

const ingressPort = (policy: NetworkPolicy): string => String(policy.spec.ingress?.[0]?.ports?.[0]?.port ?? "none")

/**
 * The NetworkPolicy an active adapter should have: ingress to the server's pods on the adapter's
 * port only.
 */
export const desired = (input: Input, adapter: ActiveAdapters.Active): NetworkPolicy => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name: adapterResourceName(input.server.name, adapter.type),
    namespace: input.server.namespace,
    labels: adapterNetworkPolicyLabels(input.server.name, adapter.sanitizedType),
    ownerReferences: [controllerReference(input.server)]
  },
  spec: {
    podSelector: { matchLabels: selectorLabels(input.server.name) },
    policyTypes: ["Ingress"],
    ingress: ingressFor(adapter)
  }
})

const drifted = (input: Input, observed: NetworkPolicy, adapter: ActiveAdapters.Active): boolean =>
  !mapsEqual(observed.spec.podSelector.matchLabels, selectorLabels(input.server.name))
  || Object.keys(observed.spec.podSelector).some((key) => key !== "matchLabels")
  || !ingressOnly(observed.spec.policyTypes)
  || !admitsOnlyAdapterPort(observed.spec.ingress ?? [], adapter)
  || !includes(observed.metadata.labels, adapterNetworkPolicyLabels(input.server.name, adapter.sanitizedType))

/**
 * Creates, updates and deletes of the adapter NetworkPolicies, each with its Event; only policies
 * the server controls are updated or deleted.
 */
export const plan = (input: Input): Plan<NetworkPolicy> =>
  diffByKey<ActiveAdapters.Active, NetworkPolicy>({
    desired: input.active.map((adapter) => [labelValue(adapter.sanitizedType), adapter] as const),
    observed: input.observed.filter((policy) => isManaged(policy, input.server)),
    keyOf: typeLabel,
    nameOf: (adapter) => adapterResourceName(input.server.name, adapter.type),
    create: (adapter): Change<NetworkPolicy> => {
      const policy = desired(input, adapter)
      return {
        _tag: "Create",
        object: policy,
        event: normal(
          "AdapterNetworkPolicyCreated",
          `Created NetworkPolicy ${policy.metadata.name} for adapter ${adapter.sanitizedType} (port ${adapter.port})`
        )
      }
    },
    update: (observed, adapter) =>
      drifted(input, observed, adapter)
        ? Option.some<Change<NetworkPolicy>>({
          _tag: "Update",
          object: {
            ...observed,
            metadata: {
              ...observed.metadata,
              labels: { ...observed.metadata.labels, ...adapterNetworkPolicyLabels(input.server.name, adapter.sanitizedType) }
            },
            spec: {
              ...observed.spec,
              podSelector: { matchLabels: selectorLabels(input.server.name) },
              policyTypes: ["Ingress"],
              ingress: ingressFor(adapter)
            }
          },
          event: normal(
            "AdapterNetworkPolicyUpdated",
            `Updated NetworkPolicy ${observed.metadata.name} for adapter ${adapter.sanitizedType} (port ${ingressPort(observed)} -> ${adapter.port})`
          )
        })
        : Option.none(),
    remove: (observed) => ({
      _tag: "Delete",
      object: observed,
      event: normal(
        "AdapterNetworkPolicyDeleted",
        `Deleted NetworkPolicy ${observed.metadata.name} for adapter ${typeLabel(observed)}`
      )
    })
  })
