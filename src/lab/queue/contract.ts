/**
 * What the coordinator (`thicket study --queue`) and the workers (`thicket worker`) agree on: queue and key
 * names, the job's data and what a job reports back. Versioned: a worker refuses a job of another version
 * (an old worker next to a new coordinator) instead of running it wrongly.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StudyDefinition } from '../study-file.ts';
import type { LoadedDataset } from '../datasets/index.ts';

export const QUEUE_PROTOCOL_VERSION = 1;

/** The BullMQ queue of study and eval cells (the `cells` name of `thicket worker --queues`). */
export const CELL_QUEUE = 'thicket-cells';

/** Queues a worker can consume, by the name `--queues` takes. */
export const WORKER_QUEUES = { cells: CELL_QUEUE } as const;
export type WorkerQueueName = keyof typeof WORKER_QUEUES;

/** Redis key holding a dispatched study's specification (written once, read by every worker). */
export const studySpecKey = (prefix: string, specId: string): string => `${prefix}:spec:${specId}`;

/** The specification workers rebuild the study's cell plan from: the plan is a pure function of it. */
export interface StudySpec {
  version: typeof QUEUE_PROTOCOL_VERSION;
  runId: string;
  study: StudyDefinition;
  /** The fleet config (model definitions; secrets stay in the workers' environment: config names env vars). */
  config: unknown;
  /** Where the study's journal is: a SQLite file path every worker can open, or a postgres:// URL. */
  journal: string;
  corpusDir?: string;
  allowUnpriced?: boolean;
  /**
   * A `thicket eval`: the dataset as the coordinator read it (items travel with the spec, so workers need no
   * access to the file) and the scorer (built-in name or a module path workers can import; not the LLM judge,
   * whose budget slice lives in one process).
   */
  dataset?: { loaded: LoadedDataset; scorer: string; scorerBase: string; identity: unknown };
}

export const cellJobSchema = z
  .object({
    version: z.literal(QUEUE_PROTOCOL_VERSION),
    runId: z.string().min(1),
    specId: z.string().regex(/^[0-9a-f]{16,64}$/),
    stepId: z.string().min(1),
  })
  .strict();
export type CellJob = z.infer<typeof cellJobSchema>;

/** What a worker reports for one cell (the job's return value, relayed to the coordinator by QueueEvents). */
export const cellReportSchema = z
  .object({
    runId: z.string(),
    stepId: z.string(),
    /** ok: journaled as finished; error: journaled as failed; no-room: the study's shared cap cannot cover it. */
    outcome: z.enum(['ok', 'error', 'no-room']),
    newCalls: z.number(),
    replayedCalls: z.number(),
    newTokens: z.number(),
    newUsd: z.number(),
    worker: z.string(),
  })
  .strict();
export type CellReport = z.infer<typeof cellReportSchema>;

export function specIdOf(spec: StudySpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 32);
}

/** BullMQ job ids: stable per (run, cell), so enqueuing a cell twice (a resumed coordinator) adds it once. */
export function cellJobId(runId: string, stepId: string): string {
  return `cell-${createHash('sha256').update(`${runId}\u0000${stepId}`).digest('hex').slice(0, 40)}`;
}

/** The study-wide cap's scope in the shared ledger. */
export const studyScope = (runId: string): string => `study:${runId}`;

export interface DispatchRequest {
  study: StudyDefinition;
  runId: string;
  /** Step ids of the cells to run (the ones not finished in the journal). */
  cells: string[];
  signal: AbortSignal;
  onCell(report: CellReport): void;
}

/** Runs cells elsewhere; resolves when every cell is journaled (ok or error) or refused for want of room. */
export type DispatchCells = (request: DispatchRequest) => Promise<{ budgetExhausted: boolean }>;
