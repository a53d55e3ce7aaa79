/**
 * `v1` ConfigMap: `data` and `binaryData` dropped when empty (`omitempty`), keys checked as the
 * API server checks them (`[-._a-zA-Z0-9]+`, at most 253 characters, not `.`/`..`, not in both
 * bags), 1 MiB in all, and nothing of `data`, `binaryData` or `immutable` may change once
 * `immutable` is true. No generation.
 */
import { Option } from "effect"
import { canonical } from "../../../domain/Json.ts"
import type { AnyObject } from "../../../domain/Kubernetes.ts"
import { fieldsOf, withoutKeys } from "../Json.ts"
import { accept, type AdmissionRequest, define, reject } from "../Kind.ts"

const keyPattern = /^[-._a-zA-Z0-9]+$/
const keyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
const maxSize = 1024 * 1024

const keyErrors = (key: string): ReadonlyArray<string> => [
  ...(key.length > 253 ? ["must be no more than 253 characters"] : []),
  ...(keyPattern.test(key) ? [] : [keyMessage]),
  ...(key === "." ? ["must not be '.'"] : key === ".." ? ["must not be '..'"] : key.startsWith("..") ? ["must not start with '..'"] : [])
]

const withoutEmpty = (object: AnyObject, key: string): AnyObject => {
  const value = object[key]
  return value !== undefined && (value === null || Object.keys(fieldsOf(value)).length === 0)
    ? { ...withoutKeys(object, [key]), apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata }
    : object
}

const admit = (request: AdmissionRequest) => {
  const object = withoutEmpty(withoutEmpty(request.object, "data"), "binaryData")
  const data = fieldsOf(object["data"])
  const binaryData = fieldsOf(object["binaryData"])
  const errors: Array<string> = []
  let size = 0
  for (const [key, value] of Object.entries(data)) {
    for (const message of keyErrors(key)) errors.push(`data[${key}]: Invalid value: ${JSON.stringify(key)}: ${message}`)
    if (key in binaryData) errors.push(`data[${key}]: Invalid value: ${JSON.stringify(key)}: duplicate of key present in binaryData`)
    size += typeof value === "string" ? Buffer.byteLength(value, "utf8") : 0
  }
  for (const [key, value] of Object.entries(binaryData)) {
    for (const message of keyErrors(key)) errors.push(`binaryData[${key}]: Invalid value: ${JSON.stringify(key)}: ${message}`)
    size += typeof value === "string" ? Buffer.from(value, "base64").length : 0
  }
  if (size > maxSize) errors.push(`[]: Too long: may not be more than ${maxSize} bytes`)
  const frozen = Option.match(Option.filter(request.previous, (old) => old["immutable"] === true), {
    onNone: (): ReadonlyArray<string> => [],
    onSome: (old) => [
      ...(object["immutable"] === true ? [] : ["immutable: Forbidden: field is immutable when `immutable` is set"]),
      ...(canonical(old["data"]) === canonical(object["data"]) ? [] : ["data: Forbidden: field is immutable when `immutable` is set"]),
      ...(canonical(old["binaryData"]) === canonical(object["binaryData"]) ? [] : ["binaryData: Forbidden: field is immutable when `immutable` is set"])
    ]
  })
  errors.unshift(...frozen)
  return errors.length > 0 ? reject(errors) : accept(request, object)
}

export const kind = define({ admit })
