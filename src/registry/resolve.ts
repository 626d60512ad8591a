/**
 * `resolveCapability`: what the workflow executor calls for a node that names a capability need instead of a
 * model. It discovers the single best capability under the node's constraints and returns its binding (for
 * a `model` binding, `binding.ref` is the fleet reference to call). Nothing passing the constraints is an
 * error, never a silent fallback to an unconstrained capability: policy is a hard filter.
 *
 * @example
 * const { binding } = await resolveCapability(registry, 'summarize a legal contract', { forbid: ['may-use-network'], bindingKinds: ['model'] });
 */
import type { Binding, StoredCard } from './card.ts';
import { NoCapabilityError } from './errors.ts';
import { compileFilter, type DiscoveryConstraints } from './filter.ts';
import type { CapabilityRegistry, DiscoveryResult } from './registry.ts';
import type { Plan } from './discovery.ts';

/** The shape of a workflow node's `capability` field. */
export interface CapabilityNeed {
  need: string;
  require?: string[];
  forbid?: string[];
  providers?: string[];
  maxCostPerCall?: number;
  maxLatencyMs?: number;
}

export interface ResolvedCapability {
  binding: Binding;
  /** `id@version` of the chosen card (record it in the trace: it makes the run reproducible). */
  ref: string;
  card: StoredCard;
  score: number;
  explanation: DiscoveryResult['explanation'];
  plan: Plan;
}

export async function resolveCapability(registry: CapabilityRegistry, need: string | CapabilityNeed, constraints: DiscoveryConstraints = {}): Promise<ResolvedCapability> {
  const query = typeof need === 'string' ? { need, ...constraints } : { ...constraints, ...need };
  const { results, plan } = await registry.discover({ ...query, k: 1 });
  const best = results[0];
  if (best === undefined) throw new NoCapabilityError(query.need, compileFilter(registry.columns, query).checks);
  return { binding: best.card.binding, ref: best.ref, card: best.card, score: best.score, explanation: best.explanation, plan };
}
