/**
 * Kubernetes resource quantities (`500m`, `1Gi`, `1e3`) as kube-apiserver stores them: parsed,
 * rounded up (to nano units, or to milli units for a `ResourceList`), and written back in
 * canonical form (`1024Mi` is stored as `1Gi`, `0.5` as `500m`, `1000M` as `1G`).
 *
 * Contract: `canonical` is total: a string that is not a quantity gives `None` (the API server
 * refuses it with a 400 before validation, `quantityError` is its message); a canonical
 * quantity is its own canonical form. The format (binary, decimal SI, decimal exponent) of the
 * input is kept, except that a binary quantity below 1024 or not a whole number is written as
 * decimal SI, as the API server does.
 */
import { Option } from "effect"

export const quantityError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

type Format = "BinarySI" | "DecimalSI" | "DecimalExponent"

const binaryExponents: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const decimalExponents: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const
const decimalSuffixes: ReadonlyMap<number, string> = new Map(Object.entries(decimalExponents).map(([suffix, exponent]) => [exponent, suffix]))

/** A quantity's exact value, `sign × digits × 10^exponent`, and the format it was written in. */
interface Quantity {
  readonly negative: boolean
  readonly digits: bigint
  readonly exponent: number
  readonly format: Format
}

const shape = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/

const parse = (text: string): Option.Option<Quantity> => {
  const match = shape.exec(text)
  if (match === null) return Option.none()
  const [, sign = "", number = "", suffix = ""] = match
  const [whole = "", fraction = ""] = number.split(".")
  let digits = BigInt(`${whole}${fraction}` === "" ? "0" : `${whole}${fraction}`)
  let exponent = -fraction.length
  let format: Format
  const binary = binaryExponents[suffix]
  if (binary !== undefined) {
    digits *= 2n ** BigInt(binary)
    format = "BinarySI"
  } else if (/^[eE]/.test(suffix)) {
    exponent += Number(suffix.slice(1))
    format = "DecimalExponent"
  } else {
    exponent += decimalExponents[suffix] ?? 0
    format = "DecimalSI"
  }
  return Option.some({ negative: sign === "-", digits, exponent, format })
}

/** Rounds the magnitude up to a multiple of `10^scale`, as `Quantity.RoundUp` does. */
const roundUp = (quantity: Quantity, scale: number): Quantity => {
  if (quantity.exponent >= scale) return quantity
  const divisor = 10n ** BigInt(scale - quantity.exponent)
  const digits = (quantity.digits + divisor - 1n) / divisor
  return { ...quantity, digits, exponent: scale }
}

const decimal = (negative: boolean, digits: bigint, exponent0: number, format: Format): string => {
  let value = digits
  let exponent = exponent0
  while (value % 10n === 0n) {
    value /= 10n
    exponent += 1
  }
  let group = Math.floor(exponent / 3) * 3
  if (format === "DecimalSI" && group > 18) group = 18
  const mantissa = value * 10n ** BigInt(exponent - group)
  const suffix = format === "DecimalExponent" ? (group === 0 ? "" : `e${group}`) : decimalSuffixes.get(group) ?? ""
  return `${negative ? "-" : ""}${mantissa}${suffix}`
}

const render = (quantity: Quantity): string => {
  const { digits, exponent, format, negative } = quantity
  if (digits === 0n) return "0"
  if (format !== "BinarySI") return decimal(negative, digits, exponent, format)
  const whole = exponent >= 0 ? digits * 10n ** BigInt(exponent) : digits % 10n ** BigInt(-exponent) === 0n ? digits / 10n ** BigInt(-exponent) : undefined
  if (whole === undefined || whole < 1024n) return decimal(negative, digits, exponent, "DecimalSI")
  let value = whole
  let power = 0
  while (value % 1024n === 0n && power < binarySuffixes.length - 1) {
    value /= 1024n
    power += 1
  }
  return `${negative ? "-" : ""}${value}${binarySuffixes[power]}`
}

/** A quantity's value as a signed integer count of `10^exponent` units. */
const scaled = (quantity: Quantity, exponent: number): bigint =>
  (quantity.negative ? -1n : 1n) * quantity.digits * 10n ** BigInt(quantity.exponent - exponent)

/** Compares two quantities by value (`-1`, `0`, `1`); `None` when either is not a quantity. */
export const compare = (a: string, b: string): Option.Option<number> =>
  Option.flatMap(parse(a), (left) =>
    Option.map(parse(b), (right) => {
      const exponent = Math.min(left.exponent, right.exponent)
      const difference = scaled(left, exponent) - scaled(right, exponent)
      return difference < 0n ? -1 : difference > 0n ? 1 : 0
    }))

/** The quantity as the API server stores it; `roundTo` is the scale values are rounded up to (default nano, -9). */
export const canonical = (text: string, roundTo = -9): Option.Option<string> =>
  Option.map(parse(text), (quantity) => render(roundUp(roundUp(quantity, -9), roundTo)))

/**
 * A `ResourceList` (`{ cpu: "0.5", memory: "1024Mi" }`) as the API server stores it: every value
 * rounded up to milli units and canonical; `None` when a value is not a quantity.
 */
export const canonicalResourceList = (list: unknown): Option.Option<unknown> => {
  if (list === null || typeof list !== "object" || Array.isArray(list)) return Option.some(list)
  const entries: Array<readonly [string, string]> = []
  for (const [key, value] of Object.entries(list)) {
    const quantity = typeof value === "string" ? canonical(value, -3) : typeof value === "number" ? canonical(String(value), -3) : Option.none()
    if (Option.isNone(quantity)) return Option.none()
    entries.push([key, quantity.value])
  }
  return Option.some(Object.fromEntries(entries))
}
