/**
 * The operator's health, as checks registered by the parts that run: liveness (`/healthz`: the
 * runtime's fibers are alive) and readiness (`/readyz`: caches synced; leader or standby).
 *
 * Contract: a report is ok only when every check of its kind says so; a check that fails or dies
 * counts as not ok. With no check registered, liveness is ok (the process answers) and readiness
 * is not (nothing has synced).
 */
import { Context, Effect, Layer, Ref } from "effect"

export interface Check {
  readonly name: string
  readonly ok: Effect.Effect<boolean>
}

export interface Report {
  readonly ok: boolean
  readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean }>
}

export interface Api {
  readonly addLiveness: (check: Check) => Effect.Effect<void>
  readonly addReadiness: (check: Check) => Effect.Effect<void>
  readonly liveness: Effect.Effect<Report>
  readonly readiness: Effect.Effect<Report>
}

export class Health extends Context.Service<Health, Api>()("@dittofs-operator/operator/Health") {}

const report = (checks: ReadonlyArray<Check>, whenEmpty: boolean): Effect.Effect<Report> =>
  Effect.map(
    Effect.forEach(checks, (check) =>
      Effect.map(Effect.exit(check.ok), (exit) => ({ name: check.name, ok: exit._tag === "Success" && exit.value }))),
    (results) => ({ ok: results.length === 0 ? whenEmpty : results.every((result) => result.ok), checks: results })
  )

export const make = Effect.gen(function*() {
  const liveness = yield* Ref.make<ReadonlyArray<Check>>([])
  const readiness = yield* Ref.make<ReadonlyArray<Check>>([])
  return Health.of({
    addLiveness: (check) => Ref.update(liveness, (all) => [...all, check]),
    addReadiness: (check) => Ref.update(readiness, (all) => [...all, check]),
    liveness: Effect.flatMap(Ref.get(liveness), (checks) => report(checks, true)),
    readiness: Effect.flatMap(Ref.get(readiness), (checks) => report(checks, false))
  })
})

export const layer = Layer.effect(Health, make)

/** Registers checks when a `Health` service is provided; does nothing otherwise. */
export const register = (kind: "liveness" | "readiness", check: Check): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Health), (health) =>
    health._tag === "None" ? Effect.void : kind === "liveness" ? health.value.addLiveness(check) : health.value.addReadiness(check))

/** The text of a report, one check a line (`ok name` / `failed name`). */
export const render = (name: string, result: Report): string =>
  [...result.checks.map((check) => `[${check.ok ? "+" : "-"}]${check.name} ${check.ok ? "ok" : "failed"}`),
    `${name} check ${result.ok ? "passed" : "failed"}`].join("\n") + "\n"
