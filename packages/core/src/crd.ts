/**
 * @dittofs-operator/core/crd — the `DittoServer` CustomResourceDefinition, generated from the
 * Schemas the operator decodes with.
 *
 * @packageDocumentation
 */
export * as DittoServerCrd from "./domain/DittoServerCrd.ts"
