/**
 * The committed CRD is the one the core's Schemas generate (what `generate-crd.ts --check` does
 * in scripts/test.sh, here where the mutation run sees it).
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { chartCrdPath, crdPath, renderCrd } from "../../scripts/generate-crd.ts"

describe("the DittoServer CRD", () => {
  it("committed under deploy/crd is what the Schemas generate", () => {
    assert.strictEqual(renderCrd(), readFileSync(crdPath, "utf8"))
  })

  it("the Helm chart's copy is the same", () => {
    assert.strictEqual(renderCrd(), readFileSync(chartCrdPath, "utf8"))
  })
})
