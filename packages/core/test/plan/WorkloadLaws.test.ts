/**
 * Laws of `Workload.plan` over generated specs and observed objects:
 * - convergence on the in-memory API server (its defaulting and immutability checks take part):
 *   after any spec change one pass yields the workload the spec describes (checked against the
 *   hand-written expectations), and planning again is empty;
 * - purity and totality over hostile observed objects (deep-frozen; no throw), writes only to
 *   objects the server controls, creates only what is absent;
 * - managed restarts: at most one pod, only a stale one of the StatefulSet, never with
 *   RollingUpdate or while a pod terminates.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { DittoServer, K8s, ManagedRestarts, Naming, Workload } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"
import { createPod, generated, layer, observeGeneration, pass, plan, server, specOf } from "./workloadCluster.ts"
import { expectWorkload } from "./workloadExpectations.ts"

const Storage = Schema.Struct({
  metadataSize: Schema.Literals(["1Gi", "10Gi"]),
  contentSize: Schema.optionalKey(Schema.Literals(["5Gi"])),
  cacheSize: Schema.Literals(["5Gi", "2Gi"]),
  storageClassName: Schema.optionalKey(Schema.Literals(["fast"]))
})

const Quantity = Schema.Literals(["1", "1Gi", "512Mi"])

/** The fields of a spec a user may change between passes (storage excepted: immutable claims). */
const SpecFields = Schema.Struct({
  image: Schema.Literals(["marmos91c/dittofs:latest", "marmos91c/dittofs:0.29.0", "registry.local/dfs@sha256:abc"]),
  replicas: Schema.Literals([0, 1]),
  controlPlane: Schema.Struct({ port: Schema.Literals([8080, 18080, 443]) }),
  metrics: Schema.Struct({ enabled: Schema.Boolean, port: Schema.Literals([9090, 19090]) }),
  service: Schema.optionalKey(Schema.Struct({
    type: K8s.ServiceType,
    annotations: Schema.optionalKey(Schema.Record(Schema.Literals(["a", "example.com/lb"]), Schema.Literals(["1", "2"])))
  })),
  identity: Schema.optionalKey(Schema.Struct({
    jwt: Schema.optionalKey(Schema.Struct({
      secretRef: Schema.Struct({ name: Schema.Literal("my-jwt"), key: Schema.Literal("key") }),
      accessTokenDuration: Schema.optionalKey(Schema.Literals(["5m", "-1m", "soon"]))
    })),
    admin: Schema.optionalKey(Schema.Struct({
      username: Schema.optionalKey(Schema.Literals(["admin", "root: x", "yes"])),
      passwordSecretRef: Schema.optionalKey(Schema.Struct({ name: Schema.Literal("my-admin"), key: Schema.Literal("pw") }))
    }))
  })),
  database: Schema.optionalKey(Schema.Union([
    Schema.Struct({
      type: Schema.Literal("sqlite"),
      sqlite: Schema.optionalKey(Schema.Struct({
        path: Schema.Literals(["/data/controlplane/controlplane.db", "/var/lib/dittofs/cp.db", "/data/metadata/cp.db", "relative.db"])
      }))
    }),
    Schema.Struct({ postgresSecretRef: Schema.Struct({ name: Schema.Literal("pg"), key: Schema.Literal("dsn") }) })
  ])),
  s3: Schema.optionalKey(Schema.Struct({
    credentialsSecretRef: Schema.optionalKey(Schema.Struct({ secretName: Schema.Literal("s3") })),
    region: Schema.optionalKey(Schema.Literals(["eu-west-1", "us-east-1"]))
  })),
  resources: Schema.optionalKey(Schema.Struct({
    limits: Schema.optionalKey(Schema.Struct({ cpu: Quantity, memory: Quantity })),
    // Never above any limit: the API server refuses a request above its limit.
    requests: Schema.optionalKey(Schema.Struct({ cpu: Schema.Literals(["500m", "1"]) }))
  })),
  securityContext: Schema.optionalKey(Schema.Struct({ runAsUser: Schema.Literals([1000, 65532]) })),
  podSecurityContext: Schema.optionalKey(Schema.Struct({ fsGroup: Schema.Literals([1000]) })),
  rollout: Schema.Struct({ strategy: DittoServer.RolloutStrategy })
})

const AdapterPort = Schema.Literals(["nfs", "smb", "webdav"])
const AdapterPorts = Schema.Option(Schema.Array(AdapterPort))

const portsOf = (ports: Option.Option<ReadonlyArray<typeof AdapterPort.Type>>): Option.Option<ReadonlyArray<K8s.ContainerPort>> =>
  Option.map(ports, (types) =>
    [...new Set(types)].map((type, index) => ({ name: `adapter-${type}`, containerPort: 12000 + index * 7 + type.length, protocol: "TCP" as const })))

/** Each run is a few in-memory API calls; generous time-outs for a loaded 2-core CI machine. */
const runs = { arbitrary: { runs: 40 }, timeout: 60_000 }

describe("convergence on the in-memory API server", () => {
  it.effect.prop(
    "after any spec and adapter change one pass converges to the spec's workload, and planning again is empty",
    { storage: Storage, before: SpecFields, after: SpecFields, portsBefore: AdapterPorts, portsAfter: AdapterPorts },
    ({ after, before, portsAfter, portsBefore, storage }) =>
      Effect.gen(function*() {
        const [specBefore, specAfter] = [specOf({ ...before, storage }), specOf({ ...after, storage })]
        yield* pass(specBefore, { adapterPorts: portsOf(portsBefore) })
        yield* observeGeneration()
        yield* createPod(0)
        const changed = yield* pass(specAfter, { adapterPorts: portsOf(portsAfter) })
        assert.deepStrictEqual(changed.blocked, [])
        for (const { change, kind } of Workload.changes(changed)) {
          if (change._tag === "Delete") assert.include(["Service ditto-metrics", "Pod ditto-0"], `${kind} ${change.object.metadata.name}`)
        }
        yield* expectWorkload(specAfter)
        const again = yield* plan(specAfter, { adapterPorts: portsOf(portsAfter) })
        assert.deepStrictEqual(Workload.changes(again).map(({ change, kind }) => `${change._tag} ${kind} ${change.object.metadata.name}`), [])
      }).pipe(Effect.provide(layer)),
    runs
  )
})

const Owner = Schema.Literals(["ours", "other", "none", "terminating"])
const Perturbation = Schema.Struct({ owner: Owner, label: Schema.Boolean, annotation: Schema.Boolean, missing: Schema.Boolean })

interface Meta {
  readonly metadata: K8s.ObjectMeta
}

const perturb = <A extends Meta>(object: A, how: typeof Perturbation.Type, index: number): A => {
  const refs = how.owner === "ours" || how.owner === "terminating"
    ? object.metadata.ownerReferences ?? []
    : how.owner === "other"
    ? (object.metadata.ownerReferences ?? []).map((ref) => ({ ...ref, uid: "uid-other" }))
    : []
  return {
    ...object,
    metadata: {
      ...object.metadata,
      uid: `uid-${index}`,
      resourceVersion: "3",
      ...(refs.length === 0 ? {} : { ownerReferences: refs }),
      ...(how.owner === "terminating" ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
      ...(how.label ? { labels: { ...object.metadata.labels, "user/label": "x" } } : {}),
      ...(how.annotation ? { annotations: { ...object.metadata.annotations, "user/annotation": "y" } } : {})
    }
  }
}

const emptyObserved: Workload.Observed = {
  configMap: Option.none(),
  statefulSet: Option.none(),
  services: [],
  secrets: [],
  networkPolicies: [],
  pods: []
}

const creates = <A>(changes: ReadonlyArray<{ readonly _tag: string; readonly object: A }>): ReadonlyArray<A> =>
  changes.flatMap((change) => (change._tag === "Create" ? [change.object] : []))

/** A namespace holding (perturbed copies of) the workload of another spec, plus pods. */
const hostileObserved = (
  spec: DittoServer.Spec,
  perturbations: ReadonlyArray<typeof Perturbation.Type>,
  podHashes: ReadonlyArray<string>
): Workload.Observed => {
  const fresh = Workload.plan({ server, spec, adapterPorts: Option.none(), observed: emptyObserved, generated })
  let index = 0
  const next = () => perturbations[index++ % Math.max(1, perturbations.length)] ?? { owner: "ours", label: false, annotation: false, missing: false }
  const keep = <A extends Meta>(objects: ReadonlyArray<A>): ReadonlyArray<A> =>
    objects.flatMap((object) => {
      const how = next()
      return how.missing ? [] : [perturb(object, how, index)]
    })
  const statefulSet = Option.fromNullishOr(keep(creates(fresh.statefulSets))[0])
  const stsUid = Option.match(statefulSet, { onNone: () => "none", onSome: (sts) => sts.metadata.uid ?? "none" })
  return {
    configMap: Option.fromNullishOr(keep(creates(fresh.configMaps))[0]),
    statefulSet: Option.map(statefulSet, (sts) => ({ ...sts, metadata: { ...sts.metadata, generation: 2 }, status: { observedGeneration: 2 } })),
    services: keep(creates(fresh.services)),
    secrets: keep(creates(fresh.secrets)),
    networkPolicies: keep(creates(fresh.networkPolicies)),
    pods: podHashes.map((hash, i) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `ditto-${i}`,
        namespace: server.namespace,
        uid: `pod-${i}`,
        annotations: { "dittofs.io/restart-hash": hash },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "ditto", uid: i % 2 === 0 ? stsUid : "other-sts", controller: true }]
      },
      spec: { containers: [] }
    }))
  }
}

const allObserved = (observed: Workload.Observed): ReadonlyArray<Meta> => [
  ...Option.toArray(observed.configMap),
  ...Option.toArray(observed.statefulSet),
  ...observed.services,
  ...observed.secrets,
  ...observed.networkPolicies
]

const kindOf = (object: Meta): string => ("kind" in object && typeof object.kind === "string" ? object.kind : "")

const isOurs = (object: Meta) =>
  (object.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === server.uid)

describe("purity, totality and ownership over hostile observed objects", () => {
  it.prop(
    "never throws, never mutates, writes only objects the server controls, creates only what is absent",
    {
      seen: SpecFields,
      wanted: SpecFields,
      storage: Storage,
      perturbations: Schema.Array(Perturbation),
      podHashes: Schema.Array(Schema.Literals(["stale", "also-stale"])),
      ports: AdapterPorts
    },
    ({ perturbations, podHashes, ports, seen, storage, wanted }) => {
      const observed = deepFreeze(hostileObserved(specOf({ ...seen, storage }), perturbations, podHashes))
      const snapshot = JSON.stringify(observed)
      const spec = deepFreeze(specOf({ ...wanted, storage }))
      const workload = Workload.plan(deepFreeze({ server, spec, adapterPorts: portsOf(ports), observed, generated }))
      assert.strictEqual(JSON.stringify(observed), snapshot)
      const names = new Set(Object.values(Naming.workloadNames(server.name)))
      const existing = allObserved(observed)
      for (const { change, kind } of Workload.changes(workload)) {
        const name = change.object.metadata.name
        if (kind === "Pod") {
          assert.strictEqual(change._tag, "Delete")
          continue
        }
        assert.isTrue(names.has(name), name)
        const current = existing.find((object) => object.metadata.name === name && kindOf(object) === kind)
        if (change._tag === "Create") {
          assert.isFalse(existing.some((object) => object.metadata.name === name && kindOf(object) === kind), `${kind} ${name} created though present`)
        } else {
          assert.isDefined(current)
          if (current !== undefined) assert.isTrue(isOurs(current), `${change._tag} of ${kind} ${name}, not ours`)
          assert.isUndefined(current?.metadata.deletionTimestamp, "a terminating object is left alone")
          assert.strictEqual(change.object.metadata.uid, current?.metadata.uid, "updated in place")
        }
      }
      for (const finding of workload.foreign) {
        const object = existing.find((candidate) => candidate.metadata.name === finding.name && kindOf(candidate) === finding.kind)
        assert.isFalse(object !== undefined && isOurs(object), `${finding.name} is ours`)
      }
    },
    { arbitrary: { runs: 300 }, timeout: 60_000 }
  )
})

describe("managed restarts", () => {
  const template = (hash: string): K8s.StatefulSet => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "ditto", uid: "sts", generation: 3 },
    spec: {
      updateStrategy: { type: "OnDelete" },
      template: { metadata: { annotations: { "dittofs.io/restart-hash": hash } }, spec: { containers: [] } }
    },
    status: { observedGeneration: 3 }
  })
  const Pods = Schema.Array(Schema.Struct({
    hash: Schema.Literals(["h1", "h2"]),
    owned: Schema.Boolean,
    terminating: Schema.Boolean
  }))
  const pod = (p: { hash: string; owned: boolean; terminating: boolean }, i: number): K8s.Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `ditto-${i}`,
      uid: `p${i}`,
      annotations: { "dittofs.io/restart-hash": p.hash },
      ...(p.terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "ditto", uid: p.owned ? "sts" : "else", controller: true }]
    },
    spec: { containers: [] }
  })

  it.prop(
    "at most one pod, a stale one of the StatefulSet, never with RollingUpdate or while one of its pods terminates",
    { pods: Pods, strategy: DittoServer.RolloutStrategy, observed: Schema.Boolean },
    ({ observed, pods, strategy }) => {
      const statefulSet = observed ? template("h1") : { ...template("h1"), status: { observedGeneration: 2 } }
      const input = deepFreeze(pods.map(pod))
      const plan = ManagedRestarts.plan({ strategy, statefulSet: Option.some(statefulSet), pods: input })
      assert.isAtMost(plan.length, 1)
      const owned = pods.filter((p) => p.owned)
      const expectDelete = strategy === "Managed" && observed && !owned.some((p) => p.terminating) && owned.some((p) => p.hash !== "h1")
      assert.strictEqual(plan.length === 1, expectDelete)
      for (const change of plan) {
        const index = input.indexOf(change.object)
        assert.isTrue(pods[index]?.owned === true && pods[index]?.hash === "h2")
        assert.strictEqual(change._tag, "Delete")
      }
    },
    { arbitrary: { runs: 300 }, timeout: 60_000 }
  )
})
