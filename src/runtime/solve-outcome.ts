/**
 * How a finished run becomes its `SolveResult`: the run's status (cancelled, over budget, errored or ok —
 * and an ok run with no answer is an error), the error it reports and why, and every figure the result
 * carries, read from the ledger and the workflow's or the governor's own result. solve.ts assembles and runs;
 * this shapes what it returns (result.ts holds the type and the summaries of its parts).
 */
import {
  ANSWER_EXTRACTORS,
  SimUnknownTaskError,
  isSimulatedStandIn,
  roundUsd,
  type RunStatus,
  type ThicketError,
  type UsageTotals,
} from '../core/index.ts';
import type { BudgetLimits, Ledger } from '../budget/index.ts';
import { arithmeticTask } from '../models/index.ts';
import type { GovernedSolveResult } from '../governor/index.ts';
import type { WorkflowResult } from '../workflow/index.ts';
import { inFlightNote, overLimit, overrunNote } from './spend-integrity.ts';
import { budgetMessage, extractionSummary, mapTotals, nodeSummaries, toTotals, voteSummary, type SolveResult } from './result.ts';
import type { SolveStrategy } from './solve-options.ts';

/** A run as it ended: what ran, what came back (or failed), and what the run's assembly recorded on the way. */
export interface FinishedRun {
  runId: string;
  query: string;
  model: string;
  strategy: SolveStrategy | 'workflow';
  samples: number;
  simulated: boolean;
  /** The query is one of the corpus's own simulated tasks (the simulated fleet can answer it). */
  corpusTask: boolean;
  /** The executor's result (every strategy but `auto`). */
  result: WorkflowResult | undefined;
  /** The governor's result (strategy `auto`). */
  governed: GovernedSolveResult | undefined;
  failure: ThicketError | undefined;
  cancelled: boolean;
  ledger: Ledger;
  budget: BudgetLimits;
  /** Calls the fleet served from the journal one by one (whole reused steps are counted from the result). */
  replayedCallEvents: number;
  newUsage: UsageTotals;
  inFlightAtCrash: UsageTotals | undefined;
  resumed: boolean;
  journalPath: string;
  warnings: string[];
}

/** The one result of a finished run. */
export function solveOutcome(run: FinishedRun): SolveResult {
  const { runId, query, model, strategy, samples, simulated, result, governed, failure, ledger, budget } = run;
  const { replayedCallEvents, newUsage, inFlightAtCrash, resumed, warnings } = run;
  // The simulated fleet's stand-in text is never an answer, whichever operator passed it on.
  const produced = (governed ?? result)?.answer;
  const answer = simulated && isSimulatedStandIn(produced) ? undefined : produced;
  // Spent past a limit (a provider overspent, or calls in flight at a crash were counted): nothing more could
  // be bought, so an otherwise ok run did not get the budget it was planned with.
  const overspent = overLimit(ledger);
  const workflowStatus = governed?.status ?? result?.status;
  const finished: RunStatus = run.cancelled
    ? 'cancelled'
    : failure
      ? failure.category === 'budget'
        ? 'budget_exhausted'
        : 'error'
      : overspent && workflowStatus === 'ok'
        ? 'budget_exhausted'
        : workflowStatus!;
  const status: RunStatus = finished === 'ok' && answer === undefined ? 'error' : finished;
  const report = ledger.report();
  // Served from the journal: calls replayed one by one, plus the calls of whole steps reused on resume.
  const replayedCalls =
    replayedCallEvents + Object.values(result?.nodes ?? {}).reduce((sum, node) => sum + (node.replayed ? (node.result?.calls ?? 0) : 0), 0);
  const nodeError = result ? Object.values(result.nodes).find((node) => node.error)?.error : undefined;
  const overrun = overrunNote(ledger);
  const degraded = [
    ...((governed ?? result)?.degraded ?? []),
    ...(inFlightAtCrash ? [inFlightNote(inFlightAtCrash)] : []),
    ...(overrun ? [overrun] : []),
  ];
  const extraction = extractionSummary(result);
  // Asked something outside its generated tasks, the simulated fleet has no answer to give: say so plainly.
  const simUnknown =
    status === 'error' &&
    simulated &&
    answer === undefined &&
    failure?.category !== 'bad_input' &&
    !run.corpusTask &&
    !simulatedTaskKnown(query);
  const errorInfo = simUnknown
    ? new SimUnknownTaskError(model, query).toJSON()
    : (failure?.toJSON() ??
      governed?.error ??
      (status === 'budget_exhausted'
        ? { code: 'BUDGET_EXHAUSTED', message: budgetMessage(degraded, ledger) }
        : status === 'cancelled'
          ? { code: 'CANCELLED', message: 'The run was cancelled.' }
          : status === 'error'
            ? (nodeError ?? noAnswerError(report.total.calls, extraction, operatorErrors(result)))
            : undefined));
  return {
    runId,
    answer: answer ?? null,
    status,
    simulated,
    strategy,
    usage: toTotals(report.total),
    replayedCalls,
    newUsage,
    ...(inFlightAtCrash ? { inFlightAtCrash } : {}),
    budget,
    spendByModel: mapTotals(report.byModel),
    spendByAxis: mapTotals(report.byAxis),
    ...(strategy === 'vote' && result ? { vote: voteSummary(result, samples) } : {}),
    ...(extraction ? { extraction } : {}),
    nodes: nodeSummaries(result),
    degraded,
    ...(governed ? { governor: governed.decision } : {}),
    estimate: {
      expectedTokens: result?.estimate.total.expected.totalTokens ?? 0,
      worstTokens: result?.estimate.total.worst.totalTokens ?? 0,
      expectedUsd: roundUsd(result?.estimate.total.expected.usd ?? 0),
      worstUsd: roundUsd(result?.estimate.total.worst.usd ?? 0),
    },
    resumed,
    journal: run.journalPath,
    ...(errorInfo ? { error: errorInfo } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Error codes operators recorded in their details instead of throwing (solo keeps going without its call). */
function operatorErrors(result: WorkflowResult | undefined): string[] {
  return Object.values(result?.nodes ?? {}).flatMap((node) => {
    const code = node.result?.details['error'];
    return typeof code === 'string' ? [code] : [];
  });
}

/**
 * Whether the simulated fleet has an oracle for the query as asked: an arithmetic expression it can work out
 * (a corpus's own sim tasks are checked apart, with the corpus).
 */
function simulatedTaskKnown(query: string): boolean {
  return arithmeticTask(query) !== undefined;
}

/**
 * Why a run that made its calls ended without an answer: the endpoint answered, but nothing usable could be
 * read (ANSWER_UNPARSED, exit 5) — apart from a run where no call got through (PROVIDER_ERROR, exit 1).
 */
function noAnswerError(
  calls: number,
  extraction: SolveResult['extraction'],
  swallowed: readonly string[],
): { code: string; message: string } {
  // An operator that caught its call's failure (solo) and answered nothing: an endpoint failure stays one.
  const failed = swallowed.find((code) => code !== 'MALFORMED_OUTPUT' && code !== 'ANSWER_UNPARSED');
  if (failed !== undefined) return { code: failed, message: `No answer was produced: a model call failed (${failed}).` };
  if (swallowed.includes('MALFORMED_OUTPUT'))
    return {
      code: 'ANSWER_UNPARSED',
      message:
        `The model replied (${calls} call${calls === 1 ? '' : 's'}), but its structured reply could not be parsed (MALFORMED_OUTPUT: ` +
        'not valid JSON, or cut off at the output cap — raise --max-output-tokens).',
    };
  if (extraction?.truncated)
    return {
      code: 'ANSWER_UNPARSED',
      message:
        'The model\'s reply was cut off at the output cap before it gave an answer (its text is in "extraction.text"); ' +
        'raise --max-output-tokens.',
    };
  if (calls > 0)
    return {
      code: 'ANSWER_UNPARSED',
      message:
        `The model replied (${calls} call${calls === 1 ? '' : 's'}), but no answer could be read from its replies ` +
        `(tried, in order: ${ANSWER_EXTRACTORS.join(', ')})${extraction ? '; its text is in "extraction.text"' : ''}. ` +
        '--strategy single returns a free-text reply as it is.',
    };
  return { code: 'PROVIDER_ERROR', message: 'No answer was produced.' };
}
