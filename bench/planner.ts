/**
 * Planner benchmark: the whole adapter-exposure plan (Services, NetworkPolicies, container ports)
 * for 1, 8 and 64 adapters next to the reference's static ports, in the two cases that matter:
 * an idle cycle (cluster already in sync: the plan must be empty) and a cold start (everything to
 * create). Writes bench/reports/planner.md.
 */
import { Effect, Option, Result, Schema } from "effect"
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type Adapter, AdapterExposure, ContainerPorts, DittoServer, type K8s } from "@dittofs-operator/core"
import { machine, measure, table } from "./Measure.ts"

const server = { name: "nas", namespace: "storage", uid: "0b7c3c4e-uid" }

const spec = Effect.runSync(Schema.decodeEffect(DittoServer.Spec)({
  storage: { metadataSize: "1Gi" },
  metrics: { enabled: true },
  adapterServices: { type: "LoadBalancer", annotations: { "lb.example.com/pool": "nas", "lb.example.com/shared": "true" } }
}))

const adapters = (count: number): ReadonlyArray<Adapter.Adapter> =>
  Array.from({ length: count }, (_, i) => ({
    id: `id-${i}`,
    type: i === 0 ? "nfs" : i === 1 ? "smb" : `custom-protocol-${i}`,
    enabled: true,
    running: true,
    port: 12049 + i
  }))

const statefulSet = (ports: ReadonlyArray<K8s.ContainerPort>): K8s.StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "nas", namespace: "storage", resourceVersion: "1" },
  spec: { template: { spec: { containers: [{ name: "dittofs", ports }] } } }
})

const staticPorts: ReadonlyArray<K8s.ContainerPort> = [
  { name: "api", containerPort: 8080, protocol: "TCP" },
  { name: "metrics", containerPort: 9090, protocol: "TCP" }
]

/** The observed state after the plan was applied, as the apiserver returns it. */
const settled = (count: number): AdapterExposure.Observed => {
  const empty: AdapterExposure.Observed = { services: [], networkPolicies: [], statefulSet: Option.some(statefulSet(staticPorts)) }
  const plan = AdapterExposure.plan({ server, spec, poll: Result.succeed({ adapters: adapters(count), rejected: [] }), observed: empty })
  const objects = <A extends { readonly metadata: K8s.ObjectMeta }>(changes: ReadonlyArray<{ readonly object: A }>) =>
    changes.map((change, i) => ({ ...change.object, metadata: { ...change.object.metadata, uid: `uid-${i}`, resourceVersion: `${i + 2}` } }))
  return {
    services: objects(plan.services).map((s): K8s.Service => ({
      ...s,
      spec: { ...s.spec, clusterIP: "10.0.0.10", ports: (s.spec.ports ?? []).map((p) => ({ ...p, nodePort: 30000 })) }
    })),
    networkPolicies: objects(plan.networkPolicies),
    statefulSet: Option.map(plan.statefulSet, (change) => change.object)
  }
}

export const run = (millis: number) => {
  const rows = []
  for (const count of [1, 8, 64]) {
    const poll = Result.succeed({ adapters: adapters(count), rejected: [] })
    const idle = settled(count)
    const check = AdapterExposure.plan({ server, spec, poll, observed: idle })
    if (!AdapterExposure.isEmpty(check)) throw new Error(`idle plan for ${count} adapters is not empty`)
    rows.push(measure(`plan, idle cycle, ${count} adapter(s)`, () => AdapterExposure.plan({ server, spec, poll, observed: idle }), millis))
    const cold: AdapterExposure.Observed = { services: [], networkPolicies: [], statefulSet: Option.some(statefulSet(staticPorts)) }
    rows.push(measure(`plan, cold start, ${count} adapter(s)`, () => AdapterExposure.plan({ server, spec, poll, observed: cold }), millis))
    const ports = Option.getOrElse(Option.map(idle.statefulSet, (s) => s.spec.template.spec.containers[0]?.ports ?? []), () => [])
    const reversed = [...ports].reverse()
    rows.push(measure(`portsEqual + sort, ${ports.length} ports`, () => ContainerPorts.equal(ports, reversed) && ContainerPorts.sort(reversed), millis))
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = run(Number(process.env["BENCH_MILLIS"] ?? 1000))
  const report = [
    "# Planner benchmark",
    "",
    `Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${machine()}.`,
    "Reproduce: `pnpm bench` (or `node bench/planner.ts`); `BENCH_MILLIS` sets the time per case (default 1000).",
    "",
    "Static ports: `api` 8080 and `metrics` 9090 (the reference's); adapters `nfs`, `smb` and `custom-protocol-<i>`",
    "with two managed annotations on LoadBalancer Services. *Idle* = cluster already in sync (the plan is empty,",
    "checked before measuring); *cold start* = every Service, NetworkPolicy and container port to create.",
    "",
    table(rows),
    ""
  ].join("\n")
  writeFileSync(fileURLToPath(new URL("reports/planner.md", import.meta.url)), report)
  console.log(report)
}
