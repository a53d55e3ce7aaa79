/**
 * Names, labels and annotation keys of the objects the operator manages for a DittoServer.
 *
 * Contract (total, pure):
 * - `sanitizeAdapterType` is the reference rule: lowercase per code point, every code point
 *   outside `[a-z0-9-]` becomes `-`, runs of `-` collapse, `-` trimmed, empty becomes `unknown`.
 * - `adapterPortName` is byte-identical to the reference (`adapter-<s>`, shortened to 15 chars
 *   with a 4-hex SHA-256 suffix): always a valid IANA service name.
 * - `adapterResourceName` is `<server>-adapter-<s>` when that is a DNS-1035 label of at most 63
 *   chars, otherwise a deterministic shortening with a hash suffix that still is one.
 * - `labelValue` returns its input when it is a valid label value, else a shortened, hashed one.
 * - `workloadNames` gives every workload object its reference name (`<cr>`, `<cr>-headless`,
 *   `<cr>-api`, ...) when that is valid for its kind, otherwise a deterministic shortening with a
 *   hash suffix that is: Services DNS-1035 labels, the StatefulSet a DNS-1123 label of at most 52
 *   chars (its pods' `controller-revision-hash` label must fit in 63), the rest DNS subdomains.
 */
import { createHash } from "node:crypto"

/** The label keys the operator sets and selects by. */
export const labels = {
  app: "app",
  instance: "instance",
  adapterService: "dittofs.io/adapter-service",
  adapterNetworkPolicy: "dittofs.io/adapter-networkpolicy",
  baselineNetworkPolicy: "dittofs.io/baseline-networkpolicy",
  adapterType: "dittofs.io/adapter-type"
} as const

/** The value of the `app` label on everything the operator makes. */
export const appLabelValue = "dittofs-server"

/** The annotation keys the operator writes. */
export const annotations = {
  managedAnnotations: "dittofs.io/managed-annotations",
  configHash: "dittofs.io/config-hash",
  /** Hash of the server's pod template without its adapter ports: what a managed restart follows. */
  restartHash: "dittofs.io/restart-hash"
} as const

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/**
 * Lowercases one code point the way Go's `unicode.ToLower` does (no context, one code point): U+0130
 * is the one code point JavaScript lowercases into two (`i` and a combining dot), Go into `i`.
 */
const lowerCodePoint = (codePoint: string): string => codePoint === "\u0130" ? "i" : codePoint.toLowerCase()

/**
 * The adapter type as the reference operator sanitizes it: lower-cased, every other character than
 * `a-z0-9-` a dash, dashes collapsed and trimmed (one replace does the first two: a run of dashes
 * and other characters becomes one dash).
 */
export const sanitizeAdapterType = (type: string): string => {
  const trimmed = Array.from(type, lowerCodePoint).join("").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
  return trimmed === "" ? "unknown" : trimmed
}

const maxPortNameLength = 15

/** The prefix of every adapter container port name. */
export const adapterPortPrefix = "adapter-"

/**
 * The container port name of an adapter (`adapter-<type>`), hashed down to the 15 characters of an
 * IANA service name, byte-identical to the reference operator.
 */
export const adapterPortName = (type: string): string => {
  const sanitized = sanitizeAdapterType(type)
  const name = adapterPortPrefix + sanitized
  if (name.length <= maxPortNameLength) return name
  // a sanitized type has no two dashes in a row: the cut ends in one dash at most
  return `${name.slice(0, 10).replace(/-$/, "")}-${sha256Hex(sanitized).slice(0, 4)}`
}

const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const maxLabelLength = 63

/** Whether a name is a DNS-1035 label (what Service names must be). */
export const isDns1035Label = (name: string): boolean =>
  name.length <= maxLabelLength && dns1035Label.test(name)

/** IANA service name, as Kubernetes validates container and Service port names. */
export const isIanaServiceName = (name: string): boolean =>
  name.length <= maxPortNameLength && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)
  && !name.includes("--") && /[a-z]/.test(name)

const hashSuffixLength = 8

/** Lowercase, `[a-z0-9-]` only, no `--`, no leading or trailing `-`, starts with a letter. */
const toDns1035Text = (text: string): string => {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
  return /^[a-z]/.test(cleaned) ? cleaned : `x${cleaned}`
}

/**
 * The name of an adapter's Service and NetworkPolicy: `<server>-adapter-<type>`, bounded to a
 * DNS-1035 label by a hash suffix when too long.
 */
export const adapterResourceName = (server: string, type: string): string => {
  const sanitized = sanitizeAdapterType(type)
  const full = `${server}-adapter-${sanitized}`
  if (isDns1035Label(full)) return full
  const head = toDns1035Text(full).slice(0, maxLabelLength - hashSuffixLength - 1).replace(/-$/, "")
  return `${head}-${sha256Hex(`${server}\u0000${sanitized}`).slice(0, hashSuffixLength)}`
}

const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** Whether a text is a valid label value. */
export const isLabelValue = (value: string): boolean =>
  value.length <= maxLabelLength && labelValuePattern.test(value)

/** The text as a valid label value, shortened with a hash suffix when it is not one. */
export const labelValue = (text: string): string => {
  if (isLabelValue(text)) return text
  const cleaned = text.replace(/[^-A-Za-z0-9_.]/g, "-").replace(/^[^A-Za-z0-9]+/, "")
  const head = cleaned.slice(0, maxLabelLength - hashSuffixLength - 1).replace(/[^A-Za-z0-9]+$/, "")
  const suffix = sha256Hex(text).slice(0, hashSuffixLength)
  return head === "" ? suffix : `${head}-${suffix}`
}

/** Labels that select a DittoServer's pods (the StatefulSet's selector and pod template). */
export const selectorLabels = (server: string): Readonly<Record<string, string>> => ({
  [labels.app]: appLabelValue,
  [labels.instance]: labelValue(server)
})

/** Labels of the adapter Service of one sanitized adapter type. */
export const adapterServiceLabels = (server: string, sanitizedType: string): Readonly<Record<string, string>> => ({
  ...selectorLabels(server),
  [labels.adapterService]: "true",
  [labels.adapterType]: labelValue(sanitizedType)
})

/** Labels of the adapter NetworkPolicy of one sanitized adapter type. */
export const adapterNetworkPolicyLabels = (server: string, sanitizedType: string): Readonly<Record<string, string>> => ({
  ...selectorLabels(server),
  [labels.adapterNetworkPolicy]: "true",
  [labels.adapterType]: labelValue(sanitizedType)
})


const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const maxSubdomainLength = 253

/** Whether a name is a DNS-1123 label. */
export const isDns1123Label = (name: string): boolean => name.length <= maxLabelLength && dns1123Label.test(name)

/** Whether a name is a DNS-1123 subdomain (what most object names must be). */
export const isDnsSubdomain = (name: string): boolean => name.length <= maxSubdomainLength && dnsSubdomain.test(name)

/**
 * The longest StatefulSet name whose pods can be created: the StatefulSet controller labels each
 * pod `controller-revision-hash: <name>-<10-char hash>`, and a label value has at most 63 chars.
 */
export const maxStatefulSetNameLength = 52

/** `[a-z0-9-]` runs joined by single dashes, never empty, starting with a letter when asked. */
const toLabelText = (text: string, startWithLetter: boolean): string => {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
  return cleaned === "" || (startWithLetter && !/^[a-z]/.test(cleaned)) ? `x${cleaned}` : cleaned
}

/** `full` when valid, else its label text cut to `maxLength` with a hash of (server, role) appended. */
const boundedName = (
  full: string,
  valid: (name: string) => boolean,
  seed: { readonly server: string; readonly role: string },
  maxLength: number,
  startWithLetter: boolean
): string => {
  if (valid(full)) return full
  const head = toLabelText(full, startWithLetter).slice(0, maxLength - hashSuffixLength - 1).replace(/-$/, "")
  // JSON keeps lone surrogates apart (UTF-8 would turn them all into U+FFFD)
  return `${head}-${sha256Hex(JSON.stringify([seed.server, seed.role])).slice(0, hashSuffixLength)}`
}

/** The names of the objects that make up one DittoServer's workload. */
export interface WorkloadNames {
  readonly statefulSet: string
  readonly headlessService: string
  readonly apiService: string
  readonly metricsService: string
  readonly configMap: string
  readonly jwtSecret: string
  readonly adminCredentials: string
  readonly operatorCredentials: string
  readonly baselineNetworkPolicy: string
}

/**
 * Every object name of a server's workload, wire-compatible with the reference operator and bounded
 * to what Kubernetes accepts (the StatefulSet to 52 characters).
 */
export const workloadNames = (server: string): WorkloadNames => {
  const service = (suffix: string) =>
    boundedName(`${server}-${suffix}`, isDns1035Label, { server, role: suffix }, maxLabelLength, true)
  const subdomain = (suffix: string) =>
    boundedName(`${server}-${suffix}`, isDnsSubdomain, { server, role: suffix }, maxSubdomainLength, false)
  return {
    statefulSet: boundedName(
      server,
      (name) => isDns1123Label(name) && name.length <= maxStatefulSetNameLength,
      { server, role: "statefulset" },
      maxStatefulSetNameLength,
      false
    ),
    headlessService: service("headless"),
    apiService: service("api"),
    metricsService: service("metrics"),
    configMap: subdomain("config"),
    jwtSecret: subdomain("jwt-secret"),
    adminCredentials: subdomain("admin-credentials"),
    operatorCredentials: subdomain("operator-credentials"),
    baselineNetworkPolicy: subdomain("baseline")
  }
}

/** Labels of the baseline NetworkPolicy (API and metrics ingress). */
export const baselineNetworkPolicyLabels = (server: string): Readonly<Record<string, string>> => ({
  ...selectorLabels(server),
  [labels.baselineNetworkPolicy]: "true"
})
