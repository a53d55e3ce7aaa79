/**
 * @dittofs-operator/core — the functional reconciliation library of the DittoFS operator.
 *
 * Pure plans (`plan/`), the Schemas they read and write (`domain/`), the services through which
 * the world is reached (`services/`) and the reconcile programs that tie them (`reconcile/`).
 * In-memory layers for deterministic tests are in `@dittofs-operator/core/testing`.
 */
export { Adapter, type AdapterList, decodeAdapterList, MalformedAdapterList, type RejectedAdapter } from "./domain/Adapter.ts"
export * as DittoServer from "./domain/DittoServer.ts"
export * as GoDuration from "./domain/GoDuration.ts"
export * as Json from "./domain/Json.ts"
export * as ObjectRef from "./domain/ObjectRef.ts"
export * as K8s from "./domain/Kubernetes.ts"
export {
  type ActiveAdapter,
  type ActiveAdapters,
  activeAdapters,
  type AdapterConflict,
  type ConflictReason
} from "./plan/ActiveAdapters.ts"
export * as AdapterExposurePlan from "./plan/AdapterExposure.ts"
export { planAdapterExposure } from "./plan/AdapterExposure.ts"
export { type AdapterServicesInput, planAdapterServices } from "./plan/AdapterServices.ts"
export * as Annotations from "./plan/Annotations.ts"
export type { Change, EventNote, Plan } from "./plan/Change.ts"
export * as ContainerPorts from "./plan/ContainerPorts.ts"
export {
  desiredContainerPorts,
  partitionContainerPorts,
  planContainerPorts,
  portsEqual,
  sortContainerPorts
} from "./plan/ContainerPorts.ts"
export * as Naming from "./plan/Naming.ts"
export { adapterPortName, adapterResourceName, sanitizeAdapterType } from "./plan/Naming.ts"
export { type NetworkPoliciesInput, planNetworkPolicies } from "./plan/NetworkPolicies.ts"
export * as Credentials from "./plan/Credentials.ts"
export * as Ownership from "./plan/Ownership.ts"
export * as Status from "./plan/Status.ts"
export * as Quantity from "./domain/Quantity.ts"
export * as ConfigFile from "./plan/ConfigFile.ts"
export * as OwnedFields from "./plan/OwnedFields.ts"
export * as BaselineNetworkPolicy from "./plan/BaselineNetworkPolicy.ts"
export * as ManagedRestarts from "./plan/ManagedRestarts.ts"
export * as ServerConfigMap from "./plan/ServerConfigMap.ts"
export * as ServerPod from "./plan/ServerPod.ts"
export * as ServerSecrets from "./plan/ServerSecrets.ts"
export * as ServerServices from "./plan/ServerServices.ts"
export * as ServerStatefulSet from "./plan/ServerStatefulSet.ts"
export * as Workload from "./plan/Workload.ts"
export { planWorkload, type WorkloadInput, type WorkloadPlan } from "./plan/Workload.ts"
export * as Action from "./reconcile/Action.ts"
export {
  type AdapterExposureOutcome,
  type DittoFsSession,
  observeExposure,
  reconcileAdapterExposure
} from "./reconcile/AdapterExposure.ts"
export { applyChange, applyPlan, type FailedChange } from "./reconcile/Apply.ts"
export { adminSecretRef, type AuthOutcome, ensureSession } from "./reconcile/Auth.ts"
export { apiUrl, apiUrlAnnotation, type DittoServerOptions, reconcileDittoServer } from "./reconcile/DittoServer.ts"
export * as Finalizer from "./reconcile/Finalizer.ts"
export { reconcileInvalidSpec } from "./reconcile/InvalidSpec.ts"
export {
  ApplyFailed,
  AuthenticationFailed,
  DittoFsUnavailable,
  errorPolicy,
  ObserveFailed,
  PassFailed,
  type PassError,
  type PhaseError,
  TokenRejected
} from "./reconcile/PassError.ts"
export * as DittoFsService from "./services/DittoFs.ts"
export { DittoFs, DittoFsError } from "./services/DittoFs.ts"
export * as EventRecorder from "./services/EventRecorder.ts"
export { Events } from "./services/Events.ts"
export * as KubernetesService from "./services/Kubernetes.ts"
export {
  Kubernetes,
  KubernetesError,
  type ListResult,
  Resources,
  type WatchEvent,
  type WatchOptions
} from "./services/Kubernetes.ts"
