/**
 * The shards of a mutation run: one source file each, found by listing the scored folders (a new
 * file is a new shard, nothing to maintain). A shard is run and recorded on its own, so a 2-core
 * machine can stop between two shards without losing what it did (a shard's results are kept
 * only when it ends), and a change re-tests only its shards. The report adds them up per folder.
 */
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

export interface Shard {
  /** `<folder>/<File>`, e.g. `plan/Naming`; its results are `incremental/<name>.json`. */
  readonly name: string
  /** The folder's name in the report. */
  readonly folder: string
  /** The source file, from the repository root. */
  readonly file: string
}

/** The folders the report scores: name, path from the repository root. */
export const folders = [
  ["plan", "packages/core/src/plan/"],
  ["reconcile", "packages/core/src/reconcile/"],
  ["runtime", "apps/operator/src/runtime/"],
  ["domain", "packages/core/src/domain/"],
  ["services", "packages/core/src/services/"]
] as const

const root = fileURLToPath(new URL("../../", import.meta.url))

export const shards: ReadonlyArray<Shard> = folders.flatMap(([folder, path]) =>
  readdirSync(`${root}${path}`)
    .filter((file) => file.endsWith(".ts") && file !== "index.ts")
    .sort()
    .map((file) => ({ name: `${folder}/${file.slice(0, -".ts".length)}`, folder, file: `${path}${file}` }))
)

/**
 * The shards a name selects: a shard (`plan/Naming`) or a whole folder (`plan`); a name that is
 * neither is an error that lists the folders.
 */
export const shardsNamed = (name: string): ReadonlyArray<Shard> => {
  const found = shards.filter((shard) => shard.name === name || shard.folder === name)
  if (found.length === 0) {
    throw new Error(`no mutation shard "${name}": a folder (${folders.map(([f]) => f).join(", ")}) or <folder>/<File>`)
  }
  return found
}

/** The shard of that exact name. */
export const shardNamed = (name: string): Shard => {
  const found = shards.find((shard) => shard.name === name)
  if (found === undefined) throw new Error(`no mutation shard "${name}"`)
  return found
}
