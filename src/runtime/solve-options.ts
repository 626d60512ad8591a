/**
 * What a solve may be asked, and the check of it. The request's types (`SolveOptions` and the strategy and
 * policy it names) and `checkSolveRequest`, which rejects a bad request — every issue at once, typed — before
 * solve.ts opens anything, so a rejected request writes nothing.
 */
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import type { Budget, BudgetLimits, SharedLedger, SharedScope } from '../budget/index.ts';
import { FAMILIES, OBJECTIVES, type GovernorPolicy, type Objective } from '../governor/index.ts';
import { CAPABILITY_LABEL_PATTERN, STRATEGIES, type BudgetPolicy, type Strategy } from '../workflow/index.ts';
import type { ThicketEvent } from './events.ts';

export type SolveStrategy = 'auto' | Strategy;

/** Policy for the models a run may bind (strategy `auto`, and the capability nodes of a workflow spec). */
export interface SolvePolicy {
  /** Labels every bound model/capability must carry (e.g. `residency:eu`). */
  require?: string[];
  /** Labels none may carry. */
  forbid?: string[];
  /** Allowed providers. */
  providers?: string[];
  /** Most expected dollars per call of a bound capability. */
  maxCostPerCall?: number;
}

export interface SolveOptions {
  /** `auto` (default: the governor chooses), or a named strategy. Exclusive with `workflow`. */
  strategy?: SolveStrategy;
  /** A workflow spec (the JSON object of `thicket workflow schema`) instead of a strategy. */
  workflow?: unknown;
  /** Model reference (`sim:small`, a config alias, `openai:<model>`, `gguf:<path>`). Default: the config's, else the pulled embedded model. */
  model?: string;
  /** Width for `vote` (default: scaled to the token budget, 3–15; 5 without one). Given alone, `samples > 1` means `vote`. */
  samples?: number;
  rounds?: number;
  agents?: number;
  steps?: number;
  /** Output cap per call; default: what the strategy must produce. */
  maxOutputTokens?: number;
  /** Hard limits for the whole run: tokens, dollars, seconds, calls. Nothing is sent past any of them. */
  budget?: BudgetLimits;
  /**
   * Run under a dollar limit even when a model it calls has no known price (its calls count as $0, so the
   * limit does not hold on them; the result carries a warning). Default: such a run is refused (UNPRICED_MODEL).
   */
  allowUnpriced?: boolean;
  /** When the plan's estimate exceeds the budget: `degrade` (default), `scale` or `reject`. */
  budgetPolicy?: BudgetPolicy;
  /** Which models may be bound (strategy `auto`, capability nodes). */
  policy?: SolvePolicy;
  /** The governor's fitted policy (`thicket governor fit`): a file path or the object. */
  governorPolicy?: string | GovernorPolicy;
  /** Planner model for per-query workflows (strategy `auto`). */
  planner?: string;
  /** `auto` (the policy decides), `always`, `never`. */
  planning?: 'auto' | 'always' | 'never';
  /**
   * Strategy `auto`: what to spend least of once accuracy is had — `tokens` (default), `usd` (dollars: a
   * large model's tokens cost many small ones') or `seconds` — picks the policy's frontier table for it.
   */
  optimize?: Objective;
  /** Strategy `auto`: the query's task family (`arithmetic`, `logic`, `multihop`, …); default: inferred from the query. */
  family?: string;
  /** A corpus (folder of .txt/.md files or a .jsonl file) for the search strategy, or for the governor to search. */
  corpus?: string;
  /** Re-using a run id resumes that run: finished calls are replayed from the journal, not paid again. */
  runId?: string;
  /**
   * An outer budget the run also draws from, shared with other runs (e.g. a gateway key's budget for the
   * period): every reservation is checked and booked on it too, in the same synchronous step, so concurrent
   * runs together never exceed it. Replays and crash bookings of a resumed run are not charged to it again.
   */
  sharedBudget?: Budget;
  /**
   * Budgets held outside the process — e.g. on Redis (`connectRedisSharedLedger`), shared by many workers or
   * gateway processes — that every call of the run also reserves on (after the run's own budgets agreed),
   * settled idempotently per call, so a resumed run's replays are not counted twice.
   */
  sharedLedger?: { ledger: SharedLedger; scopes: readonly SharedScope[]; leaseMs?: number; prepare?: () => Promise<void> };
  /** Who the run is billed to (a gateway key id), journaled with it; a run is resumed only by its owner. */
  owner?: string;
  /** Seeds the simulated fleet and embedded sampling (default: the instance's seed). */
  seed?: number;
  /** Cancels the run; unspent reservations are released and the result says `cancelled`. */
  signal?: AbortSignal;
  onEvent?: (event: ThicketEvent) => void;
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The width of a vote nobody sized: ~450 tokens a sample under a token budget, 3–15; 5 without one. */
export function defaultVoteSamples(budget: BudgetLimits | undefined): number {
  const tokens = budget?.totalTokens;
  if (tokens === undefined) return 5;
  return Math.min(15, Math.max(3, Math.floor(tokens / 450)));
}

/**
 * Checks a request as a whole — each option, then those that only make sense together — and returns the
 * strategy it asks for. Throws (typed, with every issue) when it is rejected.
 */
export function checkSolveRequest(query: string, options: SolveOptions): SolveStrategy | 'workflow' {
  const issues = checkOptions(query, options);
  const strategy = strategyOf(options);
  if (strategy === 'search' && options.corpus === undefined)
    issues.push({ path: 'corpus', message: 'the search strategy needs a corpus (a folder of .txt/.md files or a .jsonl file)' });
  if (hasPolicy(options.policy) && strategy !== 'workflow' && strategy !== 'auto')
    issues.push({
      path: 'policy',
      message:
        'capability policy applies to strategy auto (models bound through the registry) and to the capability nodes of a workflow spec',
    });
  if (issues.length > 0) throw new InvalidInputError('Invalid solve request', issues);
  return strategy;
}

function checkOptions(query: string, options: SolveOptions): InputIssue[] {
  const issues: InputIssue[] = [];
  const add = (path: string, message: string): void => void issues.push({ path, message });
  if (typeof query !== 'string' || query.trim() === '') add('query', 'must not be empty');
  const whole = (path: string, value: number | undefined, min: number, max: number): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) add(path, `must be a whole number from ${min} to ${max}, got ${value}`);
  };
  whole('samples', options.samples, 1, 1000);
  whole('rounds', options.rounds, 1, 100);
  whole('agents', options.agents, 2, 1000);
  whole('steps', options.steps, 1, 1000);
  whole('maxOutputTokens', options.maxOutputTokens, 1, 1_000_000);
  whole('seed', options.seed, 0, 2 ** 31 - 1);
  if (options.allowUnpriced !== undefined && typeof options.allowUnpriced !== 'boolean') add('allowUnpriced', 'must be true or false');
  for (const [key, value] of Object.entries(options.budget ?? {})) {
    if (!['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'seconds', 'calls'].includes(key)) add(`budget.${key}`, 'unknown limit');
    else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      add(`budget.${key}`, `must be a number greater than 0, got ${value}`);
    else if (value > Number.MAX_SAFE_INTEGER) add(`budget.${key}`, `must be at most ${Number.MAX_SAFE_INTEGER}, got ${value}`);
    else if (['totalTokens', 'inputTokens', 'outputTokens', 'calls'].includes(key) && !Number.isInteger(value))
      add(`budget.${key}`, `must be a whole number, got ${value}`);
  }
  if (options.runId !== undefined && !RUN_ID_PATTERN.test(options.runId)) add('runId', 'use 1–128 letters, digits, ".", "_" or "-"');
  const strategy = options.strategy;
  if (strategy !== undefined && strategy !== 'auto' && !(STRATEGIES as readonly string[]).includes(strategy))
    add('strategy', `must be auto or one of ${STRATEGIES.join(', ')}; got "${strategy}"`);
  if (strategy !== undefined && options.workflow !== undefined) add('workflow', 'give either a strategy or a workflow, not both');
  if (options.planning !== undefined && !['auto', 'always', 'never'].includes(options.planning))
    add('planning', `must be auto, always or never; got "${options.planning}"`);
  if (options.optimize !== undefined && !(OBJECTIVES as readonly string[]).includes(options.optimize))
    add('optimize', `must be ${OBJECTIVES.join(', ')}; got "${options.optimize}"`);
  if (options.family !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(options.family))
    add('family', `must be a lower-case name such as ${FAMILIES.join(', ')}; got "${options.family}"`);
  if (strategy !== undefined && strategy !== 'auto')
    for (const key of ['optimize', 'family'] as const) if (options[key] !== undefined) add(key, 'applies to strategy auto only');
  if (options.budgetPolicy !== undefined && !['degrade', 'scale', 'reject'].includes(options.budgetPolicy))
    add('budgetPolicy', `must be degrade, scale or reject; got "${options.budgetPolicy}"`);
  for (const key of ['require', 'forbid'] as const) {
    for (const label of options.policy?.[key] ?? [])
      if (!CAPABILITY_LABEL_PATTERN.test(label))
        add(`policy.${key}`, `"${label}": labels are lowercase letters, digits and . _ : = / - (e.g. residency:eu)`);
  }
  for (const provider of options.policy?.providers ?? []) if (provider.trim() === '') add('policy.providers', 'must be non-empty names');
  const maxCost = options.policy?.maxCostPerCall;
  if (maxCost !== undefined && (!Number.isFinite(maxCost) || maxCost < 0))
    add('policy.maxCostPerCall', `must be at least 0, got ${maxCost}`);
  return issues;
}

/** The strategy a request asks for: a workflow, a named strategy, plain width from `samples`, or the governor. */
function strategyOf(options: SolveOptions): SolveStrategy | 'workflow' {
  if (options.workflow !== undefined) return 'workflow';
  if (options.strategy !== undefined) return options.strategy;
  if (options.samples !== undefined) return options.samples > 1 ? 'vote' : 'single';
  return 'auto';
}

/** Whether the policy constrains anything: a policy of empty lists binds as none. */
export const hasPolicy = (policy: SolvePolicy | undefined): boolean =>
  policy !== undefined &&
  ((policy.require?.length ?? 0) > 0 ||
    (policy.forbid?.length ?? 0) > 0 ||
    (policy.providers?.length ?? 0) > 0 ||
    policy.maxCostPerCall !== undefined);
