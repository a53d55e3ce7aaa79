/**
 * The library as its consumers get it. `pnpm pack` (whose `prepack` builds dist/ afresh) makes
 * the tarball; an empty project in a temp folder, outside the workspace, installs it with
 * `effect` (from the local pnpm store when it has them, else the registry) and then
 *
 * - runs the README's example (`examples/adapter-exposure.ts`, its types stripped) as a plain
 *   Node ESM script, and
 * - type-checks it, and a consumer of the `./testing` and `./crd` entries, as TypeScript against
 *   the packed declarations (library checks on: the declarations themselves are checked).
 *
 * Nothing here is skipped: a missing `pnpm`, a failed install or a type error fails the test.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { stripTypeScriptTypes } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const workspaceRoot = join(packageDir, "..", "..")
const example = join(packageDir, "examples", "adapter-exposure.ts")
const workspaceManifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
  readonly devDependencies: Record<string, string>
}

/** Runs a command, failing with its output (not only its exit code) when it fails. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string): string => {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`)
  }
}

let scratch = ""
let tarball = ""
let entries: ReadonlyArray<string> = []
let unpacked = ""
let consumer = ""

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "dittofs-core-package-"))
  run("pnpm", ["pack", "--pack-destination", scratch], packageDir)
  const tarballs = readdirSync(scratch).filter((name) => name.endsWith(".tgz"))
  assert.lengthOf(tarballs, 1)
  tarball = join(scratch, tarballs[0]!)
  entries = run("tar", ["-tzf", tarball], scratch).trim().split("\n")
  unpacked = join(scratch, "unpacked")
  mkdirSync(unpacked)
  run("tar", ["-xzf", tarball, "-C", unpacked], scratch)

  consumer = join(scratch, "consumer")
  mkdirSync(consumer)
  writeFileSync(join(consumer, "package.json"), JSON.stringify({
    name: "consumer",
    private: true,
    type: "module",
    dependencies: {
      "@dittofs-operator/core": `file:${tarball}`,
      effect: workspaceManifest.devDependencies["effect"]
    },
    devDependencies: { "@types/node": workspaceManifest.devDependencies["@types/node"] }
  }, null, 2))
  const store = run("pnpm", ["store", "path"], workspaceRoot).trim()
  run("pnpm", ["install", "--prefer-offline", "--no-frozen-lockfile", "--store-dir", store], consumer)
}, 600_000)

afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true })
})

describe("the packed tarball", () => {
  it("holds the build with its declarations and source maps, and the sources they map to", () => {
    for (const entry of ["index", "testing/index", "crd"]) {
      for (const extension of [".js", ".js.map", ".d.ts", ".d.ts.map"]) {
        assert.include(entries, `package/dist/${entry}${extension}`)
      }
      assert.include(entries, `package/src/${entry}.ts`)
    }
    assert.include(entries, "package/CHANGELOG.md")
  })

  it("holds no tests, no contract suites and nothing that needs vitest", () => {
    const unwanted = entries.filter((entry) =>
      /\.test\.|^package\/(test|test-package|examples)\/|\/contract\/|tsconfig/.test(entry)
    )
    assert.deepStrictEqual(unwanted, [])
    const needVitest = entries
      .filter((entry) => /\.(js|ts)$/.test(entry))
      .filter((entry) => /from "(@effect\/)?vitest"/.test(readFileSync(join(unpacked, entry), "utf8")))
    assert.deepStrictEqual(needVitest, [])
  })

  it("has a manifest that sends consumers to dist/ and is publishable", () => {
    const manifest = JSON.parse(readFileSync(join(unpacked, "package", "package.json"), "utf8"))
    assert.isUndefined(manifest.private)
    assert.strictEqual(manifest.sideEffects, false)
    assert.isUndefined(manifest.dependencies?.["@effect/vitest"])
    assert.isUndefined(manifest.peerDependencies?.["@effect/vitest"])
    assert.isString(manifest.peerDependencies?.effect)
    assert.deepStrictEqual(Object.keys(manifest.exports), [".", "./testing", "./crd", "./package.json"])
    for (const key of [".", "./testing", "./crd"]) {
      const target = manifest.exports[key] as { types: string; import: string }
      assert.deepStrictEqual(Object.keys(target), ["types", "import"])
      assert.match(target.types, /^\.\/dist\/.*\.d\.ts$/)
      assert.match(target.import, /^\.\/dist\/.*\.js$/)
      assert.include(entries, `package/${target.types.slice(2)}`)
      assert.include(entries, `package/${target.import.slice(2)}`)
    }
  })
})

describe("a project outside the workspace that installs the tarball", () => {
  it("runs the README example as a plain Node ESM script", () => {
    const script = join(consumer, "adapter-exposure.mjs")
    writeFileSync(script, stripTypeScriptTypes(readFileSync(example, "utf8")))
    const output = run(process.execPath, ["--disable-warning=ExperimentalWarning", script], consumer)
    assert.include(output, "pass 1: 2 Service change(s)")
    assert.include(output, "pass 2: Deleted Service nas-adapter-smb for adapter smb")
    assert.include(output, "[ 'api', 'adapter-nfs' ]")
  })

  it("type-checks the example and the other entries against the packed declarations", () => {
    copyFileSync(example, join(consumer, "adapter-exposure.ts"))
    writeFileSync(join(consumer, "entries.ts"), consumerOfEntries)
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2024",
        // effect's crypto declarations name the Web Crypto types (CryptoKey, JsonWebKey)
        lib: ["ES2024", "DOM"],
        types: ["node"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        // the packed declarations are checked too, not taken on trust
        skipLibCheck: false
      },
      files: ["adapter-exposure.ts", "entries.ts"]
    }, null, 2))
    const tsc = join(workspaceRoot, "node_modules", ".bin", "tsc")
    assert.isTrue(existsSync(tsc), `no TypeScript compiler at ${tsc}`)
    run(tsc, ["-p", "tsconfig.json"], consumer)
  })
})

/** A consumer of the `./testing` and `./crd` entries: compiles only if their declarations are complete. */
const consumerOfEntries = `
import { Effect, type Layer } from "effect"
import { Kubernetes } from "@dittofs-operator/core"
import { DittoServerCrd } from "@dittofs-operator/core/crd"
import { KubernetesMemory } from "@dittofs-operator/core/testing"

const definition: DittoServerCrd.JsonSchema = DittoServerCrd.make()
const layer: Layer.Layer<Kubernetes.Kubernetes | KubernetesMemory.Control> = KubernetesMemory.layer()
export const program: Effect.Effect<number, Kubernetes.KubernetesError> = Effect.gen(function*() {
  const kubernetes = yield* Kubernetes.Kubernetes
  const services = yield* kubernetes.list(Kubernetes.Resources.Service, "default")
  return services.length + Object.keys(definition).length
}).pipe(Effect.provide(layer))
`
