/**
 * The ownership law, on the in-memory cluster: a whole DittoServer pass (auth, adapter exposure,
 * status) leaves every object the server does not control byte-for-byte as it was — resource
 * version included, so not even a no-op write — whatever those objects look like: lookalikes with
 * some of its labels, objects of another DittoServer, objects owned by it but not as controller,
 * its own objects' names in another namespace, and foreign objects holding the names it wants.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { DittoServerPass, type K8s, Kubernetes } from "../../src/index.ts"
import { DittoFsMemory } from "../../src/testing/index.ts"
import { AdapterListOf, namespace } from "../fixtures.ts"
import { adapter, adminSecret, baseUrl, setup, testLayer } from "../reconcile/harness.ts"

const Ownership = Schema.Literals(["none", "other-server", "not-controller", "other-kind", "ours"])

/** Something about an object that makes it not ours (at least one of them always applies). */
const Foreign = Schema.Struct({
  kind: Schema.Literals(["Service", "NetworkPolicy", "Secret", "StatefulSet"]),
  name: Schema.Literals([
    "ditto-adapter-nfs",
    "ditto-adapter-smb",
    "ditto-operator-credentials",
    "ditto",
    "other-adapter-nfs",
    "lookalike"
  ]),
  elsewhere: Schema.Boolean,
  ownership: Ownership,
  instance: Schema.Literals(["ditto", "other", "missing"]),
  marker: Schema.Literals(["true", "false", "missing"]),
  type: Schema.Literals(["nfs", "smb", "webdav"])
})

type Foreign = typeof Foreign.Type

/**
 * Ours would be, in our namespace: a Service or NetworkPolicy with our marker and instance labels
 * and us as controller owner; a Secret with us as controller owner (only its name and owner say
 * whose it is). StatefulSets: the server's own is created by the harness, so any other is foreign.
 */
const isOurs = (foreign: Foreign) =>
  !foreign.elsewhere && foreign.ownership === "ours"
  && (foreign.kind === "Secret" || (foreign.instance === "ditto" && foreign.marker === "true"))

const build = (foreign: Foreign, serverUid: string): K8s.AnyObject => {
  const reference = { apiVersion: "dittofs.dittofs.com/v1alpha1", kind: "DittoServer", name: "ditto", uid: serverUid, controller: true }
  const ownerReferences = {
    none: [],
    "other-server": [{ ...reference, name: "other", uid: "uid-of-another-server" }],
    "not-controller": [{ ...reference, controller: false }],
    "other-kind": [{ ...reference, kind: "Other", uid: "uid-of-something-else" }],
    ours: [reference]
  }[foreign.ownership]
  const marker = foreign.kind === "NetworkPolicy" ? "dittofs.io/adapter-networkpolicy" : "dittofs.io/adapter-service"
  const metadata = {
    name: foreign.name,
    namespace: foreign.elsewhere ? "elsewhere" : namespace,
    labels: {
      app: "dittofs-server",
      ...(foreign.instance === "missing" ? {} : { instance: foreign.instance }),
      ...(foreign.marker === "missing" ? {} : { [marker]: foreign.marker }),
      "dittofs.io/adapter-type": foreign.type
    },
    annotations: { "dittofs.io/managed-annotations": "a", a: "someone else's" },
    ownerReferences
  }
  const selector = { app: "dittofs-server", instance: foreign.instance === "ditto" ? "ditto" : "other" }
  switch (foreign.kind) {
    case "Service":
      return { apiVersion: "v1", kind: "Service", metadata, spec: { selector, ports: [{ name: "x", port: 1, protocol: "UDP" }] } }
    case "NetworkPolicy":
      return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata, spec: { podSelector: { matchLabels: selector }, ingress: [{ ports: [{ port: 1 }] }] } }
    case "Secret":
      return { apiVersion: "v1", kind: "Secret", metadata, data: { password: Buffer.from("not yours").toString("base64") } }
    case "StatefulSet":
      return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata,
        spec: {
          selector: { matchLabels: selector },
          template: { metadata: { labels: selector }, spec: { containers: [{ name: "dittofs", ports: [{ name: "adapter-nfs", containerPort: 1 }] }] } }
        }
      }
  }
}

/** Each kind as raw JSON: what is stored, not what the operator's Schemas decode of it. */
const raw = {
  Service: Kubernetes.raw(Kubernetes.Resources.Service),
  NetworkPolicy: Kubernetes.raw(Kubernetes.Resources.NetworkPolicy),
  Secret: Kubernetes.raw(Kubernetes.Resources.Secret),
  StatefulSet: Kubernetes.raw(Kubernetes.Resources.StatefulSet)
} as const

const stored = (foreign: Foreign) =>
  Kubernetes.Kubernetes.use((k) => k.get(raw[foreign.kind], foreign.elsewhere ? "elsewhere" : namespace, foreign.name)).pipe(
    Effect.map((object) => JSON.stringify(object))
  )

describe("ownership", () => {
  it.effect.prop(
    "a pass leaves every object the server does not control byte-for-byte as it was",
    { adapters: AdapterListOf, foreign: Schema.Array(Foreign).check(Schema.isMaxLength(8)) },
    ({ adapters, foreign }) =>
      Effect.gen(function*() {
        const server = yield* setup()
        const kubernetes = yield* Kubernetes.Kubernetes
        yield* adminSecret()
        // a name already taken (by the server's own StatefulSet, or an earlier one) is skipped
        const created: Array<readonly [Foreign, string]> = []
        for (const f of foreign) {
          if (isOurs(f)) continue
          const made = yield* Effect.result(kubernetes.create(raw[f.kind], build(f, server.metadata.uid ?? "")))
          if (made._tag === "Success") created.push([f, yield* stored(f)])
        }
        yield* (yield* DittoFsMemory.Control).setAdapters(baseUrl, adapters)
        const current = yield* kubernetes.get(Kubernetes.Resources.DittoServer, namespace, "ditto")
        yield* Effect.result(DittoServerPass.reconcile(current, { apiUrlOverride: baseUrl }))
        for (const [f, before] of created) assert.strictEqual(yield* stored(f), before, `${f.kind} ${f.name}`)
      }).pipe(Effect.provide(testLayer([adapter("nfs", 12049)]))),
    { arbitrary: { runs: 60 } }
  )
})
