/**
 * The operator's metrics, as Effect `Metric`s in the default registry, served in the Prometheus
 * text format by `PrometheusMetrics` (effect/observability) on `/metrics`.
 *
 * Names follow controller-runtime where one applies (so its dashboards and alerts work): the
 * reconciler's `controller_runtime_*`, the work queue's `workqueue_*` (label `name`, the
 * controller), `leader_election_master_status` and `rest_client_requests_total`; the rest is ours
 * (`dittofs_*`). Durations are in seconds, with controller-runtime's bucket boundaries.
 */
import { Effect, Metric } from "effect"

/** controller-runtime's reconcile-time buckets (seconds). */
const reconcileBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60]
/** client-go's work-queue buckets: 1 µs to 10 s by powers of ten. */
const queueBuckets = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]
/** DittoFS call buckets (seconds): its calls time out after 10 s. */
const pollBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const reconcileTotal = Metric.counter("controller_runtime_reconcile_total", {
  description: "Total number of reconciliations per controller, by result (success, error, requeue_after)",
  incremental: true
})
export const reconcileErrorsTotal = Metric.counter("controller_runtime_reconcile_errors_total", {
  description: "Total number of reconciliation errors per controller",
  incremental: true
})
export const reconcileTimeSeconds = Metric.histogram("controller_runtime_reconcile_time_seconds", {
  description: "Length of time per reconciliation per controller",
  boundaries: reconcileBuckets
})
export const activeWorkers = Metric.gauge("controller_runtime_active_workers", {
  description: "Number of currently used workers per controller"
})
export const maxConcurrentReconciles = Metric.gauge("controller_runtime_max_concurrent_reconciles", {
  description: "Maximum number of concurrent reconciles per controller"
})

export const workqueueDepth = Metric.gauge("workqueue_depth", { description: "Current depth of workqueue" })
export const workqueueAddsTotal = Metric.counter("workqueue_adds_total", {
  description: "Total number of adds handled by workqueue",
  incremental: true
})
export const workqueueRetriesTotal = Metric.counter("workqueue_retries_total", {
  description: "Total number of retries handled by workqueue",
  incremental: true
})
export const workqueueQueueDuration = Metric.histogram("workqueue_queue_duration_seconds", {
  description: "How long in seconds an item stays in workqueue before being requested",
  boundaries: queueBuckets
})
export const workqueueWorkDuration = Metric.histogram("workqueue_work_duration_seconds", {
  description: "How long in seconds processing an item from workqueue takes",
  boundaries: queueBuckets
})

export const leaderStatus = Metric.gauge("leader_election_master_status", {
  description: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master"
})

export const apiRequestsTotal = Metric.counter("rest_client_requests_total", {
  description: "Number of Kubernetes API requests, partitioned by verb and status code",
  incremental: true
})

export const adapterPollTotal = Metric.counter("dittofs_adapter_poll_total", {
  description: "DittoFS adapter polls, by result (success or the error reason)",
  incremental: true
})
export const adapterPollDuration = Metric.histogram("dittofs_adapter_poll_duration_seconds", {
  description: "Duration of a DittoFS adapter poll",
  boundaries: pollBuckets
})
export const adaptersActive = Metric.gauge("dittofs_adapters_active", {
  description: "Adapters enabled and running at the last successful poll, per DittoFS API endpoint"
})
export const tokenRefreshTotal = Metric.counter("dittofs_token_refresh_total", {
  description: "DittoFS token refreshes, by result (success or the error reason)",
  incremental: true
})

/**
 * The metric with these attributes, made once per metric and attribute set: a tagged metric
 * computes its series key (a JSON text of its name, description and sorted attributes) once per
 * instance, so a new instance per update would compute it on every update. The sets are few (verbs
 * and codes, results, one endpoint per server), as the registry's series are.
 */
const taggedMetrics = new WeakMap<Metric.Metric<number, unknown>, Map<string, Metric.Metric<number, unknown>>>()
export const tagged = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>): Metric.Metric<number, unknown> => {
  let byAttributes = taggedMetrics.get(metric)
  if (byAttributes === undefined) {
    byAttributes = new Map()
    taggedMetrics.set(metric, byAttributes)
  }
  const key = JSON.stringify(attributes)
  let found = byAttributes.get(key)
  if (found === undefined) {
    found = Metric.withAttributes(metric, attributes)
    byAttributes.set(key, found)
  }
  return found
}

/** Adds one to a counter with these attributes. */
export const increment = (counter: Metric.Metric<number, unknown>, attributes: Record<string, string>) =>
  Metric.update(tagged(counter, attributes), 1)

/** Sets a gauge (or records a histogram sample) with these attributes. */
export const record = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>, value: number) =>
  Metric.update(tagged(metric, attributes), value)

/** Seconds elapsed since `start` (epoch ms, Effect's Clock). */
export const secondsSince = (start: number) =>
  Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => Math.max(0, now - start) / 1000)
