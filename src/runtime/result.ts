/**
 * `SolveResult` — the one result of a solve, whichever surface asked: `thicket.solve()` returns it, the CLI
 * prints it (`--json` serialises exactly this object), the stream's `run-finished` event carries it.
 */
import { isSimulatedStandIn, type AnswerExtractor, type RunStatus, type UsageTotals } from '../core/index.ts';
import type { BudgetLimits, Ledger } from '../budget/index.ts';
import type { KvThreadMetrics } from '../models/index.ts';
import type { GovernorDecision } from '../governor/index.ts';
import type { WorkflowResult } from '../workflow/index.ts';

export interface SolveResult {
  runId: string;
  answer: string | null;
  status: RunStatus;
  /** True when every model the run could call is simulated (`sim:`): answers, usage and latency are not a real model's. */
  simulated: boolean;
  /** `auto` (the governor), a strategy name, or `workflow` (a spec). */
  strategy: string;
  /** Everything the run spent, this invocation's calls and those replayed from the journal. */
  usage: UsageTotals;
  replayedCalls: number;
  /** What this invocation sent to models (replayed calls cost nothing new). */
  newUsage: UsageTotals;
  /**
   * On resume: attempts an earlier process sent but never recorded (killed or cancelled mid-call), counted in
   * `usage` at their reserved worst case because the provider may have billed them. Absent when none.
   */
  inFlightAtCrash?: UsageTotals;
  budget: BudgetLimits;
  spendByModel: Record<string, UsageTotals>;
  /** Tokens per compute axis (width, depth, search, agents, …). */
  spendByAxis: Record<string, UsageTotals>;
  vote?: {
    samples: number;
    completed: number;
    agreement: number;
    votes: Record<string, number>;
    refusedByBudget: number;
    failed: number;
    /** Free-text samples (no short answer in most): how one was chosen — `usc` (the model picked) or `similarity`. */
    freeText?: string;
  };
  /**
   * How the answer was read from the model's reply (strategies whose answer comes from one reply: single, and
   * vote's chosen sample): `extractor` is the extractor of core/answer.ts that matched (`json`, `answer-line`,
   * `boxed`, `hashes`, `the-answer-is`, `choice`, `bold-number`, `last-number`), or null when none did — the answer is then
   * the reply's text (free text), or there is none. `text` is the raw reply.
   */
  extraction?: {
    node: string;
    extractor: AnswerExtractor | null;
    text: string;
    /** Single answers on a model marked `structuredOutput`: `used`, `not-json` (read as text) or `refused` (asked again as text). */
    structured?: string;
    truncated?: boolean;
    via?: string;
  };
  nodes: Record<string, NodeSummary>;
  degraded: string[];
  estimate: { expectedTokens: number; worstTokens: number; expectedUsd: number; worstUsd: number };
  /** `strategy: 'auto'`: the governor's decision (difficulty, chosen strategy or generated spec, escalations). */
  governor?: GovernorDecision;
  resumed: boolean;
  /** The journal file the run is recorded in. */
  journal: string;
  error?: { code: string; message: string };
  /** What the caller should know about the run's limits, e.g. a dollar limit allowed on an unpriced model (--allow-unpriced). */
  warnings?: string[];
}

export interface NodeSummary {
  op: string;
  status: string;
  answer: string | null;
  calls: number;
  degraded: string[];
  capability?: { card: string; model: string; score: number };
  kv?: KvReport;
}

/**
 * What a thread on the embedded engine did to its KV cache (tokens processed, erased, peak occupancy, decode
 * speed over time), from the operator's metrics — also for a node replayed from the journal.
 */
export interface KvReport {
  tokensProcessed: number;
  tokensGenerated: number;
  tokensInjected: number;
  tokensErased: number;
  erasures: number;
  peakKvTokens: number;
  /** What the sequence would have held with nothing erased. */
  unprunedTokens: number;
  finalKvTokens: number;
  decodeTokensPerSecond: number;
  /** One entry per finished task, in order. */
  overTime: Array<{ finishedTasks: number; kvTokens: number; decodeTokensPerSecond: number; elapsedMs: number }>;
}

/** The step under which a solve run's trace (events + reasoning graph) is journaled, for `runs show --trace`. */
export const TRACE_STEP_ID = '__trace__';

export function nodeSummaries(result: WorkflowResult | undefined): Record<string, NodeSummary> {
  return Object.fromEntries(
    Object.entries(result?.nodes ?? {}).map(([id, node]) => [
      id,
      {
        op: node.op,
        status: node.status,
        // The simulated fleet's stand-in text is no answer, here as in the run's own `answer`.
        answer: node.result?.simulated && isSimulatedStandIn(node.result.answer) ? null : (node.result?.answer ?? null),
        calls: node.result?.calls ?? 0,
        degraded: node.result?.degraded ?? [],
        ...(node.capability ? { capability: node.capability } : {}),
        ...kvReportOf(node.result?.details),
      },
    ]),
  );
}

function kvReportOf(details: Record<string, unknown> | undefined): { kv?: KvReport } {
  if (details?.['engine'] !== 'llama.cpp' || typeof details['metrics'] !== 'object' || details['metrics'] === null) return {};
  const metrics = details['metrics'] as KvThreadMetrics;
  return {
    kv: {
      tokensProcessed: metrics.tokensProcessed,
      tokensGenerated: metrics.tokensGenerated,
      tokensInjected: metrics.tokensInjected,
      tokensErased: metrics.tokensErased,
      erasures: metrics.erasures,
      peakKvTokens: metrics.peakKvTokens,
      unprunedTokens: metrics.unprunedTokens,
      finalKvTokens: metrics.finalKvTokens,
      decodeTokensPerSecond: Math.round(metrics.decodeTokensPerSecond),
      overTime: metrics.samples.map((sample) => ({
        finishedTasks: sample.finishedTasks,
        kvTokens: sample.kvTokens,
        decodeTokensPerSecond: Math.round(sample.decodeTokensPerSecond),
        elapsedMs: Math.round(sample.elapsedMs),
      })),
    },
  };
}

/** The extraction record (`details.extraction`) of the node that answered, else of the first node that has one. */
export function extractionSummary(result: WorkflowResult | undefined): SolveResult['extraction'] | undefined {
  if (!result) return undefined;
  const ids = [...(result.answeredBy !== undefined ? [result.answeredBy] : []), ...Object.keys(result.nodes)];
  for (const id of ids) {
    const extraction = result.nodes[id]?.result?.details['extraction'];
    if (typeof extraction !== 'object' || extraction === null) continue;
    const record = extraction as Record<string, unknown>;
    if (typeof record['text'] !== 'string') continue;
    return {
      node: id,
      extractor: typeof record['extractor'] === 'string' ? (record['extractor'] as AnswerExtractor) : null,
      text: record['text'],
      ...(typeof record['structured'] === 'string' ? { structured: record['structured'] } : {}),
      ...(record['truncated'] === true ? { truncated: true } : {}),
      ...(typeof record['via'] === 'string' ? { via: record['via'] } : {}),
    };
  }
  return undefined;
}

export function voteSummary(result: WorkflowResult, samples: number): NonNullable<SolveResult['vote']> {
  const details = (result.nodes['vote']?.result?.details ?? {}) as Partial<{
    completed: number;
    agreement: number;
    votes: Record<string, number>;
    failed: number;
    samplesSaved: number;
    freeText: string;
  }>;
  const completed = details.completed ?? 0;
  const failed = details.failed ?? 0;
  return {
    samples,
    completed,
    agreement: details.agreement ?? 0,
    votes: details.votes ?? {},
    // Every requested sample either completed, failed, was saved by adaptive width, or was not drawn for budget.
    refusedByBudget: Math.max(0, samples - completed - failed - (details.samplesSaved ?? 0)),
    failed,
    ...(typeof details.freeText === 'string' ? { freeText: details.freeText } : {}),
  };
}

const DIMENSIONS = ['totalTokens', 'inputTokens', 'outputTokens', 'usd', 'calls'] as const;

/** Names the limits that ran out (or nearly) and what was cut, e.g. "calls: limit 3, spent 3; samples 9 → 3 (budget)". */
export function budgetMessage(degraded: readonly string[], ledger: Ledger): string {
  const limits = ledger.root.limits;
  const spent = ledger.root.spent();
  const describe = (dimension: (typeof DIMENSIONS)[number], limit: number): string =>
    `${dimension}: limit ${limit}, spent ${dimension === 'usd' ? spent[dimension].toFixed(6) : spent[dimension]}`;
  const binding: string[] = [];
  for (const dimension of DIMENSIONS) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    // "Nearly" = less than a minimal call (64 tokens, one call, 5% of dollars) left.
    const left = limit - spent[dimension];
    if (left <= (dimension === 'usd' ? limit * 0.05 : dimension === 'calls' ? 0 : 64)) binding.push(describe(dimension, limit));
  }
  if (limits.seconds !== undefined && ledger.root.remainingMs() <= 0) binding.push(`seconds: limit ${limits.seconds}`);
  // Nothing ran out, so a planned call was too big for what was left: name every limit with its spend.
  if (binding.length === 0) {
    for (const dimension of DIMENSIONS) {
      const limit = limits[dimension];
      if (limit !== undefined) binding.push(describe(dimension, limit));
    }
  }
  const parts = [...binding, ...degraded];
  return parts.length > 0 ? `The budget could not cover the whole plan (${parts.join('; ')}).` : 'The budget could not cover the plan.';
}

export function toTotals(line: UsageTotals): UsageTotals {
  return {
    inputTokens: line.inputTokens,
    outputTokens: line.outputTokens,
    totalTokens: line.totalTokens,
    usd: line.usd,
    calls: line.calls,
  };
}

export function mapTotals(lines: Record<string, UsageTotals>): Record<string, UsageTotals> {
  return Object.fromEntries(Object.entries(lines).map(([key, line]) => [key, toTotals(line)]));
}
