/**
 * Hard constraints of a discovery query, compiled against the columnar store into masks and limits, and the
 * check of one slot against them. Policy (required and forbidden labels, allowed providers) and budget (cost
 * per call, latency) are filters here and nowhere a score: a slot either passes every constraint or is never
 * returned. Unknown cost or latency fails a limit on it — an unpriced capability cannot be shown to fit.
 */
import type { Binding } from './card.ts';
import { BINDING_KINDS, type ColumnStore } from './columns.ts';

export interface DiscoveryConstraints {
  /** Labels a capability must carry (all of them). */
  require?: readonly string[];
  /** Labels a capability must not carry (any of them excludes it). */
  forbid?: readonly string[];
  /** Providers allowed (any of them); all when absent. */
  providers?: readonly string[];
  /** Upper bound on the expected dollars per call. */
  maxCostPerCall?: number;
  /** Upper bound on latency (p95 when the card gives it, else p50), in milliseconds. */
  maxLatencyMs?: number;
  /** Binding kinds the caller can execute (e.g. only `model` for the workflow executor); all when absent. */
  bindingKinds?: readonly Binding['kind'][];
}

export interface CompiledFilter {
  /** True when no slot can pass (a required label or every allowed provider is unknown). */
  impossible: boolean;
  /** True when only the status is checked. */
  trivial: boolean;
  required: Uint32Array;
  forbidden: Uint32Array;
  requiredLabelIds: number[];
  providers: Uint8Array | undefined;
  providerIds: number[];
  kinds: Uint8Array | undefined;
  maxCost: number;
  maxLatency: number;
  /** Human-readable list of the checks every returned capability passed. */
  checks: string[];
}

export function compileFilter(store: ColumnStore, constraints: DiscoveryConstraints): CompiledFilter {
  const words = store.labelWords;
  const required = new Uint32Array(words);
  const forbidden = new Uint32Array(words);
  const checks = ['status=active'];
  let impossible = false;
  const requiredLabelIds: number[] = [];
  for (const label of constraints.require ?? []) {
    checks.push(`require:${label}`);
    const id = store.labels.ids.get(label);
    if (id === undefined) impossible = true;
    else {
      required[id >>> 5]! |= 1 << (id & 31);
      requiredLabelIds.push(id);
    }
  }
  for (const label of constraints.forbid ?? []) {
    checks.push(`forbid:${label}`);
    const id = store.labels.ids.get(label);
    if (id !== undefined) forbidden[id >>> 5]! |= 1 << (id & 31);
  }
  let providers: Uint8Array | undefined;
  const providerIds: number[] = [];
  if (constraints.providers !== undefined) {
    checks.push(`provider∈{${constraints.providers.join(',')}}`);
    providers = new Uint8Array(store.providers.names.length);
    for (const name of constraints.providers) {
      const id = store.providers.ids.get(name);
      if (id !== undefined) {
        providers[id] = 1;
        providerIds.push(id);
      }
    }
    if (providerIds.length === 0) impossible = true;
  }
  let kinds: Uint8Array | undefined;
  if (constraints.bindingKinds !== undefined) {
    checks.push(`binding∈{${constraints.bindingKinds.join(',')}}`);
    kinds = new Uint8Array(BINDING_KINDS.length);
    for (const kind of constraints.bindingKinds) if (BINDING_KINDS.includes(kind)) kinds[BINDING_KINDS.indexOf(kind)] = 1;
    if (!kinds.includes(1)) impossible = true;
  }
  const maxCost = constraints.maxCostPerCall ?? Number.POSITIVE_INFINITY;
  const maxLatency = constraints.maxLatencyMs ?? Number.POSITIVE_INFINITY;
  if (constraints.maxCostPerCall !== undefined) checks.push(`costPerCall≤${constraints.maxCostPerCall}`);
  if (constraints.maxLatencyMs !== undefined) checks.push(`latencyMs≤${constraints.maxLatencyMs}`);
  const trivial = checks.length === 1;
  return { impossible, trivial, required, forbidden, requiredLabelIds, providers, providerIds, kinds, maxCost, maxLatency, checks };
}

/** Whether `slot` passes every hard constraint. Typed-array reads only: this runs per candidate. */
export function passes(store: ColumnStore, filter: CompiledFilter, slot: number): boolean {
  if (store.status[slot] !== 1) return false;
  const words = store.labelWords;
  const base = slot * words;
  // A compiled filter is as wide as the store was when compiled; labels added since are not in it.
  const width = Math.min(words, filter.required.length);
  for (let word = 0; word < width; word++) {
    const bits = store.labelBits[base + word]!;
    if ((filter.required[word]! & ~bits) !== 0) return false;
    if ((filter.forbidden[word]! & bits) !== 0) return false;
  }
  if (filter.providers !== undefined && filter.providers[store.provider[slot]!] !== 1) return false;
  if (filter.kinds !== undefined && filter.kinds[store.kind[slot]!] !== 1) return false;
  if (filter.maxCost !== Number.POSITIVE_INFINITY && !(store.cost[slot]! <= filter.maxCost)) return false;
  if (filter.maxLatency !== Number.POSITIVE_INFINITY && !(store.latency[slot]! <= filter.maxLatency)) return false;
  return true;
}
