/**
 * Every configured fleet model is a capability too. `fleetCards` maps the fleet config (plus the resolver's
 * profiles, which know prices and tiers after defaults and overrides) to cards; `syncCards` registers them so
 * that a changed model gets a new version rather than a conflict.
 *
 * Mapping per alias (and, with `includeSim`, per built-in simulated tier `sim:<profile>`, which every fleet
 * can call without configuration; aliases cannot contain ":", so the two never collide):
 *   id        `model:<alias>` (`model:sim:<profile>`); version 1.0.0 (syncCards bumps the minor version when the
 *             content changes)
 *   binding   { kind: 'model', ref: <alias> } (`sim:<profile>`)
 *   cost      the profile's per-million prices (per-call estimate: 1,000 input + 500 output tokens)
 *   latency   simulated models: p50 = ttft + 500 × per-token time from their sim profile; real ones unknown
 *   labels    `tier:<tier>`, `reasoning` when so, `simulated` + `local` for sim:, `local` for a localhost
 *             endpoint, else `may-use-network`
 *   quality   a tier prior (small 0.4, medium 0.55, large 0.7) — a prior, until measured
 */
import { DEFAULT_SIM_PROFILES, mergeSimProfile, type FleetConfig, type ModelProfile } from '../models/index.ts';
import { contentHash, parseCards, TYPICAL_OUTPUT_TOKENS, type Card, type CardInput } from './card.ts';
import { hostOf } from './ingest-common.ts';
import type { CapabilityRegistry } from './registry.ts';
import { latest } from './versions.ts';
import semver from 'semver';

const TIER_QUALITY = { small: 0.4, medium: 0.55, large: 0.7 } as const;

/** Anything that can turn a model reference into its profile (FleetResolver does). */
export interface ProfileSource {
  resolve(reference: string): { profile: ModelProfile };
}

export interface FleetCardsOptions {
  includeSim?: boolean;
  /**
   * A configured model that cannot resolve (its gguf file is missing, gguf:default not pulled) gets no card and
   * is reported here; without this callback the resolution error is thrown.
   */
  onUnavailable?: (alias: string, error: unknown) => void;
}

export function fleetCards(config: FleetConfig, profiles: ProfileSource, options: FleetCardsOptions = {}): Card[] {
  const configured: Array<[string, FleetConfig['models'][string]]> = Object.entries(config.models);
  // The built-in tiers as if configured under their own reference (the resolver knows `sim:<profile>`).
  const builtIn: Array<[string, FleetConfig['models'][string]]> = options.includeSim
    ? Object.keys(DEFAULT_SIM_PROFILES).map((profile) => [`sim:${profile}`, { provider: 'sim', profile }])
    : [];
  const cards: CardInput[] = [...configured, ...builtIn].flatMap(([alias, entry]): CardInput[] => {
    let profile: ModelProfile;
    try {
      profile = profiles.resolve(alias).profile;
    } catch (error) {
      if (!options.onUnavailable) throw error;
      options.onUnavailable(alias, error);
      return [];
    }
    const labels = [`tier:${profile.tier}`, ...(profile.reasoning ? ['reasoning'] : [])];
    let provider: string;
    let latency: CardInput['latency'];
    let model: string;
    if (entry.provider === 'sim') {
      labels.push('simulated', 'local');
      provider = 'sim';
      model = `sim:${entry.profile}`;
      const base = DEFAULT_SIM_PROFILES[entry.profile];
      if (base !== undefined) {
        const sim = mergeSimProfile(base, entry.overrides ?? {});
        latency = { p50Ms: sim.latency.ttftMs + TYPICAL_OUTPUT_TOKENS * sim.latency.perTokenMs };
      }
    } else if (entry.provider === 'llama') {
      labels.push('local');
      provider = 'llama';
      model = `gguf:${entry.path}`;
    } else {
      const host = hostOf(entry.baseURL);
      labels.push(/^(localhost|127\.|\[::1\])/.test(host) ? 'local' : 'may-use-network');
      provider = host;
      model = entry.model;
    }
    return [
      {
        id: `model:${alias}`,
        version: '1.0.0',
        name: alias,
        description:
          entry.description ??
          `${profile.tier} ${profile.reasoning ? 'reasoning ' : ''}language model ${model}: answers questions, writes and transforms text`,
        skills: [
          { id: 'generate', name: 'Text generation', tags: ['llm', 'chat', profile.tier, ...(profile.reasoning ? ['reasoning'] : [])] },
        ],
        binding: { kind: 'model', ref: alias },
        cost: { inputPerMillionUsd: profile.priceInputPerMillion, outputPerMillionUsd: profile.priceOutputPerMillion },
        ...(latency !== undefined ? { latency } : {}),
        labels: labels.sort(),
        provider,
        quality: TIER_QUALITY[profile.tier],
        source: { kind: 'fleet' },
        metadata: { contextWindow: profile.contextWindow, simulated: profile.simulated },
      },
    ];
  });
  return parseCards(cards, 'fleet model cards');
}

/**
 * Registers cards whose version is not meaningful to their publisher (fleet models): unchanged content is
 * a no-op; changed content becomes the next minor version after the highest stored one (yanked included, so
 * a yanked number is never reused), and the previous active version is deprecated, so pins keep working and
 * "latest" moves on. Content equal to a yanked version is not registered again: the yank stands (reported
 * in `yanked`) — re-running a sync never undoes an operator's decision.
 */
export async function syncCards(
  registry: CapabilityRegistry,
  cards: readonly Card[],
): Promise<{ added: string[]; unchanged: string[]; deprecated: string[]; yanked: string[] }> {
  const result = { added: [] as string[], unchanged: [] as string[], deprecated: [] as string[], yanked: [] as string[] };
  for (const card of cards) {
    const versions = registry.list({ id: card.id });
    if (versions.length === 0) {
      result.added.push(...(await registry.register(card)).added);
      continue;
    }
    const sameContent = (stored: (typeof versions)[number]): boolean => {
      const { embedding: _embedding, registeredAt: _registeredAt, ...content } = stored;
      return contentHash({ ...content, version: card.version }) === contentHash(card);
    };
    const current = latest(versions.filter((stored) => stored.status !== 'yanked'));
    if (current !== undefined && sameContent(current)) {
      result.unchanged.push(`${current.id}@${current.version}`);
      continue;
    }
    const yanked = versions.find((stored) => stored.status === 'yanked' && sameContent(stored));
    if (yanked !== undefined) {
      result.yanked.push(`${yanked.id}@${yanked.version}`);
      continue;
    }
    const highest = versions.reduce((max, entry) => (semver.gt(entry.version, max) ? entry.version : max), '0.0.0');
    const next = { ...card, version: semver.inc(highest, 'minor')! };
    result.added.push(...(await registry.register(next)).added);
    if (current?.status === 'active') {
      registry.setStatus(current.id, current.version, 'deprecated');
      result.deprecated.push(`${current.id}@${current.version}`);
    }
  }
  return result;
}
