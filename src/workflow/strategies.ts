/**
 * Named strategies — the one-flag way to pick an axis of compute (`thicket solve --strategy …`). Each is a
 * small workflow spec, so a strategy runs through exactly the same validation, cost estimate, budget slices,
 * journal and trace as a hand-written spec (and can be printed with `--print-spec` to start one).
 */
import { InvalidInputError } from '../core/index.ts';
import { DEFAULT_SOLO_MAX_OUTPUT_TOKENS, THREAD_DEFAULTS } from '../ops/index.ts';
import type { WorkflowSpec } from './spec.ts';

export const STRATEGIES = ['single', 'vote', 'refine', 'thread', 'search', 'debate', 'solo', 'cascade'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface StrategyOptions {
  model: string;
  /** Width for `vote` (and the first cascade stage). */
  samples: number;
  /**
   * Output cap per model call. Omit it unless the user asked for one: each strategy then gets a cap that fits
   * what it must write (`defaultMaxOutputTokens`) — one cap for all would truncate solo's whole transcript.
   */
  maxOutputTokens?: number | undefined;
  /** Depth for `refine` (rounds) and `debate` (rounds). */
  rounds?: number;
  /** Agents for `debate`. */
  agents?: number;
  /** Steps for `thread` and `search`. */
  steps?: number;
  /** Models cheapest-first for `cascade` (the first is `model`). */
  cascadeModels?: string[];
}

/** The cascade ladder of the simulated fleet, from a given tier upward (mostly small, large only when needed). */
export function simCascadeLadder(model: string): string[] {
  const ladder = ['sim:small', 'sim:medium', 'sim:large'];
  const start = ladder.indexOf(model);
  return start < 0 ? [model] : ladder.slice(start);
}

/** The output cap of a single answer (generate, vote samples, refine, debate turns, cascade stages). */
export const DEFAULT_ANSWER_MAX_OUTPUT_TOKENS = 512;

/**
 * The default output cap per call of a strategy, sized to what its calls must produce:
 *   - solo writes the whole multi-persona transcript (personas, brainstorm, rounds, final answer) in ONE
 *     structured call: the solo operator's own default (1536); at 512 the JSON is cut off and nothing parses;
 *   - thread writes structured steps (each up to the thread's step cap, 320) and a short answer: 512 covers both;
 *   - single, vote, refine, search, debate and cascade write answers or short turns: 512.
 * Used by `strategySpec` when no explicit cap is given.
 */
export function defaultMaxOutputTokens(strategy: Strategy): number {
  switch (strategy) {
    case 'solo':
      return DEFAULT_SOLO_MAX_OUTPUT_TOKENS;
    case 'thread':
      return Math.max(DEFAULT_ANSWER_MAX_OUTPUT_TOKENS, THREAD_DEFAULTS.maxStepTokens, THREAD_DEFAULTS.maxAnswerTokens);
    default:
      return DEFAULT_ANSWER_MAX_OUTPUT_TOKENS;
  }
}

/** The strategy as a workflow spec. An explicit `maxOutputTokens` wins; without one, `defaultMaxOutputTokens(strategy)`. */
export function strategySpec(strategy: Strategy, options: StrategyOptions): WorkflowSpec {
  const base = {
    version: 1 as const,
    name: `strategy:${strategy}`,
    defaults: { model: options.model, maxOutputTokens: options.maxOutputTokens ?? defaultMaxOutputTokens(strategy) },
  };
  const single = (node: WorkflowSpec['nodes'][number]): WorkflowSpec => ({ ...base, nodes: [node], output: node.id });
  switch (strategy) {
    case 'single':
      return single({ id: 'answer', op: 'generate', inputs: { query: 'query' }, params: { prompt: '{{query}}', temperature: 0 } });
    case 'vote':
      return single({ id: 'vote', op: 'sample', inputs: { query: 'query' }, params: { samples: options.samples, aggregator: 'majority' } });
    case 'refine':
      return single({ id: 'refine', op: 'refine', inputs: { query: 'query' }, params: { rounds: options.rounds ?? 2 } });
    case 'thread':
      return single({
        id: 'thread',
        op: 'thread',
        inputs: { query: 'query' },
        params: { maxSteps: options.steps ?? 16, maxDepth: 3, buffer: 2, tools: ['calculator'] },
      });
    case 'search':
      return single({ id: 'search', op: 'search', inputs: { query: 'query' }, params: { maxSteps: options.steps ?? 3, k: 3 } });
    case 'debate':
      return single({
        id: 'debate',
        op: 'debate',
        inputs: { query: 'query' },
        params: { agents: options.agents ?? 3, rounds: options.rounds ?? 2, topology: 'all-to-all' },
      });
    case 'solo':
      return single({ id: 'solo', op: 'solo', inputs: { query: 'query' }, params: {} });
    case 'cascade': {
      const models = options.cascadeModels ?? [options.model];
      const stages = models.map((model, index) =>
        index === models.length - 1
          ? { model, threshold: 0, signal: 'agreement' as const, samples: 1 }
          : { model, threshold: 0.6, signal: 'agreement' as const, samples: Math.max(3, Math.min(options.samples, 5)) },
      );
      return single({ id: 'cascade', op: 'cascade', inputs: { query: 'query' }, params: { stages } });
    }
  }
}

export function parseStrategy(value: string): Strategy {
  if ((STRATEGIES as readonly string[]).includes(value)) return value as Strategy;
  throw new InvalidInputError('Invalid strategy', [
    { path: '--strategy', message: `must be one of ${STRATEGIES.join(', ')}; got "${value}"` },
  ]);
}

/** The knob each strategy scales with the budget, and how (token-equivalents per unit, bounds). */
export const STRATEGY_KNOBS: Readonly<Partial<Record<Strategy, { name: string; perUnit: number; min: number; max: number }>>> = {
  vote: { name: 'samples', perUnit: 450, min: 3, max: 15 },
  refine: { name: 'rounds', perUnit: 1500, min: 1, max: 4 },
  thread: { name: 'steps', perUnit: 250, min: 4, max: 24 },
  search: { name: 'steps', perUnit: 700, min: 1, max: 6 },
  debate: { name: 'agents', perUnit: Infinity, min: 3, max: 3 },
  cascade: { name: 'samples', perUnit: 450, min: 3, max: 5 },
};

export interface BudgetedStrategyOptions {
  model: string;
  /** The per-query budget in token-equivalents: scales the strategy's knob (vote's samples, thread's steps, …). */
  budgetTokens: number;
  /** An explicit knob value (`vote@8`): wins over the budget's. */
  parameter?: number | undefined;
  maxOutputTokens: number;
  /** Models cheapest-first for `cascade` (the first is `model`). */
  cascadeModels: string[];
}

const clampTo = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/**
 * A strategy's spec sized to a per-query budget: what the lab's fixed architectures run, and what the governor
 * runs when its policy picks a fixed strategy — one definition, so `auto` choosing `thread` at 5,000 tokens runs
 * exactly the `thread` the study measured at 5,000 tokens.
 */
export function budgetedStrategySpec(strategy: Strategy, options: BudgetedStrategyOptions): WorkflowSpec {
  const knob = STRATEGY_KNOBS[strategy];
  const scaled = knob ? clampTo(Math.floor(options.budgetTokens / knob.perUnit), knob.min, knob.max) : undefined;
  const value = options.parameter ?? scaled;
  const debateRounds = clampTo(Math.floor(options.budgetTokens / 3000), 1, 3);
  return strategySpec(strategy, {
    model: options.model,
    samples: strategy === 'vote' || strategy === 'cascade' ? (value ?? 3) : 1,
    // Solo writes the whole persona transcript in one call: a per-call cap sized for one answer would
    // truncate it and measure the cap, not the architecture. The per-query budget still binds.
    maxOutputTokens: strategy === 'solo' ? Math.max(options.maxOutputTokens, DEFAULT_SOLO_MAX_OUTPUT_TOKENS) : options.maxOutputTokens,
    cascadeModels: options.cascadeModels,
    ...(strategy === 'refine' ? { rounds: value ?? 2 } : strategy === 'debate' ? { rounds: debateRounds, agents: value ?? 3 } : {}),
    ...(strategy === 'thread' || strategy === 'search' ? { steps: value ?? 3 } : {}),
  });
}
