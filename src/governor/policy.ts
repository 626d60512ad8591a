/**
 * The governor's policy file: everything `thicket solve --strategy auto` decides with, in one versioned JSON
 * document (`kind: thicket.governor-policy`, `version: 1`), validated with zod on read and on write so a
 * hand-edited or stale file fails loudly with paths instead of steering compute silently.
 *
 *   probe       how many samples of the starting tier estimate difficulty
 *   difficulty  how the probe's agreement and self-reported confidence map to easy / medium / hard
 *   cascade     the router's stages (tier, samples, confidence signal, acceptance threshold), fitted by
 *               `fitCascadePolicy` from calibration runs
 *   allocation  (difficulty bin × budget level) → arm (stop / vote / cascade / thread / plan), learned per
 *               bin and budget from calibration runs (Snell et al.), with the default below before any data
 *   planner     bounded retries, refinement rounds and the objective weights λ (cost) and μ (complexity)
 *   split       the largest shares of the budget the probe and the planner may take
 *   frontier    tables fitted on training items: per task family, model and budget level, what to run
 *               (a fixed strategy, an adaptive arm or the probe path) and what it beat (frontier.ts)
 *
 * `DEFAULT_POLICY` is the "before any data" policy: probe 3 small samples; stop when they agree unanimously
 * and confidently; widen the vote on medium queries; escalate through the tiers on hard ones, and generate a
 * workflow for hard queries only when the budget is large enough to pay for planning (a plan call costs
 * several thousand prompt tokens: the catalogue, the examples and the schema).
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError, readUserFile } from '../core/index.ts';
import { zodIssues } from '../models/index.ts';
import { allocationCellSchema, tierSchema } from './policy-cells.ts';
import { frontierSchema } from './frontier.ts';

export { allocationCellSchema, armSchema, ARMS, type AllocationCell, type Arm } from './policy-cells.ts';

export const GOVERNOR_POLICY_KIND = 'thicket.governor-policy';
export const GOVERNOR_POLICY_VERSION = 1;

export const signalSchema = z.enum(['agreement', 'confidence', 'verifier']);
export const binSchema = z.enum(['easy', 'medium', 'hard']);

export type ConfidenceSignal = z.infer<typeof signalSchema>;
export type DifficultyBin = z.infer<typeof binSchema>;
export const BINS: readonly DifficultyBin[] = ['easy', 'medium', 'hard'];

/** Above 1 no signal value reaches the threshold: the stage always escalates. */
export const NEVER_ACCEPT = 1.5;

export const cascadeStagePolicySchema = z
  .object({
    tier: tierSchema,
    samples: z.number().int().min(1).max(64),
    signal: signalSchema.describe('Confidence signal the threshold applies to (ignored on the last stage)'),
    threshold: z.number().min(0).max(NEVER_ACCEPT).describe('Accept the stage when signal ≥ threshold; > 1 = always escalate'),
  })
  .strict();

const fitSummarySchema = z
  .object({
    accuracy: z.number(),
    cost: z.number(),
    largestAccuracy: z.number(),
    largestCost: z.number(),
  })
  .strict();

export const cascadeFitReportSchema = z
  .object({
    target: z.union([
      z.object({ kind: z.literal('relative-accuracy'), ratio: z.number().gt(0).max(1.5) }).strict(),
      z.object({ kind: z.literal('cost-cap'), maxCost: z.number().nonnegative() }).strict(),
    ]),
    costMetric: z.enum(['usd', 'tokens']),
    objective: z.string(),
    items: z.number().int().nonnegative(),
    margin: z.number(),
    train: fitSummarySchema,
    crossValidated: fitSummarySchema.extend({ folds: z.number().int(), met: z.boolean() }).strict(),
  })
  .strict();

const cellsSchema = z
  .object({ easy: z.array(allocationCellSchema), medium: z.array(allocationCellSchema), hard: z.array(allocationCellSchema) })
  .strict();

/** Levels and cells of one allocation table (the main one, or the one used when a corpus is available). */
const tableIssues = (
  table: { levels: number[]; cells: z.infer<typeof cellsSchema> },
  path: (string | number)[],
  context: z.RefinementCtx,
): void => {
  for (let index = 1; index < table.levels.length; index++)
    if (table.levels[index]! <= table.levels[index - 1]!)
      context.addIssue({ code: 'custom', path: [...path, 'levels', index], message: 'levels must be strictly ascending' });
  for (const bin of BINS) {
    if (table.cells[bin].length !== table.levels.length)
      context.addIssue({ code: 'custom', path: [...path, 'cells', bin], message: `needs one cell per level (${table.levels.length})` });
  }
};

export const governorPolicySchema = z
  .object({
    kind: z.literal(GOVERNOR_POLICY_KIND),
    version: z.literal(GOVERNOR_POLICY_VERSION),
    createdAt: z.string().optional(),
    source: z
      .object({ runs: z.array(z.string()), items: z.number().int().nonnegative(), note: z.string().optional() })
      .strict()
      .optional(),
    probe: z
      .object({
        samples: z.number().int().min(1).max(16),
        /** Stop probing after `samples` when they agree with at least this mean confidence (the query is easy). */
        earlyExit: z
          .object({ samples: z.number().int().min(2).max(16), confidence: z.number().min(0).max(1) })
          .strict()
          .optional(),
      })
      .strict(),
    difficulty: z
      .object({
        easyAgreement: z.number().min(0).max(1).describe('Easy when the probe agreement is at least this…'),
        easyConfidence: z.number().min(0).max(1).describe('…and the majority’s mean self-reported confidence at least this'),
        hardAgreement: z.number().min(0).max(1).describe('Hard when the agreement is at most this (or nothing answered)'),
      })
      .strict(),
    cascade: z.object({ stages: z.array(cascadeStagePolicySchema).min(1).max(8), fit: cascadeFitReportSchema.optional() }).strict(),
    allocation: z
      .object({
        /** Budget levels in total tokens per query, ascending; a query uses the highest level its budget reaches. */
        levels: z.array(z.number().int().positive()).min(1).max(16),
        cells: cellsSchema,
        fit: z.record(z.string(), z.unknown()).optional(),
        /**
         * The table used when the query comes with a corpus (solve --corpus, the lab's multi-hop suite): the
         * strategy space then includes `search`. Absent: DEFAULT_CORPUS_ALLOCATION.
         */
        corpus: z
          .object({
            levels: z.array(z.number().int().positive()).min(1).max(16),
            cells: cellsSchema,
            fit: z.record(z.string(), z.unknown()).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    planner: z
      .object({
        maxRetries: z.number().int().min(0).max(5),
        refineRounds: z.number().int().min(0).max(5),
        lambda: z.number().nonnegative().describe('Weight of cost (share of the budget spent) in the objective'),
        mu: z.number().nonnegative().describe('Weight of complexity (reachable nodes) in the objective'),
      })
      .strict(),
    split: z.object({ probe: z.number().gt(0).max(1), plan: z.number().gt(0).max(1) }).strict(),
    /**
     * Fitted per (task family, model, budget level) on training items (frontier.ts): the choice is made before
     * any probe. Absent, or no table for the query's family and model: the probe → allocation path decides.
     */
    frontier: frontierSchema.optional(),
  })
  .strict()
  .superRefine((policy, context) => {
    tableIssues(policy.allocation, ['allocation'], context);
    if (policy.allocation.corpus) tableIssues(policy.allocation.corpus, ['allocation', 'corpus'], context);
  });

export type GovernorPolicy = z.infer<typeof governorPolicySchema>;
export type CascadeStagePolicy = z.infer<typeof cascadeStagePolicySchema>;
export type CascadeFitReport = z.infer<typeof cascadeFitReportSchema>;

/** The policy before any calibration data (see the module comment for the reasoning). */
export const DEFAULT_POLICY: GovernorPolicy = Object.freeze({
  kind: GOVERNOR_POLICY_KIND,
  version: GOVERNOR_POLICY_VERSION,
  // Two agreeing samples at ≥ 0.8 mean confidence were right 97% of the time on a mixed simulated suite (a
  // third of the items): the third sample is only drawn when the first two leave doubt.
  probe: { samples: 3, earlyExit: { samples: 2, confidence: 0.8 } },
  // Three small samples that agree AND report ≥ 0.7 confidence were right on every such item of a mixed
  // simulated suite; unanimity alone was 82% right (correlated errors: a dominant wrong answer repeats).
  difficulty: { easyAgreement: 1, easyConfidence: 0.7, hardAgreement: 0.5 },
  cascade: {
    stages: [
      { tier: 'small', samples: 3, signal: 'confidence', threshold: 0.7 },
      { tier: 'medium', samples: 3, signal: 'agreement', threshold: 0.67 },
      { tier: 'large', samples: 1, signal: 'confidence', threshold: 0 },
    ],
  },
  allocation: {
    levels: [1_500, 4_000, 12_000],
    cells: {
      easy: [{ arm: 'stop' }, { arm: 'stop' }, { arm: 'stop' }],
      medium: [
        { arm: 'vote', samples: 5, lead: 3 },
        { arm: 'vote', samples: 9, lead: 3 },
        { arm: 'vote', samples: 15, lead: 3 },
      ],
      hard: [{ arm: 'cascade', escalate: true }, { arm: 'cascade', escalate: true }, { arm: 'plan' }],
    },
  },
  planner: { maxRetries: 2, refineRounds: 2, lambda: 0.5, mu: 0.02 },
  split: { probe: 0.5, plan: 0.6 },
} satisfies GovernorPolicy);

/**
 * Allocation when a corpus is available and the policy has no fitted corpus table. Multi-hop questions over a
 * corpus are about facts a model cannot know closed-book (the lab: search is what works there), so anything
 * the probe does not find easy goes to the search loop; more budget buys more retrieval steps. An easy probe
 * (unanimous and confident) still stops: a corpus does not make every query a retrieval question.
 */
export const DEFAULT_CORPUS_ALLOCATION: NonNullable<GovernorPolicy['allocation']['corpus']> = Object.freeze({
  levels: [1_500, 4_000, 12_000],
  cells: {
    easy: [{ arm: 'stop' }, { arm: 'stop' }, { arm: 'stop' }],
    medium: [
      { arm: 'search', steps: 2, k: 3 },
      { arm: 'search', steps: 4, k: 3 },
      { arm: 'search', steps: 6, k: 3 },
    ],
    hard: [
      { arm: 'search', steps: 2, k: 3 },
      { arm: 'search', steps: 4, k: 3 },
      { arm: 'search', steps: 6, k: 3 },
    ],
  },
});

/** Parses and validates a policy document; every problem is reported with its path (INVALID_CONFIG). */
export function parsePolicy(value: unknown, source = 'governor policy'): GovernorPolicy {
  const parsed = governorPolicySchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error), 'INVALID_CONFIG');
  return parsed.data;
}

export function readPolicy(path: string): GovernorPolicy {
  const value = readUserFile(path, { what: 'governor policy', code: 'INVALID_CONFIG', format: 'json' });
  return parsePolicy(value, `governor policy ${path}`);
}

/** Validates before writing: a policy that would not load is never written. */
export function writePolicy(path: string, policy: GovernorPolicy): void {
  const valid = parsePolicy(policy);
  writeFileSync(path, `${JSON.stringify(valid, null, 2)}\n`);
}
