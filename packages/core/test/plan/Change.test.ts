/**
 * `diffByKey` on copies: when several observed objects carry one desired key, the one with the
 * desired name is kept (the others deleted), and without one, the first by name — whatever the
 * order the objects were observed in.
 */
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { Change } from "../../src/index.ts"

interface Thing {
  readonly metadata: { readonly name: string; readonly labels: { readonly key: string } }
}

const thing = (name: string, key = "nfs"): Thing => ({ metadata: { name, labels: { key } } })
const note = Change.normal("Test", "test")

const diff = (observed: ReadonlyArray<Thing>, desiredName = "nas-adapter-nfs") =>
  Change.diffByKey<string, Thing>({
    desired: [["nfs", desiredName]],
    observed,
    keyOf: (object) => object.metadata.labels.key,
    nameOf: (name) => name,
    create: (name) => ({ _tag: "Create", object: thing(name), event: note }),
    update: () => Option.none(),
    remove: (object) => ({ _tag: "Delete", object, event: note })
  })

const deleted = (plan: Change.Plan<Thing>) => plan.filter((change) => change._tag === "Delete").map((change) => change.object.metadata.name)

describe("Change.diffByKey with copies of one key", () => {
  it("keeps the copy with the desired name, even when another sorts first", () => {
    assert.deepStrictEqual(deleted(diff([thing("aaa-copy"), thing("nas-adapter-nfs")])), ["aaa-copy"])
    assert.deepStrictEqual(deleted(diff([thing("nas-adapter-nfs"), thing("aaa-copy")])), ["aaa-copy"])
  })

  it("without one of the desired name, keeps the first by name, in any observed order", () => {
    assert.deepStrictEqual(deleted(diff([thing("b-copy"), thing("a-copy")], "other")), ["b-copy"])
    assert.deepStrictEqual(deleted(diff([thing("a-copy"), thing("b-copy")], "other")), ["b-copy"])
  })

  it("creates the desired object when no copy exists, and deletes what no key wants, by name", () => {
    const plan = diff([thing("z-old", "smb"), thing("y-old", "iscsi")])
    assert.deepStrictEqual(plan.map((change) => [change._tag, change.object.metadata.name]), [
      ["Create", "nas-adapter-nfs"],
      ["Delete", "y-old"],
      ["Delete", "z-old"]
    ])
  })
})
