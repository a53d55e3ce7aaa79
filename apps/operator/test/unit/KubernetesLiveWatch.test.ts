/**
 * `KubernetesLive`'s watch against a tiny local HTTP stub, for what a real kube-apiserver cannot
 * be made to do on demand: a watch refused with an HTTP 410, an `ERROR` event on a connection
 * the server then keeps open, lines that are not JSON or objects that do not decode, events split
 * across chunks, response headers that never come, a watch the server never closes. It also
 * proves that a watch's request is aborted when its stream ends (the stub sees the connection
 * close). The real server's behaviour is covered by the contract suite
 * (`test/integration/KubernetesLive.contract.test.ts`, which also gets a 410 `ERROR` event from it).
 *
 * The namespace of the watched collection selects the stub's scenario.
 */
import { Kubernetes } from "@dittofs-operator/core"
import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KubernetesLive from "../../src/live/KubernetesLive.ts"

const token = "stub-token-0123456789"

const secret = (name: string, resourceVersion: string) => ({
  metadata: { name, namespace: "ns", uid: `uid-${name}`, resourceVersion },
  type: "Opaque"
})

const line = (type: string, object: unknown): string => `${JSON.stringify({ type, object })}\n`

const expired = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "too old resource version: 1 (205)",
  reason: "Expired",
  code: 410
}

/** What the stub does for a scenario; returning without ending the response keeps it open. */
const serve = (scenario: string, response: ServerResponse): void => {
  const json = { "content-type": "application/json" }
  switch (scenario) {
    case "gone-status":
      response.writeHead(410, json).end(JSON.stringify(expired))
      return
    case "gone-event":
      response.writeHead(200, json)
      response.write(line("ADDED", { apiVersion: "v1", kind: "Secret", ...secret("a", "11") }))
      response.write(line("ERROR", expired))
      return
    case "not-json":
      response.writeHead(200, json)
      response.write("this is not json\n")
      return
    case "undecodable":
      response.writeHead(200, json)
      response.write(line("ADDED", { apiVersion: "v1", kind: "Secret", metadata: { namespace: "ns" } }))
      return
    case "complete": {
      // Without apiVersion/kind (as list items come), and one event split across two writes.
      const modified = line("MODIFIED", secret("a", "13"))
      response.writeHead(200, json)
      response.write(line("BOOKMARK", { kind: "Secret", apiVersion: "v1", metadata: { resourceVersion: "12" } }))
      response.write(`\n${line("ADDED", secret("a", "12"))}`)
      response.write(modified.slice(0, 25))
      response.write(modified.slice(25))
      response.end(line("DELETED", secret("a", "14")))
      return
    }
    case "open":
      response.writeHead(200, json)
      response.write(line("ADDED", secret("a", "12")))
      return
    case "no-headers":
      return
    default:
      response.writeHead(404, json).end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound", message: "no such scenario" }))
  }
}

interface Request {
  readonly url: string
  readonly authorization: string
  /** Resolves when the client has closed the connection. */
  readonly closed: Promise<void>
}

class Stub extends Context.Service<Stub, {
  readonly requests: (scenario: string) => ReadonlyArray<Request>
}>()("test/KubernetesStub") {}

const stubAndKubernetes = Layer.unwrap(Effect.gen(function*() {
  const requests: Array<Request & { readonly scenario: string }> = []
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? "/"
    const scenario = /\/namespaces\/([^/]+)\//.exec(url)?.[1] ?? ""
    const closed = new Promise<void>((resolve) => response.on("close", () => resolve()))
    requests.push({ scenario, url, authorization: request.headers.authorization ?? "", closed })
    serve(scenario, response)
  }
  const server = yield* Effect.acquireRelease(
    Effect.callback<Server>((resume) => {
      const listening = createServer(handle).listen(0, "127.0.0.1", () => resume(Effect.succeed(listening)))
    }),
    (listening) => Effect.sync(() => {
      listening.closeAllConnections()
      listening.close()
    })
  )
  const dir = yield* Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "kubernetes-live-watch-"))),
    (path) => Effect.promise(() => rm(path, { recursive: true, force: true }))
  )
  const kubeconfigPath = join(dir, "kubeconfig")
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  yield* Effect.promise(() =>
    writeFile(kubeconfigPath, JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      // client-node refuses plain HTTP unless TLS verification is off.
      clusters: [{ name: "stub", cluster: { server: origin, "insecure-skip-tls-verify": true } }],
      users: [{ name: "stub", user: { token } }],
      contexts: [{ name: "stub", context: { cluster: "stub", user: "stub" } }],
      "current-context": "stub"
    }))
  )
  return Layer.merge(
    Layer.succeed(Stub, Stub.of({ requests: (scenario) => requests.filter((request) => request.scenario === scenario) })),
    KubernetesLive.layer({ kubeconfigPath, requestTimeout: "300 millis" })
  )
}))

/** Waits (a bounded time) for the client to close the last request of a scenario. */
const awaitClosed = (scenario: string) =>
  Effect.gen(function*() {
    const request = (yield* Stub).requests(scenario).at(-1)
    assert.isDefined(request, `no request for ${scenario}`)
    if (request === undefined) return
    yield* Effect.promise(() => request.closed).pipe(
      Effect.timeoutOrElse({ duration: "2 seconds", orElse: () => Effect.die(new Error(`the ${scenario} request was never closed`)) })
    )
  })

layer(stubAndKubernetes, { excludeTestServices: true })("KubernetesLive watch against a stub server", (it) => {
  const watch = (scenario: string, timeoutSeconds = 30) =>
    Effect.map(Kubernetes.Kubernetes, (kubernetes) =>
      kubernetes.watch(Kubernetes.Resources.Secret, scenario, { resourceVersion: "11", timeoutSeconds, labelSelector: { app: "ditto", tier: "api" } }))

  it.effect("reads bookmarks and changes, adds apiVersion/kind back, and ends when the server ends", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(yield* watch("complete"))
      assert.deepStrictEqual(events.map((event) => event._tag === "Bookmark" ? ["Bookmark", event.resourceVersion] : [event._tag, event.object.metadata.resourceVersion]), [
        ["Bookmark", "12"],
        ["Added", "12"],
        ["Modified", "13"],
        ["Deleted", "14"]
      ])
      for (const event of events) if (event._tag !== "Bookmark") assert.deepStrictEqual([event.object.apiVersion, event.object.kind], ["v1", "Secret"])
      const [request] = (yield* Stub).requests("complete")
      const query = new URL(request?.url ?? "/", "http://stub").searchParams
      assert.deepStrictEqual(
        ["watch", "resourceVersion", "allowWatchBookmarks", "timeoutSeconds", "labelSelector"].map((key) => query.get(key)),
        ["1", "11", "true", "30", "app=ditto,tier=api"]
      )
      assert.strictEqual(request?.authorization, `Bearer ${token}`)
    }))

  it.effect("a watch refused with HTTP 410 fails with Gone and the server's message", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runDrain(yield* watch("gone-status")))
      assert.deepStrictEqual([error.reason, error.message], ["Gone", "too old resource version: 1 (205)"])
      assert.strictEqual(error.operation, "watch v1 Secret gone-status")
    }))

  it.effect("an ERROR event with a 410 Status fails the stream with Gone after the events before it, and closes it", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const error = yield* Effect.flip(Stream.runForEach(yield* watch("gone-event"), (event) => Effect.sync(() => seen.push(event._tag))))
      assert.deepStrictEqual(seen, ["Added"])
      assert.deepStrictEqual([error.reason, error.message], ["Gone", "too old resource version: 1 (205)"])
      yield* awaitClosed("gone-event")
    }))

  it.effect("a line that is not JSON, or an object that does not decode, is BadResponse", () =>
    Effect.gen(function*() {
      for (const scenario of ["not-json", "undecodable"]) {
        const error = yield* Effect.flip(Stream.runDrain(yield* watch(scenario)))
        assert.strictEqual(error.reason, "BadResponse", scenario)
        yield* awaitClosed(scenario)
      }
    }))

  it.effect("ending the stream early aborts the request", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(Stream.take(yield* watch("open"), 1))
      assert.deepStrictEqual(events.map((event) => event._tag), ["Added"])
      yield* awaitClosed("open")
    }))

  it.effect("no response headers within requestTimeout is Timeout", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runDrain(yield* watch("no-headers")))
      assert.deepStrictEqual([error.reason, error.message], ["Timeout", "no answer within 300ms"])
      yield* awaitClosed("no-headers")
    }))

  it.effect("a watch the server does not close requestTimeout after its timeoutSeconds is Timeout", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const error = yield* Effect.flip(Stream.runForEach(yield* watch("open", 1), (event) => Effect.sync(() => seen.push(event._tag))))
      assert.deepStrictEqual(seen, ["Added"])
      assert.strictEqual(error.reason, "Timeout")
      yield* awaitClosed("open")
    }))
})

describe("KubernetesLive requests node refuses to send", () => {
  it.live("a header node cannot send (a token with a line break) is BadRequest, and nothing is sent", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "kubernetes-live-invalid-"))),
        (path) => Effect.promise(() => rm(path, { recursive: true, force: true }))
      )
      const kubeconfigPath = join(dir, "kubeconfig")
      yield* Effect.promise(() =>
        writeFile(kubeconfigPath, JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          // port 1: a request that reached the network would fail as Unavailable, not BadRequest
          clusters: [{ name: "c", cluster: { server: "http://127.0.0.1:1", "insecure-skip-tls-verify": true } }],
          users: [{ name: "u", user: { token: "first\nsecond" } }],
          contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
          "current-context": "c"
        }))
      )
      const kubernetes = yield* KubernetesLive.make({ kubeconfigPath, requestTimeout: "2 seconds" })
      const error = yield* Effect.flip(kubernetes.get(Kubernetes.Resources.Secret, "ns", "a"))
      assert.strictEqual(error.reason, "BadRequest")
      assert.strictEqual(error.operation, "get v1 Secret ns/a")
    }).pipe(Effect.scoped))
})
