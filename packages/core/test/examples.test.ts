import { assert, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

it("the README example runs and shows the SMB Service going away", () => {
  const example = fileURLToPath(new URL("../examples/adapter-exposure.ts", import.meta.url))
  const output = execFileSync(process.execPath, [example], { encoding: "utf8" })
  assert.include(output, "pass 1: 2 Service change(s)")
  assert.include(output, "pass 2: Deleted Service nas-adapter-smb for adapter smb")
  assert.include(output, "[ 'api', 'adapter-nfs' ]")
}, 60_000)
