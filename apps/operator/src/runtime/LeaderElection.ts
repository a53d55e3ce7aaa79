/**
 * Leader election on a `coordination.k8s.io/v1` Lease (client-go's `leaderelection`, with its
 * defaults: lease 15 s, renew deadline 10 s, retry 2 s).
 *
 * Contract:
 * - `decide` is pure: from the Lease as last observed (and when this process first saw that
 *   resourceVersion, by its own clock: no trust in other clocks) it says whether to create the
 *   Lease, take it over, renew it, or follow its holder. A Lease held by someone else is valid
 *   until `observedAt + leaseDurationSeconds`; one with no holder (released) is free at once.
 * - `run` keeps trying every retry period. As leader it renews every retry period; when it has not
 *   renewed for the renew deadline (counted from when the last successful renewal was *sent*) it
 *   steps down: the write fence closes first, then the term's work is interrupted, all before
 *   any follower can see the Lease expire (renew deadline < lease duration).
 * - `fence` is open only while leading and within the renew deadline of the last renewal: a write
 *   gated by it never goes out from a deposed leader, even if the renew loop is stuck.
 * - On shutdown (the scope closes) a leader stops renewing, then releases the Lease (no holder,
 *   duration 1 s), so a follower takes over at its next retry instead of waiting for the lease to
 *   expire; a renewal still in flight never races the release.
 * - `whileLeading(work)` runs `work` during each term and interrupts it when the term ends.
 */
import { Context, Deferred, Duration, Effect, Fiber, Layer, Option, Ref, type Scope } from "effect"
import { K8s, Kubernetes } from "@dittofs-operator/core"
import * as Metrics from "./Metrics.ts"

export interface Config {
  readonly namespace: string
  readonly leaseName: string
  /** This process, as the Lease's holderIdentity (e.g. the pod name). */
  readonly identity: string
  readonly leaseDuration: Duration.Duration
  readonly renewDeadline: Duration.Duration
  readonly retryPeriod: Duration.Duration
}

export const defaults = {
  leaseDuration: Duration.seconds(15),
  renewDeadline: Duration.seconds(10),
  retryPeriod: Duration.seconds(2)
} as const

/** The Lease as observed, and when (epoch ms, this process's clock) its resourceVersion was first seen. */
export interface Observed {
  readonly lease: K8s.Lease
  readonly observedAt: number
}

export type Decision =
  | { readonly _tag: "Create"; readonly lease: K8s.Lease }
  | { readonly _tag: "Acquire"; readonly lease: K8s.Lease }
  | { readonly _tag: "Renew"; readonly lease: K8s.Lease }
  | { readonly _tag: "Follow"; readonly holder: string; readonly expiresAt: number }

/** A Kubernetes MicroTime (RFC 3339 with microseconds, UTC). */
export const microTime = (epochMillis: number): string => new Date(epochMillis).toISOString().replace(/Z$/, "000Z")

/** Keeps the first time a resourceVersion was seen; a new version (or none) is seen now. */
export const observe = (previous: Observed | undefined, lease: K8s.Lease | undefined, now: number): Observed | undefined =>
  lease === undefined
    ? undefined
    : previous !== undefined && previous.lease.metadata.resourceVersion === lease.metadata.resourceVersion
    ? previous
    : { lease, observedAt: now }

const seconds = (duration: Duration.Duration) => Math.max(1, Math.round(Duration.toSeconds(duration)))

/** What to do with the Lease now. */
export const decide = (config: Config, observed: Observed | undefined, now: number): Decision => {
  if (observed === undefined) {
    return {
      _tag: "Create",
      lease: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: config.leaseName, namespace: config.namespace },
        spec: {
          holderIdentity: config.identity,
          leaseDurationSeconds: seconds(config.leaseDuration),
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0
        }
      }
    }
  }
  const { lease, observedAt } = observed
  const holder = lease.spec.holderIdentity ?? ""
  if (holder === config.identity) {
    return {
      _tag: "Renew",
      lease: { ...lease, spec: { ...lease.spec, renewTime: microTime(now), leaseDurationSeconds: seconds(config.leaseDuration) } }
    }
  }
  const expiresAt = observedAt + (lease.spec.leaseDurationSeconds ?? seconds(config.leaseDuration)) * 1000
  if (holder !== "" && now < expiresAt) return { _tag: "Follow", holder, expiresAt }
  return {
    _tag: "Acquire",
    lease: {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: config.identity,
        leaseDurationSeconds: seconds(config.leaseDuration),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1
      }
    }
  }
}

/** The Lease given up: no holder, and a 1 s duration (client-go's release). */
export const released = (lease: K8s.Lease, now: number): K8s.Lease => ({
  ...lease,
  spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now) }
})

export type Status = "Leader" | "Standby" | "Unknown"

export interface Api {
  /** Leader: holds the Lease; Standby: someone else does; Unknown: the Lease could not be read. */
  readonly status: Effect.Effect<Status>
  /** Whether this process may write now. */
  readonly fence: Effect.Effect<boolean>
  /** Runs `work` during each term, interrupted when the term ends; never returns. */
  readonly whileLeading: <R>(work: Effect.Effect<unknown, never, R>) => Effect.Effect<never, never, R>
  /** Whether the election's fiber still runs. */
  readonly alive: Effect.Effect<boolean>
}

export class Leadership extends Context.Service<Leadership, Api>()("@dittofs-operator/operator/Leadership") {}

/** No election: always the leader (one replica, tests, local runs). */
export const alwaysLeader: Api = {
  alive: Effect.succeed(true),
  status: Effect.succeed("Leader"),
  fence: Effect.succeed(true),
  whileLeading: (work) => Effect.andThen(work, Effect.never)
}

export const layerAlwaysLeader = Layer.succeed(Leadership, Leadership.of(alwaysLeader))

type Term =
  | { readonly _tag: "Following"; readonly started: Deferred.Deferred<Deferred.Deferred<void>> }
  | { readonly _tag: "Leading"; readonly ended: Deferred.Deferred<void> }

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** Runs the election in the current scope (see the module's contract). */
export const run = (kubernetes: Kubernetes.Api, config: Config): Effect.Effect<Api, never, Scope.Scope> =>
  Effect.gen(function*() {
    const renewDeadline = Duration.toMillis(config.renewDeadline)
    const observed = yield* Ref.make<Observed | undefined>(undefined)
    const status = yield* Ref.make<Status>("Unknown")
    const validUntil = yield* Ref.make(0)
    const term = yield* Ref.make<Term>({ _tag: "Following", started: yield* Deferred.make<Deferred.Deferred<void>>() })
    const labels = { name: config.leaseName }
    yield* Metrics.record(Metrics.leaderStatus, labels, 0)
    const annotate = Effect.annotateLogs({ lease: `${config.namespace}/${config.leaseName}`, identity: config.identity })

    /** One attempt: true when this process holds the Lease afterwards. */
    const tryAcquireOrRenew = Effect.gen(function*() {
      const at = yield* now
      const current = yield* kubernetes.get(Kubernetes.Resources.Lease, config.namespace, config.leaseName).pipe(
        Effect.asSome,
        Effect.catchTag("KubernetesError", (error) => error.reason === "NotFound" ? Effect.succeedNone : Effect.fail(error))
      )
      const seen = observe(yield* Ref.get(observed), Option.getOrUndefined(current), at)
      yield* Ref.set(observed, seen)
      const decision = decide(config, seen, at)
      if (decision._tag === "Follow") {
        yield* Ref.set(status, "Standby")
        return false
      }
      const written = yield* (decision._tag === "Create"
        ? kubernetes.create(Kubernetes.Resources.Lease, decision.lease)
        : kubernetes.update(Kubernetes.Resources.Lease, decision.lease)).pipe(
          Effect.asSome,
          Effect.catchTag("KubernetesError", (error) =>
            error.reason === "Conflict" || error.reason === "AlreadyExists" ? Effect.succeedNone : Effect.fail(error))
        )
      if (Option.isNone(written)) return false // another candidate wrote first
      yield* Ref.set(observed, { lease: written.value, observedAt: at })
      yield* Ref.set(validUntil, at + renewDeadline)
      if (decision._tag !== "Renew") yield* Effect.logInfo("became leader").pipe(Effect.annotateLogs({ transition: decision._tag }))
      return true
    })

    const startTerm = Effect.gen(function*() {
      const ended = yield* Deferred.make<void>()
      const previous = yield* Ref.getAndSet(term, { _tag: "Leading", ended })
      yield* Ref.set(status, "Leader")
      yield* Metrics.record(Metrics.leaderStatus, labels, 1)
      if (previous._tag === "Following") yield* Deferred.succeed(previous.started, ended)
    })

    const endTerm = Effect.gen(function*() {
      yield* Ref.set(validUntil, 0) // the fence closes before anything else
      const previous = yield* Ref.getAndSet(term, { _tag: "Following", started: yield* Deferred.make<Deferred.Deferred<void>>() })
      yield* Metrics.record(Metrics.leaderStatus, labels, 0)
      if (previous._tag === "Leading") yield* Deferred.succeed(previous.ended, undefined)
    })

    const attempt = tryAcquireOrRenew.pipe(
      Effect.catchTag("KubernetesError", (error) =>
        Effect.as(
          Effect.andThen(
            Ref.update(status, (current) => current === "Leader" ? current : "Unknown"),
            Effect.logWarning("leader election: the Lease could not be read or written").pipe(
              Effect.annotateLogs({ reason: error.reason, error: error.message })
            )
          ),
          false
        ))
    )

    const candidate = Effect.gen(function*() {
      while (!(yield* attempt)) yield* Effect.sleep(config.retryPeriod)
    })

    /** Renews until it cannot within the renew deadline, or someone else holds the Lease. */
    const leader = Effect.gen(function*() {
      for (;;) {
        // the next attempt after a retry period, or at the deadline if that comes first
        const untilDeadline = (yield* Ref.get(validUntil)) - (yield* now)
        yield* Effect.sleep(Duration.min(config.retryPeriod, Duration.millis(Math.max(0, untilDeadline))))
        const sent = yield* now
        const deadline = yield* Ref.get(validUntil)
        if (sent >= deadline) return "renew deadline passed"
        const renewed = yield* attempt.pipe(Effect.timeoutOption(Duration.millis(deadline - sent)))
        if (renewed._tag === "Some" && renewed.value) continue
        if (renewed._tag === "Some" && (yield* Ref.get(status)) === "Standby") return "the Lease is held by another"
      }
    })

    const loop = Effect.forever(
      Effect.gen(function*() {
        yield* candidate
        yield* startTerm
        const reason = yield* leader
        yield* endTerm
        yield* Ref.set(status, "Standby")
        yield* Effect.logWarning("lost leadership: stopped writing").pipe(Effect.annotateLogs({ reason }))
      })
    ).pipe(annotate)

    /** Stops the renew loop first (a renewal racing the release would re-take the Lease or make it stale), then releases. */
    const release = (renewing: Fiber.Fiber<unknown>) => Effect.gen(function*() {
      yield* Fiber.interrupt(renewing)
      const wasLeading = (yield* Ref.get(term))._tag === "Leading" && (yield* now) < (yield* Ref.get(validUntil))
      yield* endTerm
      const seen = yield* Ref.get(observed)
      if (!wasLeading || seen === undefined || seen.lease.spec.holderIdentity !== config.identity) return
      yield* kubernetes.update(Kubernetes.Resources.Lease, released(seen.lease, yield* now)).pipe(
        Effect.timeout(config.retryPeriod),
        Effect.tap(() => Effect.logInfo("released the Lease")),
        Effect.catch((error) => Effect.logWarning("could not release the Lease; it expires on its own").pipe(
          Effect.annotateLogs({ error: String(error) })
        ))
      )
    }).pipe(annotate)

    const fiber = yield* Effect.forkScoped(loop)
    yield* Effect.addFinalizer(() => release(fiber))

    const api: Api = {
      alive: Effect.sync(() => fiber.pollUnsafe() === undefined),
      status: Ref.get(status),
      fence: Effect.flatMap(Ref.get(term), (current) =>
        current._tag === "Leading"
          ? Effect.flatMap(Ref.get(validUntil), (until) => Effect.map(now, (at) => at < until))
          : Effect.succeed(false)),
      whileLeading: (work) =>
        Effect.forever(
          Effect.gen(function*() {
            const current = yield* Ref.get(term)
            const ended = current._tag === "Leading" ? current.ended : yield* Deferred.await(current.started)
            yield* Effect.raceFirst(Effect.andThen(work, Effect.never), Deferred.await(ended))
          })
        )
    }
    return api
  })

export const layer = (config: Config) =>
  Layer.effect(
    Leadership,
    Effect.gen(function*() {
      const kubernetes = yield* Kubernetes.Kubernetes
      return Leadership.of(yield* run(kubernetes, config))
    })
  )
