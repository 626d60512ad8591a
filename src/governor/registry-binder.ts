/**
 * `registryBinder`: capability binding through the capability registry (issue §4: the router and the planner
 * pick models through the registry, under the query's policy labels and budget).
 *
 * The binder interface is synchronous (the router and the planner bind inside their loops), discovery is not,
 * so the registry is asked once, up front: one discovery per need (`answer`, `plan`, `verify`) over model
 * cards (binding kind `model`) under the query's policy — required and forbidden labels, allowed providers,
 * the largest expected dollars per call — as HARD filters (the registry's filter; checked again here, so a
 * card that somehow slipped through is still never bound). Each card's tier is its `tier:<tier>` label, else
 * the fleet profile's tier of its model reference; cards the fleet cannot call are skipped (listed in
 * `skipped`).
 *
 * `bind(need, constraints)` then picks, like the fleet binder: the requested tier (or the cheapest tier at or
 * above `minTier`, and never below the starting tier), best discovery rank first within a tier, the most
 * capable tier first for `verify`; a card must also carry the query's own labels and one minimal call of it
 * must fit what is left of the budget. What it bound is named by card (`id@version`) in `chosen()`, which
 * governedSolve puts in its decision.
 *
 * Empty registry: when the registry holds no active model card at all, the binder falls back to the fleet's
 * tiers (`source: 'fleet'`), with the policy checked against what the fleet knows of each model — simulated
 * models carry `simulated` and `local`, provider `sim`; real ones carry no labels, so a required label rules
 * them out — and cost per call priced from the profile like a fleet card (1,000 input + 500 output tokens).
 * A registry that has model cards but none passing the policy is NOT empty: nothing is bound (policy is a
 * hard filter; there is no silent fallback to an unconstrained model).
 */
import type { Fleet } from '../models/index.ts';
import { TYPICAL_INPUT_TOKENS, TYPICAL_OUTPUT_TOKENS, costPerCall, type CapabilityRegistry, type StoredCard } from '../registry/index.ts';
import type { Tier } from '../workflow/index.ts';
import { TIERS, fleetTiers, type BindConstraints, type BoundCapability, type CapabilityBinder, type CapabilityNeed } from './binder.ts';

/** The query's policy: hard constraints on every model the governor may call. */
export interface QueryPolicy {
  require?: readonly string[];
  forbid?: readonly string[];
  providers?: readonly string[];
  /** Largest expected dollars per call (the card's estimate). */
  maxCostPerCall?: number;
}

/** One bindable model: a registry card, or (empty registry) a fleet model. */
export interface BindableModel {
  model: string;
  tier: Tier;
  /** `id@version` of the card; `fleet:<model>` for the empty-registry fallback. */
  card: string;
  labels: readonly string[];
  provider: string;
  costPerCall: number | undefined;
  /** Discovery score for the need (higher first); fleet fallback: 0. */
  score: number;
}

export interface RegistryBinder extends CapabilityBinder {
  source: 'registry' | 'fleet';
  /** What passed the policy, per need, best first. */
  candidates: Record<string, BindableModel[]>;
  /** Model cards the fleet cannot call (their reference does not resolve, or `accept` refused them). */
  skipped: string[];
  /** The policy checks every candidate passed (for explanations). */
  checks: string[];
  chosen(): BoundCapability[];
}

export interface RegistryBinderOptions {
  registry: CapabilityRegistry;
  fleet: Fleet;
  /** Starting model: nothing below its tier is bound (`--model sim:medium` means no small tier). */
  start?: string;
  policy?: QueryPolicy;
  /** Discovery text per need (defaults below). */
  needs?: Partial<Record<string, string>>;
  /** Models the caller can run (e.g. only simulated ones in a simulated run); others are skipped. */
  accept?: (model: string) => boolean;
}

const NEED_TEXT: Record<string, string> = {
  answer: 'language model that answers questions and solves problems step by step',
  plan: 'language model that writes structured JSON plans and workflows',
  verify: 'language model that judges whether an answer to a question is correct',
};

/** Output tokens of the smallest call worth making (as in the fleet binder). */
const MIN_CALL_OUTPUT = 64;
/** Discovery's largest k. */
const MAX_K = 1_000;

export async function registryBinder(options: RegistryBinderOptions): Promise<RegistryBinder> {
  const { registry, fleet } = options;
  const policy = options.policy ?? {};
  const checks = [
    ...(policy.require ?? []).map((label) => `require:${label}`),
    ...(policy.forbid ?? []).map((label) => `forbid:${label}`),
    ...(policy.providers ? [`provider∈{${policy.providers.join(',')}}`] : []),
    ...(policy.maxCostPerCall !== undefined ? [`costPerCall≤${policy.maxCostPerCall}`] : []),
  ];
  const needs = { ...NEED_TEXT, ...options.needs } as Record<string, string>;
  const hasModelCards = registry.list({ status: 'active' }).some((card) => card.binding.kind === 'model');
  const skipped = new Set<string>();
  const candidates: Record<string, BindableModel[]> = {};

  if (hasModelCards) {
    const k = Math.min(MAX_K, Math.max(1, registry.count()));
    for (const [need, text] of Object.entries(needs)) {
      const { results } = await registry.discover({
        need: text,
        k,
        bindingKinds: ['model'],
        ...(policy.require ? { require: policy.require } : {}),
        ...(policy.forbid ? { forbid: policy.forbid } : {}),
        ...(policy.providers ? { providers: policy.providers } : {}),
        ...(policy.maxCostPerCall !== undefined ? { maxCostPerCall: policy.maxCostPerCall } : {}),
      });
      const list: BindableModel[] = [];
      for (const result of results) {
        const entry = fromCard(result.card, result.ref, result.score, fleet);
        if (entry === undefined || (options.accept && !options.accept(entry.model))) skipped.add(result.ref);
        else if (passesPolicy(entry, policy)) list.push(entry);
      }
      candidates[need] = list;
    }
  } else {
    // Empty registry: the fleet's tiers, under the same policy checks (see the module comment).
    const start = options.start ?? 'sim:small';
    const tiers = fleetTiers(fleet, start);
    const list: BindableModel[] = [];
    for (const tier of TIERS) {
      const model = tiers[tier];
      if (model === undefined) continue;
      const profile = fleet.model(model).profile;
      const entry: BindableModel = {
        model,
        tier,
        card: `fleet:${model}`,
        labels: profile.simulated ? ['local', 'simulated', `tier:${tier}`] : [`tier:${tier}`],
        provider: profile.simulated ? 'sim' : (fleet.model(model).provider.providerId ?? 'unknown'),
        costPerCall: (TYPICAL_INPUT_TOKENS * profile.priceInputPerMillion + TYPICAL_OUTPUT_TOKENS * profile.priceOutputPerMillion) / 1e6,
        score: 0,
      };
      if (passesPolicy(entry, policy)) list.push(entry);
    }
    for (const need of Object.keys(needs)) candidates[need] = list;
  }

  const floor = options.start !== undefined ? TIERS.indexOf(fleet.model(options.start).profile.tier) : 0;
  const chosen: BoundCapability[] = [];
  const fits = (entry: BindableModel, constraints: BindConstraints): boolean => {
    if (constraints.labels?.some((label) => !entry.labels.includes(label))) return false;
    const room = constraints.budget;
    if (room) {
      const call = fleet.worstCase(entry.model, [{ role: 'user', content: '' }], MIN_CALL_OUTPUT);
      if (room.usd !== undefined && call.usd > room.usd + 1e-12) return false;
      if (room.totalTokens !== undefined && call.totalTokens > room.totalTokens) return false;
      if (room.calls !== undefined && room.calls < 1) return false;
    }
    return true;
  };

  return {
    source: hasModelCards ? 'registry' : 'fleet',
    candidates,
    skipped: [...skipped].sort(),
    checks,
    chosen: () => [...chosen],
    bind(need: CapabilityNeed, constraints: BindConstraints = {}) {
      const pool = candidates[need] ?? candidates['answer'] ?? [];
      let tiers = TIERS.filter((tier) => TIERS.indexOf(tier) >= floor);
      if (constraints.tier !== undefined) tiers = tiers.filter((tier) => tier === constraints.tier);
      else if (constraints.minTier !== undefined)
        tiers = tiers.filter((tier) => TIERS.indexOf(tier) >= TIERS.indexOf(constraints.minTier!));
      // A judge is most useful when it is the most capable model; everything else goes cheapest first.
      if (need === 'verify' && constraints.tier === undefined) tiers = [...tiers].reverse();
      for (const tier of tiers) {
        const entry = pool.find((candidate) => candidate.tier === tier && fits(candidate, constraints));
        if (entry === undefined) continue;
        if (!chosen.some((bound) => bound.need === need && bound.tier === tier && bound.card === entry.card))
          chosen.push({ need, tier, model: entry.model, card: entry.card });
        return { model: entry.model, card: entry.card };
      }
      return undefined;
    },
  };
}

/** A discovered card as a bindable model, or undefined when the fleet cannot call its reference. */
function fromCard(card: StoredCard, ref: string, score: number, fleet: Fleet): BindableModel | undefined {
  if (card.binding.kind !== 'model') return undefined;
  const model = card.binding.ref;
  let tier: Tier;
  try {
    const labelled = card.labels.find((label) => label.startsWith('tier:'))?.slice('tier:'.length);
    tier = labelled !== undefined && (TIERS as readonly string[]).includes(labelled) ? (labelled as Tier) : fleet.model(model).profile.tier;
    fleet.model(model);
  } catch {
    return undefined;
  }
  return { model, tier, card: ref, labels: card.labels, provider: card.provider, costPerCall: costPerCall(card), score };
}

/** The policy, checked on our side too: a bound model must visibly satisfy every hard constraint. */
export function passesPolicy(entry: Pick<BindableModel, 'labels' | 'provider' | 'costPerCall'>, policy: QueryPolicy): boolean {
  if (policy.require?.some((label) => !entry.labels.includes(label))) return false;
  if (policy.forbid?.some((label) => entry.labels.includes(label))) return false;
  if (policy.providers !== undefined && !policy.providers.includes(entry.provider)) return false;
  // Unknown cost cannot be shown to fit a cost cap (as in the registry's filter).
  if (policy.maxCostPerCall !== undefined && !(entry.costPerCall !== undefined && entry.costPerCall <= policy.maxCostPerCall)) return false;
  return true;
}
