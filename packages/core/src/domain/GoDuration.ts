/**
 * Go duration strings ("30s", "1m30s", "1.5h", "500ms"), as written in `DittoServer` specs by
 * users of the reference operator.
 *
 * Contract: `parse` is total — it returns `None` for anything Go's `time.ParseDuration` would
 * reject (and for values past ~292 years), never throws.
 */
import { Duration, Option } from "effect"

const unitMillis: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000
}
// the micro signs escaped (U+00B5, U+03BC): the bundler keeps a regular expression's text, and one
// character past Latin-1 makes V8 hold the operator's whole bundled source at two bytes a character
const component = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/u
const maxMillis = 9_223_372_036_854 // Go's time.Duration bound

/** Parses a Go duration; `None` when Go would reject it. Negative durations are allowed. */
export const parse = (text: string): Option.Option<Duration.Duration> => {
  let rest = text
  let sign = 1
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === "0") return Option.some(Duration.zero)
  if (rest === "") return Option.none()
  let millis = 0
  while (rest !== "") {
    const match = component.exec(rest)
    if (match === null) return Option.none()
    const [whole, amount = "", unit = ""] = match
    millis += Number(amount) * (unitMillis[unit] ?? Number.NaN)
    rest = rest.slice(whole.length)
  }
  if (!Number.isFinite(millis) || millis > maxMillis) return Option.none()
  return Option.some(sign < 0 ? Duration.millis(-millis) : Duration.millis(millis))
}
