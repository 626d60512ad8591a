/**
 * `resolveCapability`: what the workflow executor calls for a node that names a capability need instead of a
 * model. It discovers the single best capability under the node's constraints and returns its binding (for
 * a `model` binding, `binding.ref` is the fleet reference to call). Nothing passing the constraints is an
 * error, never a silent fallback to an unconstrained capability: policy is a hard filter.
 *
 * @example
 * const { binding } = await resolveCapability(registry, 'summarize a legal contract', { forbid: ['may-use-network'], bindingKinds: ['model'] });
 */
import { CapabilityUnresolvedError, type CapabilityResolver } from '../workflow/index.ts';
import { costPerCall, type Binding, type StoredCard } from './card.ts';
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

export async function resolveCapability(
  registry: CapabilityRegistry,
  need: string | CapabilityNeed,
  constraints: DiscoveryConstraints = {},
): Promise<ResolvedCapability> {
  const query = typeof need === 'string' ? { need, ...constraints } : { ...constraints, ...need };
  const { results, plan } = await registry.discover({ ...query, k: 1 });
  const best = results[0];
  if (best === undefined) throw new NoCapabilityError(query.need, compileFilter(registry.columns, query).checks);
  return { binding: best.card.binding, ref: best.ref, card: best.card, score: best.score, explanation: best.explanation, plan };
}

export interface WorkflowResolverOptions {
  /** Why the run's fleet cannot call a model reference, or undefined when it can (e.g. FleetResolver.resolve). */
  canCall: (model: string) => string | undefined;
  /** Model cards looked at, best first, when the best ones bind models the fleet cannot call (default 8). */
  candidates?: number;
}

/**
 * The workflow executor's `resolveCapability`, backed by this registry. Only fleet-model cards are bound
 * (discovery is restricted to `model` bindings, and the best card whose model the fleet can call wins): A2A
 * agents and MCP tools are not executable in workflow nodes yet, and when only such cards match, the error
 * says so by name. The constraints arrive already merged with the run's policy (workflow/capability.ts).
 * Every failure is a CapabilityUnresolvedError (code CAPABILITY_UNRESOLVED).
 */
export function workflowCapabilityResolver(registry: CapabilityRegistry, options: WorkflowResolverOptions): CapabilityResolver {
  return async (request, context) => {
    const { need, ...constraints } = request;
    const { results } = await registry.discover({ need, ...constraints, bindingKinds: ['model'], k: options.candidates ?? 8 });
    const uncallable: string[] = [];
    for (const result of results) {
      if (result.card.binding.kind !== 'model') continue;
      const model = result.card.binding.ref;
      const problem = options.canCall(model);
      if (problem !== undefined) {
        uncallable.push(`${result.ref} → ${model} (${problem})`);
        continue;
      }
      const cost = costPerCall(result.card);
      return {
        model,
        cardId: result.card.id,
        version: result.card.version,
        score: result.score,
        explanation: result.explanation,
        labels: result.card.labels,
        ...(cost !== undefined ? { costPerCall: cost } : {}),
      };
    }
    if (uncallable.length > 0)
      throw new CapabilityUnresolvedError(
        context.nodeId,
        need,
        'model-unavailable',
        `the matching model cards bind models this fleet cannot call: ${uncallable.join('; ')}`,
      );
    const other = (await registry.discover({ need, ...constraints, k: 1 })).results[0];
    if (other !== undefined) {
      throw new CapabilityUnresolvedError(
        context.nodeId,
        need,
        'not-executable',
        `the best match, ${other.ref}, is an ${other.card.binding.kind} binding; only fleet model cards can run in workflow nodes yet (A2A agents ` +
          `and MCP tools cannot)`,
      );
    }
    throw new CapabilityUnresolvedError(
      context.nodeId,
      need,
      'no-match',
      `no active capability passes every constraint (${compileFilter(registry.columns, request).checks.join(', ')})`,
    );
  };
}
