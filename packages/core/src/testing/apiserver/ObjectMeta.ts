/**
 * What kube-apiserver checks and normalizes in every object's metadata.
 *
 * Contract:
 * - `validateMeta` gives the first field error of the name (by the kind's name rule) or of the
 *   labels, worded as the API server words it; none for valid metadata.
 * - `withoutEmptyMeta` drops empty `labels`, `annotations`, `finalizers` and `ownerReferences`,
 *   as Go's `omitempty` does when the object is stored.
 */
import { Option } from "effect"
import type { ObjectMeta, StringMap } from "../../domain/Kubernetes.ts"

/** How a kind's names are checked: most kinds take a DNS-1123 subdomain, Services a DNS-1035 label. */
export type NameRule = "DNS1123Subdomain" | "DNS1035Label"

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

export const invalidLabels = (labels: StringMap | undefined, path = "metadata.labels"): Option.Option<string> => {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key
    if (name.length > 63) return Option.some(`${path}: Invalid value: "${key}": name part must be no more than 63 bytes`)
    if (!labelName.test(name)) {
      return Option.some(`${path}: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`)
    }
    if (value.length > 63) return Option.some(`${path}: Invalid value: "${value}": must be no more than 63 bytes`)
    if (!labelValue.test(value)) {
      return Option.some(`${path}: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`)
    }
  }
  return Option.none()
}

export const validateMeta = (rule: NameRule, metadata: ObjectMeta): Option.Option<string> => {
  const name = metadata.name
  if (rule === "DNS1035Label") {
    if (name.length > 63 || !dns1035Label.test(name)) {
      return Option.some(`metadata.name: Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`)
    }
  } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return Option.some(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`)
  }
  return invalidLabels(metadata.labels)
}

/** Go's `omitempty` on ObjectMeta: empty maps and lists are not stored. */
export const withoutEmptyMeta = (metadata: ObjectMeta): ObjectMeta => {
  const { annotations, finalizers, labels, ownerReferences, ...rest } = metadata
  return {
    ...rest,
    ...(labels === undefined || Object.keys(labels).length === 0 ? {} : { labels }),
    ...(annotations === undefined || Object.keys(annotations).length === 0 ? {} : { annotations }),
    ...(finalizers === undefined || finalizers.length === 0 ? {} : { finalizers }),
    ...(ownerReferences === undefined || ownerReferences.length === 0 ? {} : { ownerReferences })
  }
}
