/**
 * A small, dependency-free measuring harness for benchmarks: warm-up, then timed batches;
 * reports mean, p50, p99 per operation and the machine it ran on. Benchmarks, not tests: they
 * assert nothing and are run by `pnpm bench`.
 */
import { cpus, totalmem } from "node:os"
import { performance } from "node:perf_hooks"

export interface Measurement {
  readonly name: string
  readonly iterations: number
  readonly meanMicros: number
  readonly p50Micros: number
  readonly p99Micros: number
  readonly opsPerSecond: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN

/** Runs `operation` in batches for about `millis` ms after a warm-up; times each batch. */
export const measure = (name: string, operation: () => unknown, millis = 1000): Measurement => {
  const warmUntil = performance.now() + millis / 4
  let sink: unknown
  while (performance.now() < warmUntil) sink = operation()
  let batch = 1
  for (;;) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) sink = operation()
    if (performance.now() - start > 2 || batch >= 1 << 20) break
    batch *= 2
  }
  const samples: Array<number> = []
  let iterations = 0
  const until = performance.now() + millis
  while (performance.now() < until) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) sink = operation()
    samples.push(((performance.now() - start) * 1000) / batch)
    iterations += batch
  }
  if (sink === Symbol.for("never")) console.log(sink)
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  return {
    name,
    iterations,
    meanMicros: mean,
    p50Micros: percentile(sorted, 0.5),
    p99Micros: percentile(sorted, 0.99),
    opsPerSecond: 1e6 / mean
  }
}

export const machine = (): string =>
  `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`

export const table = (rows: ReadonlyArray<Measurement>): string =>
  [
    "| case | mean µs | p50 µs | p99 µs | ops/s | iterations |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.name} | ${r.meanMicros.toFixed(2)} | ${r.p50Micros.toFixed(2)} | ${r.p99Micros.toFixed(2)} | ${Math.round(r.opsPerSecond).toLocaleString("en-US")} | ${r.iterations.toLocaleString("en-US")} |`
    )
  ].join("\n")

/** Samples (e.g. milliseconds) summarized; percentiles are nearest-rank. */
export interface Summary {
  readonly n: number
  readonly min: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: rank(0.5),
    p99: rank(0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length
  }
}
