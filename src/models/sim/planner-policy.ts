/**
 * How a simulated model answers planner calls (`purpose: 'plan'`, issued by the governor): a workflow spec
 * as JSON, chosen from a small template library by how hard the task looks to the model —
 *
 *   perceived difficulty < 1     one sample… three-sample vote on the small tier
 *                        < 2.5   adaptive vote (5–9 samples, sized to the budget line of the prompt)
 *                        < 4     cascade small → medium → large (the models named in the prompt's tier line)
 *                        ≥ 4     a recursive thread on the medium tier (decompose)
 *
 * — where the perceived difficulty is the oracle's difficulty plus the instance offset plus noise that
 * shrinks with the model's discrimination (a better planner misjudges less). Feedback in the conversation
 * moves the choice: each "Outcome: incorrect" one band up (spend more), "too expensive" one band down.
 *
 * At a low seeded rate (PLAN_INVALID_RATE, lower once the planner has been told its spec was rejected) the
 * spec is invalid on purpose — a cycle, a per-node sample count over the generated-spec limit, or an input
 * naming no node — always still valid JSON for the schema, so it is the runtime's validator (not the JSON
 * parser) that must catch it and the retry path gets exercised. Everything is a function of (seed, call
 * identity): the same plan call always gets the same spec. The text is a spec, not reasoning: it says
 * nothing about the answer.
 *
 * This file knows the spec format only as plain JSON (models sits below the workflow layer).
 */
import { countTokens, rngFor } from '../../core/index.ts';
import type { ChatMessage, FinishReason } from '../spec.ts';
import {
  PLANNER_OUTCOME_INCORRECT,
  PLANNER_REJECTED,
  PLANNER_TOO_EXPENSIVE,
  countMarker,
  readBudgetTotalTokens,
  readTierLine,
} from '../../formats/index.ts';
import { instanceNoise } from './accuracy.ts';
import type { SimProfile } from './profiles.ts';
import type { ResolvedTask } from './tasks.ts';

/** Share of first-attempt plan calls that return a structurally invalid spec. */
const PLAN_INVALID_RATE = 0.1;
/** Share once the conversation carries a rejection (planners do learn from the error list). */
const PLAN_INVALID_RATE_AFTER_FEEDBACK = 0.05;
/** Tokens a planner spends thinking before it writes the JSON (on top of the JSON's own tokens). */
const PLAN_THINKING_TOKENS = 60;

export interface SimPlanInput {
  profile: SimProfile;
  /** `sim:<profile>`, for the raw record. */
  model: string;
  seed: number;
  /** Canonical hash of the call (model, messages, purpose, …), as the provider computes it. */
  identity: string;
  task: ResolvedTask | undefined;
  messages: readonly ChatMessage[];
  maxOutputTokens: number;
}

export interface SimPlanDraft {
  text: string;
  outputTokens: number;
  finishReason: FinishReason;
  confidence: number;
  raw: Record<string, unknown>;
}

type Band = 0 | 1 | 2 | 3;
const BAND_NAMES = ['vote-small', 'vote-adaptive', 'cascade', 'thread'] as const;
type InvalidKind = 'cycle' | 'over-limit' | 'unknown-input';

export function simPlanDraft(input: SimPlanInput): SimPlanDraft {
  const { profile, task, messages } = input;
  const rng = rngFor(input.seed, 'plan', input.identity);
  const conversation = messages
    .filter((message) => message.role === 'user')
    .map((message) => message.content)
    .join('\n');
  const failures = countMarker(conversation, PLANNER_OUTCOME_INCORRECT);
  const tooExpensive = countMarker(conversation, PLANNER_TOO_EXPENSIVE);
  const rejected = conversation.includes(PLANNER_REJECTED);
  const models = tierModels(messages);
  const tokens = budgetTokens(messages);

  const noise = task === undefined ? 0 : instanceNoise(input.seed, task.key);
  const perceived = (task?.difficulty ?? 2) + noise + (rng.normal() * 0.8) / profile.discrimination;
  const initial: Band = perceived < 1 ? 0 : perceived < 2.5 ? 1 : perceived < 4 ? 2 : 3;
  const band = Math.max(0, Math.min(3, initial + failures - tooExpensive)) as Band;
  let spec = templateFor(band, models, tokens);

  const invalidRate = rejected ? PLAN_INVALID_RATE_AFTER_FEEDBACK : PLAN_INVALID_RATE;
  let invalid: InvalidKind | undefined;
  if (rng.next() < invalidRate) {
    invalid = (['cycle', 'over-limit', 'unknown-input'] as const)[rng.int(3)]!;
    spec = breakSpec(spec, invalid);
  }
  const text = JSON.stringify(spec);
  const needed = countTokens(text) + PLAN_THINKING_TOKENS;
  const raw = {
    simulated: true,
    kind: 'plan',
    model: input.model,
    template: BAND_NAMES[band],
    perceivedDifficulty: Math.round(perceived * 1000) / 1000,
    failures,
    tooExpensive,
    invalid: invalid ?? null,
  };
  if (needed > input.maxOutputTokens) {
    return {
      text: text.slice(0, Math.floor(text.length / 2)),
      outputTokens: input.maxOutputTokens,
      finishReason: 'length',
      confidence: 0,
      raw: { ...raw, truncated: 'maxOutputTokens' },
    };
  }
  return { text, outputTokens: needed, finishReason: 'stop', confidence: 0.5, raw };
}

/** `Models by tier: small=…, medium=…, large=…` from the planner's prompt (the sim's own tiers when absent). */
function tierModels(messages: readonly ChatMessage[]): Record<'small' | 'medium' | 'large', string> {
  const models = { small: 'sim:small', medium: 'sim:medium', large: 'sim:large' };
  const bound = readTierLine(messages.map((message) => message.content));
  if (bound === undefined) return models;
  // Tiers the prompt does not offer fall back to the nearest offered one above, then below.
  const order = ['small', 'medium', 'large'] as const;
  for (const tier of order) {
    const above = order.slice(order.indexOf(tier)).find((candidate) => bound[candidate] !== undefined);
    const below = [...order.slice(0, order.indexOf(tier))].reverse().find((candidate) => bound[candidate] !== undefined);
    const chosen = bound[tier] ?? (above ? bound[above] : below ? bound[below] : undefined);
    if (chosen !== undefined) models[tier] = chosen;
  }
  return models;
}

/** `Budget for this query …: totalTokens ≤ N` → N (undefined when unlimited or absent). */
function budgetTokens(messages: readonly ChatMessage[]): number | undefined {
  return readBudgetTotalTokens(messages.map((message) => message.content));
}

function templateFor(
  band: Band,
  models: Record<'small' | 'medium' | 'large', string>,
  tokens: number | undefined,
): Record<string, unknown> {
  const base = { version: 1, defaults: { maxOutputTokens: 384 } };
  // Width the budget can plausibly pay for (~450 tokens a sample, planning already spent), 5–9.
  const width = tokens === undefined ? 7 : Math.max(5, Math.min(9, Math.floor(tokens / 900)));
  switch (band) {
    case 0:
      return {
        ...base,
        name: 'plan:vote-small',
        nodes: [{ id: 'vote', op: 'sample', tier: 'small', inputs: { query: 'query' }, params: { samples: 3, aggregator: 'majority' } }],
        output: 'vote',
      };
    case 1:
      return {
        ...base,
        name: 'plan:vote-adaptive',
        nodes: [
          {
            id: 'vote',
            op: 'sample',
            tier: 'small',
            inputs: { query: 'query' },
            params: { samples: width, aggregator: 'majority', adaptive: true },
          },
        ],
        output: 'vote',
      };
    case 2:
      return {
        ...base,
        name: 'plan:cascade',
        nodes: [
          {
            id: 'cascade',
            op: 'cascade',
            inputs: { query: 'query' },
            params: {
              stages: [
                { model: models.small, samples: 3, threshold: 0.67, signal: 'agreement' },
                { model: models.medium, samples: 3, threshold: 0.67, signal: 'agreement' },
                { model: models.large, samples: 1, threshold: 0, signal: 'confidence' },
              ].filter((stage, index, list) => list.findIndex((other) => other.model === stage.model) === index),
            },
          },
        ],
        output: 'cascade',
      };
    case 3:
      return {
        ...base,
        name: 'plan:thread',
        nodes: [
          {
            id: 'thread',
            op: 'thread',
            tier: 'medium',
            inputs: { query: 'query' },
            params: { maxSteps: 16, maxDepth: 3, buffer: 2, tools: ['calculator'] },
          },
        ],
        output: 'thread',
      };
  }
}

/** The three ways a plausible spec goes wrong, each still valid JSON for the workflow schema. */
function breakSpec(spec: Record<string, unknown>, kind: InvalidKind): Record<string, unknown> {
  const nodes = spec['nodes'] as Array<Record<string, unknown>>;
  const first = nodes[0]!;
  switch (kind) {
    case 'cycle':
      // Two checks that each wait on the other: a cycle the executor could never schedule.
      return {
        ...spec,
        nodes: [
          ...nodes,
          {
            id: 'check_a',
            op: 'aggregate',
            inputs: { candidate: `${String(first['id'])}.answer`, other: 'check_b.answer' },
            params: { method: 'majority' },
          },
          { id: 'check_b', op: 'aggregate', inputs: { other: 'check_a.answer' }, params: { method: 'first' } },
        ],
        output: 'check_a',
      };
    case 'over-limit':
      return {
        ...spec,
        nodes: [{ id: 'wide', op: 'sample', tier: 'small', inputs: { query: 'query' }, params: { samples: 500, aggregator: 'majority' } }],
        output: 'wide',
      };
    case 'unknown-input':
      return { ...spec, nodes: [{ ...first, inputs: { ...(first['inputs'] as object), hint: 'draft.answer' } }] };
  }
}
