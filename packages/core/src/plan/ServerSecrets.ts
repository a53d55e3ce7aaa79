/**
 * The Secrets the operator generates for a server: `<cr>-jwt-secret` (key `jwt-secret`, the JWT
 * signing key) unless `spec.identity.jwt` names one, and `<cr>-admin-credentials` (`username`,
 * `password`) unless `spec.identity.admin.passwordSecretRef` names one.
 *
 * Contract (total, pure):
 * - The random values come in (`Generated`), so planning stays pure; `generatedFrom` turns
 *   random bytes into them (32 alphanumerics, the reference's alphabet; a 24-char base64url
 *   password).
 * - A value already in a Secret is never changed: a Secret is never rotated by accident. Only a
 *   key that is missing or empty is filled (the pod could not start without it); labels are
 *   merged; the type, immutable, is kept.
 * - A managed Secret the spec no longer needs (the user named their own) is left as it is.
 */
import type * as DittoServer from "../domain/DittoServer.ts"
import type { Secret, StringMap } from "../domain/Kubernetes.ts"
import { type EventNote, normal } from "./Change.ts"
import { selectorLabels, type WorkloadNames } from "./Naming.ts"
import { mergeMap } from "./OwnedFields.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"
import { secretKeys } from "./ServerPod.ts"

/** The kind of object this module plans. */
export const kind = "Secret"

/** Which generated Secret: the JWT signing secret or the admin credentials. */
export type Role = "jwt" | "admin"

/** Random values for the Secrets a pass may have to create. */
export interface Generated {
  /** The JWT signing key (DittoFS requires at least 32 characters). */
  readonly jwtSecret: string
  /** The admin's initial password. */
  readonly adminPassword: string
}

/**
 * What the generated Secrets are planned from: the server, its spec, its workload names and freshly
 * generated values.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly spec: DittoServer.Spec
  readonly names: WorkloadNames
  readonly generated: Generated
}

const alphanumerics = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
/** The length of a generated JWT secret. */
export const jwtSecretLength = 32
const adminPasswordBytes = 18

/** How many random bytes `generatedFrom` reads. */
export const randomBytesNeeded = jwtSecretLength + adminPasswordBytes

/** The generated values from `randomBytesNeeded` random bytes (missing bytes read as 0). */
export const generatedFrom = (bytes: Uint8Array): Generated => {
  const byte = (index: number) => bytes[index] ?? 0
  const jwtSecret = Array.from({ length: jwtSecretLength }, (_, i) => alphanumerics[byte(i) % alphanumerics.length]).join("")
  const password = Uint8Array.from({ length: adminPasswordBytes }, (_, i) => byte(jwtSecretLength + i))
  return { jwtSecret, adminPassword: Buffer.from(password).toString("base64url") }
}

/** The DittoFS admin's username in the generated admin credentials. */
export const adminUsername = "admin"

/** The name of the Secret of a role. */
export const nameOf = (names: WorkloadNames, role: Role): string => (role === "jwt" ? names.jwtSecret : names.adminCredentials)

/**
 * Whether the operator generates the Secret of a role: only when the spec names none of the user's.
 */
export const wanted = (spec: DittoServer.Spec, role: Role): boolean =>
  role === "jwt" ? spec.identity?.jwt === undefined : spec.identity?.admin?.passwordSecretRef === undefined

const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64")

const dataOf = (input: Input, role: Role): StringMap =>
  role === "jwt"
    ? { [secretKeys.jwtSecret]: base64(input.generated.jwtSecret) }
    : { [secretKeys.adminUsername]: base64(adminUsername), [secretKeys.adminPassword]: base64(input.generated.adminPassword) }

/** The generated Secret of a role, owned by the server. */
export const desired = (input: Input, role: Role): Secret => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name: nameOf(input.names, role),
    namespace: input.server.namespace,
    labels: selectorLabels(input.server.name),
    ownerReferences: [controllerReference(input.server)]
  },
  type: "Opaque",
  data: dataOf(input, role)
})

/** The keys `observed` lacks (or holds empty) that the operator fills. */
export const missingKeys = (input: Input, role: Role, observed: Secret): ReadonlyArray<string> =>
  Object.keys(dataOf(input, role)).filter((key) => (observed.data?.[key] ?? "") === "")

/**
 * The observed Secret with the operator's labels and its missing keys filled in; values already
 * there are never rotated.
 */
export const overlay = (input: Input, role: Role, observed: Secret): Secret => {
  const missing = new Set(missingKeys(input, role, observed))
  const filled = Object.fromEntries(Object.entries(dataOf(input, role)).filter(([key]) => missing.has(key)))
  return {
    ...observed,
    metadata: { ...observed.metadata, labels: mergeMap(observed.metadata.labels, selectorLabels(input.server.name)) },
    ...(Object.keys(filled).length === 0 ? {} : { data: { ...observed.data, ...filled } })
  }
}

const what = (role: Role): string => (role === "jwt" ? "the generated JWT signing key" : "the generated admin credentials")

/** The Event of creating the Secret of a role. */
export const createdEvent = (role: Role, secret: Secret): EventNote =>
  normal("SecretCreated", `Created Secret ${secret.metadata.name} holding ${what(role)}`)

/** The Event of updating the Secret of a role: what was filled in. */
export const updatedEvent = (input: Input, role: Role, observed: Secret): EventNote => {
  const missing = missingKeys(input, role, observed)
  return normal(
    "SecretUpdated",
    `Updated Secret ${observed.metadata.name}: ${missing.length === 0 ? "labels" : `filled missing key(s) ${missing.join(", ")}`}`
  )
}
