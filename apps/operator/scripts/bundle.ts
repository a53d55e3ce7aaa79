/**
 * Bundles the operator's command line (`src/main.ts`) into one ES module that runs with plain
 * `node` (>= 24) and no `node_modules`: `apps/operator/dist/dittofs-operator.mjs`. This file is
 * the operator's runnable artefact: anyone with Node runs it, and the container image runs the
 * same program from a startup snapshot of its script form (below).
 *
 *   node apps/operator/scripts/bundle.ts [--out-dir DIR] [--analyze]
 *
 * Contract of `bundle(options)`:
 * - Tree-shaken (esbuild's `bundle` with ES modules: only what `main.ts` reaches is kept) and
 *   minified; a linked source map next to it (`node --enable-source-maps` uses it).
 * - Node built-ins stay outside, loaded with `require` (`builtinsThroughRequire`); everything else
 *   is inside the file. A `require` is defined for the CommonJS dependencies that load built-ins
 *   with it.
 * - `THIRD-PARTY-NOTICES.txt` next to it: name, version, licence and licence text of every
 *   package whose code is in the bundle (the bundle redistributes them).
 * - `undici` is left out: the operator's HTTP clients are effect's node:http ones, and
 *   `@effect/platform-node` reaches undici only through a dynamic import behind its undici client
 *   (which esbuild would otherwise inline, 720 KiB). Importing it from the bundle throws.
 * - Next to it, the same program as a plain script, `dittofs-operator.snapshot.cjs`, from which
 *   `node --build-snapshot` makes a V8 startup snapshot (`snapshotBuildArgs`): the image starts
 *   from that snapshot, its modules already evaluated (`bench/reports/footprint.md`). Nothing of
 *   the program may hold a native handle once its modules are evaluated: the built-ins of
 *   `loadedAtFirstUse` and two dependencies' module-level values (`snapshotSafeDependencies`) are
 *   made at first use.
 * - Returns the paths, the bundle's size in bytes and its largest inputs (`--analyze` prints
 *   esbuild's full breakdown).
 */
import * as esbuild from "esbuild"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { createRequire, isBuiltin } from "node:module"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)

export const appDir = fileURLToPath(new URL("..", import.meta.url))
export const defaultOutDir = join(appDir, "dist")
export const bundleName = "dittofs-operator.mjs"
export const noticesName = "THIRD-PARTY-NOTICES.txt"
/** The same program as a script for `node --build-snapshot` (`snapshotBuildArgs`). */
export const snapshotEntryName = "dittofs-operator.snapshot.cjs"
/** The startup snapshot's file name in the image. */
export const snapshotName = "dittofs-operator.blob"

/**
 * The `node` flags the bundle runs with (the image's entrypoint, the footprint benchmark, the
 * install tests). `--max-semi-space-size=1` (MiB) caps V8's young generation, which otherwise
 * grows to tens of MiB of mostly garbage under the operator's allocation pattern (JSON in, Schema
 * decode, JSON out): at 200 DittoServers it cut resident memory from about 290 to 195 MiB with no
 * more CPU to converge (`bench/reports/footprint.md`). `--memory-saver-mode` keeps the old
 * generation close to what is live (V8 grows it less between collections): at 200 DittoServers,
 * side by side, resident memory 192 → 135 MiB for 4 % more idle CPU and 17 % more CPU to converge
 * (`bench/reports/scale.md`). `--no-sparkplug` leaves out V8's baseline compiler, whose machine
 * code sits between the bytecode and the optimized code of warm functions: 4–6 MiB less resident
 * memory at 200 and 1,000 DittoServers, start-up and CPU to converge no worse
 * (`bench/reports/footprint.md`).
 */
export const nodeFlags: ReadonlyArray<string> = ["--max-semi-space-size=1", "--memory-saver-mode", "--no-sparkplug"]

/**
 * The environment the bundle runs with (the image's `ENV`, the benchmarks). `MALLOC_ARENA_MAX=2`:
 * glibc gives each thread that allocates (V8's workers, libuv's pool) an arena of its own, whose
 * free pages stay resident; two arenas cut resident memory by 6 MiB at 200 DittoServers and by
 * 8–19 MiB at 1,000, for no CPU a benchmark can tell apart (`bench/reports/footprint.md`).
 */
export const runtimeEnv: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" }

/**
 * `node` arguments that build the startup snapshot `blob` from `snapshotEntry`, and those that
 * start the operator from it (`--` ends node's options: without a script, node would take the
 * program's first flag, `--version` or `--help`, for its own). Both carry `nodeFlags` (or the
 * benchmarks' `flags`): the snapshot is made by the `node` and flags that run it (the image builds
 * it in its runtime stage with its own `node`).
 */
export const snapshotBuildArgs = (snapshotEntry: string, blob: string, flags: ReadonlyArray<string> = nodeFlags): ReadonlyArray<string> =>
  [...flags, "--snapshot-blob", blob, "--build-snapshot", snapshotEntry]
export const snapshotRunArgs = (blob: string, flags: ReadonlyArray<string> = nodeFlags): ReadonlyArray<string> => [...flags, "--snapshot-blob", blob, "--"]

export interface BundleOptions {
  readonly outDir?: string
}

export interface BundleResult {
  readonly file: string
  /** The program as a script for `node --build-snapshot` (`snapshotBuildArgs`). */
  readonly snapshotEntry: string
  readonly sourceMap: string
  readonly notices: string
  readonly bytes: number
  /** Bytes of output per package (or `@dittofs-operator/*` for our own code), largest first. */
  readonly byPackage: ReadonlyArray<readonly [name: string, bytes: number]>
  readonly metafile: esbuild.Metafile
}

interface PackageInfo {
  readonly name: string
  readonly version: string
  readonly license: string
  readonly root: string
}

/** The package an input file belongs to: the nearest `package.json` with a name, walking up. */
const packageOf = (file: string, cache: Map<string, PackageInfo | undefined>): PackageInfo | undefined => {
  let dir = dirname(file)
  const visited: Array<string> = []
  for (;;) {
    if (cache.has(dir)) {
      const found = cache.get(dir)
      for (const seen of visited) cache.set(seen, found)
      return found
    }
    visited.push(dir)
    const manifest = join(dir, "package.json")
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown; version?: unknown; license?: unknown }
      if (typeof parsed.name === "string") {
        const info: PackageInfo = {
          name: parsed.name,
          version: typeof parsed.version === "string" ? parsed.version : "?",
          license: typeof parsed.license === "string" ? parsed.license : "see the licence text",
          root: dir
        }
        for (const seen of visited) cache.set(seen, info)
        return info
      }
    }
    const parent = dirname(dir)
    if (parent === dir) {
      for (const seen of visited) cache.set(seen, undefined)
      return undefined
    }
    dir = parent
  }
}

const licenceText = (root: string): string => {
  const file = readdirSync(root).find((name) => /^(licen[sc]e|copying|notice)(\.|$)/i.test(name))
  return file === undefined ? "(no licence file in the package)" : readFileSync(join(root, file), "utf8").trim()
}

/** Resolves `undici` to a module that throws when loaded: nothing the operator runs loads it. */
const withoutUndici: esbuild.Plugin = {
  name: "without-undici",
  setup: (build) => {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "without-undici" }))
    build.onLoad({ filter: /.*/, namespace: "without-undici" }, () => ({
      contents: "throw new Error(\"undici is not in this bundle: use the node:http client (NodeHttpClient.layerNodeHttp)\")",
      loader: "js"
    }))
  }
}

/**
 * Loads Node's built-in modules with `require` instead of `import`. An ESM import of a built-in
 * goes through its ESM facade, which reads every export once, and so runs every lazy getter:
 * `node:http`'s loads Node's internal undici (for its `WebSocket`), `node:fs`'s its streams —
 * about 300 ms of a 1 s start on a busy machine, for nothing the operator uses. Through
 * `require` (the banner's), an export is read only when the code uses it.
 *
 * The built-ins of `loadedAtFirstUse` are not even required while the bundle's modules are
 * evaluated: their module object is a set of getters that require the built-in when the code
 * first reads an export (`lazyBuiltin`). That keeps them out of the startup snapshot
 * (`snapshotName`), which cannot hold http's parser or a TLS context, and which Node warns about
 * for the others. A dependency's own `require` of one of them (`ws`) gets the same module.
 */
const builtinsThroughRequire: esbuild.Plugin = {
  name: "builtins-through-require",
  setup: (build) => {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (!isBuiltin(args.path) || args.namespace === "builtin-require") return undefined
      return args.kind === "import-statement" || (args.kind === "require-call" && isLoadedAtFirstUse(args.path))
        ? { path: args.path, namespace: "builtin-require" }
        : undefined
    })
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({
      contents: isLoadedAtFirstUse(args.path) ? lazyBuiltin(args.path) : `module.exports = require(${JSON.stringify(args.path)})`,
      loader: "js"
    }))
  }
}

/** Built-ins the bundle requires only when the code first uses them (`builtinsThroughRequire`). */
export const loadedAtFirstUse: ReadonlySet<string> = new Set(["http", "https", "tls", "child_process", "readline", "stream/consumers"])

/** Whether a built-in's specifier (`node:http` or `http`) names one of `loadedAtFirstUse`. */
const isLoadedAtFirstUse = (specifier: string): boolean => loadedAtFirstUse.has(specifier.replace(/^node:/, ""))

/**
 * A built-in's module object whose exports are getters: the first read requires the built-in.
 * While a startup snapshot is being built, reading a function export (`http.createServer` passed
 * as a value) returns a function that forwards to it once called; reading any other export throws,
 * naming it (it would load the built-in into the snapshot). The export names are this Node's.
 */
const lazyBuiltin = (path: string): string => {
  const exports = require(path) as Record<string, unknown>
  const names = Object.keys(exports)
  const functions = names.filter((name) => typeof exports[name] === "function" && /^[a-z]/.test(name))
  return [
    `const v8 = require("node:v8"); let loaded; const load = () => loaded ??= require(${JSON.stringify(path)});`,
    `const functions = new Set(${JSON.stringify(functions)});`,
    `for (const name of ${JSON.stringify(names)}) Object.defineProperty(module.exports, name, { enumerable: true, configurable: true, get: () => {`,
    "  if (loaded === undefined && v8.startupSnapshot.isBuildingSnapshot()) {",
    "    if (functions.has(name)) return (...args) => load()[name](...args)",
    `    throw new Error(${JSON.stringify(`${path}.`)} + name + " read while a startup snapshot is built")`,
    "  }",
    "  return load()[name]",
    "} })"
  ].join("\n")
}

/**
 * Two module-level values of dependencies that a startup snapshot cannot hold, made at first use:
 * - `@effect/platform-node`'s `internal/http` requires `node:http` and `node:https` when it is
 *   evaluated; it gets the built-ins through `builtinsThroughRequire` instead.
 * - `effect/cli`'s `CliOutput` makes an `Intl.Segmenter` when it is evaluated (for the width of
 *   help text; 13 ms of every start, profiled): made when help is first measured.
 * The build fails when the replaced text is no longer there (a new version of the dependency).
 */
const snapshotSafeDependencies: esbuild.Plugin = {
  name: "snapshot-safe-dependencies",
  setup: (build) => {
    build.onLoad({ filter: /[\\/]@effect[\\/]platform-node[\\/]dist[\\/]internal[\\/]http\.js$/ }, () => ({
      contents: "import * as http from \"node:http\"; import * as https from \"node:https\"; export { http, https }",
      loader: "js"
    }))
    build.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8")
      const segmenter = /const graphemeSegmenter = \/\*#__PURE__\*\/new Intl\.Segmenter\(undefined, \{\s*granularity: "grapheme"\s*\}\);/
      if (!segmenter.test(text)) throw new Error(`${args.path}: its Intl.Segmenter is not where the bundle expects it`)
      return {
        contents: text.replace(
          segmenter,
          "let segmenter; const graphemeSegmenter = { segment: (text) => (segmenter ??= new Intl.Segmenter(undefined, { granularity: \"grapheme\" })).segment(text) };"
        ),
        loader: "js"
      }
    })
  }
}

const isOurs = (info: PackageInfo): boolean => info.name.startsWith("@dittofs-operator/") || info.name === "dittofs-operator"

export const bundle = async (options: BundleOptions = {}): Promise<BundleResult> => {
  const outDir = resolve(options.outDir ?? defaultOutDir)
  await mkdir(outDir, { recursive: true })
  const file = join(outDir, bundleName)
  const snapshotEntry = join(outDir, snapshotEntryName)
  const common = {
    entryPoints: [join(appDir, "src/main.ts")],
    absWorkingDir: appDir,
    bundle: true,
    platform: "node",
    target: "node24",
    treeShaking: true,
    minify: true,
    sourcemap: "linked",
    legalComments: "none", // the notices file carries every licence in full
    logLevel: "warning",
    plugins: [withoutUndici, builtinsThroughRequire, snapshotSafeDependencies]
  } satisfies esbuild.BuildOptions
  const [result] = await Promise.all([
    esbuild.build({
      ...common,
      outfile: file,
      format: "esm",
      metafile: true,
      banner: {
        js: "import { createRequire as __dittofsCreateRequire } from \"node:module\"; const require = __dittofsCreateRequire(import.meta.url);"
      }
    }),
    // a plain script: what `node --build-snapshot` runs (it provides `require`)
    esbuild.build({ ...common, outfile: snapshotEntry, format: "iife" })
  ])
  for (const written of [file, snapshotEntry]) {
    // V8 holds a script's source as one byte a character only if every character is Latin-1:
    // a single other one doubles the 1 MiB the source costs in every process and snapshot
    const wide = /[^\u0000-\u00ff]/u.exec(readFileSync(written, "utf8"))
    if (wide !== null) {
      throw new Error(`${written}: U+${wide[0].codePointAt(0)?.toString(16).toUpperCase()} at ${wide.index}; escape it in the source (esbuild keeps regular expressions' text)`)
    }
  }
  const output = result.metafile.outputs[relative(appDir, file).split(sep).join("/")]
  if (output === undefined) throw new Error(`esbuild reported no output for ${file}`)

  const cache = new Map<string, PackageInfo | undefined>()
  const sizes = new Map<string, number>()
  const packages = new Map<string, PackageInfo>()
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const info = packageOf(resolve(appDir, input), cache)
    const key = info === undefined ? "(other)" : info.name
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput)
    if (info !== undefined && !isOurs(info) && bytesInOutput > 0) packages.set(`${info.name}@${info.version}`, info)
  }
  const notices = join(outDir, noticesName)
  writeFileSync(
    notices,
    [
      `${bundleName} contains code of the following packages, under their licences.`,
      "",
      ...[...packages.values()].sort((a, b) => a.name.localeCompare(b.name)).map((info) =>
        [`== ${info.name} ${info.version} (${info.license})`, "", licenceText(info.root), ""].join("\n")
      )
    ].join("\n")
  )
  return {
    file,
    snapshotEntry,
    sourceMap: `${file}.map`,
    notices,
    bytes: statSync(file).size,
    byPackage: [...sizes.entries()].sort((a, b) => b[1] - a[1]),
    metafile: result.metafile
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const outIndex = args.indexOf("--out-dir")
  const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined
  const started = performance.now()
  const built = await bundle(outDir === undefined ? {} : { outDir })
  console.log(`wrote ${built.file} (${kib(built.bytes)}) in ${(performance.now() - started).toFixed(0)} ms`)
  console.log(`largest packages: ${built.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${kib(bytes)}`).join(", ")}`)
  if (args.includes("--analyze")) console.log(await esbuild.analyzeMetafile(built.metafile))
}
