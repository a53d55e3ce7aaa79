import { assert, describe, it } from "@effect/vitest"
import { Option, Schema } from "effect"
import { ActiveAdapters, ContainerPorts, type K8s } from "../../src/index.ts"
import { deepFreeze, HostileContainerPorts, ValidAdapter } from "../fixtures.ts"

const runs = { arbitrary: { runs: 300 } }
const Adapters = Schema.Array(ValidAdapter)

const canonical = (port: K8s.ContainerPort): string => JSON.stringify(Object.entries(port).sort())
const multiset = (ports: ReadonlyArray<K8s.ContainerPort>): Array<string> => ports.map(canonical).sort()
const active = (adapters: typeof Adapters.Type): ReadonlyArray<ActiveAdapters.Active> =>
  ActiveAdapters.select(adapters, { reservedPorts: [8080, 9090] }).active

/** Rotates, reverses and spells protocols differently: the same ports for Kubernetes. */
const respell = (ports: ReadonlyArray<K8s.ContainerPort>, shift: number): ReadonlyArray<K8s.ContainerPort> => {
  const rotated = ports.length === 0 ? [] : [...ports.slice(shift % ports.length), ...ports.slice(0, shift % ports.length)]
  return rotated.reverse().map((port) => {
    if (port.protocol === "TCP") {
      const { protocol: _omitted, ...rest } = port
      return rest
    }
    return port.protocol === undefined ? { ...port, protocol: "TCP" } : port
  })
}

describe("ContainerPorts.sort", () => {
  it("orders by name, then port, protocol (missing = TCP), hostPort, hostIP", () => {
    const sorted = ContainerPorts.sort([
      { name: "b", containerPort: 1 },
      { name: "a", containerPort: 2, protocol: "UDP" },
      { name: "a", containerPort: 2 },
      { name: "a", containerPort: 1 }
    ])
    assert.deepStrictEqual(sorted, [
      { name: "a", containerPort: 1 },
      { name: "a", containerPort: 2 },
      { name: "a", containerPort: 2, protocol: "UDP" },
      { name: "b", containerPort: 1 }
    ])
  })

  it("breaks ties by hostPort (missing = 0), then hostIP (missing = empty)", () => {
    const sorted = ContainerPorts.sort([
      { name: "a", containerPort: 1, hostPort: 80, hostIP: "b" },
      { name: "a", containerPort: 1, hostPort: 80, hostIP: "a" },
      { name: "a", containerPort: 1, hostPort: 80 },
      { name: "a", containerPort: 1, hostPort: 8080 },
      { name: "a", containerPort: 1 }
    ])
    assert.deepStrictEqual(sorted, [
      { name: "a", containerPort: 1 },
      { name: "a", containerPort: 1, hostPort: 80 },
      { name: "a", containerPort: 1, hostPort: 80, hostIP: "a" },
      { name: "a", containerPort: 1, hostPort: 80, hostIP: "b" },
      { name: "a", containerPort: 1, hostPort: 8080 }
    ])
    assert.deepStrictEqual(ContainerPorts.sort([{ containerPort: 2 }, { name: "a", containerPort: 1 }]), [{ containerPort: 2 }, { name: "a", containerPort: 1 }])
  })

  it.prop("is pure, idempotent and a permutation", { ports: HostileContainerPorts }, ({ ports }) => {
    const input = deepFreeze(ports)
    const once = ContainerPorts.sort(input)
    assert.deepStrictEqual(ContainerPorts.sort(once), once)
    assert.deepStrictEqual(multiset(once), multiset(input))
    assert.notStrictEqual<unknown>(once, input)
  }, runs)
})

describe("ContainerPorts.equal", () => {
  it("treats a missing protocol as TCP and ignores order", () => {
    assert.isTrue(ContainerPorts.equal(
      [{ name: "api", containerPort: 8080 }, { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" }],
      [{ name: "adapter-nfs", containerPort: 12049 }, { name: "api", containerPort: 8080, protocol: "TCP" }]
    ))
    assert.isFalse(ContainerPorts.equal([{ name: "api", containerPort: 8080 }], [{ name: "api", containerPort: 8080, protocol: "UDP" }]))
    assert.isFalse(ContainerPorts.equal([{ name: "api", containerPort: 8080 }], [{ name: "api", containerPort: 8080, hostPort: 80 }]))
    assert.isFalse(ContainerPorts.equal([{ name: "api", containerPort: 8080 }], [{ name: "api", containerPort: 8081 }]))
    assert.isFalse(ContainerPorts.equal([{ name: "api", containerPort: 8080 }], [{ name: "apj", containerPort: 8080 }]))
    assert.isFalse(ContainerPorts.equal([{ name: "a", containerPort: 1 }, { name: "a", containerPort: 1 }], [{ name: "a", containerPort: 1 }]))
    assert.isFalse(ContainerPorts.equal([{ name: "a", containerPort: 1, hostIP: "127.0.0.1" }], [{ name: "a", containerPort: 1 }]))
    assert.isTrue(ContainerPorts.equal([{ containerPort: 1, hostPort: 0, hostIP: "" }], [{ name: "", containerPort: 1 }]), "the defaults spelled out")
  })

  it.prop("is reflexive and blind to order and protocol spelling", { ports: HostileContainerPorts, shift: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 7 })) }, ({ ports, shift }) => {
    const input = deepFreeze(ports)
    assert.isTrue(ContainerPorts.equal(input, input))
    assert.isTrue(ContainerPorts.equal(input, respell(input, shift)))
  }, runs)

  it.prop("is symmetric and transitive", { a: HostileContainerPorts, b: HostileContainerPorts, shift: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 7 })) }, ({ a, b, shift }) => {
    const c = respell(b, shift)
    assert.strictEqual(ContainerPorts.equal(a, b), ContainerPorts.equal(b, a))
    if (ContainerPorts.equal(a, b) && ContainerPorts.equal(b, c)) assert.isTrue(ContainerPorts.equal(a, c))
    // a ~ b and b ~ c with c a respelling of b: a ~ c must agree with a ~ b
    assert.strictEqual(ContainerPorts.equal(a, c), ContainerPorts.equal(a, b))
  }, runs)
})

describe("ContainerPorts.partition", () => {
  it("keeps a port without a name among the static ports", () => {
    const nameless = { containerPort: 2049 }
    assert.deepStrictEqual(ContainerPorts.partition([nameless, { name: "adapter-nfs", containerPort: 12049 }]), {
      static: [nameless],
      dynamic: [{ name: "adapter-nfs", containerPort: 12049 }]
    })
  })

  it.prop("splits by the adapter- prefix, keeping order; the parts are a permutation", { ports: HostileContainerPorts }, ({ ports }) => {
    const input = deepFreeze(ports)
    const { dynamic, static: fixed } = ContainerPorts.partition(input)
    assert.deepStrictEqual(multiset([...fixed, ...dynamic]), multiset(input))
    assert.isTrue(dynamic.every((port) => (port.name ?? "").startsWith("adapter-")))
    assert.isTrue(fixed.every((port) => !(port.name ?? "").startsWith("adapter-")))
    assert.deepStrictEqual(fixed, input.filter((port) => !(port.name ?? "").startsWith("adapter-")))
  }, runs)
})

describe("ContainerPorts.desired and ContainerPorts.plan", () => {
  it("keeps static ports first and appends one TCP port per active adapter", () => {
    const current = deepFreeze([
      { name: "metrics", containerPort: 9090 },
      { name: "api", containerPort: 8080, protocol: "TCP" as const },
      { name: "adapter-old", containerPort: 4000, protocol: "TCP" as const }
    ])
    const desired = ContainerPorts.desired(current, active([
      { type: "smb", enabled: true, running: true, port: 12445 },
      { type: "nfs", enabled: true, running: true, port: 12049 },
      { type: "webdav", enabled: false, running: true, port: 8000 }
    ]))
    assert.deepStrictEqual(desired, [
      { name: "metrics", containerPort: 9090 },
      { name: "api", containerPort: 8080, protocol: "TCP" },
      { name: "adapter-nfs", containerPort: 12049, protocol: "TCP" },
      { name: "adapter-smb", containerPort: 12445, protocol: "TCP" }
    ])
  })

  it.prop("static ports always survive untouched", { current: HostileContainerPorts, adapters: Adapters }, ({ adapters, current }) => {
    const input = deepFreeze(current)
    const desired = ContainerPorts.desired(input, active(deepFreeze(adapters)))
    assert.deepStrictEqual(ContainerPorts.partition(desired).static, ContainerPorts.partition(input).static)
  }, runs)

  it.prop("plans a write exactly when the ports differ, and applying it converges", { current: HostileContainerPorts, adapters: Adapters }, ({ adapters, current }) => {
    const input = deepFreeze(current)
    const activeList = active(deepFreeze(adapters))
    const planned = ContainerPorts.plan(input, activeList)
    assert.strictEqual(Option.isNone(planned), ContainerPorts.equal(input, ContainerPorts.desired(input, activeList)))
    Option.map(planned, (ports) => assert.isTrue(Option.isNone(ContainerPorts.plan(ports, activeList))))
  }, runs)

  it.prop("never plans a write for a reordered copy of the desired ports", { current: HostileContainerPorts, adapters: Adapters }, ({ adapters, current }) => {
    const activeList = active(adapters)
    const desired = ContainerPorts.desired(current, activeList)
    assert.isTrue(Option.isNone(ContainerPorts.plan(respell(desired, 3), activeList)))
  }, runs)
})
