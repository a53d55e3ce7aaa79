/**
 * The generators of `fixtures.ts` are worth their name: they reach the inputs that break naming
 * code, and a failing property still shrinks to a minimal case.
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect } from "effect"
import { Naming } from "../src/index.ts"
import { AdapterListOf, UnicodeText } from "./fixtures.ts"

const seeds = [1, 2, 3]

const shrunk = <A>(arbitrary: Arbitrary.Arbitrary<A>, property: (value: A) => boolean, seed: number) =>
  Effect.map(Arbitrary.checkEffect(arbitrary, property, { runs: 2000, seed, maxShrinks: 5000 }), (result) => {
    assert.strictEqual(result._tag, "Falsified", `seed ${seed}: the property should fail`)
    return result._tag === "Falsified" ? result.shrunkInput : undefined
  })

const codePoints = (text: string) => [...text].map((c) => c.codePointAt(0) ?? 0)

describe("UnicodeText", () => {
  it.effect("reaches U+0130, combining marks, lone surrogates, astral code points and 300 code points", () =>
    Effect.gen(function*() {
      const texts = yield* Arbitrary.sampleEffect(UnicodeText, { count: 500, seed: 7 })
      const all = texts.flatMap(codePoints)
      assert.include(all, 0x130)
      assert.isTrue(all.some((c) => c >= 0x300 && c < 0x370), "a combining mark")
      assert.isTrue(texts.some((t) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(t)), "a lone high surrogate")
      assert.isTrue(all.some((c) => c > 0xffff), "an astral code point")
      const lengths = texts.map((t) => codePoints(t).length)
      assert.isTrue(lengths.some((n) => n >= 200), "a long text")
      assert.isAtMost(Math.max(...lengths), 300)
    }))

  for (const seed of seeds) {
    it.effect(`shrinks a failure to the one character that matters (seed ${seed})`, () =>
      Effect.map(shrunk(UnicodeText, (text) => !text.includes("\u0130"), seed), (text) => assert.strictEqual(text, "\u0130")))

    it.effect(`shrinks a failure on length to the shortest text of 'a's (seed ${seed})`, () =>
      Effect.map(
        shrunk(UnicodeText, (text) => Naming.sanitizeAdapterType(text).length < 40, seed),
        (text) => assert.strictEqual(text, "a".repeat(40))
      ))
  }
})

describe("AdapterListOf", () => {
  it.effect("is skewed towards several active adapters", () =>
    Effect.gen(function*() {
      const lists = yield* Arbitrary.sampleEffect(AdapterListOf, { count: 500, seed: 11 })
      const active = lists.map((list) => list.filter((a) => a.enabled && a.running).length)
      assert.isAbove(active.filter((n) => n >= 2).length, lists.length / 2, "mostly two or more active")
      assert.isTrue(active.some((n) => n >= 5), "sometimes many")
      assert.isTrue(lists.some((list) => list.length === 0), "sometimes none")
      assert.isTrue(lists.some((list) => list.some((a) => !a.enabled || !a.running)), "some inactive")
    }))

  for (const seed of seeds) {
    it.effect(`shrinks a failure to the simplest adapters (seed ${seed})`, () =>
      Effect.map(
        shrunk(AdapterListOf, (list) => list.filter((a) => a.enabled && a.running).length < 2, seed),
        (list) => assert.deepStrictEqual(list, [
          { type: "nfs", port: 2049, enabled: true, running: true },
          { type: "nfs", port: 2049, enabled: true, running: true }
        ])
      ))
  }
})
