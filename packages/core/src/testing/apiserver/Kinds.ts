/**
 * The kind table of the in-memory API server: one module per built-in kind, one per
 * CustomResourceDefinition the fake serves (by default the DittoServer CRD, generated from the
 * core's Schemas), keyed by `group/plural`.
 *
 * Contract: `kindOf` is total; a kind the table does not list gets the API server's generic
 * behaviour (no defaults, no generation).
 */
import * as DittoServerCrd from "../../domain/DittoServerCrd.ts"
import type { JsonObject } from "./Json.ts"
import { define, type Kind } from "./Kind.ts"
import * as ConfigMap from "./kinds/ConfigMap.ts"
import * as CustomResource from "./kinds/CustomResource.ts"
import * as Event from "./kinds/Event.ts"
import * as Lease from "./kinds/Lease.ts"
import * as NetworkPolicy from "./kinds/NetworkPolicy.ts"
import * as PersistentVolumeClaim from "./kinds/PersistentVolumeClaim.ts"
import * as Pod from "./kinds/Pod.ts"
import * as Secret from "./kinds/Secret.ts"
import * as Service from "./kinds/Service.ts"
import * as StatefulSet from "./kinds/StatefulSet.ts"
import { kindKey } from "./Resource.ts"

const builtIn: ReadonlyArray<readonly [string, Kind]> = [
  ["/services", Service.kind],
  ["/secrets", Secret.kind],
  ["/events", Event.kind],
  ["/configmaps", ConfigMap.kind],
  ["/persistentvolumeclaims", PersistentVolumeClaim.kind],
  ["/pods", Pod.kind],
  ["coordination.k8s.io/leases", Lease.kind],
  ["apps/statefulsets", StatefulSet.kind],
  ["networking.k8s.io/networkpolicies", NetworkPolicy.kind]
]

export type KindTable = ReadonlyMap<string, Kind>

const build = (definitions: ReadonlyArray<JsonObject>): KindTable =>
  new Map([
    ...builtIn,
    ...definitions.map(CustomResource.fromDefinition).map((definition) => [kindKey(definition), definition.kind] as const)
  ])

/** Built once: generating the CRD from the Schemas takes milliseconds, and tests build many clusters. */
const defaultTable = build([DittoServerCrd.make()])

/** The built-in kinds and the custom resources of these CustomResourceDefinitions (as JSON; default: the DittoServer CRD). */
export const kindTable = (definitions?: ReadonlyArray<JsonObject>): KindTable =>
  definitions === undefined ? defaultTable : build(definitions)

const generic = define({})

export const kindOf = (table: KindTable, resource: { readonly group: string; readonly plural: string }): Kind =>
  table.get(kindKey(resource)) ?? generic
