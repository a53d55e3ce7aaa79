/**
 * Bundles the operator's command line (`src/main.ts`) into one ES module that runs with plain
 * `node` (>= 24) and no `node_modules`: `apps/operator/dist/dittofs-operator.mjs`. This file is
 * the operator's runnable artefact: the container image runs it, and so can anyone with Node.
 *
 *   node apps/operator/scripts/bundle.ts [--out-dir DIR] [--analyze]
 *
 * Contract of `bundle(options)`:
 * - Tree-shaken (esbuild's `bundle` with ES modules: only what `main.ts` reaches is kept) and
 *   minified; a linked source map next to it (`node --enable-source-maps` uses it).
 * - Node built-ins stay imports; everything else is inside the file. A `require` is defined for
 *   the CommonJS dependencies that load built-ins with it.
 * - `THIRD-PARTY-NOTICES.txt` next to it: name, version, licence and licence text of every
 *   package whose code is in the bundle (the bundle redistributes them).
 * - `undici` is left out: the operator's HTTP clients are effect's node:http ones, and
 *   `@effect/platform-node` reaches undici only through a dynamic import behind its undici client
 *   (which esbuild would otherwise inline, 720 KiB). Importing it from the bundle throws.
 * - Returns the paths, the bundle's size in bytes and its largest inputs (`--analyze` prints
 *   esbuild's full breakdown).
 */
import * as esbuild from "esbuild"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { isBuiltin } from "node:module"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

export const appDir = fileURLToPath(new URL("..", import.meta.url))
export const defaultOutDir = join(appDir, "dist")
export const bundleName = "dittofs-operator.mjs"
export const noticesName = "THIRD-PARTY-NOTICES.txt"

/**
 * The `node` flags the bundle runs with (the image's entrypoint, the footprint benchmark, the
 * install tests). `--max-semi-space-size=1` (MiB) caps V8's young generation, which otherwise
 * grows to tens of MiB of mostly garbage under the operator's allocation pattern (JSON in, Schema
 * decode, JSON out): at 200 DittoServers it cut resident memory from about 290 to 195 MiB with no
 * more CPU to converge (`bench/reports/footprint.md`). `--memory-saver-mode` keeps the old
 * generation close to what is live (V8 grows it less between collections): at 200 DittoServers,
 * side by side, resident memory 192 → 135 MiB for 4 % more idle CPU and 17 % more CPU to converge
 * (`bench/reports/scale.md`).
 */
export const nodeFlags: ReadonlyArray<string> = ["--max-semi-space-size=1", "--memory-saver-mode"]

export interface BundleOptions {
  readonly outDir?: string
}

export interface BundleResult {
  readonly file: string
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
 */
const builtinsThroughRequire: esbuild.Plugin = {
  name: "builtins-through-require",
  setup: (build) => {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) =>
      args.kind === "import-statement" && isBuiltin(args.path) ? { path: args.path, namespace: "builtin-require" } : undefined)
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: "js"
    }))
  }
}

const isOurs = (info: PackageInfo): boolean => info.name.startsWith("@dittofs-operator/") || info.name === "dittofs-operator"

export const bundle = async (options: BundleOptions = {}): Promise<BundleResult> => {
  const outDir = resolve(options.outDir ?? defaultOutDir)
  await mkdir(outDir, { recursive: true })
  const file = join(outDir, bundleName)
  const result = await esbuild.build({
    entryPoints: [join(appDir, "src/main.ts")],
    absWorkingDir: appDir,
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    treeShaking: true,
    minify: true,
    sourcemap: "linked",
    legalComments: "none", // the notices file carries every licence in full
    metafile: true,
    logLevel: "warning",
    plugins: [withoutUndici, builtinsThroughRequire],
    banner: {
      js: "import { createRequire as __dittofsCreateRequire } from \"node:module\"; const require = __dittofsCreateRequire(import.meta.url);"
    }
  })
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
