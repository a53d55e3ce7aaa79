/**
 * Resource lists (`{ cpu: "0.5", memory: "1024Mi" }`: container requests and limits, a claim's
 * storage) as kube-apiserver stores them: every quantity rounded up to milli units and written
 * canonical (`Quantity.canonical`).
 *
 * Contract: `canonicalResourceList` is total; `None` when a value is not a quantity, which the
 * API server refuses with a 400 whose detail is `quantityError`.
 */
import { Option } from "effect"
import * as Quantity from "../../domain/Quantity.ts"

export const quantityError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

export const canonicalResourceList = (list: unknown): Option.Option<unknown> => {
  if (list === null || typeof list !== "object" || Array.isArray(list)) return Option.some(list)
  const entries: Array<readonly [string, string]> = []
  for (const [key, value] of Object.entries(list)) {
    const quantity = typeof value === "string" || typeof value === "number" ? Quantity.canonical(String(value), -3) : Option.none()
    if (Option.isNone(quantity)) return Option.none()
    entries.push([key, quantity.value])
  }
  return Option.some(Object.fromEntries(entries))
}
