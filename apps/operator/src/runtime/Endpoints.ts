/**
 * The operator's HTTP endpoints: the probes on `--health-address` (default `:8081`), the metrics
 * on `--metrics-address` (default `:8080`); one server when both are the same:
 *
 * - `GET /healthz` — 200 when every liveness check passes (the process and the runtime's fibers
 *   are alive), else 503; the body lists the checks.
 * - `GET /readyz` — 200 when every readiness check passes (every cache has synced; the leader
 *   election knows whether it leads or stands by), else 503.
 * - `GET /metrics` — every metric in the Prometheus text format (Effect's `PrometheusMetrics`).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { createServer } from "node:http"
import * as Health from "./Health.ts"

export interface Address {
  readonly host: string
  readonly port: number
}

/** Parses `host:port`, `:port` or `port` (host default: every interface). */
export const parseAddress = (text: string): Address | undefined => {
  const match = /^(?:(.*):)?(\d{1,5})$/.exec(text.trim())
  if (match === null) return undefined
  const port = Number(match[2])
  if (port > 65535) return undefined
  const host = match[1] === undefined || match[1] === "" ? "0.0.0.0" : match[1].replace(/^\[(.*)\]$/, "$1")
  return { host, port }
}

const probe = (name: string, report: (health: Health.Api) => Effect.Effect<Health.Report>) =>
  HttpRouter.add(
    "GET",
    `/${name}`,
    Effect.gen(function*() {
      const health = yield* Health.Health
      const result = yield* report(health)
      return HttpServerResponse.text(Health.render(name, result), { status: result.ok ? 200 : 503 })
    })
  )

export const probes = Layer.merge(
  probe("healthz", (health) => health.liveness),
  probe("readyz", (health) => health.readiness)
)

export const metrics = PrometheusMetrics.layerHttp({ path: "/metrics" })

/** The routes, on any `HttpRouter`. */
export const routes = Layer.merge(probes, metrics)

const serve = <E, R>(address: Address, app: Layer.Layer<never, E, R>) =>
  HttpRouter.serve(app, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: address.port, host: address.host }))
  )

const same = (a: Address, b: Address) => a.host === b.host && a.port === b.port

/** Serves the probes and the metrics (either may be off), for as long as the layer lives. */
export const layer = (health: Address | undefined, metricsAddress: Address | undefined = health) => {
  if (health !== undefined && metricsAddress !== undefined && same(health, metricsAddress)) return serve(health, routes)
  return Layer.merge(
    health === undefined ? Layer.empty : serve(health, probes),
    metricsAddress === undefined ? Layer.empty : serve(metricsAddress, metrics)
  )
}
