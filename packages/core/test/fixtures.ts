/**
 * Shared test inputs: hostile generators (as Schemas, so `it.prop` derives arbitraries from
 * them) and builders for a DittoServer and its StatefulSet.
 */
import { Effect, Schema } from "effect"
import { DittoServer, K8s, Ownership } from "../src/index.ts"

/** Adapter types as users and DittoFS may write them: known ones, look-alikes, unicode, punctuation. */
export const HostileType = Schema.Union([
  Schema.Literals(["nfs", "NFS", "smb", "webdav", "Ünfs", "İnfs", "NFS v4!", "___", "", "-", "s3gateway", "kerberos-nfs",
    "custom-adapter-a", "custom-adapter-b", "x-yyyyyyyy", "custom-protocol-adapter-with-a-very-long-descriptive-name-x1"]),
  Schema.String
])

/** Ports as they may be reported: in range, 0, past 65535. */
export const HostilePort = Schema.Union([
  Schema.Literals([0, 1, 80, 111, 1445, 8080, 9090, 12049, 12445, 65535, 70000]),
  Schema.Int.check(Schema.isBetween({ minimum: -10, maximum: 70000 }))
])

export const RawAdapter = Schema.Struct({
  type: HostileType,
  enabled: Schema.Boolean,
  running: Schema.Boolean,
  port: HostilePort
})

/** Adapters that decode (valid ports and types), with duplicates likely. */
export const ValidAdapter = Schema.Struct({
  type: HostileType.check(Schema.isMinLength(1)),
  enabled: Schema.Boolean,
  running: Schema.Boolean,
  port: Schema.Union([
    Schema.Literals([111, 1445, 2049, 8080, 9090, 12049, 12445]),
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))
  ])
})

export const PortName = Schema.Union([
  Schema.Literals(["api", "metrics", "nfs", "smb", "adapter-nfs", "adapter-smb", "adapter-", "adapterx", ""]),
  Schema.String
])

/** Container ports with few distinct values, so duplicates and near-duplicates are common. */
export const HostileContainerPort = Schema.Struct({
  name: Schema.optionalKey(PortName),
  containerPort: Schema.Union([Schema.Literals([0, 8080, 9090, 12049]), HostilePort]),
  protocol: Schema.optionalKey(K8s.Protocol),
  hostPort: Schema.optionalKey(Schema.Literals([0, 80, 8080])),
  hostIP: Schema.optionalKey(Schema.Literals(["", "127.0.0.1", "0.0.0.0"]))
})

export const HostileContainerPorts = Schema.Array(HostileContainerPort)

/** Recursively freezes a value, so any mutation by the code under test throws. */
export const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

export const namespace = "storage"

export const serverName = "ditto"

/** A DittoServer as the apiserver would hand it over (decoded, defaults applied). */
export const makeServer = (spec: Record<string, unknown> = {}, name = serverName) => {
  const raw: unknown = {
    apiVersion: DittoServer.apiVersion,
    kind: DittoServer.kind,
    metadata: { name, namespace },
    spec: { storage: { metadataSize: "1Gi" }, ...spec }
  }
  return Schema.decodeUnknownEffect(DittoServer.DittoServer)(raw).pipe(Effect.orDie)
}

/** The server's StatefulSet with the static ports of the reference (api, metrics) and one extra. */
export const makeStatefulSet = (
  server: { readonly name: string; readonly uid: string },
  ports: ReadonlyArray<K8s.ContainerPort> = [
    { name: "api", containerPort: 8080, protocol: "TCP" },
    { name: "metrics", containerPort: 9090, protocol: "TCP" }
  ]
): K8s.StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: {
    name: server.name,
    namespace,
    ownerReferences: [Ownership.controllerReference({ ...server, namespace })]
  },
  spec: {
    replicas: 1,
    serviceName: `${server.name}-headless`,
    selector: { matchLabels: { app: "dittofs-server", instance: server.name } },
    podManagementPolicy: "Parallel",
    template: {
      metadata: { labels: { app: "dittofs-server", instance: server.name } },
      spec: {
        containers: [{
          name: "dittofs",
          image: "marmos91c/dittofs:latest",
          env: [{ name: "DITTOFS_LOGGING_LEVEL", value: "INFO" }],
          ports
        }]
      }
    }
  }
})
