/**
 * Thicket's capability card: one versioned, discoverable thing that can do work — a fleet model, a local
 * operator or agent, a remote A2A agent skill or an MCP tool. Defined once with zod (types + validation);
 * invalid cards are rejected with every problem listed (JSON path + reason), never just the first.
 *
 * A card as given (`CardInput`) carries no embedding fields: the registry adds the embedder id and dimension
 * when it stores the card (`StoredCard`), because which model embedded it is the registry's fact, not the
 * publisher's claim. The content hash — which decides "same id@version, same content" — excludes the status,
 * so deprecating a version never makes a re-registration of the original document conflict.
 *
 * @example
 * const [card] = parseCards({ id: 'summarize', version: '1.0.0', name: 'Summarizer', description: 'Summarizes text',
 *   binding: { kind: 'model', ref: 'sim:small' }, provider: 'local' });
 */
import semver from 'semver';
import { z } from 'zod';
import { hashValue, InvalidInputError } from '../core/index.ts';
import { zodIssues } from '../models/index.ts';

/** Ids may not contain "@" (the version separator) or whitespace. */
const CARD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
/** Policy labels are lowercase so that "EU" and "eu" can never be two different policies. */
export const LABEL_PATTERN = /^[a-z0-9][a-z0-9._:=/-]{0,99}$/;

export const CARD_STATUSES = ['active', 'deprecated', 'yanked'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

const text = (max: number) => z.string().min(1).max(max);
const modes = z.array(text(200)).max(64);

const skillSchema = z
  .object({
    id: text(200),
    name: text(500),
    description: z.string().max(20_000).optional(),
    tags: z.array(text(200)).max(64).default([]),
    examples: z.array(text(5_000)).max(64).optional(),
    inputModes: modes.optional(),
    outputModes: modes.optional(),
  })
  .strict();

const ioSchema = z
  .object({
    inputModes: modes.optional(),
    outputModes: modes.optional(),
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    outputSchema: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const bindingSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('model'), ref: text(200).describe('Fleet model reference (sim:<profile>, an alias, openai:<model>)') })
    .strict(),
  z.object({ kind: z.literal('operator'), name: text(200).describe('A compute operator of the ops layer') }).strict(),
  z.object({ kind: z.literal('agent'), name: text(200).describe('A local agent') }).strict(),
  z
    .object({
      kind: z.literal('a2a'),
      url: z.url(),
      skill: text(200).optional(),
      protocolBinding: text(100).optional(),
      protocolVersion: text(50).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('mcp'),
      server: z
        .object({
          name: text(200),
          version: text(100).optional(),
          command: text(2_000).optional(),
          args: z.array(z.string()).max(256).optional(),
          url: z.url().optional(),
        })
        .strict(),
      tool: text(200),
    })
    .strict(),
]);

const costSchema = z
  .object({
    perCallUsd: z.number().nonnegative().optional(),
    inputPerMillionUsd: z.number().nonnegative().optional(),
    outputPerMillionUsd: z.number().nonnegative().optional(),
    typicalInputTokens: z.number().int().nonnegative().optional(),
    typicalOutputTokens: z.number().int().nonnegative().optional(),
  })
  .strict();

const latencySchema = z
  .object({ p50Ms: z.number().nonnegative().optional(), p95Ms: z.number().nonnegative().optional() })
  .strict()
  .refine((latency) => latency.p50Ms === undefined || latency.p95Ms === undefined || latency.p95Ms >= latency.p50Ms, {
    message: 'p95Ms must be ≥ p50Ms',
    path: ['p95Ms'],
  });

const cardSourceSchema = z
  .object({
    kind: z.enum(['manual', 'a2a', 'mcp', 'fleet']),
    uri: z.string().max(2_000).optional(),
    protocolVersion: z.string().max(50).optional(),
  })
  .strict();

export const cardInputSchema = z
  .object({
    id: z.string().regex(CARD_ID_PATTERN, 'ids use letters, digits, ".", "_", ":", "/" and "-" (no "@", no spaces), ≤ 200 chars'),
    version: z.string().refine((value) => semver.valid(value) === value, 'must be a semantic version such as 1.4.2 (no leading "v")'),
    name: text(500),
    description: z.string().max(50_000).default(''),
    skills: z.array(skillSchema).max(1_000).default([]),
    io: ioSchema.optional(),
    binding: bindingSchema,
    cost: costSchema.optional(),
    latency: latencySchema.optional(),
    labels: z
      .array(z.string().regex(LABEL_PATTERN, 'labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu)'))
      .max(256)
      .default([]),
    provider: text(200),
    /** Quality prior in [0, 1] (default 0.5): how good this capability is believed to be, before any query. */
    quality: z.number().min(0).max(1).optional(),
    status: z.enum(CARD_STATUSES).default('active'),
    source: cardSourceSchema.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type CardInput = z.input<typeof cardInputSchema>;
export type Card = z.output<typeof cardInputSchema>;
export type Binding = z.output<typeof bindingSchema>;
export type Skill = z.output<typeof skillSchema>;

export interface EmbeddingInfo {
  embedder: string;
  dimension: number;
}

/** A card as the registry holds it: the card, which embedder made its vector, and when it was stored. */
export interface StoredCard extends Card {
  embedding: EmbeddingInfo;
  registeredAt: string;
}

/** Defaults used to turn per-token prices into a per-call estimate when a card gives no per-call cost. */
export const TYPICAL_INPUT_TOKENS = 1_000;
export const TYPICAL_OUTPUT_TOKENS = 500;

/**
 * Validates one card or an array of cards. Every problem of every card is listed (paths are prefixed with
 * `[i]` for arrays), and duplicate id@version pairs inside one batch are problems too.
 */
export function parseCards(value: unknown, what = 'capability card'): Card[] {
  const items = Array.isArray(value) ? value : [value];
  const prefixOf = (index: number) => (Array.isArray(value) ? `[${index}]` : '');
  const cards: Card[] = [];
  const issues: { path: string; message: string }[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const parsed = cardInputSchema.safeParse(item);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, prefixOf(index)));
      return;
    }
    const key = `${parsed.data.id}@${parsed.data.version}`;
    const earlier = seen.get(key);
    if (earlier !== undefined && contentHash(cards[earlier]!) !== contentHash(parsed.data)) {
      issues.push({
        path: `${prefixOf(index)}.version`.replace(/^\./, ''),
        message: `${key} appears twice in this document with different content`,
      });
    }
    if (earlier === undefined) seen.set(key, cards.length);
    cards.push(parsed.data);
  });
  if (issues.length > 0) throw new InvalidInputError(`Invalid ${what}`, issues);
  return cards;
}

/** Hash of everything a publisher controls except the lifecycle status. */
export function contentHash(card: Card): string {
  const { status: _status, ...content } = card;
  return hashValue(content);
}

/** The text that is embedded for discovery: what the capability does, in the publisher's words. */
export function cardText(card: Card): string {
  const parts = [card.name, card.description];
  for (const skill of card.skills) {
    parts.push(skill.name);
    if (skill.description) parts.push(skill.description);
    if (skill.tags.length > 0) parts.push(skill.tags.join(' '));
    if (skill.examples) parts.push(...skill.examples);
  }
  return parts.filter((part) => part.length > 0).join('. ');
}

/** Expected dollars per call: the per-call price, else token prices × typical tokens; undefined when unknown. */
export function costPerCall(card: Card): number | undefined {
  const cost = card.cost;
  if (cost === undefined) return undefined;
  if (cost.perCallUsd !== undefined) return cost.perCallUsd;
  if (cost.inputPerMillionUsd === undefined && cost.outputPerMillionUsd === undefined) return undefined;
  const input = (cost.typicalInputTokens ?? TYPICAL_INPUT_TOKENS) * (cost.inputPerMillionUsd ?? 0);
  const output = (cost.typicalOutputTokens ?? TYPICAL_OUTPUT_TOKENS) * (cost.outputPerMillionUsd ?? 0);
  return (input + output) / 1_000_000;
}

/** Latency compared with a query's limit: p95 when known (a budget is a worst case), else p50. */
export function latencyBoundMs(card: Card): number | undefined {
  return card.latency?.p95Ms ?? card.latency?.p50Ms;
}

export function cardRef(card: Pick<Card, 'id' | 'version'>): string {
  return `${card.id}@${card.version}`;
}
