/**
 * Leader election: the pure decision, then electors on one in-memory API server (behind scripted
 * faults: cut off, refused or lost writes, hung calls, a held release) driven by
 * the TestClock — one leads, the other follows; a leader that cannot renew closes its fence
 * before the follower can take over (never two writers); a released Lease is taken at the next
 * retry; the term's work runs only while leading.
 */
import { assert, describe, it } from "@effect/vitest"
import { type K8s, Kubernetes } from "@dittofs-operator/core"
import { KubernetesMemory } from "@dittofs-operator/core/testing"
import { Clock, Deferred, Duration, Effect, Exit, Fiber, Ref, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as LeaderElection from "../../../src/runtime/LeaderElection.ts"
import { capture, logged } from "./Logs.ts"

const config = (identity: string): LeaderElection.Config => ({
  namespace: "ops",
  leaseName: "dittofs-operator",
  identity,
  ...LeaderElection.defaults
})

const lease = (holder: string, resourceVersion: string, duration = 15): K8s.Lease => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "dittofs-operator", namespace: "ops", resourceVersion },
  spec: { holderIdentity: holder, leaseDurationSeconds: duration, leaseTransitions: 3, renewTime: "2026-01-01T00:00:00.000000Z" }
})

describe("LeaderElection.decide", () => {
  it("creates a missing Lease, holding it", () => {
    const decision = LeaderElection.decide(config("a"), undefined, 0)
    assert.strictEqual(decision._tag, "Create")
    if (decision._tag === "Create") {
      assert.strictEqual(decision.lease.spec.holderIdentity, "a")
      assert.strictEqual(decision.lease.spec.leaseDurationSeconds, 15)
      assert.strictEqual(decision.lease.spec.renewTime, "1970-01-01T00:00:00.000000Z")
    }
  })

  it("follows a holder until lease duration after it first saw the version (its own clock), then takes over", () => {
    const seen = LeaderElection.observe(undefined, lease("b", "7"), 1_000)
    assert.deepStrictEqual(LeaderElection.decide(config("a"), seen, 15_999), { _tag: "Follow", holder: "b", expiresAt: 16_000 })
    // the same version seen later keeps its first sighting; a new version restarts the count
    const again = LeaderElection.observe(seen, lease("b", "7"), 10_000)
    assert.strictEqual(again?.observedAt, 1_000)
    assert.strictEqual(LeaderElection.observe(seen, lease("b", "8"), 10_000)?.observedAt, 10_000)
    const takeover = LeaderElection.decide(config("a"), again, 16_000)
    assert.strictEqual(takeover._tag, "Acquire")
    if (takeover._tag === "Acquire") {
      assert.strictEqual(takeover.lease.spec.holderIdentity, "a")
      assert.strictEqual(takeover.lease.spec.leaseTransitions, 4)
      assert.strictEqual(takeover.lease.metadata.resourceVersion, "7", "written at the version read: a racing candidate gets a Conflict")
    }
  })

  it("takes a released Lease (no holder) at once, and renews its own", () => {
    const free = LeaderElection.observe(undefined, LeaderElection.released(lease("b", "7"), 5_000), 5_000)
    assert.strictEqual(LeaderElection.decide(config("a"), free, 5_000)._tag, "Acquire")
    const mine = LeaderElection.observe(undefined, lease("a", "9"), 0)
    const renew = LeaderElection.decide(config("a"), mine, 2_000)
    assert.strictEqual(renew._tag, "Renew")
    if (renew._tag === "Renew") {
      assert.strictEqual(renew.lease.spec.renewTime, "1970-01-01T00:00:02.000000Z")
      assert.strictEqual(renew.lease.spec.leaseTransitions, 3)
    }
  })
})

describe("LeaderElection: durations, times and what a Lease lacks", () => {
  it("writes whole seconds, at least one, and MicroTime with microseconds", () => {
    const durationOf = (leaseDuration: Duration.Input) => {
      const decision = LeaderElection.decide({ ...config("a"), leaseDuration: Duration.fromInputUnsafe(leaseDuration) }, undefined, 0)
      return decision._tag === "Create" ? decision.lease.spec.leaseDurationSeconds : undefined
    }
    assert.deepStrictEqual([durationOf("200 millis"), durationOf("1400 millis"), durationOf("2600 millis"), durationOf("15 seconds")], [1, 1, 3, 15])
    assert.strictEqual(LeaderElection.microTime(Date.UTC(2026, 10, 30, 12, 0, 1, 234)), "2026-11-30T12:00:01.234000Z")
  })

  it("counts a Lease without a duration by its own, its first transition as 1, and renews with its own duration", () => {
    const { leaseDurationSeconds: _d, leaseTransitions: _t, ...bare } = lease("b", "7").spec
    const seen = LeaderElection.observe(undefined, { ...lease("b", "7"), spec: bare }, 0)
    assert.deepStrictEqual(LeaderElection.decide(config("a"), seen, 14_999), { _tag: "Follow", holder: "b", expiresAt: 15_000 })
    const taken = LeaderElection.decide(config("a"), seen, 15_000)
    assert.strictEqual(taken._tag === "Acquire" ? taken.lease.spec.leaseTransitions : undefined, 1)
    const renewed = LeaderElection.decide(config("a"), LeaderElection.observe(undefined, lease("a", "9", 60), 0), 1_000)
    assert.strictEqual(renewed._tag === "Renew" ? renewed.lease.spec.leaseDurationSeconds : undefined, 15)
  })

  it("takes a Lease that names no holder at all at once, like a released one", () => {
    const { holderIdentity: _holder, ...unheld } = lease("b", "7").spec
    const seen = LeaderElection.observe(undefined, { ...lease("b", "7"), spec: unheld }, 1_000)
    assert.strictEqual(LeaderElection.decide(config("a"), seen, 1_000)._tag, "Acquire")
  })

  it("forgets a Lease that is gone, and releases one with no holder for a second", () => {
    assert.isUndefined(LeaderElection.observe(LeaderElection.observe(undefined, lease("b", "7"), 0), undefined, 5))
    const released = LeaderElection.released(lease("a", "9"), 3_000)
    assert.deepStrictEqual([released.spec.holderIdentity, released.spec.leaseDurationSeconds, released.spec.renewTime, released.spec.acquireTime], [
      "",
      1,
      "1970-01-01T00:00:03.000000Z",
      "1970-01-01T00:00:03.000000Z"
    ])
    assert.strictEqual(released.spec.leaseTransitions, 3, "a release is no transition")
  })
})

/**
 * The Kubernetes service with scripted faults on the Lease's calls (get, create, update):
 * - `cut`: every call fails with `Unavailable` (a partitioned replica);
 * - `failNext`: the next create or update fails with that reason, once;
 * - `hang`: every call waits forever;
 * - `holdNextUpdate`: the next update waits until that Deferred is done.
 */
interface Faults {
  readonly cut: Ref.Ref<boolean>
  readonly failNext: Ref.Ref<Kubernetes.ErrorReason | undefined>
  readonly hang: Ref.Ref<boolean>
  readonly holdNextUpdate: Ref.Ref<Deferred.Deferred<void> | undefined>
}

const makeFaults = Effect.all({
  cut: Ref.make(false),
  failNext: Ref.make<Kubernetes.ErrorReason | undefined>(undefined),
  hang: Ref.make(false),
  holdNextUpdate: Ref.make<Deferred.Deferred<void> | undefined>(undefined)
})

const failure = (reason: Kubernetes.ErrorReason, message: string) =>
  Effect.fail(new Kubernetes.KubernetesError({ reason, message, operation: "test" }))

const faulty = (api: Kubernetes.Api, faults: Faults): Kubernetes.Api => {
  const gate = <A, E, R>(effect: Effect.Effect<A, E | Kubernetes.KubernetesError, R>) =>
    Effect.flatMap(Ref.get(faults.hang), (hang) =>
      hang ? Effect.never : Effect.flatMap(Ref.get(faults.cut), (down) => (down ? failure("Unavailable", "partitioned") : effect)))
  const write = <A, E, R>(effect: Effect.Effect<A, E | Kubernetes.KubernetesError, R>) =>
    gate(Effect.flatMap(Ref.getAndSet(faults.failNext, undefined), (reason) =>
      reason === undefined ? effect : failure(reason, `scripted ${reason}`)))
  return {
    ...api,
    get: (resource, namespace, name) => gate(api.get(resource, namespace, name)),
    create: (resource, object) => write(api.create(resource, object)),
    update: (resource, object) =>
      Effect.flatMap(Ref.getAndSet(faults.holdNextUpdate, undefined), (held) =>
        Effect.andThen(held === undefined ? Effect.void : Deferred.await(held), write(api.update(resource, object))))
  }
}

/** Counts the terms `whileLeading` started; `count` reads how many and whether one is running now. */
const countTerms = (elected: LeaderElection.Api) =>
  Effect.gen(function*() {
    const terms = yield* Ref.make(0)
    const running = yield* Ref.make(false)
    const work = Effect.andThen(Ref.update(terms, (n) => n + 1), Effect.andThen(Ref.set(running, true), Effect.never)).pipe(
      Effect.onInterrupt(() => Ref.set(running, false))
    )
    yield* Effect.forkScoped(elected.whileLeading(work))
    return { count: Effect.all([Ref.get(terms), Ref.get(running)]) }
  })

const warnings = Effect.map(logged, (lines) =>
  lines.filter((line) => line.level === "WARN").map((line) => [line.message, line.annotations["reason"] ?? line.annotations["error"]]))

/** An elector in a scope of its own, on the in-memory API server behind scripted faults. */
const electorWithFaults = (identity: string) =>
  Effect.gen(function*() {
    const faults = yield* makeFaults
    const scope = yield* Scope.make()
    const elected = yield* Scope.provide(LeaderElection.run(faulty(yield* Kubernetes.Kubernetes, faults), config(identity)), scope)
    return { faults, elected, scope }
  })

/** The Lease as the API server holds it now. */
const currentLease = Effect.flatMap(Kubernetes.Kubernetes, (k) => k.get(Kubernetes.Resources.Lease, "ops", "dittofs-operator"))

const holder = Effect.map(currentLease, (found) => found.spec.holderIdentity)

const tick = (duration: Duration.Input) => Effect.andThen(TestClock.adjust(duration), Effect.yieldNow)

describe("LeaderElection.run", () => {
  it.effect("logs becoming leader once, with how, and not on each renewal", () =>
    Effect.gen(function*() {
      yield* LeaderElection.run(yield* Kubernetes.Kubernetes, config("a"))
      yield* tick("1 millis")
      yield* tick("10 seconds")
      const became = (yield* logged).filter((line) => line.message === "became leader")
      assert.deepStrictEqual(became.map((line) => [line.level, line.annotations["transition"], line.annotations["identity"], line.annotations["lease"]]), [
        ["INFO", "Create", "a", "ops/dittofs-operator"]
      ])
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("one leader; a partitioned leader stops writing before the follower takes over; never two writers", () =>
    Effect.gen(function*() {
      const { elected: a, faults: { cut: cutA }, scope: scopeA } = yield* electorWithFaults("a")
      yield* tick("1 millis")
      const b = yield* LeaderElection.run(yield* Kubernetes.Kubernetes, config("b"))
      yield* tick("1 millis")
      assert.deepStrictEqual([yield* a.status, yield* b.status], ["Leader", "Standby"])
      assert.deepStrictEqual([yield* a.fence, yield* b.fence], [true, false])
      assert.strictEqual(yield* holder, "a")

      // renewals keep a in office
      yield* tick("30 seconds")
      assert.deepStrictEqual([yield* a.fence, yield* b.fence], [true, false])

      // a is cut off from the API server at t0: its last successful renewal was sent at most
      // 2 s before; it stops writing by 10 s after it, b takes over 15 s after it saw it
      yield* Ref.set(cutA, true)
      let aStopped: number | undefined
      let bStarted: number | undefined
      for (let second = 1; second <= 25; second++) {
        yield* tick("1 second")
        const [fenceA, fenceB] = [yield* a.fence, yield* b.fence]
        assert.isFalse(fenceA && fenceB, `two writers at t0+${second}s`)
        if (!fenceA && aStopped === undefined) aStopped = second
        if (fenceB && bStarted === undefined) bStarted = second
      }
      assert.isDefined(aStopped)
      assert.isDefined(bStarted)
      assert.isAtMost(aStopped!, 10)
      assert.isAtLeast(bStarted! - aStopped!, 3, "a margin of lease duration - renew deadline, less a retry")
      assert.isAtMost(bStarted!, 17)
      assert.strictEqual(yield* holder, "b")
      assert.strictEqual(yield* a.status, "Unknown", "a cannot read the Lease: neither leader nor standby (not ready)")

      // a comes back: it follows
      yield* Ref.set(cutA, false)
      yield* tick("5 seconds")
      assert.deepStrictEqual([yield* a.status, yield* a.fence, yield* b.fence], ["Standby", false, true])
      yield* Scope.close(scopeA, Exit.void)
    }).pipe(Effect.scoped, Effect.provide(KubernetesMemory.layer())))

  it.effect("a leader that stops releases the Lease; the follower takes over at its next retry", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const scopeA = yield* Scope.make()
      const a = yield* Scope.provide(LeaderElection.run(kubernetes, config("a")), scopeA)
      yield* tick("1 millis")
      const b = yield* LeaderElection.run(kubernetes, config("b"))
      yield* tick("5 seconds")
      assert.deepStrictEqual([yield* a.fence, yield* b.fence], [true, false])
      const before = yield* currentLease
      yield* Scope.close(scopeA, Exit.void)
      assert.strictEqual(yield* holder, "", "released: no holder")
      assert.isFalse(yield* a.fence)
      yield* tick("2 seconds")
      assert.isTrue(yield* b.fence, "taken within one retry period, not a lease duration")
      const after = yield* currentLease
      assert.strictEqual(after.spec.holderIdentity, "b")
      assert.strictEqual(after.spec.leaseTransitions, (before.spec.leaseTransitions ?? 0) + 1)
    }).pipe(Effect.scoped, Effect.provide(KubernetesMemory.layer())))

  it.effect("a leader renews every retry period within one term; a failed renewal keeps it Leader until the renew deadline", () =>
    Effect.gen(function*() {
      const { elected: a, faults: { cut }, scope: scopeA } = yield* electorWithFaults("a")
      const termsOf = yield* Scope.provide(countTerms(a), scopeA)
      yield* tick("1 millis")
      const renewTime = Effect.map(currentLease, (found) => found.spec.renewTime)
      assert.strictEqual(yield* renewTime, "1970-01-01T00:00:00.000000Z")
      yield* tick("2 seconds")
      assert.strictEqual(yield* renewTime, "1970-01-01T00:00:02.000000Z", "renewed one retry period later")
      for (let second = 0; second < 60; second++) {
        yield* tick("1 second")
        assert.strictEqual(yield* a.status, "Leader")
      }
      assert.deepStrictEqual(yield* termsOf.count, [1, true], "one term for a minute of renewals")
      assert.deepStrictEqual(yield* warnings, [])

      // cut off at t: the failed renewals are warned about; still Leader (and writing) until the
      // renew deadline, 10 s after the last renewal was sent (at most 2 s before t)
      yield* Ref.set(cut, true)
      yield* tick("3 seconds")
      assert.deepStrictEqual([yield* a.status, yield* a.fence], ["Leader", true])
      assert.deepStrictEqual((yield* warnings)[0], ["leader election: the Lease could not be read or written", "Unavailable"])
      yield* tick("8 seconds")
      assert.deepStrictEqual([yield* a.fence, yield* termsOf.count], [false, [1, false]])
      assert.deepStrictEqual((yield* warnings).filter(([message]) => message === "lost leadership: stopped writing"), [
        ["lost leadership: stopped writing", "renew deadline passed"]
      ])
      // stopped while deposed (and still cut off): no release is tried
      yield* Scope.close(scopeA, Exit.void)
      assert.isFalse(yield* a.alive, "the election's fiber ends with its scope")
      assert.deepStrictEqual((yield* warnings).filter(([message]) => message === "could not release the Lease; it expires on its own"), [])
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("a leader whose Lease another took steps down at its next renewal, not at the deadline", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const a = yield* LeaderElection.run(kubernetes, config("a"))
      const termsOf = yield* countTerms(a)
      yield* tick("1 millis")
      assert.deepStrictEqual([yield* a.status, yield* a.alive, yield* termsOf.count], ["Leader", true, [1, true]])
      const current = yield* kubernetes.get(Kubernetes.Resources.Lease, "ops", "dittofs-operator")
      yield* kubernetes.update(Kubernetes.Resources.Lease, { ...current, spec: { ...current.spec, holderIdentity: "intruder" } })
      yield* tick("2 seconds")
      assert.deepStrictEqual([yield* a.status, yield* a.fence, yield* termsOf.count], ["Standby", false, [1, false]])
      assert.deepStrictEqual(yield* warnings, [["lost leadership: stopped writing", "the Lease is held by another"]])
      assert.strictEqual(yield* holder, "intruder", "the other holder's Lease is left alone")
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("a renewal that hangs ends the term at the renew deadline", () =>
    Effect.gen(function*() {
      const faults = yield* makeFaults
      const a = yield* LeaderElection.run(faulty(yield* Kubernetes.Kubernetes, faults), config("a"))
      const termsOf = yield* countTerms(a)
      yield* tick("1 millis")
      yield* Ref.set(faults.hang, true)
      yield* tick("9 seconds")
      assert.deepStrictEqual(yield* termsOf.count, [1, true])
      yield* tick("2 seconds")
      assert.deepStrictEqual([yield* a.fence, yield* termsOf.count], [false, [1, false]], "the hung renewal did not keep the term")
      assert.deepStrictEqual(yield* warnings, [["lost leadership: stopped writing", "renew deadline passed"]])
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("losing a write race (AlreadyExists, Conflict) is retried quietly; a refused write is warned about", () =>
    Effect.gen(function*() {
      const faults = yield* makeFaults
      yield* Ref.set(faults.failNext, "AlreadyExists")
      const a = yield* LeaderElection.run(faulty(yield* Kubernetes.Kubernetes, faults), config("a"))
      yield* tick("1 millis")
      assert.deepStrictEqual([yield* a.status, yield* a.fence], ["Unknown", false], "a lost create is no term")
      yield* tick("2 seconds")
      assert.deepStrictEqual([yield* a.status, yield* a.fence], ["Leader", true])
      yield* Ref.set(faults.failNext, "Conflict")
      yield* tick("2 seconds")
      yield* tick("2 seconds")
      assert.deepStrictEqual([yield* a.status, yield* a.fence, yield* holder], ["Leader", true, "a"])
      assert.deepStrictEqual(yield* warnings, [])
      yield* Ref.set(faults.failNext, "Forbidden")
      yield* tick("2 seconds")
      assert.deepStrictEqual(yield* warnings, [["leader election: the Lease could not be read or written", "Forbidden"]])
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("on shutdown a leader says it released the Lease, or why it could not", () =>
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      const scopeA = yield* Scope.make()
      yield* Scope.provide(LeaderElection.run(kubernetes, config("a")), scopeA)
      yield* tick("1 millis")
      yield* Scope.close(scopeA, Exit.void)
      assert.isTrue((yield* logged).some((line) => line.level === "INFO" && line.message === "released the Lease"))

      const { faults, scope: scopeB } = yield* electorWithFaults("b")
      yield* tick("2 seconds")
      assert.strictEqual(yield* holder, "b")
      yield* Ref.set(faults.cut, true)
      yield* Scope.close(scopeB, Exit.void)
      const failed = (yield* logged).filter((line) => line.message === "could not release the Lease; it expires on its own")
      assert.strictEqual(failed.length, 1)
      assert.include(String(failed[0]?.annotations["error"]), "partitioned")
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("a release that takes a while is not raced by a renewal: the Lease ends up released", () =>
    Effect.gen(function*() {
      const { elected: _a, faults, scope: scopeA } = yield* electorWithFaults("a")
      yield* tick("1500 millis") // the next renewal is due at 2 s
      const proceed = yield* Deferred.make<void>()
      yield* Ref.set(faults.holdNextUpdate, proceed) // the release's update waits for `proceed`
      const closing = yield* Effect.forkChild(Scope.close(scopeA, Exit.void))
      yield* tick("1 second") // the renewal's time passes while the release waits (within its 2 s timeout)
      yield* Deferred.succeed(proceed, undefined)
      yield* Fiber.join(closing)
      assert.strictEqual(yield* holder, "", "released, not renewed meanwhile")
      assert.isTrue((yield* logged).some((line) => line.message === "released the Lease"))
    }).pipe(Effect.scoped, capture, Effect.provide(KubernetesMemory.layer())))

  it.effect("the fence shuts at the renew deadline even before the renewal loop wakes, and a stop then releases nothing", () =>
    Effect.gen(function*() {
      // a clock ahead of the TestClock by `skew`: time passes for the fence without waking any sleeper
      const base = yield* Clock.Clock
      let skew = 0
      const ahead: Clock.Clock = {
        currentTimeMillisUnsafe: () => base.currentTimeMillisUnsafe() + skew,
        currentTimeMillis: Effect.map(base.currentTimeMillis, (millis) => millis + skew),
        currentTimeNanosUnsafe: () => base.currentTimeNanosUnsafe() + BigInt(skew) * 1_000_000n,
        currentTimeNanos: Effect.map(base.currentTimeNanos, (nanos) => nanos + BigInt(skew) * 1_000_000n),
        monotonicTimeNanosUnsafe: () => base.monotonicTimeNanosUnsafe(),
        monotonicTimeNanos: base.monotonicTimeNanos,
        sleep: (duration) => base.sleep(duration)
      }
      const scopeA = yield* Scope.make()
      const a = yield* Scope.provide(LeaderElection.run(yield* Kubernetes.Kubernetes, config("a")), scopeA).pipe(
        Effect.provideService(Clock.Clock, ahead)
      )
      yield* tick("1 millis")
      skew = 9_998 // the Lease was written at 0: 1 ms before the renew deadline
      assert.deepStrictEqual([yield* a.status, yield* a.fence.pipe(Effect.provideService(Clock.Clock, ahead))], ["Leader", true])
      skew = 9_999 // at the deadline
      assert.isFalse(yield* a.fence.pipe(Effect.provideService(Clock.Clock, ahead)))
      yield* Scope.close(scopeA, Exit.void).pipe(Effect.provideService(Clock.Clock, ahead))
      assert.strictEqual(yield* holder, "a", "past its deadline a leader no longer touches the Lease, not even to release it")
    }).pipe(Effect.scoped, Effect.provide(KubernetesMemory.layer())))

  it.effect("whileLeading runs the work during each term only, interrupted when the term ends", () =>
    Effect.gen(function*() {
      const { elected, faults: { cut }, scope } = yield* electorWithFaults("a")
      const termsOf = yield* Scope.provide(countTerms(elected), scope)
      yield* tick("1 millis")
      assert.deepStrictEqual(yield* termsOf.count, [1, true])
      yield* Ref.set(cut, true)
      yield* tick("12 seconds")
      assert.deepStrictEqual(yield* termsOf.count, [1, false], "interrupted when the term ended")
      yield* Ref.set(cut, false)
      yield* tick("2 seconds")
      assert.deepStrictEqual(yield* termsOf.count, [2, true], "a new term, the work again")
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.scoped, Effect.provide(KubernetesMemory.layer())))
})
