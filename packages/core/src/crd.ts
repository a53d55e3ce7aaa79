/**
 * @dittofs-operator/core/crd — the `DittoServer` CustomResourceDefinition, generated from the
 * Schemas the operator decodes with.
 *
 * @module @dittofs-operator/core/crd
 */
export * as DittoServerCrd from "./domain/DittoServerCrd.ts"
