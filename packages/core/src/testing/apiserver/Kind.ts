/**
 * The contract of a kind module of the in-memory API server: what kube-apiserver's registry
 * strategy and admission plugins do for one kind — its name rule, whether it keeps a
 * `metadata.generation`, the status it starts with, defaulting and validation on create and
 * update, and what a status-subresource write may change.
 *
 * Contract of every `Kind`:
 * - `admit` and `admitStatus` are pure. They get the object as the core would store it
 *   (metadata merged and checked, status handled by the core's subresource rules), the stored
 *   object it replaces (on update) and a read-only view of the cluster; they answer the object to
 *   store with the named counters they allocated from, or the field errors (`path: Type: detail`,
 *   as the API server lists them) that make the write a 422 `Invalid`.
 * - A kind never writes other objects and never sets resourceVersion, uid, timestamps,
 *   generation or the event log: `Cluster` owns those, the same way for every kind.
 */
import { Option, Result, Schema } from "effect"
import type { AnyObject } from "../../domain/Kubernetes.ts"
import type { JsonObject } from "./Json.ts"
import type { NameRule } from "./ObjectMeta.ts"

/** Named counters the kinds allocate from (the Service kind's clusterIPs and nodePorts). */
export type Counters = Readonly<Record<string, number>>

/** What a kind may read of the cluster while it admits an object. */
export interface ClusterView {
  /** The storage key of the object being admitted. */
  readonly self: string
  /** Every stored object of a kind, with its storage key. */
  readonly objects: (kind: { readonly group: string; readonly plural: string }) => ReadonlyArray<readonly [string, AnyObject]>
  readonly counters: Counters
}

export interface AdmissionRequest {
  readonly object: AnyObject
  /** The stored object an update replaces; none on create. */
  readonly previous: Option.Option<AnyObject>
  readonly cluster: ClusterView
}

export interface Admitted {
  readonly object: AnyObject
  readonly counters: Counters
}

/** The object to store, or the field errors of a 422. */
export type Admission = Result.Result<Admitted, ReadonlyArray<string>>

export interface Kind {
  readonly nameRule: NameRule
  /**
   * What the API server's decoding of the request body refuses before any validation (a
   * quantity or a MicroTime it cannot parse): the detail of the 400 `BadRequest`.
   */
  readonly decode: (object: AnyObject) => Option.Option<string>
  /** Whether objects keep `metadata.generation` (1 on create, bumped by spec changes). */
  readonly generation: boolean
  /** The status a created object starts with when status is a subresource (what it sent is ignored). */
  readonly initialStatus: (object: AnyObject) => JsonObject | undefined
  /** Defaulting and validation of a create or an update of the main resource. */
  readonly admit: (request: AdmissionRequest) => Admission
  /**
   * What a write to the status subresource takes from the object sent besides its status: its
   * metadata too (labels, annotations, finalizers: every built-in kind), or nothing (custom
   * resources). Spec is always kept.
   */
  readonly statusWrite: "StatusAndMetadata" | "StatusOnly"
  /** Defaulting and validation of a write to the status subresource. */
  readonly admitStatus: (request: AdmissionRequest) => Admission
  /**
   * How a delete goes: at once (or marked while finalizers remain), or gracefully — the object is
   * first marked for deletion (`deletionTimestamp` after its grace period, a bumped generation),
   * then, when the grace period is 0 and no finalizer remains, deleted; while a grace period
   * runs it stays (no kubelet confirms it). Graceful kinds word a failed precondition
   * differently.
   */
  readonly deletion: { readonly _tag: "Immediate" } | { readonly _tag: "Graceful"; readonly gracePeriodSeconds: (object: AnyObject) => number }
}

/** The object, admitted as it is (with the counters unchanged). */
export const accept = (request: AdmissionRequest, object: AnyObject = request.object): Admission =>
  Result.succeed({ object, counters: request.cluster.counters })

export const reject = (errors: ReadonlyArray<string>): Admission => Result.fail(errors)

/** A kind with the API server's generic behaviour wherever the module says nothing. */
export const define = (kind: Partial<Kind>): Kind => ({
  nameRule: "DNS1123Subdomain",
  decode: () => Option.none(),
  generation: false,
  initialStatus: () => undefined,
  admit: (request) => accept(request),
  statusWrite: "StatusAndMetadata",
  admitStatus: (request) => accept(request),
  deletion: { _tag: "Immediate" },
  ...kind
})

/** Decodes with a domain Schema; a failure is one field error carrying the Schema's message. */
export const decodeAs = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Result.mapError(Schema.decodeUnknownResult(schema)(value), (error): ReadonlyArray<string> => [String(error)])

/** The previous object, when there is one, decoded with the same Schema (none if it does not decode). */
export const previousAs = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, previous: Option.Option<AnyObject>) =>
  Option.flatMap(previous, (value) => Result.getSuccess(decodeAs(schema, value)))
