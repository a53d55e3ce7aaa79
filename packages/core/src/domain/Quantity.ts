/**
 * Kubernetes resource quantities (`500m`, `1Gi`, `1.5`, `2e3`) compared by value, as the API
 * server compares them: it stores a quantity in its canonical form (`1024Mi` comes back as
 * `1Gi`, `0.5` as `500m`), so a written and a read quantity must be compared by what they mean.
 *
 * Contract (total, pure): `parse` returns the exact value as a reduced fraction, `None` for
 * anything the API server would reject (and for exponents past ±100, which no real quantity
 * has); `equal` compares two quantities by value, and falls back to comparing the text when
 * either does not parse, so it is an equivalence relation on strings.
 */
import { Option } from "effect"

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
