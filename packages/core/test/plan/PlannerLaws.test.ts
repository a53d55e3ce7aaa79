/**
 * Laws of the Service and NetworkPolicy planners over hostile observed objects: total and pure
 * (frozen inputs, no throw), and never touching an object that is not labelled and controlled
 * by the server.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { ActiveAdapters, AdapterServices, K8s, NetworkPolicies } from "../../src/index.ts"
import { deepFreeze, ValidAdapter } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const runs = { arbitrary: { runs: 300 } }

const Labels = Schema.Struct({
  app: Schema.optionalKey(Schema.Literals(["dittofs-server", "other"])),
  instance: Schema.optionalKey(Schema.Literals(["ditto", "other"])),
  "dittofs.io/adapter-service": Schema.optionalKey(Schema.Literals(["true", "false"])),
  "dittofs.io/adapter-networkpolicy": Schema.optionalKey(Schema.Literals(["true", "false"])),
  "dittofs.io/adapter-type": Schema.optionalKey(Schema.Union([Schema.Literals(["nfs", "smb", "webdav"]), Schema.String]))
})

const Meta = Schema.Struct({
  name: Schema.Union([Schema.Literals(["ditto-adapter-nfs", "ditto-adapter-smb", "other"]), Schema.String]),
  namespace: Schema.optionalKey(Schema.Literal("storage")),
  uid: Schema.optionalKey(Schema.String),
  resourceVersion: Schema.optionalKey(Schema.Literal("5")),
  labels: Schema.optionalKey(Labels),
  annotations: Schema.optionalKey(Schema.Record(Schema.Literals(["a", "dittofs.io/managed-annotations"]), Schema.String)),
  ownerReferences: Schema.optionalKey(Schema.Array(Schema.Struct({
    apiVersion: Schema.Literal("dittofs.dittofs.com/v1alpha1"),
    kind: Schema.Literal("DittoServer"),
    name: Schema.Literal("ditto"),
    uid: Schema.Literals(["uid-ditto", "uid-other"]),
    controller: Schema.optionalKey(Schema.Boolean)
  })))
})

const HostileService = Schema.Struct({
  apiVersion: Schema.Literal("v1"),
  kind: Schema.Literal("Service"),
  metadata: Meta,
  spec: Schema.Struct({
    type: Schema.optionalKey(Schema.Literals(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])),
    ports: Schema.optionalKey(Schema.Array(Schema.Struct({
      name: Schema.optionalKey(Schema.String),
      port: Schema.Int,
      targetPort: Schema.optionalKey(K8s.IntOrString),
      protocol: Schema.optionalKey(K8s.Protocol),
      nodePort: Schema.optionalKey(Schema.Int)
    })))
  })
})

const HostilePolicy = Schema.Struct({
  apiVersion: Schema.Literal("networking.k8s.io/v1"),
  kind: Schema.Literal("NetworkPolicy"),
  metadata: Meta,
  spec: Schema.Struct({
    podSelector: Schema.Struct({ matchLabels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)) }),
    ingress: Schema.optionalKey(Schema.Array(Schema.Struct({
      ports: Schema.optionalKey(Schema.Array(Schema.Struct({ protocol: Schema.optionalKey(K8s.Protocol), port: Schema.optionalKey(K8s.IntOrString) })))
    })))
  })
})

/** A namespace holds one object of a kind per name. */
const uniqueNames = <A extends { readonly metadata: { readonly name: string } }>(objects: ReadonlyArray<A>): ReadonlyArray<A> =>
  objects.filter((object, index) => objects.findIndex((other) => other.metadata.name === object.metadata.name) === index)

const controlled = (meta: typeof Meta.Type, marker: string): boolean =>
  meta.labels?.[marker as keyof typeof meta.labels] === "true"
  && meta.labels.instance === "ditto"
  && (meta.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === "uid-ditto")

describe("planner laws over hostile observed objects", () => {
  it.prop(
    "AdapterServices.plan is total and pure, and updates or deletes only Services it controls",
    { adapters: Schema.Array(ValidAdapter), observed: Schema.Array(HostileService), type: K8s.ServiceType },
    ({ adapters, observed, type }) => {
      const active = ActiveAdapters.select(adapters, { reservedPorts: [8080] }).active
      const frozen = deepFreeze(uniqueNames(observed))
      const plan = AdapterServices.plan({ server, spec: { type, annotations: { a: "1" } }, active: deepFreeze(active), observed: frozen })
      for (const change of plan) {
        if (change._tag === "Create") continue
        const original = frozen.find((service) => service.metadata.name === change.object.metadata.name)
        assert.isDefined(original)
        if (original !== undefined) assert.isTrue(controlled(original.metadata, "dittofs.io/adapter-service"), change.object.metadata.name)
      }
    },
    runs
  )

  it.prop(
    "NetworkPolicies.plan is total and pure, and updates or deletes only policies it controls",
    { adapters: Schema.Array(ValidAdapter), observed: Schema.Array(HostilePolicy) },
    ({ adapters, observed }) => {
      const active = ActiveAdapters.select(adapters, { reservedPorts: [8080] }).active
      const frozen = deepFreeze(uniqueNames(observed))
      const plan = NetworkPolicies.plan({ server, active: deepFreeze(active), observed: frozen })
      for (const change of plan) {
        if (change._tag === "Create") continue
        const original = frozen.find((policy) => policy.metadata.name === change.object.metadata.name)
        assert.isDefined(original)
        if (original !== undefined) assert.isTrue(controlled(original.metadata, "dittofs.io/adapter-networkpolicy"), change.object.metadata.name)
      }
    },
    runs
  )
})
