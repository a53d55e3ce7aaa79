import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import * as Backoff from "../../../src/runtime/Backoff.ts"

const seconds = (delays: ReadonlyArray<Duration.Duration>) => delays.map(Duration.toSeconds)

describe("Backoff", () => {
  it.effect("reconcile: 2 s doubling, capped at 5 minutes", () =>
    Effect.map(Backoff.delays(Backoff.reconcileBackoff, 10), (delays) =>
      assert.deepStrictEqual(seconds(delays), [2, 4, 8, 16, 32, 64, 128, 256, 300, 300])))

  it.effect("relist: 1 s doubling, capped at 30 s", () =>
    Effect.map(Backoff.delays(Backoff.relistBackoff, 7), (delays) =>
      assert.deepStrictEqual(seconds(delays), [1, 2, 4, 8, 16, 30, 30])))

  it.effect("a schedule that ends keeps its last delay", () =>
    Effect.map(Backoff.delays(Schedule.spaced("3 seconds").pipe(Schedule.upTo({ times: 2 })), 4), (delays) =>
      assert.deepStrictEqual(seconds(delays), [3, 3, 3, 3])))
})
