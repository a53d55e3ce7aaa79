/**
 * Surviving mutants that are equivalent: they change nothing a user, the cluster or DittoFS can
 * observe. Each is matched by file, mutator, original text and replacement (whitespace-insensitive),
 * so a justification follows the code when lines move, and goes stale when the code changes.
 */
export interface Equivalent {
  readonly file: string
  readonly mutator: string
  readonly original: string
  readonly replacement: string
  readonly why: string
}

const annotations = "packages/core/src/plan/Annotations.ts"
const emptyKey =
  "An empty entry of the tracking list names the key \"\", which no object has (the apiserver refuses empty annotation keys): deleting it deletes nothing."
const workQueue = "apps/operator/src/runtime/WorkQueue.ts"
const controller = "apps/operator/src/runtime/Controller.ts"
const auth = "packages/core/src/reconcile/Auth.ts"
const finalizer = "packages/core/src/reconcile/Finalizer.ts"

const workload = "packages/core/src/reconcile/Workload.ts"
const leaderElection = "apps/operator/src/runtime/LeaderElection.ts"
const followingHasNoDeadline =
  "A term that is not leading has no deadline: `validUntil` is set only by a write that holds the Lease (just before the term starts) and reset to 0 before the term ends, so `now < validUntil` alone already says whether the term leads."

const discarded = (file: string, original: string, replacement: string, mutator: string): Equivalent => ({
  file,
  mutator,
  original,
  replacement,
  why: "The results of this `forEach`/`all` are not used: `discard` only spares collecting them into an array."
})

const serverPod = "packages/core/src/plan/ServerPod.ts"
const noSlash =
  "A path without a `/` gives a relative directory either way (`\"\"` or the name less its last character), and a relative directory is never mounted: the control-plane claim goes to /data/controlplane."

const kubernetesCache = "apps/operator/src/runtime/KubernetesCache.ts"
const sharedStrings = "apps/operator/src/runtime/SharedStrings.ts"
const sameLength =
  "`a === b` returned already: of two different strings of the same length neither is `>=` the other unless it is `>`, and of two of different lengths neither length is `>=` the other unless it is `>`."

const noOption =
  "A kind without a transform (or an index) then passes `undefined` for it, which the reflector reads as no transform (no index)."

export const equivalents: ReadonlyArray<Equivalent> = [
  {
    file: leaderElection,
    mutator: "Regex",
    original: "/Z$/",
    replacement: "/Z/",
    why: "`toISOString` writes exactly one `Z`, its last character: the first `Z` is the one at the end."
  },
  {
    file: leaderElection,
    mutator: "ConditionalExpression",
    original: "renewed._tag === \"Some\" && renewed.value",
    replacement: "false",
    why: "Without the early `continue` a successful renewal falls through to the next test, which is false for it (the status is Leader, not Standby), and the loop goes on the same way."
  },
  {
    file: leaderElection,
    mutator: "ConditionalExpression",
    original: "renewed._tag === \"Some\"",
    replacement: "true",
    why: "A renewal that timed out (`None`) never left the status at Standby: an attempt sets Standby only when it reads another holder, and then returns at once. And a timed-out renewal is already at its deadline, so the loop ends the term on its next test either way."
  },
  {
    file: leaderElection,
    mutator: "ConditionalExpression",
    original: "(yield* Ref.get(term))._tag === \"Leading\"",
    replacement: "true",
    why: followingHasNoDeadline
  },
  {
    file: leaderElection,
    mutator: "ConditionalExpression",
    original: "current._tag === \"Leading\"",
    replacement: "true",
    why: followingHasNoDeadline
  },
  {
    file: leaderElection,
    mutator: "ConditionalExpression",
    original: "seen.lease.spec.holderIdentity !== config.identity",
    replacement: "false",
    why: "While the term leads within its deadline the observed Lease is the one this process last wrote (its own); the only moment it is another's is between an attempt that read it and the end of the term it causes, a few steps of the same fiber that no test can schedule a shutdown into. The test guards that race."
  },
  { file: controller, mutator: "ConditionalExpression", original: "kind.transform === undefined", replacement: "false", why: noOption },
  { file: controller, mutator: "ConditionalExpression", original: "kind.indexBy === undefined", replacement: "false", why: noOption },
  {
    file: workQueue,
    mutator: "CallExpression",
    original: "stamps.delete(key)",
    replacement: ";",
    why: "Only memory: a queue stamp left behind when its key starts is overwritten by the key's next add before anything reads it."
  },
  {
    file: "packages/core/src/plan/ServerStatefulSet.ts",
    mutator: "ConditionalExpression",
    original: "Object.hasOwn(b, key)",
    replacement: "true",
    why: "Resources decoded from JSON hold no undefined quantity: a key the other side lacks reads as undefined there, which `Quantity.equal` never finds equal to a quantity that is present."
  },
  { file: serverPod, mutator: "MethodExpression", original: `Math.max(0, path.lastIndexOf("/"))`, replacement: `Math.min(0, path.lastIndexOf("/"))`, why: noSlash },
  {
    file: serverPod,
    mutator: "ArrayDeclaration",
    original: "staticPorts(input.spec)",
    replacement: "[]",
    why: "The static ports follow `controlPlane.port` and `metrics`, which also set the probes' port or the configuration (and so its hash): the restart hash changes with them either way."
  },
  {
    file: "packages/core/src/plan/OwnedFields.ts",
    mutator: "ConditionalExpression",
    original: "!Array.isArray(value)",
    replacement: "true",
    why: "`namedItems` reads lists decoded from JSON: an array in them has only indices, never a `name` of type string, so taking arrays for records admits no item more."
  },
  {
    file: "packages/core/src/plan/OwnedFields.ts",
    mutator: "ConditionalExpression",
    original: "typeof value === \"object\"",
    replacement: "true",
    why: "`namedItems` reads lists decoded from JSON: a string, number or boolean in them has no `name` of type string either, so taking them for records admits no item more."
  },
  {
    file: workload,
    mutator: "ObjectLiteral",
    original: "{ labelSelector: selectorLabels(server.name) }",
    replacement: "{}",
    why: "The selector only narrows the read: the restart plan keeps the pods the server's StatefulSet controls (by its uid, `ManagedRestarts`), so the other pods of the namespace a bare list adds are dropped there."
  },
  {
    file: workload,
    mutator: "ObjectLiteral",
    original: "{ concurrency: 6 }",
    replacement: "{}",
    why: "The six reads are independent: one after the other they return the same objects, only later."
  },
  { file: annotations, mutator: "MethodExpression", original: `(current?.[trackingKey] ?? "").split(",").filter((key) => key !== "")`, replacement: `(current?.[trackingKey] ?? "").split(",")`, why: emptyKey },
  { file: annotations, mutator: "StringLiteral", original: `""`, replacement: `"Stryker was here!"`, why: emptyKey },
  { file: annotations, mutator: "ConditionalExpression", original: `key !== ""`, replacement: "true", why: emptyKey },
  {
    file: workQueue,
    mutator: "EqualityOperator",
    original: "existing <= due",
    replacement: "existing < due",
    why: "A schedule due at the same time as the existing one replaces it with one due at that same time: the key runs at the same moment, once."
  },
  {
    file: workQueue,
    mutator: "ConditionalExpression",
    original: "existing === undefined",
    replacement: "true",
    why: "When the key already has a backoff, `keyBackoff` is that very backoff: storing it again under the same key changes nothing."
  },
  discarded(workQueue, "true", "false", "BooleanLiteral"),
  discarded(controller, "{ discard: true }", "{}", "ObjectLiteral"),
  discarded(controller, "true", "false", "BooleanLiteral"),
  {
    file: finalizer,
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: `["Stryker was here"]`,
    why:
      "`has` on a server without finalizers (the list defaults to empty) and `without` (only ever applied to a server carrying the finalizer, so its list is never missing): a list holding one unknown name does not include the operator's finalizer either, and is never reached."
  },
  {
    file: finalizer,
    mutator: "StringLiteral",
    original: `""`,
    replacement: `"Stryker was here!"`,
    why: "A server without a deletion time: the empty string and the mutant's both parse to NaN, so the cleanup is given up at once either way."
  },
  {
    file: "packages/core/src/reconcile/InvalidSpec.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: `["Stryker was here"]`,
    why: "An object marked for deletion without finalizers: a list holding one unknown name does not include the operator's finalizer either, so it is left alone the same way."
  },
  {
    file: "packages/core/src/reconcile/DittoServer.ts",
    mutator: "ConditionalExpression",
    original: `f.change === "Create"`,
    replacement: "true",
    why: "Only a create can fail with `AlreadyExists` (an update or a delete of a missing object is `NotFound`), so the second half of the test alone decides."
  },
  {
    file: "packages/core/src/reconcile/DittoServer.ts",
    mutator: "ArrowFunction",
    original: "() => ({})",
    replacement: "() => undefined",
    why: "The result is spread into the status update: spreading `undefined` adds nothing, as spreading `{}` does."
  },
  {
    file: auth,
    mutator: "ConditionalExpression",
    original: "mapsEqual(observed.data, desired.data)",
    replacement: "false",
    why:
      "The data saved hold the token DittoFS just issued and the current millisecond as its issue time, so they equal the stored data only when DittoFS answers a login or refresh with the very token stored in that same millisecond (a pass refreshes a token at its issue time only when its lifetime is zero), and DittoFsMemory issues a new token on every login and refresh."
  },
  discarded(kubernetesCache, "{ discard: true }", "{}", "ObjectLiteral"),
  discarded(kubernetesCache, "true", "false", "BooleanLiteral"),
  { file: kubernetesCache, mutator: "ConditionalExpression", original: "kind.transform === undefined", replacement: "false", why: noOption },
  { file: kubernetesCache, mutator: "EqualityOperator", original: "a > b", replacement: "a >= b", why: sameLength },
  { file: kubernetesCache, mutator: "EqualityOperator", original: "a.length > b.length", replacement: "a.length >= b.length", why: sameLength },
  {
    file: kubernetesCache,
    mutator: "EqualityOperator",
    original: "ObjectRef.keyOf(a) < ObjectRef.keyOf(b)",
    replacement: "ObjectRef.keyOf(a) <= ObjectRef.keyOf(b)",
    why: "The keys of a list are a Set's: two items never have the same key, so `<=` and `<` never differ."
  },
  {
    file: kubernetesCache,
    mutator: "CallExpression",
    original: "memo.set(object, object)",
    replacement: ";",
    why: "Without the memo entry the next read asks `Schema.is` again, which answers the same for the same unchanged object, and serves the same object: only the check's CPU is saved."
  },
  {
    file: kubernetesCache,
    mutator: "CallExpression",
    original: "entry.overlays.delete(key)",
    replacement: ";",
    why:
      "The overlay is dropped because it no longer holds, and it never holds again: the store's version only grows (a written overlay stays reached), a uid never comes back (a gone one stays superseded) and a store entry never returns to an older resourceVersion (a stale one stays cleared). Keeping it costs memory only; every later view of the key falls through to the store the same way."
  },
  {
    file: sharedStrings,
    mutator: "ConditionalExpression",
    original: "key === \"__proto__\"",
    replacement: "true",
    why: "On a fresh plain object, assigning any key other than `__proto__` creates exactly the property `defineProperty` does (own, enumerable, writable, configurable): the special case only keeps `__proto__` from setting the prototype."
  },
  {
    file: sharedStrings,
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    why: "Only whether an own `__proto__` property is writable or configurable changes (its enumerability is tested): the stores' objects are never written or redefined after they are stored (one writer, the reflector, replaces them whole; readers treat them as immutable), so no read can tell."
  }
]
