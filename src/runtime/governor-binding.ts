/**
 * The governor's models for `solve --strategy auto`: the cascade ladder of a fleet (one copy, used by the
 * runtime and the lab) and the capability binder under the query's policy.
 */
import { existsSync } from 'node:fs';
import { InvalidInputError } from '../core/index.ts';
import { TINY_PREFIX, tinyCascadeLadder, type Fleet, type FleetConfig } from '../models/index.ts';
import { fleetBinder, registryBinder, type CapabilityBinder, type QueryPolicy } from '../governor/index.ts';
import { CapabilityRegistry, NoCapabilityError, defaultRegistryPath, openRegistry, type Embedder } from '../registry/index.ts';
import { simCascadeLadder } from '../workflow/index.ts';

const TIER_ORDER = ['small', 'medium', 'large'] as const;

/**
 * Models cheapest tier first, starting at `model`'s tier: the simulated ladder for `sim:` models, the shipped
 * tiny models' ladder for `tiny:` ones (tinyCascadeLadder), else one
 * configured model per higher tier (the first configured at each). Cascades escalate along it.
 */
export function cascadeLadder(model: string, config: FleetConfig): string[] {
  if (model.startsWith('sim:')) return simCascadeLadder(model);
  if (model.startsWith(TINY_PREFIX)) return tinyCascadeLadder(model);
  const tierOf = (reference: string): number => TIER_ORDER.indexOf(config.models[reference]?.tier ?? 'small');
  const byTier = new Map<number, string>();
  for (const reference of Object.keys(config.models)) {
    const tier = tierOf(reference);
    if (reference !== model && tier > tierOf(model) && !byTier.has(tier)) byTier.set(tier, reference);
  }
  return [model, ...[...byTier.entries()].sort((a, b) => a[0] - b[0]).map(([, reference]) => reference)];
}

/**
 * The capability binder of `solve --strategy auto`. Without a query policy: the fleet's tiers (as before).
 * With one (`--require`, `--forbid`, …): the capability registry's model cards under that policy
 * (`registryBinder`), from `--registry`, $THICKET_REGISTRY or registry.db beside the journal — never created
 * here; a missing registry file counts as an empty registry, i.e. the fleet's tiers under the same policy.
 * The starting model becomes the cheapest bound model at or above the `--model` tier, and a run whose policy
 * leaves nothing to start with is rejected before the journal is opened (NoCapabilityError, exit 2). Bound
 * models must keep the run's simulated/real nature (a simulated run runs on a virtual clock).
 */
export async function governorBinding(options: {
  fleet: Fleet;
  model: string;
  simulated: boolean;
  policy: QueryPolicy;
  registry?: string;
  planner?: string;
  /** The registry's embedder (the config's `embedder`); default: the hashing embedder. */
  embedder?: Embedder;
  /** Fleet-binder candidates above the starting tier (real fleets). */
  candidates?: readonly string[];
}): Promise<{ binder: CapabilityBinder; start: string; source: 'fleet' | 'registry' | 'fleet-under-policy' }> {
  const { fleet, policy } = options;
  const constrained =
    (policy.require?.length ?? 0) > 0 ||
    (policy.forbid?.length ?? 0) > 0 ||
    policy.providers !== undefined ||
    policy.maxCostPerCall !== undefined;
  if (!constrained) {
    return {
      binder: fleetBinder(fleet, options.model, {
        ...(options.candidates ? { candidates: options.candidates } : {}),
        ...(options.planner ? { planner: options.planner } : {}),
      }),
      start: options.model,
      source: 'fleet',
    };
  }
  const path = options.registry ?? defaultRegistryPath();
  const embedder = options.embedder ? { embedder: options.embedder } : {};
  const registry = existsSync(path) ? await openRegistry({ path, ...embedder }) : await CapabilityRegistry.open(embedder);
  let binder: Awaited<ReturnType<typeof registryBinder>>;
  try {
    const accept = (model: string): boolean => fleet.model(model).profile.simulated === options.simulated;
    binder = await registryBinder({ registry, fleet, start: options.model, policy, accept });
  } finally {
    // Discovery ran up front: the binder needs nothing more from the registry.
    registry.close();
  }
  const startTier = fleet.model(options.model).profile.tier;
  const start = binder.bind('answer', { minTier: startTier })?.model;
  if (start === undefined)
    throw new NoCapabilityError(`answer (tier ${startTier} or above)`, ['status=active', 'binding=model', ...binder.checks]);
  if (options.planner !== undefined && !(binder.candidates['plan'] ?? []).some((entry) => entry.model === options.planner)) {
    throw new InvalidInputError('Invalid solve request', [
      { path: '--planner', message: `${options.planner} is not a model card passing the query policy (${binder.checks.join(', ')})` },
    ]);
  }
  return { binder, start, source: binder.source === 'registry' ? 'registry' : 'fleet-under-policy' };
}
