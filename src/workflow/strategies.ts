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
