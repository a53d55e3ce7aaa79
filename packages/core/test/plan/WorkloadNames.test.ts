import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Naming } from "../../src/index.ts"

const runs = { arbitrary: { runs: 500 }, timeout: 60_000 }

/** CR names as the API server accepts them (DNS subdomains up to 253), and worse. */
const ServerName = Schema.Union([
  Schema.Literals([
    "ditto", "a", "1st-server", "1st", "my.server", "a.b.c", "x".repeat(52), "x".repeat(53), "x".repeat(63),
    `${"y".repeat(120)}.${"z".repeat(120)}`, "y".repeat(253), "Upper", "", "-", "a..b"
  ]),
  Schema.String
])

const names = (server: string) => Naming.workloadNames(server)

describe("workloadNames", () => {
  it("are the reference's names when those are valid (contract §3)", () => {
    assert.deepStrictEqual(names("ditto"), {
      statefulSet: "ditto",
      headlessService: "ditto-headless",
      apiService: "ditto-api",
      metricsService: "ditto-metrics",
      configMap: "ditto-config",
      jwtSecret: "ditto-jwt-secret",
      adminCredentials: "ditto-admin-credentials",
      operatorCredentials: "ditto-operator-credentials",
      baselineNetworkPolicy: "ditto-baseline"
    })
  })

  it("keep a dotted CR name where the kind allows dots, and shorten it where it does not", () => {
    const dotted = names("my.server")
    assert.strictEqual(dotted.configMap, "my.server-config")
    assert.strictEqual(dotted.jwtSecret, "my.server-jwt-secret")
    assert.strictEqual(dotted.baselineNetworkPolicy, "my.server-baseline")
    assert.match(dotted.apiService, /^my-server-api-[0-9a-f]{8}$/)
    assert.match(dotted.statefulSet, /^my-server-[0-9a-f]{8}$/)
  })

  it("give a leading-digit CR name Services that start with a letter, and keep its StatefulSet name", () => {
    const digit = names("1st")
    assert.strictEqual(digit.statefulSet, "1st")
    assert.strictEqual(digit.configMap, "1st-config")
    assert.match(digit.headlessService, /^x1st-headless-[0-9a-f]{8}$/)
  })

  it("keep a StatefulSet name of 52 chars and shorten one of 53 (its pods' revision label must fit in 63)", () => {
    assert.strictEqual(names("x".repeat(52)).statefulSet, "x".repeat(52))
    const shortened = names("x".repeat(53)).statefulSet
    assert.isAtMost(shortened.length, 52)
    assert.notStrictEqual(shortened, names("x".repeat(54)).statefulSet)
  })

  // Expected values computed by hand: lowercased, runs of [^a-z0-9] -> "-", trimmed, cut to the
  // kind's length less 9, a trailing "-" dropped, then "-" and 8 hex of the sha256 of the JSON
  // array [server, role] (from `printf '["1st.server","statefulset"]' | sha256sum`).
  const shortened: ReadonlyArray<readonly [server: string, kind: keyof Naming.WorkloadNames, name: string]> = [
    ["1st.server", "statefulSet", "1st-server-da46c2dd"],
    ["my--server.prod", "statefulSet", "my-server-prod-ed3f067c"],
    [`${"a".repeat(42)}.${"b".repeat(20)}`, "statefulSet", `${"a".repeat(42)}-a8e76315`],
    [`1${"a".repeat(249)}`, "configMap", `1${"a".repeat(243)}-c8123c21`]
  ]
  for (const [server, kind, name] of shortened) {
    it(`shorten the ${kind} of ${JSON.stringify(server.length > 16 ? `${server.slice(0, 16)}…` : server)} (vector)`, () => {
      assert.strictEqual(names(server)[kind], name)
    })
  }

  it.prop("are valid for their kinds, deterministic and distinct, for any CR name", { server: ServerName }, ({ server }) => {
    const all = names(server)
    assert.deepStrictEqual(names(server), all)
    assert.isTrue(Naming.isDns1123Label(all.statefulSet) && all.statefulSet.length <= 52, all.statefulSet)
    for (const service of [all.headlessService, all.apiService, all.metricsService]) assert.isTrue(Naming.isDns1035Label(service), service)
    for (const other of [all.configMap, all.jwtSecret, all.adminCredentials, all.operatorCredentials, all.baselineNetworkPolicy]) {
      assert.isTrue(Naming.isDnsSubdomain(other), other)
    }
    const values = Object.values(all).filter((name) => name !== all.statefulSet)
    assert.strictEqual(new Set(values).size, values.length)
  }, runs)

  it.prop("two CR names never share a name of a kind", { a: ServerName, b: ServerName }, ({ a, b }) => {
    if (a === b) return
    const [x, y] = [names(a), names(b)]
    for (const key of Object.keys(x) as Array<keyof Naming.WorkloadNames>) assert.notStrictEqual(x[key], y[key], `${key}: ${a} / ${b}`)
  }, runs)
})
