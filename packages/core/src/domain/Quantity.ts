/**
 * Kubernetes resource quantities (`500m`, `1Gi`, `1.5`, `2e3`) compared by value, as the API
 * server compares them: it stores a quantity in its canonical form (`1024Mi` comes back as
 * `1Gi`, `0.5` as `500m`), so a written and a read quantity must be compared by what they mean.
 *
 * Contract (total, pure): `parse` returns the exact value as a reduced fraction, `None` for
 * anything the API server would reject (and for exponents past ±100, which no real quantity
 * has); `equal` compares two quantities by value, and falls back to comparing the text when
 * either does not parse, so it is an equivalence relation on strings; `compare` orders two
 * quantities by value; `canonical` is the text the API server stores for a quantity (rounded
 * up to nano units, or to `roundTo`; the binary, decimal or exponent form of the input kept,
 * except that a binary quantity below 1024 or not whole is written in decimal), checked
 * against kube-apiserver v1.36 by the Kubernetes contract suite.
 */
import { Option } from "effect"

/** The exact value of a quantity, as a reduced fraction. */
export interface Exact {
  readonly numerator: bigint
  readonly denominator: bigint
}

const syntax = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/u

const binaryPowers: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const decimalPowers: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const maxExponent = 100

const gcd = (a: bigint, b: bigint): bigint => {
  let [x, y] = [a < 0n ? -a : a, b]
  while (y !== 0n) [x, y] = [y, x % y]
  return x
}

const reduce = (numerator: bigint, denominator: bigint): Exact => {
  const divisor = gcd(numerator, denominator)
  return divisor === 0n ? { numerator: 0n, denominator: 1n } : { numerator: numerator / divisor, denominator: denominator / divisor }
}

/**
 * The exact value of a quantity, `None` for text the API server would reject (or an exponent past
 * ±100).
 */
export const parse = (text: string): Option.Option<Exact> => {
  const match = syntax.exec(text)
  if (match === null) return Option.none()
  const [, sign = "", number = "", suffix = ""] = match
  const [whole = "", fraction = ""] = number.split(".")
  const digits = BigInt(`${whole}${fraction}` === "" ? "0" : `${whole}${fraction}`)
  const binary = binaryPowers[suffix] ?? 0
  const decimal = suffix === "" || binaryPowers[suffix] !== undefined
    ? 0
    : decimalPowers[suffix] ?? Number(suffix.slice(1))
  if (Math.abs(decimal) > maxExponent) return Option.none()
  const exponent = decimal - fraction.length
  const numerator = digits * 2n ** BigInt(binary) * (exponent > 0 ? 10n ** BigInt(exponent) : 1n)
  const denominator = exponent < 0 ? 10n ** BigInt(-exponent) : 1n
  return Option.some(reduce(sign === "-" ? -numerator : numerator, denominator))
}

/** Whether two quantities (strings or numbers, as they appear in JSON) have the same value. */
export const equal = (a: unknown, b: unknown): boolean => {
  const left = typeof a === "number" ? String(a) : a
  const right = typeof b === "number" ? String(b) : b
  if (typeof left !== "string" || typeof right !== "string") return left === right
  const [x, y] = [parse(left), parse(right)]
  return Option.isSome(x) && Option.isSome(y)
    ? x.value.numerator * y.value.denominator === y.value.numerator * x.value.denominator
    : left === right
}

/** Orders two quantities by value (`-1`, `0`, `1`); `None` when either does not parse. */
export const compare = (a: string, b: string): Option.Option<number> =>
  Option.flatMap(parse(a), (x) =>
    Option.map(parse(b), (y) => {
      const difference = x.numerator * y.denominator - y.numerator * x.denominator
      return difference < 0n ? -1 : difference > 0n ? 1 : 0
    }))

type Format = "BinarySI" | "DecimalSI" | "DecimalExponent"

const binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const
const decimalSuffixes: ReadonlyMap<number, string> = new Map([[0, ""], ...Object.entries(decimalPowers).map(([suffix, power]) => [power, suffix] as const)])

const formatOf = (suffix: string): Format =>
  binaryPowers[suffix] !== undefined ? "BinarySI" : /^[eE]/u.test(suffix) ? "DecimalExponent" : "DecimalSI"

/** `|value| / 10^scale`, rounded up (away from zero), as the API server rounds quantities. */
const unitsOf = (exact: Exact, scale: number): bigint => {
  const magnitude = exact.numerator < 0n ? -exact.numerator : exact.numerator
  const numerator = scale < 0 ? magnitude * 10n ** BigInt(-scale) : magnitude
  const denominator = scale > 0 ? exact.denominator * 10n ** BigInt(scale) : exact.denominator
  return (numerator + denominator - 1n) / denominator
}

const decimalText = (sign: string, units: bigint, scale: number, format: Format): string => {
  let value = units
  let exponent = scale
  while (value % 10n === 0n) {
    value /= 10n
    exponent += 1
  }
  const group = Math.min(Math.floor(exponent / 3) * 3, format === "DecimalSI" ? 18 : Number.MAX_SAFE_INTEGER)
  const suffix = format === "DecimalExponent" ? (group === 0 ? "" : `e${group}`) : decimalSuffixes.get(group) ?? ""
  return `${sign}${value * 10n ** BigInt(exponent - group)}${suffix}`
}

/** The text kube-apiserver stores for a quantity, rounded up to `10^roundTo` units (default nano). */
export const canonical = (text: string, roundTo = -9): Option.Option<string> => {
  const match = syntax.exec(text)
  return Option.map(parse(text), (exact) => {
    const units = unitsOf(exact, roundTo)
    if (units === 0n) return "0"
    const sign = exact.numerator < 0n ? "-" : ""
    const format = formatOf(match?.[3] ?? "")
    if (format !== "BinarySI") return decimalText(sign, units, roundTo, format)
    const whole = roundTo >= 0 ? units * 10n ** BigInt(roundTo) : units % 10n ** BigInt(-roundTo) === 0n ? units / 10n ** BigInt(-roundTo) : undefined
    if (whole === undefined || whole < 1024n) return decimalText(sign, units, roundTo, "DecimalSI")
    let value = whole
    let power = 0
    while (value % 1024n === 0n && power < binarySuffixes.length - 1) {
      value /= 1024n
      power += 1
    }
    return `${sign}${value}${binarySuffixes[power]}`
  })
}
