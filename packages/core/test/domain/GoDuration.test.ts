import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { DittoServer, GoDuration } from "../../src/index.ts"
import { makeServer } from "../fixtures.ts"

const millis = (text: string) => Option.map(GoDuration.parse(text), Duration.toMillis)

describe("GoDuration.parse", () => {
  it("parses what Go's time.ParseDuration accepts", () => {
    assert.deepStrictEqual(millis("30s"), Option.some(30_000))
    assert.deepStrictEqual(millis("1m30s"), Option.some(90_000))
    assert.deepStrictEqual(millis("1.5h"), Option.some(5_400_000))
    assert.deepStrictEqual(millis("500ms"), Option.some(500))
    assert.deepStrictEqual(millis("2h45m"), Option.some(9_900_000))
    assert.deepStrictEqual(millis("1500us"), Option.some(1.5))
    assert.deepStrictEqual(millis("0"), Option.some(0))
    assert.deepStrictEqual(millis("+5s"), Option.some(5000))
    assert.deepStrictEqual(millis(".5s"), Option.some(500))
    assert.deepStrictEqual(millis("1.s"), Option.some(1000))
    assert.deepStrictEqual(millis("-1h30m"), Option.some(-5_400_000))
    assert.deepStrictEqual(millis("-0"), Option.some(0))
    assert.deepStrictEqual(millis("100ns"), Option.some(0.0001))
    assert.deepStrictEqual(millis("3µs"), Option.some(0.003))
    assert.deepStrictEqual(millis("3\u03bcs"), Option.some(0.003))
    assert.deepStrictEqual(millis("1m1m"), Option.some(120_000))
    assert.deepStrictEqual(millis("2562047h"), Option.some(9_223_369_200_000), "Go's largest whole hour")
  })

  it("rejects durations past Go's bound (about 292 years)", () => {
    assert.isTrue(Option.isNone(GoDuration.parse("2562048h")))
  })

  it("rejects what Go rejects", () => {
    for (const text of ["", "30", "s", "5 s", "1d", "abc", "-", "+", "1h-5m", "1e3s", "5S", "1s ", " 1s", "..5s", "1..5s"]) {
      assert.isTrue(Option.isNone(GoDuration.parse(text)), text)
    }
  })
})

describe("DittoServer.pollingInterval", () => {
  const cases: ReadonlyArray<readonly [string, number]> = [
    ["10s", 10_000],
    ["2m", 120_000],
    ["bogus", 30_000],
    ["0s", 30_000],
    ["-5s", 30_000]
  ]

  it.effect("uses the spec's interval, and 30 s when invalid or not positive", () =>
    Effect.forEach(cases, ([text, expected]) =>
      makeServer({ adapterDiscovery: { pollingInterval: text } }).pipe(
        Effect.map((server) =>
          assert.strictEqual(Duration.toMillis(DittoServer.pollingInterval(server.spec)), expected, text)
        )
      )))

  it.effect("defaults to 30 s when adapterDiscovery is absent", () =>
    Effect.map(makeServer(), (server) =>
      assert.strictEqual(Duration.toMillis(DittoServer.pollingInterval(server.spec)), 30_000)))
})
