/**
 * @dittofs-operator/core — the functional reconciliation library of the DittoFS operator.
 *
 * Every export is a namespace, one per module, named for its concept, as `effect` itself does
 * (`import { ContainerPorts } from "@dittofs-operator/core"`, then `ContainerPorts.plan`): the
 * Schemas read and written (`DittoServer`, `Adapter`, `K8s`, …), the pure planners
 * (`ContainerPorts`, `AdapterExposure`, `Workload`, …), the services through which the world is
 * reached (`Kubernetes`, `DittoFs`, `Events`) and the reconcile programs that tie them
 * (`DittoServerPass`, `AdapterExposurePhase`, …). In-memory layers for deterministic tests are in
 * `@dittofs-operator/core/testing`, the CustomResourceDefinition in `@dittofs-operator/core/crd`.
 *
 * @module @dittofs-operator/core
 */

// domain: the Schemas
export * as Adapter from "./domain/Adapter.ts"
export * as DittoServer from "./domain/DittoServer.ts"
export * as GoDuration from "./domain/GoDuration.ts"
export * as Json from "./domain/Json.ts"
export * as MergePatch from "./domain/MergePatch.ts"
export * as K8s from "./domain/Kubernetes.ts"
export * as ObjectRef from "./domain/ObjectRef.ts"
export * as Quantity from "./domain/Quantity.ts"

// plan: pure, total planners
export * as ActiveAdapters from "./plan/ActiveAdapters.ts"
export * as AdapterExposure from "./plan/AdapterExposure.ts"
export * as AdapterServices from "./plan/AdapterServices.ts"
export * as Annotations from "./plan/Annotations.ts"
export * as BaselineNetworkPolicy from "./plan/BaselineNetworkPolicy.ts"
export * as Change from "./plan/Change.ts"
export * as ConfigFile from "./plan/ConfigFile.ts"
export * as ContainerPorts from "./plan/ContainerPorts.ts"
export * as Credentials from "./plan/Credentials.ts"
export * as ManagedRestarts from "./plan/ManagedRestarts.ts"
export * as Naming from "./plan/Naming.ts"
export * as NetworkPolicies from "./plan/NetworkPolicies.ts"
export * as OwnedFields from "./plan/OwnedFields.ts"
export * as Ownership from "./plan/Ownership.ts"
export * as ServerConfigMap from "./plan/ServerConfigMap.ts"
export * as ServerPod from "./plan/ServerPod.ts"
export * as ServerSecrets from "./plan/ServerSecrets.ts"
export * as ServerServices from "./plan/ServerServices.ts"
export * as ServerStatefulSet from "./plan/ServerStatefulSet.ts"
export * as Status from "./plan/Status.ts"
export * as Workload from "./plan/Workload.ts"

// services: the world, behind Context services
export * as DittoFs from "./services/DittoFs.ts"
export * as EventRecorder from "./services/EventRecorder.ts"
export * as Events from "./services/Events.ts"
export * as Kubernetes from "./services/Kubernetes.ts"

// reconcile: observe, plan, apply
export * as Action from "./reconcile/Action.ts"
export * as AdapterExposurePhase from "./reconcile/AdapterExposure.ts"
export * as Apply from "./reconcile/Apply.ts"
export * as Auth from "./reconcile/Auth.ts"
export * as DittoServerPass from "./reconcile/DittoServer.ts"
export * as Finalizer from "./reconcile/Finalizer.ts"
export * as InvalidSpec from "./reconcile/InvalidSpec.ts"
export * as PassError from "./reconcile/PassError.ts"
