/**
 * The lab's shared vocabulary: tasks and suites (what is asked), cells (one task × architecture × budget ×
 * model × seed, the unit a study runs, journals and resumes) and their results (what was spent and scored).
 * Everything here is JSON-able: cell results are journal step outputs, and reports are built from them alone.
 */
import type { UsageTotals } from '../core/index.ts';
import type { ReasoningGraph } from '../ops/index.ts';
import type { Retriever } from '../ops/index.ts';
import type { SimSearchHop, SimTask } from '../models/index.ts';

/** Suite kinds: the lab's generated suites, and `dataset` (a user's items, `thicket eval`). `agentsnet` items are network instances. */
export const SUITE_KINDS = ['arithmetic', 'logic', 'multihop', 'agentsnet', 'dataset'] as const;
export type SuiteKind = (typeof SUITE_KINDS)[number];

/**
 * A verifiable task: the sim oracle's fields (id, prompt, canonical answer, difficulty, distractors) plus the
 * optional search fields the sim's search policy reads (hops, open-book difficulty) and descriptive metadata
 * (operations, hops, network size…) that analyses group by.
 */
export interface LabTask extends SimTask {
  suite: string;
  hops?: SimSearchHop[];
  openBookDifficulty?: number;
  meta: Record<string, string | number>;
}

/** A generated suite, ready to run: its tasks, how to score an answer, and (for search) its corpus. */
export interface SuiteInstance {
  name: string;
  kind: SuiteKind;
  seed: number;
  tasks: LabTask[];
  /** Score in [0, 1] of an answer to a task (exact match after normalisation for the generated suites). */
  check(task: LabTask, answer: string | undefined): number;
  /**
   * An asynchronous scorer (a dataset's custom module or LLM judge, `thicket eval`); when set, cells are scored by
   * it. `reply` is the model's raw text the answer was extracted from, when the architecture has one.
   */
  score?(task: LabTask, answer: string | undefined, reply?: string): Promise<number>;
  /** Retriever over the suite's corpus, when it has one (multihop). */
  retriever?: Retriever;
  /** Where the corpus was written (JSONL), for inspection and for `thicket solve --corpus`. */
  corpusPath?: string;
  /** Whether its items are network instances (run by network architectures only). */
  network?: boolean;
  description: string;
}

/** Coordinates of one cell. `architecture` is the full name as written in the study (`vote@5`). */
export interface CellKey {
  suite: string;
  taskId: string;
  architecture: string;
  budget: number;
  model: string;
  seed: number;
}

/** What one cell produced. Stored as the output of its journal step; analyses and reports read only these. */
/** What a study's analysis knows of a model: its tier, whether it reasons, and what it is. */
export interface ModelFacts {
  tier: 'small' | 'medium' | 'large';
  reasoning: boolean;
  simulated: boolean;
  /** One of Thicket's tiny trained models (real, tiny, synthetic tasks). */
  tinyTrained: boolean;
  /** Parameters, where known (tiny models' cards): compute ≈ 2 × parameters per token. */
  parameters?: number;
}

export interface CellResult extends CellKey {
  /** Base architecture (`vote` for `vote@5`). */
  base: string;
  family: string;
  /** Score in [0, 1] (1/0 for exact-match tasks; fractional for network tasks). */
  score: number;
  answer: string | null;
  /** The workflow's status: `ok`, `budget_exhausted` (something was refused or skipped for budget), `error`, … */
  status: string;
  difficulty: number;
  /** The per-query hard budget and its unit. */
  budgetUnit: 'tokens' | 'usd';
  usage: UsageTotals;
  /** Tokens by compute axis (width, depth, search, agents, cascade, …). */
  axes: Record<string, number>;
  /** Tokens by model (settled and replayed spend); absent in cells journaled before it was recorded. */
  byModel?: Record<string, number>;
  /** Retrieval steps (search tool calls) and all tool calls (retrieval + calculator) made. */
  searchSteps: number;
  toolCalls: number;
  /** Clock time of the cell, ms (virtual for simulated runs). */
  latencyMs: number;
  degraded: number;
  simulated: boolean;
  /** Reasoning-graph size; criticality metrics when a criticality hook is installed. */
  graph: { nodes: number; edges: number };
  criticality?: Record<string, number>;
  meta: Record<string, string | number>;
}

/** Computes per-run criticality metrics from a run's reasoning graph (the criticality layer plugs in here). */
export type CriticalityHook = (graph: ReasoningGraph) => Record<string, number> | undefined | Promise<Record<string, number> | undefined>;
