/**
 * Capability binding: how the governor turns a *need* ("answer at tier medium", "plan", "verify") into a model
 * reference. The router and the planner never name models themselves; they ask a `CapabilityBinder`, so the
 * capability registry (versioned cards, HNSW discovery, policy filters) takes over by implementing this
 * one method (`registryBinder`, registry-binder.ts).
 *
 * The default binder is the fleet's tiers: one model per tier (small / medium / large), starting at the tier
 * of the model the user chose (`--model sim:medium` means nothing below medium is used). A model qualifies for
 * a constraint set when it carries every required policy label and one minimal call of it fits the budget.
 */
import type { BudgetLimits } from '../budget/index.ts';
import type { Fleet } from '../models/index.ts';
import type { Tier } from '../workflow/index.ts';

export const TIERS: readonly Tier[] = ['small', 'medium', 'large'];

/** What the caller needs bound; `answer` is the default worker capability. */
export type CapabilityNeed = 'answer' | 'plan' | 'verify' | (string & {});

export interface BindConstraints {
  /** Exactly this tier. */
  tier?: Tier;
  /** This tier or above (when `tier` is not given: the cheapest such). */
  minTier?: Tier;
  /** Policy labels the query carries (e.g. `local`, `simulated`): the model must carry them all. */
  labels?: readonly string[];
  /** What is left of the budget: models whose smallest useful call does not fit are skipped. */
  budget?: BudgetLimits;
}

/** One binding made: which model (and, for registry-backed binders, which card `id@version`) serves a need. */
export interface BoundCapability {
  need: string;
  tier: Tier;
  model: string;
  card: string;
}

/** Implemented by the fleet's tiers (`fleetBinder`) and over the capability registry (`registryBinder`). */
export interface CapabilityBinder {
  bind(need: CapabilityNeed, constraints?: BindConstraints): { model: string; card?: string } | undefined;
  /** The distinct bindings made so far (registry-backed binders name their cards; explanations list them). */
  chosen?(): BoundCapability[];
}

export interface TierBinderOptions {
  /** One model per tier; tiers left out are not available (e.g. below the starting tier). */
  tiers: Partial<Record<Tier, string>>;
  /** Model for `plan` (default: the cheapest tier's model). */
  planner?: string;
  /** Model for `verify` (default: the most capable tier's model). */
  verifier?: string;
  /** Labels each model carries (for policy labels). Models not listed carry none. */
  labels?: Record<string, readonly string[]>;
  /** When given, budget constraints are checked against one minimal call priced by the fleet. */
  fleet?: Fleet;
}

/** Output tokens of the smallest call worth making (the fleet refuses below 16; an answer needs more). */
const MIN_CALL_OUTPUT = 64;

export function tierBinder(options: TierBinderOptions): CapabilityBinder {
  const available = TIERS.filter((tier) => options.tiers[tier] !== undefined);
  const qualifies = (model: string, constraints: BindConstraints): boolean => {
    const carried = options.labels?.[model] ?? [];
    if (constraints.labels?.some((label) => !carried.includes(label))) return false;
    if (options.fleet && constraints.budget) {
      const call = options.fleet.worstCase(model, [{ role: 'user', content: '' }], MIN_CALL_OUTPUT);
      const room = constraints.budget;
      if (room.usd !== undefined && call.usd > room.usd + 1e-12) return false;
      if (room.totalTokens !== undefined && call.totalTokens > room.totalTokens) return false;
      if (room.calls !== undefined && room.calls < 1) return false;
    }
    return true;
  };
  return {
    bind(need, constraints = {}) {
      if (need === 'plan' && options.planner !== undefined && constraints.tier === undefined)
        return qualifies(options.planner, constraints) ? { model: options.planner } : undefined;
      if (need === 'verify' && options.verifier !== undefined && constraints.tier === undefined)
        return qualifies(options.verifier, constraints) ? { model: options.verifier } : undefined;
      let candidates = available;
      if (constraints.tier !== undefined) candidates = candidates.filter((tier) => tier === constraints.tier);
      else if (constraints.minTier !== undefined)
        candidates = candidates.filter((tier) => TIERS.indexOf(tier) >= TIERS.indexOf(constraints.minTier!));
      // A judge is most useful when it is the most capable model; everything else goes cheapest first.
      if (need === 'verify' && constraints.tier === undefined) candidates = [...candidates].reverse();
      for (const tier of candidates) {
        const model = options.tiers[tier]!;
        if (qualifies(model, constraints)) return { model };
      }
      return undefined;
    },
  };
}

/**
 * The default binder over a fleet: the starting model takes its own tier; each higher tier takes the first
 * candidate of that tier (candidates in order of preference). For `sim:<tier>` the candidates are the
 * simulated tiers, so `sim:small` escalates to `sim:medium` and `sim:large`.
 */
export function fleetBinder(
  fleet: Fleet,
  start: string,
  options: { candidates?: readonly string[]; planner?: string; verifier?: string; labels?: Record<string, readonly string[]> } = {},
): CapabilityBinder {
  return tierBinder({
    ...options,
    tiers: fleetTiers(fleet, start, options.candidates),
    fleet,
    labels: options.labels ?? simulatedLabels(fleet, start, options.candidates),
  });
}

/** The tier map for a starting model: its tier and the tiers above it. */
export function fleetTiers(fleet: Fleet, start: string, candidates?: readonly string[]): Partial<Record<Tier, string>> {
  const startTier = fleet.model(start).profile.tier;
  const tiers: Partial<Record<Tier, string>> = { [startTier]: start };
  const list = candidates ?? (start.startsWith('sim:') ? ['sim:small', 'sim:medium', 'sim:large'] : []);
  for (const reference of list) {
    const tier = fleet.model(reference).profile.tier;
    if (TIERS.indexOf(tier) > TIERS.indexOf(startTier) && tiers[tier] === undefined) tiers[tier] = reference;
  }
  return tiers;
}

/** Simulated models carry the `simulated` and `local` labels (they never leave the machine). */
function simulatedLabels(fleet: Fleet, start: string, candidates?: readonly string[]): Record<string, readonly string[]> {
  const labels: Record<string, readonly string[]> = {};
  for (const reference of [start, ...(candidates ?? (start.startsWith('sim:') ? ['sim:small', 'sim:medium', 'sim:large'] : []))]) {
    if (fleet.model(reference).profile.simulated) labels[reference] = ['simulated', 'local'];
  }
  return labels;
}

/** The models a binder gives per tier (for the planner's prompt and the workflow's `tierModels`). */
export function boundTiers(binder: CapabilityBinder, constraints: BindConstraints = {}): Partial<Record<Tier, string>> {
  const tiers: Partial<Record<Tier, string>> = {};
  for (const tier of TIERS) {
    const bound = binder.bind('answer', { ...constraints, tier });
    if (bound) tiers[tier] = bound.model;
  }
  return tiers;
}
