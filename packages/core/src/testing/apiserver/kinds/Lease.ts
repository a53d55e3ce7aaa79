/**
 * `coordination.k8s.io/v1` Lease (leader election): `acquireTime` and `renewTime` are
 * MicroTimes — the API server accepts exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ` (six fractional
 * digits, any offset; anything else is a 400) and stores them in UTC; `null` fields are dropped;
 * `leaseDurationSeconds` must be positive and `leaseTransitions` not negative. No generation:
 * a Lease is updated with its resourceVersion like any object.
 */
import { Option } from "effect"
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf } from "../Json.ts"
import { accept, type AdmissionRequest, define, reject } from "../Kind.ts"

const microTimeLayout = "2006-01-02T15:04:05.000000Z07:00"
const microTime = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})(Z|[+-]\d\d:\d\d)$/

/** A MicroTime as Go's `time.Parse(RFC3339Micro)` reads it and `MarshalJSON` writes it back (UTC). */
const parseMicroTime = (text: string): Option.Option<string> => {
  const match = microTime.exec(text)
  if (match === null) return Option.none()
  const [, year, month, day, hour, minute, second, micros, zone = "Z"] = match
  const offsetMinutes = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  const millis = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) - offsetMinutes * 60_000
  if (Number.isNaN(millis)) return Option.none()
  return Option.some(`${new Date(millis).toISOString().slice(0, 19)}.${micros}Z`)
}

const timeFields = ["acquireTime", "renewTime"] as const

/** Go's `time.Parse` error: the rest of the input from where it stopped, and what it expected there. */
const parseError = (text: string): string => {
  const seconds = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(text)
  const [rest, expected] = seconds === null ? [text, "2006"] : [text.slice(seconds[0].length), ".000000"]
  return `parsing time ${JSON.stringify(text)} as ${JSON.stringify(microTimeLayout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(expected)}`
}

const decode = (object: AnyObject): Option.Option<string> => {
  const spec = fieldsOf(object["spec"])
  for (const key of timeFields) {
    const value = spec[key]
    if (typeof value === "string" && Option.isNone(parseMicroTime(value))) return Option.some(parseError(value))
  }
  return Option.none()
}

const admit = (request: AdmissionRequest) => {
  const spec = Object.fromEntries(Object.entries(fieldsOf(request.object["spec"])).filter(([, value]) => value !== null))
  for (const key of timeFields) {
    const value = spec[key]
    if (typeof value === "string") spec[key] = Option.getOrElse(parseMicroTime(value), () => value)
  }
  const errors: Array<string> = []
  const duration = spec["leaseDurationSeconds"]
  if (typeof duration === "number" && duration <= 0) errors.push(`spec.leaseDurationSeconds: Invalid value: ${duration}: must be greater than 0`)
  const transitions = spec["leaseTransitions"]
  if (typeof transitions === "number" && transitions < 0) {
    errors.push(`spec.leaseTransitions: Invalid value: ${transitions}: must be greater than or equal to 0`)
  }
  return errors.length > 0 ? reject(errors) : accept(request, { ...request.object, spec })
}

export const kind = define({ decode, admit })
