/**
 * Surviving mutants that are equivalent: they change nothing a user, the cluster or DittoFS can
 * observe. Each is matched by file, mutator, original text and replacement (whitespace-insensitive),
 * so a justification follows the code when lines move, and goes stale when the code changes.
 */
export interface Equivalent {
  readonly file: string
  readonly mutator: string
  readonly original: string
  readonly replacement: string
  readonly why: string
}

export const equivalents: ReadonlyArray<Equivalent> = []
