/**
 * @dittofs-operator/core/testing — in-memory layers for deterministic tests: a Kubernetes API
 * server (`KubernetesMemory`) and DittoFS control planes (`DittoFsMemory`). Both are checked
 * against the real systems by the contract suites.
 *
 * @module @dittofs-operator/core/testing
 */
export * as DittoFsMemory from "./DittoFsMemory.ts"
export * as KubernetesMemory from "./KubernetesMemory.ts"
