/**
 * What every operator receives: the fleet, its own budget slice, the journal recorder, cancellation, the
 * trace, and a step id that is unique within the run (all model calls derive their identity from it, which
 * is what makes resume replay the right calls).
 */
import type { Budget } from '../budget/index.ts';
import type { CallRecorder, Fleet } from '../models/index.ts';
import type { Trace } from './trace.ts';

export interface OpContext {
  fleet: Fleet;
  /** This operator's budget slice; it must never spend beyond it (the ledger enforces it). */
  budget: Budget;
  recorder?: CallRecorder;
  signal?: AbortSignal;
  trace: Trace;
  stepId: string;
  /** Default model reference for calls this operator makes. */
  model: string;
  /** Verifiable task id (from a lab suite), passed to the fleet as call metadata. */
  taskId?: string;
}

export interface OpResult {
  answer: string | undefined;
  /** Confidence signal in [0, 1] (vote agreement, verifier score, self-report); undefined when none. */
  confidence: number | undefined;
  /** The final text the answer came from. */
  text: string;
  /** The reasoning-graph node holding the final answer. */
  nodeId: string | undefined;
  /** Model calls made (replayed ones included). */
  calls: number;
  /** Degradations taken because the budget could not cover the plan (e.g. "samples 9 → 4"). */
  degraded: string[];
  /** True when the budget refused a call this operator wanted to make. */
  budgetExhausted: boolean;
  simulated: boolean;
  /** Operator-specific details (votes, rounds, pruning figures, …) for the trace and JSON output. */
  details: Record<string, unknown>;
}

/** A child context for a sub-step: same run, a child budget (or the same), a derived step id. */
export function childContext(context: OpContext, suffix: string, overrides: Partial<Pick<OpContext, 'budget' | 'model'>> = {}): OpContext {
  return { ...context, ...overrides, stepId: `${context.stepId}/${suffix}` };
}
