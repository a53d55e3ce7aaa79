/**
 * DittoFS protocol adapters, as reported by `GET /api/v1/adapters`.
 *
 * Contract: `Adapter.decodeList` is total. A body that is not a JSON array is a typed
 * `MalformedAdapterList` failure (the caller must change nothing); inside an array, each invalid
 * entry is rejected with its index and reason while the valid entries are kept.
 */
import { Data, Result, Schema, SchemaIssue } from "effect"

/** A TCP port number an adapter listens on: an integer from 1 to 65535. */
export const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }))

/**
 * Schema of one entry of `GET /api/v1/adapters`: the adapter's type (`nfs`, `smb`, …), whether it
 * is enabled and running, and its port.
 */
export const Adapter = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  type: Schema.String.check(Schema.isMinLength(1)),
  enabled: Schema.Boolean,
  running: Schema.Boolean,
  port: Port
})
/** One adapter as DittoFS reports it (decoded by the {@link Adapter} Schema). */
export type Adapter = typeof Adapter.Type

/** An entry of the list that did not decode, with the reason. */
export interface Rejected {
  readonly index: number
  readonly reason: string
}

/**
 * A decoded adapter list: the valid entries, and the invalid ones with the reason each was
 * rejected.
 */
export interface List {
  readonly adapters: ReadonlyArray<Adapter>
  readonly rejected: ReadonlyArray<Rejected>
}

/** The body as a whole is not an adapter list: nothing may be concluded from it. */
export class MalformedAdapterList extends Data.TaggedError("MalformedAdapterList")<{
  readonly reason: string
}> {}

const decodeAdapter = Schema.decodeUnknownResult(Adapter)
const formatIssue = SchemaIssue.makeFormatterDefault()

const describe = (body: unknown): string =>
  body === null ? "null" : Array.isArray(body) ? "an array" : typeof body

/**
 * Decodes the body of `GET /api/v1/adapters`. Total: a body that is not an array fails with {@link
 * MalformedAdapterList}; inside an array, invalid entries are rejected one by one and the valid
 * ones kept.
 */
export const decodeList = (body: unknown): Result.Result<List, MalformedAdapterList> => {
  if (!Array.isArray(body)) {
    return Result.fail(new MalformedAdapterList({ reason: `expected a JSON array of adapters, got ${describe(body)}` }))
  }
  const adapters: Array<Adapter> = []
  const rejected: Array<Rejected> = []
  body.forEach((entry: unknown, index) => {
    const decoded = decodeAdapter(entry, { errors: "all" })
    if (Result.isSuccess(decoded)) adapters.push(decoded.success)
    else rejected.push({ index, reason: formatIssue(decoded.failure.issue) })
  })
  return Result.succeed({ adapters, rejected })
}
