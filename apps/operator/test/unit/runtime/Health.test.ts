/**
 * The health registry: a report is ok only when every check of its kind is; a check that dies or
 * says no is not ok; with no check, liveness is ok and readiness is not; `register` adds to
 * the kind it names and is a no-op without the service; `render` is one line a check and a verdict.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Health from "../../../src/runtime/Health.ts"

const check = (name: string, ok: Effect.Effect<boolean>): Health.Check => ({ name, ok })
const verdicts = (report: Health.Report) => [report.ok, report.checks.map((c) => `${c.name}:${c.ok}`)] as const

describe("Health", () => {
  it.effect("with no check: alive, not ready", () =>
    Effect.gen(function*() {
      const health = yield* Health.make
      assert.deepStrictEqual(verdicts(yield* health.liveness), [true, []])
      assert.deepStrictEqual(verdicts(yield* health.readiness), [false, []])
    }))

  it.effect("ok only when every check of the kind is; a dying check is not ok", () =>
    Effect.gen(function*() {
      const health = yield* Health.make
      yield* health.addReadiness(check("caches", Effect.succeed(true)))
      assert.deepStrictEqual(verdicts(yield* health.readiness), [true, ["caches:true"]])
      yield* health.addReadiness(check("lease", Effect.succeed(false)))
      assert.deepStrictEqual(verdicts(yield* health.readiness), [false, ["caches:true", "lease:false"]])
      yield* health.addLiveness(check("queue", Effect.succeed(true)))
      yield* health.addLiveness(check("reflector", Effect.die("fiber gone")))
      assert.deepStrictEqual(verdicts(yield* health.liveness), [false, ["queue:true", "reflector:false"]])
      assert.deepStrictEqual(verdicts(yield* health.readiness), [false, ["caches:true", "lease:false"]], "liveness checks stay apart")
    }))

  it.effect("register adds to the kind it names, and does nothing without the service", () =>
    Effect.gen(function*() {
      yield* Health.register("readiness", check("orphan", Effect.succeed(false)))
      const health = yield* Health.make
      const registered = Effect.provideService(Health.Health, health)
      yield* registered(Health.register("liveness", check("alive", Effect.succeed(false))))
      yield* registered(Health.register("readiness", check("ready", Effect.succeed(true))))
      assert.deepStrictEqual(verdicts(yield* health.liveness), [false, ["alive:false"]])
      assert.deepStrictEqual(verdicts(yield* health.readiness), [true, ["ready:true"]])
    }))

  it("renders one line a check and the verdict", () => {
    assert.strictEqual(
      Health.render("readyz", { ok: false, checks: [{ name: "caches", ok: true }, { name: "lease", ok: false }] }),
      "[+]caches ok\n[-]lease failed\nreadyz check failed\n"
    )
    assert.strictEqual(Health.render("healthz", { ok: true, checks: [] }), "healthz check passed\n")
  })
})
