/**
 * The kind table of the in-memory API server: one module per built-in kind, one per
 * CustomResourceDefinition the fake serves (the DittoServer CRD, generated from the core's
 * Schemas), keyed by `group/plural`.
 *
 * Contract: `kindOf` is total; a kind the table does not list gets the API server's generic
 * behaviour (no defaults, no generation).
 */
import { crd } from "../../domain/DittoServerCrd.ts"
import { define, type Kind } from "./Kind.ts"
import * as CustomResource from "./kinds/CustomResource.ts"
import * as Event from "./kinds/Event.ts"
import * as NetworkPolicy from "./kinds/NetworkPolicy.ts"
import * as Secret from "./kinds/Secret.ts"
import * as Service from "./kinds/Service.ts"
import * as StatefulSet from "./kinds/StatefulSet.ts"
import { kindKey } from "./Resource.ts"

const customResources = [crd()].map(CustomResource.fromDefinition)

const table: ReadonlyMap<string, Kind> = new Map([
  ["/services", Service.kind],
  ["/secrets", Secret.kind],
  ["/events", Event.kind],
  ["apps/statefulsets", StatefulSet.kind],
  ["networking.k8s.io/networkpolicies", NetworkPolicy.kind],
  ...customResources.map((definition) => [kindKey(definition), definition.kind] as const)
])

const generic = define({})

export const kindOf = (resource: { readonly group: string; readonly plural: string }): Kind => table.get(kindKey(resource)) ?? generic
