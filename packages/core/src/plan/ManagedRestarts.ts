/**
 * Managed restarts: with `spec.rollout.strategy: Managed` the StatefulSet's update strategy is
 * `OnDelete`, so Kubernetes never restarts the server on its own; the operator deletes a pod
 * (the StatefulSet controller recreates it from the current template) only when what the pod
 * runs really changed — its `dittofs.io/restart-hash` differs from the template's. An adapter
 * start or stop changes the declared ports, never the restart hash, so it never restarts the
 * file server.
 *
 * Contract (total, pure): at most one Delete per pass, and none unless
 * - the strategy is Managed and the observed StatefulSet is `OnDelete`;
 * - the observed StatefulSet already carries the wanted template (the caller passes it only
 *   when it plans no change to it) and its controller has seen it
 *   (`status.observedGeneration >= metadata.generation`), or the recreated pod could come from
 *   the old revision;
 * - no pod of the StatefulSet is terminating (one at a time).
 * The pod deleted is the first by name among the pods controlled by the StatefulSet whose
 * restart hash differs; the Delete carries the observed pod (its uid is the precondition) and
 * an Event saying which hash changed.
 */
import { Option, Order } from "effect"
import type { RolloutStrategy } from "../domain/DittoServer.ts"
import type { Pod, StatefulSet } from "../domain/Kubernetes.ts"
import { normal, type Plan } from "./Change.ts"
import { annotations } from "./Naming.ts"

/**
 * What managed restarts are planned from: the rollout strategy, the observed StatefulSet (when it
 * is the server's and unchanged) and its pods.
 */
export interface Input {
  readonly strategy: RolloutStrategy
  /** The observed StatefulSet when it is the server's and no change to it is planned. */
  readonly statefulSet: Option.Option<StatefulSet>
  readonly pods: ReadonlyArray<Pod>
}

const short = (hash: string | undefined): string => (hash === undefined ? "none" : hash.slice(0, 8))

const isControlledBy = (pod: Pod, uid: string): boolean =>
  (pod.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === uid)

/** Whether the StatefulSet controller has acted on the StatefulSet's latest spec. */
export const isObserved = (statefulSet: StatefulSet): boolean => {
  const generation = statefulSet.metadata.generation
  const observed = statefulSet.status?.observedGeneration
  return generation !== undefined && observed !== undefined && observed >= generation
}

/**
 * Why a pod is restarted, for its Event: a changed configuration hash, or another change of what
 * the pod runs.
 */
export const why = (pod: Pod, statefulSet: StatefulSet): string => {
  const template = statefulSet.spec.template.metadata?.annotations ?? {}
  const running = pod.metadata.annotations ?? {}
  const [configNow, configWanted] = [running[annotations.configHash], template[annotations.configHash]]
  return configNow !== configWanted
    ? `configuration changed (config-hash ${short(configNow)} -> ${short(configWanted)})`
    : `pod template changed (restart-hash ${short(running[annotations.restartHash])} -> ${short(template[annotations.restartHash])})`
}

/**
 * At most one pod delete per pass under the Managed strategy: the first pod, by name, whose
 * restart hash differs from the template's, once the StatefulSet controller has seen the template
 * and while no pod is being deleted.
 */
export const plan = (input: Input): Plan<Pod> => {
  if (input.strategy !== "Managed" || Option.isNone(input.statefulSet)) return []
  const statefulSet = input.statefulSet.value
  const uid = statefulSet.metadata.uid
  const wanted = statefulSet.spec.template.metadata?.annotations?.[annotations.restartHash]
  if (statefulSet.spec.updateStrategy?.type !== "OnDelete" || uid === undefined || wanted === undefined || !isObserved(statefulSet)) {
    return []
  }
  const pods = input.pods.filter((pod) => isControlledBy(pod, uid))
  if (pods.some((pod) => pod.metadata.deletionTimestamp !== undefined)) return []
  const [stale] = pods
    .filter((pod) => pod.metadata.annotations?.[annotations.restartHash] !== wanted)
    .sort((a, b) => Order.String(a.metadata.name, b.metadata.name))
  return stale === undefined ? [] : [{
    _tag: "Delete",
    object: stale,
    event: normal("PodRestarted", `Restarted pod ${stale.metadata.name}: ${why(stale, statefulSet)}`)
  }]
}
