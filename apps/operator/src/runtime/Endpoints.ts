/**
 * The operator's HTTP endpoints, on one address (`--health-address`, default `:8081`):
 *
 * - `GET /healthz` — 200 when every liveness check passes (the process and the runtime's fibers
 *   are alive), else 503; the body lists the checks.
 * - `GET /readyz` — 200 when every readiness check passes (every cache has synced; the leader
 *   election knows whether it leads or stands by), else 503.
 * - `GET /metrics` — every metric in the Prometheus text format (Effect's `PrometheusMetrics`).
 */
import { NodeHttpServer } from "@effect/platform-node"
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

/** The routes, on any `HttpRouter`. */
export const routes = Layer.mergeAll(
  probe("healthz", (health) => health.liveness),
  probe("readyz", (health) => health.readiness),
  PrometheusMetrics.layerHttp({ path: "/metrics" })
)

/** Serves the routes on the address, for as long as the layer lives. */
export const layer = (address: Address) =>
  HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: address.port, host: address.host }))
  )
