/**
 * The stores the cached Kubernetes service gets when it runs the Kubernetes contract suite, over
 * the in-memory server (unit) as over the real one (integration): every kind the suite writes,
 * and one filtered store (lists selecting `app: ditto` are served from it, the rest from the API).
 * The Secret and Service stores are indexed by the `app` label: lists that select it read the
 * index entry, the others scan the store.
 */
import { Kubernetes } from "@dittofs-operator/core"
import type * as KubernetesCache from "../src/runtime/KubernetesCache.ts"

const R = Kubernetes.Resources

export const contractStores: Parameters<typeof KubernetesCache.layer>[0] = [
  { resource: R.Secret, indexLabel: "app" },
  { resource: R.Service, indexLabel: "app" },
  { resource: R.ConfigMap },
  { resource: R.NetworkPolicy },
  { resource: R.StatefulSet },
  { resource: R.DittoServer },
  { resource: R.PersistentVolumeClaim, labelSelector: { app: "ditto" } }
]
