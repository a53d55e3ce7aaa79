/** A `Kubernetes` service that notes every request it passes on (reads by kind and name). */
import { Effect, Ref } from "effect"
import type { Kubernetes } from "@dittofs-operator/core"

/** The API calls made through the counted service, by verb. */
export const counted = (api: Kubernetes.Api, calls: Ref.Ref<ReadonlyArray<string>>): Kubernetes.Api => {
  const note = (verb: string) => Ref.update(calls, (all) => [...all, verb])
  return {
    get: (resource, namespace, name) => Effect.andThen(note(`get ${resource.kind} ${name}`), api.get(resource, namespace, name)),
    list: (resource, namespace, options) => Effect.andThen(note(`list ${resource.kind}`), api.list(resource, namespace, options)),
    listWithVersion: api.listWithVersion,
    watch: api.watch,
    create: (resource, object) => Effect.andThen(note("create"), api.create(resource, object)),
    update: (resource, object) => Effect.andThen(note("update"), api.update(resource, object)),
    updateStatus: (resource, object) => Effect.andThen(note("updateStatus"), api.updateStatus(resource, object)),
    patchStatus: (resource, previous, next) => Effect.andThen(note("patchStatus"), api.patchStatus(resource, previous, next)),
    delete: (resource, namespace, name, preconditions) => Effect.andThen(note("delete"), api.delete(resource, namespace, name, preconditions))
  }
}

