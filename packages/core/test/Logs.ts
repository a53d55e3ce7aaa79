/**
 * Log lines as values: `capture` routes the Effect logger to the TestConsole in structured form,
 * `logged` reads back level, message, cause and annotations.
 */
import { Effect, Logger, Schema } from "effect"
import { TestConsole } from "effect/testing"

const Line = Schema.Struct({
  level: Schema.String,
  message: Schema.Unknown,
  cause: Schema.optional(Schema.String),
  annotations: Schema.Record(Schema.String, Schema.Unknown)
})

export const capture = Effect.provide(Logger.layer([Logger.withConsoleLog(Logger.formatStructured)]))

export const logged = Effect.map(TestConsole.logLines, (lines) => lines.map((line) => Schema.decodeUnknownSync(Line)(line)))

/** `[level, message, annotations]` of every line, for one `deepStrictEqual`. */
export const lines = Effect.map(logged, (all) => all.map(({ annotations, level, message }) => [level, message, annotations] as const))
