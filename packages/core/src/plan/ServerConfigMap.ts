/**
 * The server's ConfigMap `<cr>-config`, holding the rendered `config.yaml` the pod mounts at
 * `/config`.
 *
 * Contract (total, pure): owned are the labels (merged) and the `config.yaml` key; any other key
 * a user added is kept. The Events carry the short config hash, old and new.
 */
import type { ConfigMap } from "../domain/Kubernetes.ts"
import { type EventNote, normal } from "./Change.ts"
import * as ConfigFile from "./ConfigFile.ts"
import { selectorLabels } from "./Naming.ts"
import { mergeMap } from "./OwnedFields.ts"
import { controllerReference, type ServerIdentity } from "./Ownership.ts"

/** The kind of object this module plans. */
export const kind = "ConfigMap"

/**
 * What the configuration ConfigMap is planned from: the server, the ConfigMap's name and the
 * rendered configuration.
 */
export interface Input {
  readonly server: ServerIdentity
  readonly name: string
  readonly config: ConfigFile.Rendered
}

/** The configuration ConfigMap, owned by the server. */
export const desired = (input: Input): ConfigMap => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name: input.name,
    namespace: input.server.namespace,
    labels: selectorLabels(input.server.name),
    ownerReferences: [controllerReference(input.server)]
  },
  data: { [ConfigFile.fileName]: input.config.text }
})

/**
 * The observed ConfigMap with the operator's labels and `config.yaml` laid over it; other keys are
 * kept.
 */
export const overlay = (input: Input, observed: ConfigMap): ConfigMap => ({
  ...observed,
  metadata: { ...observed.metadata, labels: mergeMap(observed.metadata.labels, selectorLabels(input.server.name)) },
  data: { ...observed.data, [ConfigFile.fileName]: input.config.text }
})

const shortHash = (configMap: ConfigMap): string => {
  const text = configMap.data?.[ConfigFile.fileName]
  return text === undefined ? "none" : ConfigFile.sha256Hex(text).slice(0, 8)
}

/** The Event of creating the ConfigMap. */
export const createdEvent = (configMap: ConfigMap): EventNote =>
  normal("ConfigMapCreated", `Created ConfigMap ${configMap.metadata.name} (config-hash ${shortHash(configMap)})`)

/** The Event of updating the ConfigMap: the configuration hash change, or its labels. */
export const updatedEvent = (observed: ConfigMap, next: ConfigMap): EventNote =>
  normal(
    "ConfigMapUpdated",
    shortHash(observed) === shortHash(next)
      ? `Updated ConfigMap ${next.metadata.name}: labels`
      : `Updated ConfigMap ${next.metadata.name} (config-hash ${shortHash(observed)} -> ${shortHash(next)})`
  )
