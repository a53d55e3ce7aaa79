/**
 * `networking.k8s.io/v1` NetworkPolicy: policyTypes defaulted from the rules (Ingress, plus
 * Egress when egress rules are given), ports' protocol TCP; it keeps a generation.
 */
import { Result } from "effect"
import { NetworkPolicy } from "../../../domain/Kubernetes.ts"
import { accept, type AdmissionRequest, decodeAs, define } from "../Kind.ts"

const admit = (request: AdmissionRequest) =>
  Result.flatMap(decodeAs(NetworkPolicy, request.object), (policy) =>
    accept(request, {
      ...policy,
      spec: {
        ...policy.spec,
        policyTypes: policy.spec.policyTypes ?? (policy.spec["egress"] === undefined ? ["Ingress"] : ["Ingress", "Egress"]),
        ...(policy.spec.ingress === undefined ? {} : {
          ingress: policy.spec.ingress.map((rule) => rule.ports === undefined ? rule : {
            ...rule,
            ports: rule.ports.map((port) => ({ ...port, protocol: port.protocol ?? "TCP" }))
          })
        })
      }
    }))

export const kind = define({ generation: true, admit })
