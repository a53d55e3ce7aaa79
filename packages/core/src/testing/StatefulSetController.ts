/**
 * `StatefulSetController`: a TEST DOUBLE of kube-controller-manager's StatefulSet controller, for
 * deterministic reconcile tests. It is not API-server behaviour: neither this project's control
 * plane nor `KubernetesMemory` runs the controller, so no pod ever appears by itself; a test
 * that wants the controller's effects asks for them, one pass at a time.
 *
 * Contract of `reconcile(namespace, name)`, one pass to convergence, through the `Kubernetes`
 * service (so every write goes through the API server's admission, versions and watches):
 * - the update revision is `<name>-<hash of the pod template>` (the hash is the fake's own, not
 *   byte-identical to the controller's ControllerRevision hash);
 * - for each ordinal below `spec.replicas`, a claim `<template>-<name>-<ordinal>` per
 *   volumeClaimTemplate (created if missing) and a pod `<name>-<ordinal>` from the template,
 *   labelled `controller-revision-hash`, `statefulset.kubernetes.io/pod-name` and
 *   `apps.kubernetes.io/pod-index`, with hostname and subdomain, the claims as volumes, and the
 *   StatefulSet as controller owner; a pod at an older revision is replaced with the
 *   RollingUpdate strategy (from the highest ordinal down, ordinals below the partition kept) and
 *   kept with OnDelete;
 * - every pod is marked Running and Ready through its status (no node is bound: deleting one is
 *   immediate, as for any unscheduled pod), pods above the replicas are deleted;
 * - the StatefulSet's status gets observedGeneration, replicas, readyReplicas,
 *   availableReplicas, currentReplicas, updatedReplicas, currentRevision, updateRevision and
 *   collisionCount.
 */
import { Clock, Effect, Option } from "effect"
import { canonical } from "../domain/Json.ts"
import { type AnyObject, type OwnerReference, type Pod, type StatefulSet, timestamp } from "../domain/Kubernetes.ts"
import { Kubernetes, type KubernetesError, Resources } from "../services/Kubernetes.ts"
import { fieldsOf } from "./apiserver/Json.ts"

const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

/** FNV-1a (32 bits) of the canonical template, written with client-go's safe alphabet. */
export const templateHash = (template: unknown): string => {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(canonical(template), "utf8")) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return [...String(hash)].map((digit) => safeAlphabet[digit.charCodeAt(0) % safeAlphabet.length] ?? "").join("")
}

const revisionLabel = "controller-revision-hash"

const ownerOf = (statefulSet: StatefulSet): OwnerReference => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  name: statefulSet.metadata.name,
  uid: statefulSet.metadata.uid ?? "",
  controller: true,
  blockOwnerDeletion: true
})

const ordinalOf = (statefulSet: StatefulSet, pod: Pod): number => {
  const prefix = `${statefulSet.metadata.name}-`
  const name = pod.metadata.name
  return name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)) ? Number(name.slice(prefix.length)) : -1
}

const claimTemplates = (statefulSet: StatefulSet): ReadonlyArray<AnyObject> =>
  (statefulSet.spec.volumeClaimTemplates ?? []).map((claim) => ({ ...claim, apiVersion: "v1", kind: "PersistentVolumeClaim" }))

const podFor = (statefulSet: StatefulSet, ordinal: number, revision: string): Pod => {
  const name = `${statefulSet.metadata.name}-${ordinal}`
  const template = statefulSet.spec.template
  const claimVolumes = claimTemplates(statefulSet).map((claim) => ({
    name: claim.metadata.name,
    persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}` }
  }))
  const volumes = [...claimVolumes, ...(Array.isArray(template.spec["volumes"]) ? template.spec["volumes"] : [])]
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: statefulSet.metadata.namespace ?? "default",
      labels: {
        ...template.metadata?.labels,
        [revisionLabel]: revision,
        "statefulset.kubernetes.io/pod-name": name,
        "apps.kubernetes.io/pod-index": String(ordinal)
      },
      ...(template.metadata?.annotations === undefined ? {} : { annotations: template.metadata.annotations }),
      ownerReferences: [ownerOf(statefulSet)]
    },
    spec: {
      ...template.spec,
      hostname: name,
      ...(statefulSet.spec.serviceName === undefined ? {} : { subdomain: statefulSet.spec.serviceName }),
      ...(volumes.length === 0 ? {} : { volumes })
    }
  }
}

const readyConditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]

const isReady = (pod: Pod): boolean =>
  pod.status?.phase === "Running" && (pod.status.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True")

export const reconcile = Effect.fn("StatefulSetController.reconcile")(function*(namespace: string, name: string) {
  const kubernetes = yield* Kubernetes
  const now = timestamp(yield* Clock.currentTimeMillis)
  const statefulSet = yield* kubernetes.get(Resources.StatefulSet, namespace, name)
  const updateRevision = `${name}-${templateHash(statefulSet.spec.template)}`
  const replicas = statefulSet.spec.replicas ?? 1
  const strategy = fieldsOf(statefulSet.spec.updateStrategy)
  const partition = Number(fieldsOf(strategy["rollingUpdate"])["partition"] ?? 0)
  const owned = (yield* kubernetes.list(Resources.Pod, namespace)).filter((pod) =>
    (pod.metadata.ownerReferences ?? []).some((ref) => ref.uid === statefulSet.metadata.uid) && ordinalOf(statefulSet, pod) >= 0
  )

  const markReady = (pod: Pod): Effect.Effect<Pod, KubernetesError> =>
    isReady(pod) ? Effect.succeed(pod) : kubernetes.updateStatus(Resources.Pod, {
      ...pod,
      status: {
        ...pod.status,
        phase: "Running",
        startTime: now,
        conditions: readyConditions.map((type) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now })),
        containerStatuses: pod.spec.containers.map((container) => ({
          name: container.name,
          image: container.image ?? "",
          imageID: "",
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } }
        }))
      }
    })

  const ensureClaims = (ordinal: number) =>
    Effect.forEach(claimTemplates(statefulSet), (claim) => {
      const claimName = `${claim.metadata.name}-${name}-${ordinal}`
      return kubernetes.get(Resources.PersistentVolumeClaim, namespace, claimName).pipe(
        Effect.catchTag("KubernetesError", (error) =>
          error.reason !== "NotFound" ? Effect.fail(error) : kubernetes.create(Resources.PersistentVolumeClaim, {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: claimName, namespace, labels: { ...statefulSet.spec.selector?.matchLabels } },
            spec: fieldsOf(claim["spec"])
          }))
      )
    }, { discard: true })

  // Scale down first, highest ordinal first, as the controller does.
  const surplus = owned.filter((pod) => ordinalOf(statefulSet, pod) >= replicas)
    .sort((a, b) => ordinalOf(statefulSet, b) - ordinalOf(statefulSet, a))
  yield* Effect.forEach(surplus, (pod) => kubernetes.delete(Resources.Pod, namespace, pod.metadata.name, { uid: pod.metadata.uid ?? "" }), { discard: true })

  const pods: Array<Pod> = []
  for (let ordinal = replicas - 1; ordinal >= 0; ordinal--) {
    const existing = Option.fromNullishOr(owned.find((pod) => ordinalOf(statefulSet, pod) === ordinal))
    const outdated = Option.exists(existing, (pod) => pod.metadata.labels?.[revisionLabel] !== updateRevision)
    const replace = outdated && strategy["type"] !== "OnDelete" && ordinal >= partition
    if (Option.isSome(existing) && replace) {
      yield* kubernetes.delete(Resources.Pod, namespace, existing.value.metadata.name, { uid: existing.value.metadata.uid ?? "" })
    }
    yield* ensureClaims(ordinal)
    const pod = Option.isSome(existing) && !replace
      ? existing.value
      : yield* kubernetes.create(Resources.Pod, podFor(statefulSet, ordinal, updateRevision))
    pods.unshift(yield* markReady(pod))
  }

  const updated = pods.filter((pod) => pod.metadata.labels?.[revisionLabel] === updateRevision).length
  const previousCurrent = statefulSet.status?.currentRevision
  const currentRevision = updated === pods.length || previousCurrent === undefined ? updateRevision : previousCurrent
  const ready = pods.filter(isReady).length
  const current = yield* kubernetes.get(Resources.StatefulSet, namespace, name)
  yield* kubernetes.updateStatus(Resources.StatefulSet, {
    ...current,
    status: {
      ...current.status,
      observedGeneration: current.metadata.generation ?? 1,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: pods.filter((pod) => pod.metadata.labels?.[revisionLabel] === currentRevision).length,
      updatedReplicas: updated,
      currentRevision,
      updateRevision,
      collisionCount: 0
    }
  })
})
