/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every sample
 * belongs to a family declared by `# TYPE` before it, names and label names are valid, label
 * values are properly quoted and escaped, values are numbers, a histogram's buckets are
 * cumulative and end with `le="+Inf"` equal to its `_count`. Anything else throws.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped"
  readonly help?: string
  readonly samples: ReadonlyArray<Sample>
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const parseValue = (text: string, line: string): number => {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY
  if (text === "-Inf") return Number.NEGATIVE_INFINITY
  if (text === "NaN") return Number.NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`)
  return Number(text)
}

const parseLabels = (text: string, line: string): Record<string, string> => {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest.length > 0) {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,?)/.exec(rest)
    if (match === null) throw new Error(`bad labels in: ${line}`)
    const [whole, name, raw, comma] = match
    if (!labelName.test(name!)) throw new Error(`bad label name ${name} in: ${line}`)
    if (name! in labels) throw new Error(`duplicate label ${name} in: ${line}`)
    labels[name!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c))
    rest = rest.slice(whole.length)
    if (comma === "" && rest.length > 0) throw new Error(`bad labels in: ${line}`)
  }
  return labels
}

const familyOf = (sample: string, families: ReadonlyMap<string, unknown>): string | undefined => {
  if (families.has(sample)) return sample
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix) && families.has(sample.slice(0, -suffix.length))) return sample.slice(0, -suffix.length)
  }
  return undefined
}

export const parse = (text: string): ReadonlyMap<string, Family> => {
  const families = new Map<string, { name: string; type: Family["type"]; help?: string; samples: Array<Sample> }>()
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition must end with a newline")
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    if (line.startsWith("#")) {
      const help = /^# HELP ([^ ]+) (.*)$/.exec(line)
      const type = /^# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
      if (type !== null) {
        if (!metricName.test(type[1]!)) throw new Error(`bad metric name in: ${line}`)
        const existing = families.get(type[1]!)
        if (existing !== undefined && existing.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`)
        families.set(type[1]!, { ...(existing ?? { name: type[1]!, samples: [] }), type: type[2] as Family["type"] })
      } else if (help !== null) {
        const existing = families.get(help[1]!)
        families.set(help[1]!, { ...(existing ?? { name: help[1]!, type: "untyped", samples: [] }), help: help[2]! })
      }
      continue
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)(?: (-?\d+))?$/.exec(line)
    if (match === null) throw new Error(`bad sample line: ${line}`)
    const family = familyOf(match[1]!, families)
    if (family === undefined) throw new Error(`sample without a TYPE: ${line}`)
    families.get(family)!.samples.push({ name: match[1]!, labels: parseLabels(match[2] ?? "", line), value: parseValue(match[3]!, line) })
  }
  for (const family of families.values()) {
    if (family.type !== "histogram") continue
    const series = new Map<string, Array<Sample>>()
    for (const sample of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
      const { le: _le, ...rest } = sample.labels
      const key = JSON.stringify(rest)
      series.set(key, [...(series.get(key) ?? []), sample])
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}${key}: buckets not cumulative`)
      }
      const last = buckets.at(-1)!
      if (last.labels["le"] !== "+Inf") throw new Error(`${family.name}${key}: no +Inf bucket`)
      const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key)
      if (count === undefined || count.value !== last.value) throw new Error(`${family.name}${key}: _count differs from the +Inf bucket`)
    }
  }
  return families
}

/** The value of the one sample with this name and (at least) these labels; undefined if none. */
export const value = (families: ReadonlyMap<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const family of families.values()) {
    const sample = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    if (sample !== undefined) return sample.value
  }
  return undefined
}
