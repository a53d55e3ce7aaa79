/**
 * Shared test inputs: hostile generators (Schemas, so `it.prop` derives arbitraries from them, and
 * `Arbitrary` values built from Schemas where a Schema alone cannot say it: unicode text, skewed
 * adapter lists) and builders for a DittoServer and its StatefulSet.
 */
import { Arbitrary, Effect, Schema } from "effect"
import { type Adapter, DittoServer, K8s, Ownership } from "../src/index.ts"

/** Adapter types as users and DittoFS may write them: known ones, look-alikes, unicode, punctuation. */
export const HostileType = Schema.Union([
  Schema.Literals(["nfs", "NFS", "smb", "webdav", "Ünfs", "İnfs", "NFS v4!", "___", "", "-", "s3gateway", "kerberos-nfs",
    "custom-adapter-a", "custom-adapter-b", "x-yyyyyyyy", "custom-protocol-adapter-with-a-very-long-descriptive-name-x1"]),
  Schema.String
])

const between = (minimum: number, maximum: number) => Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum, maximum })))

/**
 * One of several arbitraries, by index: list an option twice to make it twice as likely. A
 * failing case shrinks towards the first option, so put the simplest one first.
 */
export const oneOf = <A>(...options: readonly [Arbitrary.Arbitrary<A>, ...ReadonlyArray<Arbitrary.Arbitrary<A>>]) =>
  between(0, options.length - 1).pipe(Arbitrary.flatMap((index) => options[index] ?? options[0]))

/** One of some values, shrinking towards the first (a Schema literal union does not shrink). */
export const pick = <const A>(values: readonly [A, ...ReadonlyArray<A>]): Arbitrary.Arbitrary<A> =>
  between(0, values.length - 1).pipe(Arbitrary.map((index) => values[index] ?? values[0]))

/**
 * Code point classes that have broken naming code somewhere, as [first, count]. The first class
 * is `a`-`z`, so a failing text shrinks towards `a`s plus only the characters that matter.
 */
const codePointClasses: ReadonlyArray<readonly [first: number, count: number]> = [
  [0x61, 26], // a-z
  [0x30, 10], // 0-9
  [0x2d, 1], // -
  [0x41, 26], // A-Z: lowercases into the allowed set
  [0x20, 16], // space and ASCII punctuation (!"#$%&'()*+,-./)
  [0x5f, 1], // _
  [0x130, 1], // U+0130 İ: one code point, two when lowercased by JS, "i" by Go
  [0x212a, 1], // U+212A Kelvin sign: lowercases to ASCII k
  [0x131, 1], // U+0131 dotless ı: uppercases to I, stays outside [a-z]
  [0xc0, 0x190], // Latin-1 and Latin Extended letters (À Ü ß ...)
  [0x300, 0x70], // combining marks (a + U+0301 is "á" on screen, two code points)
  [0x391, 0x40], // Greek (Σ lowercases by context)
  [0x400, 0x100], // Cyrillic (look-alikes of Latin letters)
  [0x4e00, 0x5200], // CJK
  [0xd800, 0x400], // lone high surrogates
  [0xdc00, 0x400], // lone low surrogates
  [0x10000, 0x100000] // astral: emoji, mathematical letters (U+1D400 𝐀), private use
]

const codePoint = Arbitrary.all([between(0, codePointClasses.length - 1), between(0, 0xfffff)]).pipe(
  Arbitrary.map(([kind, offset]) => {
    const [first, count] = codePointClasses[kind] ?? [0x61, 26]
    return String.fromCodePoint(first + (offset % count))
  })
)

const maxTextLength = 300

/**
 * Unicode text of up to 300 code points: hostile code points around a run of one repeated code
 * point (long names). Every part shrinks on its own: the run towards empty, the code points
 * towards `a`, so a failure shrinks to a short text of the characters that matter.
 */
export const UnicodeText: Arbitrary.Arbitrary<string> = Arbitrary.all([
  Arbitrary.array(codePoint, { maxLength: maxTextLength }),
  codePoint,
  between(0, maxTextLength),
  Arbitrary.array(codePoint, { maxLength: maxTextLength })
]).pipe(Arbitrary.map(([head, filler, repeat, tail]) => {
  const run = Array.from({ length: Math.max(0, Math.min(repeat, maxTextLength - head.length - tail.length)) }, () => filler)
  return [...head, ...run, ...tail].slice(0, maxTextLength).join("")
}))

/** Adapter types as DittoFS may report them: known ones, other spellings of them, unicode text. */
export const AdapterType: Arbitrary.Arbitrary<string> = oneOf(
  pick(["nfs", "smb", "webdav", "s3", "nfs4", "kerberos-nfs", "s3gateway"]),
  pick(["NFS", "Smb", "NFS v4!", "\u0130nfs", "nfs_4", "--nfs--", "custom-adapter-a", "Custom-Adapter-A"]),
  UnicodeText.pipe(Arbitrary.filter((text) => text.length > 0))
)

const usualPorts = pick([2049, 12049, 445, 12445, 8000, 9000])

/** Ports as adapters report them: mostly the usual ones, sometimes the server's own (8080, 9090), any. */
export const AdapterPortNumber: Arbitrary.Arbitrary<number> = oneOf(
  usualPorts,
  usualPorts,
  between(1, 65535),
  pick([8080, 9090])
)

/** Mostly enabled and running (shrinks to that); sometimes stopped, disabled, or both. */
const activity = between(0, 7).pipe(Arbitrary.map((n) => ({
  enabled: n !== 5 && n !== 7,
  running: n !== 6 && n !== 7
})))

export const AnAdapter: Arbitrary.Arbitrary<Adapter.Adapter> = Arbitrary.all([AdapterType, AdapterPortNumber, activity]).pipe(
  Arbitrary.map(([type, port, { enabled, running }]) => ({ type, port, enabled, running }))
)

const several = Arbitrary.array(AnAdapter, { minLength: 2, maxLength: 8 })

/**
 * Adapter lists skewed towards several active adapters (two to eight, most of them enabled and
 * running, duplicates and collisions possible); sometimes empty or short. Shrinks towards `[]`.
 */
export const AdapterListOf: Arbitrary.Arbitrary<Array<Adapter.Adapter>> = oneOf(
  Arbitrary.Constant<Array<Adapter.Adapter>>([]),
  Arbitrary.array(AnAdapter, { minLength: 1, maxLength: 2 }),
  several,
  several,
  several,
  several
)

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

/** A ConfigMap of that name that nobody owns: a foreign object to a server whose name it takes. */
export const strayConfigMap = (name: string): K8s.ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: {} })

/** A Service of that name that nobody owns, on an unrelated port. */
export const strayService = (name: string): K8s.Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { type: "ClusterIP", ports: [{ name: "x", port: 1 }] }
})

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
