/**
 * The DittoServer CRD's validation, proven on the API server: a table of valid and invalid
 * DittoServers, each created through the `Kubernetes` service under test AND decoded with the
 * core's Schema (`Schema.decodeUnknownResult(DittoServer)`), from which the CRD is generated.
 *
 * Contract of this part of the suite (registered by `kubernetesContract`, same rules), for
 * every row:
 * - the API server's verdict is the row's: accepted (fields it does not declare pruned,
 *   defaults filled in) or a 422 `Invalid` with exactly the row's field errors, in the API
 *   server's words;
 * - the Schema's verdict agrees: it decodes what the API server accepts and rejects what it
 *   refuses;
 * - what the API server stored decodes with the Schema, and (unless the row has fields to
 *   prune, which the Schema's open structs keep) the Schema fills in the same defaults as the
 *   CRD: encoding the decoded input gives the stored spec.
 */
import { assert, type Vitest } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import * as DittoServerDomain from "../../domain/DittoServer.ts"
import { AnyObject } from "../../domain/Kubernetes.ts"
import { Kubernetes, type Resource, Resources } from "../../services/Kubernetes.ts"
import { fieldsOf } from "../apiserver/Json.ts"
import { ContractNamespaces, type KubernetesContractTarget } from "./ContractTarget.ts"

/** DittoServers written and read as JSON, without the Schema's defaults: to see the server's. */
const RawDittoServer: Resource<AnyObject> = { ...Resources.DittoServer, schema: AnyObject }

type Verdict =
  /** Stored as sent, with the CRD's defaults. */
  | { readonly _tag: "Accepted" }
  /** Stored without the fields at these paths (which the Schema's open structs keep). */
  | { readonly _tag: "Pruned"; readonly paths: ReadonlyArray<ReadonlyArray<string>> }
  /** Refused with a 422 and exactly these field errors. */
  | { readonly _tag: "Invalid"; readonly errors: ReadonlyArray<string> }

interface Row {
  readonly name: string
  /** The DittoServer's `spec` as a user writes it. */
  readonly spec: unknown
  /** Other top-level fields of the object, as written. */
  readonly extra?: Readonly<Record<string, unknown>>
  readonly verdict: Verdict
  /** What else must hold of the stored spec. */
  readonly stored?: (spec: Readonly<Record<string, unknown>>) => void
}

const accepted: Verdict = { _tag: "Accepted" }
const pruned = (...paths: ReadonlyArray<ReadonlyArray<string>>): Verdict => ({ _tag: "Pruned", paths })
const invalid = (...errors: ReadonlyArray<string>): Verdict => ({ _tag: "Invalid", errors })

const storage = { metadataSize: "1Gi" }

const fullDefaults = {
  image: "marmos91c/dittofs:latest",
  replicas: 1,
  storage: { metadataSize: "1Gi", cacheSize: "5Gi" },
  controlPlane: { port: 8080 },
  metrics: { enabled: false, port: 9090 },
  adapterDiscovery: { pollingInterval: "30s" },
  adapterServices: { type: "LoadBalancer" },
  rollout: { strategy: "Managed" }
}

const enumError = (path: string, value: string, supported: ReadonlyArray<string>) =>
  `${path}: Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((item) => JSON.stringify(item)).join(", ")}`

const boundError = (path: string, value: number, bound: "less than or equal to" | "greater than or equal to", limit: number) =>
  `${path}: Invalid value: ${value}: ${path} in body should be ${bound} ${limit}`

const typeError = (path: string, actual: string, expected: string) =>
  `${path}: Invalid value: "${actual}": ${path} in body must be of type ${expected}: "${actual}"`

const quantityPattern = "^[0-9]+(Gi|Mi|Ti)$"

const patternError = (path: string, value: string) => `${path}: Invalid value: ${JSON.stringify(value)}: ${path} in body should match '${quantityPattern}'`

export const rows: ReadonlyArray<Row> = [
  { name: "minimal", spec: { storage }, verdict: accepted, stored: (spec) => assert.deepStrictEqual(spec, fullDefaults) },
  {
    name: "every optional section, empty: the CRD's defaults",
    spec: {
      storage,
      database: { sqlite: {} },
      cache: {},
      s3: { credentialsSecretRef: { secretName: "s3" } },
      percona: {},
      service: {},
      identity: { jwt: { secretRef: { name: "jwt", key: "secret" } }, admin: {} }
    },
    verdict: accepted
  },
  { name: "missing storage", spec: {}, verdict: invalid("spec.storage: Required value") },
  { name: "missing spec", spec: undefined, verdict: invalid("spec: Required value") },
  { name: "missing metadataSize", spec: { storage: {} }, verdict: invalid("spec.storage.metadataSize: Required value") },
  {
    name: "bad quantity pattern",
    spec: { storage: { metadataSize: "10GB" } },
    verdict: invalid(patternError("spec.storage.metadataSize", "10GB"))
  },
  {
    name: "bad cacheSize pattern",
    spec: { storage: { metadataSize: "1Gi", cacheSize: "1.5Gi" } },
    verdict: invalid(patternError("spec.storage.cacheSize", "1.5Gi"))
  },
  { name: "replicas 2", spec: { storage, replicas: 2 }, verdict: invalid(boundError("spec.replicas", 2, "less than or equal to", 1)) },
  { name: "replicas -1", spec: { storage, replicas: -1 }, verdict: invalid(boundError("spec.replicas", -1, "greater than or equal to", 0)) },
  { name: "replicas 0", spec: { storage, replicas: 0 }, verdict: accepted },
  { name: "replicas as a string", spec: { storage, replicas: "1" }, verdict: invalid(typeError("spec.replicas", "string", "integer")) },
  {
    name: "replicas 0.5",
    spec: { storage, replicas: 0.5 },
    verdict: invalid(
      typeError("spec.replicas", "number", "integer"),
      `<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.replicas`
    )
  },
  {
    name: "controlPlane.port 0",
    spec: { storage, controlPlane: { port: 0 } },
    verdict: invalid(boundError("spec.controlPlane.port", 0, "greater than or equal to", 1))
  },
  {
    name: "controlPlane.port 70000",
    spec: { storage, controlPlane: { port: 70000 } },
    verdict: invalid(boundError("spec.controlPlane.port", 70000, "less than or equal to", 65535))
  },
  {
    name: "metrics.port 0",
    spec: { storage, metrics: { enabled: true, port: 0 } },
    verdict: invalid(boundError("spec.metrics.port", 0, "greater than or equal to", 1))
  },
  {
    name: "unknown adapterServices.type",
    spec: { storage, adapterServices: { type: "Internal" } },
    verdict: invalid(enumError("spec.adapterServices.type", "Internal", ["ClusterIP", "NodePort", "LoadBalancer"]))
  },
  {
    name: "unknown service.type",
    spec: { storage, service: { type: "ExternalName" } },
    verdict: invalid(enumError("spec.service.type", "ExternalName", ["ClusterIP", "NodePort", "LoadBalancer"]))
  },
  {
    name: "unknown database.type",
    spec: { storage, database: { type: "mysql" } },
    verdict: invalid(enumError("spec.database.type", "mysql", ["sqlite", "postgres"]))
  },
  {
    name: "unknown rollout.strategy",
    spec: { storage, rollout: { strategy: "Recreate" } },
    verdict: invalid(enumError("spec.rollout.strategy", "Recreate", ["Managed", "RollingUpdate"]))
  },
  {
    name: "unknown identity.type",
    spec: { storage, identity: { type: "ldap" } },
    verdict: invalid(enumError("spec.identity.type", "ldap", ["memory"]))
  },
  {
    name: "a secret reference without its key",
    spec: { storage, database: { postgresSecretRef: { name: "pg" } } },
    verdict: invalid("spec.database.postgresSecretRef.key: Required value")
  },
  {
    name: "unknown fields, pruned at every level",
    spec: { storage: { ...storage, futureSize: "1Gi" }, futureField: "x", adapterServices: { type: "NodePort", futureFlag: true } },
    extra: { futureTopLevel: { a: 1 } },
    verdict: pruned(["storage", "futureSize"], ["futureField"], ["adapterServices", "futureFlag"])
  },
  {
    name: "a pollingInterval string, even one the operator reads as 30s",
    spec: { storage, adapterDiscovery: { pollingInterval: "soon" } },
    verdict: accepted,
    stored: (spec) => assert.deepStrictEqual(spec["adapterDiscovery"], { pollingInterval: "soon" })
  },
  {
    name: "a pollingInterval number",
    spec: { storage, adapterDiscovery: { pollingInterval: 30 } },
    verdict: invalid(typeError("spec.adapterDiscovery.pollingInterval", "integer", "string"))
  },
  {
    name: "nested unknown fields under securityContext, preserved",
    spec: {
      storage,
      securityContext: { runAsNonRoot: true, capabilities: { drop: ["ALL"] }, futureKnob: { depth: { value: 1 } } },
      podSecurityContext: { fsGroup: 65532, futureList: [{ a: null }] },
      resources: { limits: { memory: "1Gi" }, claims: [{ name: "gpu" }] }
    },
    verdict: accepted,
    stored: (spec) => {
      assert.deepStrictEqual(spec["securityContext"], { runAsNonRoot: true, capabilities: { drop: ["ALL"] }, futureKnob: { depth: { value: 1 } } })
      assert.deepStrictEqual(spec["podSecurityContext"], { fsGroup: 65532, futureList: [{ a: null }] })
    }
  },
  {
    name: "a securityContext that is not an object",
    spec: { storage, securityContext: "restricted" },
    verdict: invalid(typeError("spec.securityContext", "string", "object"))
  },
  {
    name: "annotations that are not strings",
    spec: { storage, adapterServices: { annotations: { "lb.example.com/internal": true } } },
    verdict: invalid(typeError("spec.adapterServices.annotations.lb.example.com/internal", "boolean", "string"))
  },
  {
    name: "nulls: a default where the CRD has one, nothing where it has none",
    spec: {
      storage: { metadataSize: "1Gi", cacheSize: null, storageClassName: null },
      replicas: null,
      service: null,
      resources: null,
      adapterServices: { annotations: { "lb.example.com/internal": null, "lb.example.com/scheme": "internal" } }
    },
    verdict: accepted,
    stored: (spec) => {
      assert.strictEqual(spec["replicas"], 1)
      assert.deepStrictEqual(spec["storage"], { metadataSize: "1Gi", cacheSize: "5Gi" })
      assert.notProperty(spec, "service")
      assert.notProperty(spec, "resources")
      assert.deepStrictEqual(spec["adapterServices"], { type: "LoadBalancer", annotations: { "lb.example.com/scheme": "internal" } })
    }
  },
  {
    name: "a null where a value is required",
    spec: { storage: { metadataSize: null } },
    verdict: invalid("spec.storage.metadataSize: Required value")
  },
  {
    name: "an enum value of the wrong type",
    spec: { storage, adapterServices: { type: 5 } },
    verdict: invalid(
      typeError("spec.adapterServices.type", "integer", "string"),
      `spec.adapterServices.type: Unsupported value: 5: supported values: "ClusterIP", "NodePort", "LoadBalancer"`
    )
  },
  {
    name: "two errors at once",
    spec: { storage: { metadataSize: "lots" }, replicas: 3 },
    verdict: invalid(patternError("spec.storage.metadataSize", "lots"), boundError("spec.replicas", 3, "less than or equal to", 1))
  }
]

const prefix = (name: string) => `${DittoServerDomain.kind}.${DittoServerDomain.group} "${name}" is invalid: `

const without = (spec: unknown, path: ReadonlyArray<string>): unknown => {
  const [head, ...rest] = path
  if (head === undefined) return spec
  const fields = fieldsOf(spec)
  if (rest.length === 0) return Object.fromEntries(Object.entries(fields).filter(([key]) => key !== head))
  return { ...fields, [head]: without(fields[head], rest) }
}

const hasPath = (spec: unknown, path: ReadonlyArray<string>): boolean => {
  const [head, ...rest] = path
  if (head === undefined) return true
  const fields = fieldsOf(spec)
  return head in fields && hasPath(fields[head], rest)
}

export const dittoServerSchemaContract = (it: Vitest.MethodsNonLive<Kubernetes | ContractNamespaces>, target: KubernetesContractTarget): void => {
  it.effect("validates DittoServers as the Schema does: each row's verdict on the API server and in Schema.decodeUnknownResult", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes
      const namespace = yield* (yield* ContractNamespaces).fresh
      for (const [index, row] of rows.entries()) {
        const name = `row-${index}`
        const input = {
          apiVersion: DittoServerDomain.apiVersion,
          kind: DittoServerDomain.kind,
          metadata: { name, namespace },
          ...(row.spec === undefined ? {} : { spec: row.spec }),
          ...row.extra
        }
        const decoded = Schema.decodeUnknownResult(DittoServerDomain.DittoServer)(input)
        const written = yield* Effect.result(kubernetes.create(RawDittoServer, input))
        const label = `row "${row.name}"`
        if (row.verdict._tag === "Invalid") {
          assert.isTrue(Result.isFailure(written), `${label}: the API server accepted it`)
          if (Result.isFailure(written)) {
            assert.strictEqual(written.failure.reason, "Invalid", `${label}: ${written.failure.message}`)
            const message = written.failure.message
            if (row.verdict.errors.length === 1) assert.strictEqual(message, `${prefix(name)}${row.verdict.errors[0]}`, label)
            else {
              // The API server lists several errors in no stable order (it walks a Go map).
              assert.isTrue(message.startsWith(`${prefix(name)}[`), `${label}: ${message}`)
              assert.strictEqual(message.length, `${prefix(name)}[${row.verdict.errors.join(", ")}]`.length, `${label}: ${message}`)
              for (const error of row.verdict.errors) assert.include(message, error, label)
            }
          }
          assert.isTrue(Result.isFailure(decoded), `${label}: the Schema decodes what the API server refuses`)
          continue
        }
        assert.isTrue(Result.isSuccess(written), `${label}: ${Result.isFailure(written) ? written.failure.message : ""}`)
        assert.isTrue(Result.isSuccess(decoded), `${label}: the Schema refuses what the API server accepts: ${Result.isFailure(decoded) ? String(decoded.failure) : ""}`)
        if (Result.isFailure(written) || Result.isFailure(decoded)) continue
        const stored = written.success
        const storedSpec = fieldsOf(stored["spec"])
        assert.isTrue(Result.isSuccess(Schema.decodeUnknownResult(DittoServerDomain.DittoServer)(stored)), `${label}: the stored object does not decode`)
        const encodedSpec = fieldsOf((yield* Schema.encodeEffect(DittoServerDomain.DittoServer)(decoded.success).pipe(Effect.orDie)).spec)
        if (row.verdict._tag === "Pruned") {
          for (const path of row.verdict.paths) {
            assert.isFalse(hasPath(storedSpec, path), `${label}: ${path.join(".")} was not pruned`)
            assert.isTrue(hasPath(encodedSpec, path), `${label}: the Schema dropped ${path.join(".")}`)
          }
          for (const key of Object.keys(row.extra ?? {})) assert.notProperty(stored, key, label)
          const kept = row.verdict.paths.reduce(without, encodedSpec)
          assert.deepStrictEqual(storedSpec, kept, `${label}: the API server's and the Schema's defaults differ`)
        } else {
          assert.deepStrictEqual(storedSpec, encodedSpec, `${label}: the API server's and the Schema's defaults differ`)
        }
        row.stored?.(storedSpec)
      }
    }), target.testTimeout === undefined ? undefined : target.testTimeout * 2)
}
