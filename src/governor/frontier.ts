/**
 * The governor's frontier tables: which compute to buy for a query, from features known before spending a
 * token — the task family (arithmetic, logic, multi-hop over a corpus, …), the model the query starts on and its
 * budget — fitted on TRAINING items and then used on any query (RouteLLM routes on query features; Snell et al.
 * choose the test-time strategy per prompt and budget; here a table per (family, model) holds one choice per
 * budget level).
 *
 * Why tables of choices rather than only the probe → difficulty bin → arm path: at small budgets a probe costs
 * a share of the budget it cannot repay (three samples of 800 tokens leave little for the answer), and the axis
 * that pays depends far more on the task family than on one query's difficulty (depth on arithmetic chains,
 * retrieval on multi-hop questions, width where answers are checkable by agreement). A table entry may still
 * be a per-query adaptive choice: `governed` (the probe + difficulty allocation), an adaptive vote that stops
 * once decided, or the confidence router — it wins its level only when it beat the fixed strategies on the
 * training items, its probe's cost included.
 *
 * Fitting (`fitFrontier`): per (objective, family, model, level) every candidate's mean score and mean cost on
 * the training items; the choice is the cheapest candidate (in the objective's unit: tokens, dollars or
 * seconds) whose accuracy is within `tolerance` of the best (default 1 point) — accuracy first, since at a
 * given budget accuracy is what the budget is for, but not a token more than needed for a point of noise.
 * Every candidate's figures are kept in the table so a decision can say what it beat.
 */
import { z } from 'zod';
import { STRATEGIES, type Tier } from '../workflow/index.ts';
import type { BudgetLimits } from '../budget/index.ts';
import { allocationCellSchema, type AllocationCell } from './policy-cells.ts';
import { groupBy } from './group-by.ts';

/** What the user's budget is spent to minimise once accuracy is had (`--optimize`). */
export const OBJECTIVES = ['tokens', 'usd', 'seconds'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** The table choice that runs the probe → difficulty bin → allocation path instead of one fixed cell. */
export const GOVERNED_CHOICE = 'governed';

const candidateFiguresSchema = z
  .object({
    choice: z.string(),
    accuracy: z.number().min(0).max(1),
    /** Mean cost per query in the table's objective unit. */
    cost: z.number().nonnegative(),
    items: z.number().int().nonnegative(),
  })
  .strict();

export const frontierEntrySchema = z
  .object({
    /** The budget level (token-equivalents per query) the figures were measured at. */
    level: z.number().positive(),
    /** The chosen candidate: a lab architecture name (`thread`, `vote@8`, `adaptive-vote@9`, `router`, `governed`). */
    choice: z.string(),
    /** What the governor runs for it; absent for `governed`. */
    cell: allocationCellSchema.optional(),
    /** Why: the chosen candidate's training figures and every other candidate's, best accuracy first. */
    train: candidateFiguresSchema,
    candidates: z.array(candidateFiguresSchema).max(64),
  })
  .strict();

export const frontierTableSchema = z
  .object({
    objective: z.enum(OBJECTIVES),
    family: z.string().min(1),
    model: z.string().min(1),
    tier: z.enum(['small', 'medium', 'large']).optional(),
    /** Ascending levels. */
    entries: z.array(frontierEntrySchema).min(1).max(32),
  })
  .strict();

export const frontierSchema = z
  .object({
    /** Accuracy within this of the best candidate counts as the best (the cheapest such candidate is chosen). */
    tolerance: z.number().min(0).max(0.5),
    /** Where the training figures came from (studies and seeds): the held-out evaluation must use other seeds. */
    source: z.object({ studies: z.array(z.string()), seeds: z.array(z.number().int()), items: z.number().int().nonnegative() }).strict(),
    tables: z.array(frontierTableSchema),
  })
  .strict();

export type FrontierEntry = z.infer<typeof frontierEntrySchema>;
export type FrontierTable = z.infer<typeof frontierTableSchema>;
export type Frontier = z.infer<typeof frontierSchema>;
export type CandidateFigures = z.infer<typeof candidateFiguresSchema>;

/** Task families the built-in tables know (the lab's suite kinds); anything else is `other`. */
export const FAMILIES = ['arithmetic', 'logic', 'multihop', 'other'] as const;

/**
 * The task family of a query when the caller did not say (`--family`): a query with a corpus to search is
 * `multihop`; a true/false question over stated propositions is `logic`; a question that is an arithmetic
 * expression is `arithmetic`; anything else `other` (no table: the governor's probe path decides). A heuristic
 * on purpose: a family the caller names always wins, and the decision says which it was.
 */
export function inferFamily(query: string, options: { corpus?: boolean } = {}): { family: string; reason: string } {
  if (options.corpus) return { family: 'multihop', reason: 'the query comes with a corpus to search' };
  if (/\btrue or false\b/i.test(query) && /\bis (true|false|not|the same as|.+ and .+|.+ or .+)/i.test(query))
    return { family: 'logic', reason: 'a true/false question over stated propositions' };
  const expression = /(?:^|[\s:])(-?\(?\s*\d+(?:\.\d+)?\s*\)?\s*(?:[-+*/×÷^]\s*\(?\s*-?\d+(?:\.\d+)?\s*\)?\s*){1,})/.exec(query);
  if (expression) return { family: 'arithmetic', reason: `an arithmetic expression (${expression[1]!.trim().slice(0, 40)})` };
  return { family: 'other', reason: 'no arithmetic expression, true/false proposition chain or corpus' };
}

export interface FrontierQuery {
  family: string;
  model: string;
  tier?: Tier | undefined;
  budget: BudgetLimits;
  /** Converts a dollar budget to token-equivalents (the starting model's output price). */
  usdPerToken: number;
  objective: Objective;
}

export interface FrontierSelection {
  table: { family: string; model: string; objective: Objective; matchedBy: 'model' | 'tier' };
  entry: FrontierEntry;
  /** The budget in token-equivalents the level was looked up with. */
  budgetTokens: number;
}

/** A budget in token-equivalents: its total tokens, or its dollars at `usdPerToken`, whichever is tighter. */
export function budgetTokensOf(budget: BudgetLimits, usdPerToken: number): number {
  let tokens = budget.totalTokens ?? Infinity;
  if (budget.usd !== undefined && usdPerToken > 0) tokens = Math.min(tokens, budget.usd / usdPerToken);
  return tokens;
}

/**
 * The table entry for a query: the table of its family for its model (else for its model's tier), for the
 * objective asked (else the `tokens` table); the highest level the budget reaches (below the lowest level: the
 * lowest, run under the smaller budget). Undefined when no table matches: the probe path decides.
 */
export function selectFrontier(frontier: Frontier | undefined, query: FrontierQuery): FrontierSelection | undefined {
  if (!frontier) return undefined;
  const find = (objective: Objective): (FrontierSelection['table'] & { found: FrontierTable }) | undefined => {
    const forFamily = frontier.tables.filter((table) => table.objective === objective && table.family === query.family);
    const byModel = forFamily.find((table) => table.model === query.model);
    if (byModel) return { family: byModel.family, model: byModel.model, objective, matchedBy: 'model', found: byModel };
    const byTier = query.tier === undefined ? undefined : forFamily.find((table) => table.tier === query.tier);
    return byTier ? { family: byTier.family, model: byTier.model, objective, matchedBy: 'tier', found: byTier } : undefined;
  };
  const hit = find(query.objective) ?? (query.objective === 'tokens' ? undefined : find('tokens'));
  if (!hit) return undefined;
  const budgetTokens = budgetTokensOf(query.budget, query.usdPerToken);
  let entry = hit.found.entries[0]!;
  for (const candidate of hit.found.entries) if (budgetTokens >= candidate.level) entry = candidate;
  const { found: _found, ...table } = hit;
  return { table, entry, budgetTokens };
}

/** One training observation: a candidate run on one item at one budget level. */
export interface FrontierRecord {
  family: string;
  model: string;
  tier?: Tier | undefined;
  level: number;
  itemId: string;
  choice: string;
  score: number;
  tokens: number;
  usd: number;
  seconds: number;
}

export interface FitFrontierOptions {
  objectives?: readonly Objective[];
  tolerance?: number;
  /** The cell each candidate runs as (absent: `governed`, or a candidate the governor cannot run — skipped). */
  cellOf: (choice: string) => AllocationCell | typeof GOVERNED_CHOICE | undefined;
  source: Frontier['source'];
  /** Levels with fewer training items than this keep no entry (default 10). */
  minItems?: number;
}

const DEFAULT_TOLERANCE = 0.01;
const MAX_CANDIDATES_KEPT = 8;

export function fitFrontier(records: readonly FrontierRecord[], options: FitFrontierOptions): Frontier {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const minItems = options.minItems ?? 10;
  const tables: FrontierTable[] = [];
  const byTable = groupBy(
    records.filter((record) => options.cellOf(record.choice) !== undefined),
    (record) => `${record.family}\u0000${record.model}`,
  );
  for (const objective of options.objectives ?? OBJECTIVES) {
    for (const group of [...byTable.values()].sort((a, b) => tableOrder(a[0]!, b[0]!))) {
      const first = group[0]!;
      const entries: FrontierEntry[] = [];
      for (const [level, atLevel] of [...groupBy(group, (record) => String(record.level)).entries()].sort(
        (a, b) => Number(a[0]) - Number(b[0]),
      )) {
        const candidates = [...groupBy(atLevel, (record) => record.choice).entries()]
          .map(([choice, list]) => figuresOf(choice, list, objective))
          .filter((figures) => figures.items >= minItems)
          .sort((a, b) => b.accuracy - a.accuracy || a.cost - b.cost || (a.choice < b.choice ? -1 : 1));
        if (candidates.length === 0) continue;
        const best = candidates[0]!.accuracy;
        const chosen = candidates
          .filter((figures) => figures.accuracy >= best - tolerance - 1e-12)
          .sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy || (a.choice < b.choice ? -1 : 1))[0]!;
        const cell = options.cellOf(chosen.choice);
        entries.push({
          level: Number(level),
          choice: chosen.choice,
          ...(cell !== undefined && cell !== GOVERNED_CHOICE ? { cell } : {}),
          train: chosen,
          // The eight most accurate: enough to explain a choice, small enough to ship (the rest are in the training records).
          candidates: candidates.slice(0, MAX_CANDIDATES_KEPT),
        });
      }
      if (entries.length > 0)
        tables.push({ objective, family: first.family, model: first.model, ...(first.tier ? { tier: first.tier } : {}), entries });
    }
  }
  return frontierSchema.parse({ tolerance, source: options.source, tables });
}

function figuresOf(choice: string, list: readonly FrontierRecord[], objective: Objective): CandidateFigures {
  // Several seeds of one item count as one item (its mean score), so a candidate's item count is what it was tried on.
  const items = new Set(list.map((record) => record.itemId)).size;
  const mean = (value: (record: FrontierRecord) => number): number => list.reduce((sum, record) => sum + value(record), 0) / list.length;
  const cost =
    objective === 'tokens'
      ? mean((record) => record.tokens)
      : objective === 'usd'
        ? mean((record) => record.usd)
        : mean((record) => record.seconds);
  return { choice, accuracy: mean((record) => record.score), cost, items };
}

const FAMILY_ORDER: readonly string[] = FAMILIES;
function tableOrder(a: FrontierRecord, b: FrontierRecord): number {
  const family = (name: string): number => (FAMILY_ORDER.includes(name) ? FAMILY_ORDER.indexOf(name) : FAMILY_ORDER.length);
  return (
    family(a.family) - family(b.family) ||
    (a.family < b.family ? -1 : a.family > b.family ? 1 : 0) ||
    (a.model < b.model ? -1 : a.model > b.model ? 1 : 0)
  );
}

/**
 * The cell a lab architecture name runs as inside the governor: a fixed strategy (`thread`, `vote@8`) runs as
 * that strategy sized to the budget; `adaptive-vote@N` is the governor's vote arm (probe samples reused, stops
 * once the leader is 3 ahead); `router` is its confidence cascade; `governed` its probe → allocation path.
 * Undefined for names the governor cannot run (auto itself, network architectures).
 */
export function cellForArchitecture(name: string): AllocationCell | typeof GOVERNED_CHOICE | undefined {
  const match = /^([a-z-]+)(?:@(\d+))?$/.exec(name);
  if (!match) return undefined;
  const base = match[1]!;
  const parameter = match[2] === undefined ? undefined : Number(match[2]);
  if (base === GOVERNED_CHOICE) return GOVERNED_CHOICE;
  if (base === 'adaptive-vote') return { arm: 'vote', samples: parameter ?? 9, lead: ADAPTIVE_VOTE_LEAD };
  if (base === 'router') return { arm: 'cascade' };
  if ((STRATEGIES as readonly string[]).includes(base))
    return { arm: 'strategy', strategy: base as (typeof STRATEGIES)[number], ...(parameter !== undefined ? { parameter } : {}) };
  return undefined;
}

/** The adaptive vote stops once its leader is this many votes ahead (adaptive consistency). */
export const ADAPTIVE_VOTE_LEAD = 3;
