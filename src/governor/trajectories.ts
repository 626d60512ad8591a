/**
 * Trajectories. Planner trajectories: every (query, spec, outcome, cost) the planner produced — rejected specs
 * with their issues, executed specs with their outcome and objective, fallbacks — is journaled as a step of
 * kind `plan` in the run that made it (`source: 'planner'`). Governed trajectories: EVERY governed solve,
 * whatever arm it chose (stop, vote, cascade, thread, search or plan), is journaled as one step of kind
 * `trajectory` (`source: 'governor'`): the query, the probe's features, the decision (arm, cell, strategy) or
 * the generated workflow, the cost, the outcome and — when a checker makes the query checkable — the reward.
 * `exportTrajectories` writes them all out as JSONL, one line per step, ready for training a planner or a
 * router (FlowReasoner's SFT/RL data: query → workflow → reward).
 *
 * A line is validated against `trajectorySchema` on the way out and can be read back with
 * `parseTrajectories` (the round trip is tested), so a consumer can rely on the fields below.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError, type UsageTotals } from '../core/index.ts';
import type { Journal } from '../journal/index.ts';
import { zodIssues } from '../models/index.ts';

export const PLAN_STEP_KIND = 'plan';
/** The step kind (and id) of the one trajectory record every governed solve journals. */
export const GOVERNED_STEP_KIND = 'trajectory';
export const GOVERNED_STEP_ID = 'gov/trajectory';
export const TRAJECTORY_VERSION = 1;

const costSchema = z
  .object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number(), usd: z.number(), calls: z.number() })
  .strict();

/** What the governor knew when it decided: the probe's difficulty estimate and the budget. */
const featuresSchema = z
  .object({
    bin: z.string(),
    score: z.number(),
    agreement: z.number(),
    confidence: z.number().optional(),
    probeSamples: z.number().int().nonnegative(),
    probeAnswer: z.string().optional(),
    budgetLevel: z.number(),
    budget: z.record(z.string(), z.number()),
    corpus: z.boolean(),
    /** The task family the frontier table was chosen by, and the objective (absent: no table applied). */
    family: z.string().optional(),
    objective: z.string().optional(),
    /** The frontier table's choice at this budget (a lab architecture name) and the level it was fitted at. */
    frontierChoice: z.string().optional(),
    frontierLevel: z.number().optional(),
  })
  .strict();

/** What the governor chose: the arm and its allocation cell, in one line, and how it went (escalations). */
const decisionSchema = z
  .object({
    arm: z.string(),
    cell: z.record(z.string(), z.unknown()),
    strategy: z.string(),
    forced: z.boolean(),
    policy: z.string(),
    escalations: z.number().int().nonnegative(),
    reusedProbeSamples: z.number().int().nonnegative(),
  })
  .strict();

export const trajectorySchema = z
  .object({
    version: z.literal(TRAJECTORY_VERSION),
    /** `planner`: one plan step; `governor`: one whole governed solve. Absent in files exported before it existed (= planner). */
    source: z.enum(['planner', 'governor']).optional(),
    runId: z.string(),
    stepId: z.string(),
    query: z.string(),
    taskId: z.string().optional(),
    planner: z.string(),
    round: z.number().int().nonnegative(),
    attempt: z.number().int().nonnegative(),
    /**
     * rejected: invalid / cyclic / over limits / too expensive (never executed); executed; fallback: a template ran
     * instead; refused: the budget could not pay the plan call.
     */
    status: z.enum(['rejected', 'executed', 'fallback', 'refused']),
    spec: z.unknown(),
    issues: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() }).strict()),
    outcome: z
      .object({
        answer: z.string().optional(),
        status: z.string(),
        quality: z.number().optional(),
        checkedBy: z.enum(['checker', 'verifier', 'none']),
      })
      .strict()
      .optional(),
    cost: z.object({ planning: costSchema, execution: costSchema }).strict(),
    objective: z.number().optional(),
    weights: z.object({ lambda: z.number(), mu: z.number() }).strict(),
    complexity: z.number().optional(),
    simulated: z.boolean(),
    /** Governed records: the probe features and the budget the decision was made on. */
    features: featuresSchema.optional(),
    /** Governed records: the decision (the workflow, when the arm was plan, is in `spec`). */
    decision: decisionSchema.optional(),
    /** Governed records, when checkable: quality − λ · (share of the budget the whole solve spent). */
    reward: z.number().optional(),
  })
  .strict();

export type Trajectory = z.infer<typeof trajectorySchema>;
/** What the planner journals; `runId` and `version` are added on export. */
export type PlanStep = Omit<Trajectory, 'runId' | 'version'>;

export const ZERO_COST: UsageTotals = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });

export function recordPlanStep(journal: Journal, runId: string, step: PlanStep): void {
  const { stepId, status, cost, ...rest } = step;
  journal.upsertStep(runId, {
    stepId,
    kind: PLAN_STEP_KIND,
    status,
    input: { query: rest.query, taskId: rest.taskId, planner: rest.planner, round: rest.round, attempt: rest.attempt },
    output: rest,
    usage: cost,
  });
}

/** Journals the trajectory record of one governed solve (one per run; a resumed run overwrites it). */
export function recordGovernedStep(journal: Journal, runId: string, step: GovernedStep): void {
  const { status, cost, ...rest } = step;
  journal.upsertStep(runId, {
    stepId: GOVERNED_STEP_ID,
    kind: GOVERNED_STEP_KIND,
    status,
    input: { query: rest.query, taskId: rest.taskId, features: rest.features },
    output: { ...rest, source: 'governor' },
    usage: cost,
  });
}

export type GovernedStep = Omit<Trajectory, 'runId' | 'version' | 'stepId' | 'source'>;

export interface ReadTrajectoriesOptions {
  runIds?: readonly string[];
  /** Only planner steps or only governed solves (default: both). */
  source?: 'planner' | 'governor';
}

/**
 * Every trajectory record of every run (or of the given runs) — the planner's plan steps and one record per
 * governed solve — oldest run first, in the order each run journaled them.
 */
export function readTrajectories(journal: Journal, options: ReadTrajectoriesOptions = {}): Trajectory[] {
  const runIds =
    options.runIds ??
    journal
      .listRuns({ limit: Number.MAX_SAFE_INTEGER })
      .map((run) => run.id)
      .reverse();
  const records: Trajectory[] = [];
  for (const runId of runIds) {
    for (const row of journal.getSteps(runId)) {
      const source = row.kind === PLAN_STEP_KIND ? 'planner' : row.kind === GOVERNED_STEP_KIND ? 'governor' : undefined;
      if (source === undefined || (options.source !== undefined && options.source !== source)) continue;
      const output = (row.output ?? {}) as Record<string, unknown>;
      records.push(
        trajectorySchema.parse({
          version: TRAJECTORY_VERSION,
          runId,
          stepId: row.stepId,
          status: row.status,
          cost: row.usage,
          ...stripUndefined(output),
          source,
        }),
      );
    }
  }
  return records;
}

/**
 * Writes the trajectories as JSONL to a file path, or to a writable (`{ write(chunk) }`, e.g. process.stdout).
 * Returns how many lines were written.
 */
export function exportTrajectories(
  journal: Journal,
  out: string | { write(chunk: string): unknown },
  options: ReadTrajectoriesOptions = {},
): number {
  const records = readTrajectories(journal, options);
  const text = records.map((record) => JSON.stringify(record)).join('\n') + (records.length > 0 ? '\n' : '');
  if (typeof out === 'string') writeFileSync(out, text);
  else if (text.length > 0) out.write(text);
  return records.length;
}

/** Parses JSONL written by `exportTrajectories`; every bad line is reported with its line number. */
export function parseTrajectories(text: string): Trajectory[] {
  const records: Trajectory[] = [];
  const issues: Array<{ path: string; message: string }> = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ path: `line ${index + 1}`, message: `not JSON (${(error as Error).message})` });
      return;
    }
    const parsed = trajectorySchema.safeParse(value);
    if (parsed.success) records.push(parsed.data);
    else issues.push(...zodIssues(parsed.error, `line ${index + 1}`));
  });
  if (issues.length > 0) throw new InvalidInputError('Invalid trajectories', issues);
  return records;
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined));
}
