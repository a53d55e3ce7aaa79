/**
 * The configuration ConfigMap: `config.yaml` and the server's labels are the operator's, every
 * other key and label is kept; its Events name the short configuration hash, old and new (sha256
 * vectors computed outside the code under test, with `printf %s text | sha256sum`).
 */
import { assert, describe, it } from "@effect/vitest"
import { type K8s, ServerConfigMap } from "../../src/index.ts"
import { deepFreeze } from "../fixtures.ts"

const server = { name: "ditto", namespace: "storage", uid: "uid-ditto" }
const rendered = (text: string) => ({ text, hash: "unused by the ConfigMap" })
const input = (text = "port: 8080\n") => ({ server, name: "ditto-config", config: rendered(text) })
const selector = { app: "dittofs-server", instance: "ditto" }

/** `printf %s '<text>' | sha256sum | cut -c1-8` */
const shortHashes = { "port: 8080\n": "04eeaa6d", "port: 9000\n": "ef809744" } as const

describe("ServerConfigMap", () => {
  it("holds config.yaml, labelled with the server's selector and owned by it", () => {
    const configMap = ServerConfigMap.desired(input())
    assert.deepStrictEqual(configMap.data, { "config.yaml": "port: 8080\n" })
    assert.deepStrictEqual(configMap.metadata.labels, selector)
    assert.deepStrictEqual([configMap.metadata.name, configMap.metadata.namespace, configMap.kind], ["ditto-config", "storage", "ConfigMap"])
    assert.deepStrictEqual(configMap.metadata.ownerReferences?.map((ref) => [ref.uid, ref.controller]), [["uid-ditto", true]])
  })

  it("lays config.yaml and its labels over the observed ConfigMap, keeping other keys and labels", () => {
    const observed: K8s.ConfigMap = deepFreeze({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ditto-config", namespace: "storage", uid: "uid-cm", labels: { team: "storage", app: "wrong" } },
      data: { "config.yaml": "port: 1\n", "extra.txt": "kept" }
    })
    const next = ServerConfigMap.overlay(input(), observed)
    assert.deepStrictEqual(next.data, { "config.yaml": "port: 8080\n", "extra.txt": "kept" })
    assert.deepStrictEqual(next.metadata.labels, { team: "storage", ...selector })
    assert.strictEqual(next.metadata.uid, "uid-cm")
  })

  it("names the short configuration hash in its Events, or none, or says only the labels changed", () => {
    const before = ServerConfigMap.desired(input("port: 8080\n"))
    const after = ServerConfigMap.desired(input("port: 9000\n"))
    assert.deepStrictEqual(ServerConfigMap.createdEvent(before), {
      type: "Normal",
      reason: "ConfigMapCreated",
      message: `Created ConfigMap ditto-config (config-hash ${shortHashes["port: 8080\n"]})`
    })
    assert.deepStrictEqual(ServerConfigMap.updatedEvent(before, after), {
      type: "Normal",
      reason: "ConfigMapUpdated",
      message: `Updated ConfigMap ditto-config (config-hash ${shortHashes["port: 8080\n"]} -> ${shortHashes["port: 9000\n"]})`
    })
    assert.strictEqual(ServerConfigMap.updatedEvent(before, before).message, "Updated ConfigMap ditto-config: labels")
    const { data: _data, ...empty } = before
    assert.strictEqual(ServerConfigMap.updatedEvent(empty, before).message, `Updated ConfigMap ditto-config (config-hash none -> ${shortHashes["port: 8080\n"]})`)
  })
})
