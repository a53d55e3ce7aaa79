import { assert, describe, it } from "@effect/vitest"
import { ServerStatefulSet } from "../../src/index.ts"

describe("resourcesEquivalent", () => {
  it("compares quantities by value and counts a missing request as its limit (API-server defaulting)", () => {
    assert.isTrue(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "0.5", memory: "1024Mi" } }, { limits: { cpu: "500m", memory: "1Gi" } }))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent(
      { limits: { cpu: "1" }, requests: { cpu: "1" } },
      { limits: { cpu: "1" } }
    ))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ limits: { cpu: "1" } }, { limits: { cpu: "2" } }))
    assert.isFalse(ServerStatefulSet.resourcesEquivalent({ requests: { cpu: "1" } }, {}))
    assert.isTrue(ServerStatefulSet.resourcesEquivalent({}, {}))
  })
})
