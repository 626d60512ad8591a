/**
 * `thicket solve "<query>"`: one generation, or width sampling with majority vote (`--samples N`), under a
 * hard budget, journaled so that the same `--run-id` resumes (replaying finished calls for free).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pc from 'picocolors';
import { CancelledError, NoModelError, ThicketError, VirtualClock, systemClock, toThicketError, exitCodeFor, type UsageTotals } from '../../core/index.ts';
import { Ledger, type BudgetLimits, type SpendLine } from '../../budget/index.ts';
import { Fleet, FleetResolver, loadFleetConfig } from '../../models/index.ts';
import { Journal, defaultJournalPath } from '../../journal/index.ts';
import { sampleAndVote, type VoteResult } from '../../ops/index.ts';
import { IssueCollector, parseBudgetFlags, type BudgetFlags } from '../options.ts';
import { SIMULATED_LABEL, attachProgress, formatUsd, processOutput, table } from '../output.ts';

export interface SolveFlags extends BudgetFlags {
  model?: string;
  samples?: string;
  maxOutputTokens?: string;
  runId?: string;
  db?: string;
  config?: string;
  seed?: string;
  json?: boolean;
}

export type RunStatus = 'ok' | 'budget_exhausted' | 'cancelled' | 'error';

export interface SolveResult {
  runId: string;
  answer: string | null;
  status: RunStatus;
  simulated: boolean;
  usage: UsageTotals;
  replayedCalls: number;
  newUsage: UsageTotals;
  budget: BudgetLimits;
  spendByModel: Record<string, UsageTotals>;
  vote: { samples: number; completed: number; agreement: number; votes: Record<string, number>; refusedByBudget: number; failed: number };
  resumed: boolean;
  journal: string;
  error?: { code: string; message: string };
}

export const SOLVE_SYSTEM_PROMPT = "You are a careful problem solver. Reason step by step, then give the final answer alone on the last line as 'Answer: <value>'.";

export async function solveCommand(query: string, flags: SolveFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (query.trim() === '') issues.add('query', 'must not be empty');
  const samples = issues.number('--samples', flags.samples ?? '1', { integer: true, min: 1, max: 1000 }) ?? 1;
  const maxOutputTokens = issues.number('--max-output-tokens', flags.maxOutputTokens ?? '512', { integer: true, min: 1, max: 1_000_000 }) ?? 512;
  const seed = issues.number('--seed', flags.seed ?? '0', { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 0;
  const limits = parseBudgetFlags(flags, issues);
  if (flags.runId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(flags.runId)) issues.add('--run-id', 'use 1–128 letters, digits, ".", "_" or "-"');
  issues.throwIfAny('Invalid solve request');

  // Everything that can be rejected is checked before the journal is touched: a rejected invocation writes nothing.
  const { config } = loadFleetConfig(flags.config);
  const model = flags.model ?? config.defaultModel;
  if (model === undefined) throw new NoModelError();
  const probeResolver = new FleetResolver({ config, clock: systemClock, seed });
  const simulated = probeResolver.resolve(model).profile.simulated;

  // Simulated latency runs on a virtual clock (instant) unless THICKET_SIM_CLOCK=real asks for real waiting,
  // e.g. to watch the progress display or to interrupt a simulated run part-way.
  const clock = simulated && process.env['THICKET_SIM_CLOCK'] !== 'real' ? new VirtualClock() : systemClock;
  const resolver = new FleetResolver({ config, clock, seed });
  const fleet = new Fleet({ resolver, clock, seed });
  const journalPath = resolve(flags.db ?? defaultJournalPath());
  const journal = Journal.open(journalPath);
  try {
    const runId = flags.runId ?? `run-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const args = { model, samples, maxOutputTokens, seed };
    const { resumed } = journal.beginOrResumeRun({ id: runId, command: 'solve', query, args, seed, simulated, budget: limits });
    const ledger = new Ledger({ clock, limits });
    const controller = new AbortController();
    const onSigint = (): void => controller.abort(new CancelledError('Interrupted (SIGINT).'));
    process.once('SIGINT', onSigint);
    const stopProgress = attachProgress(fleet, output, samples, simulated ? 'solve (simulated)' : 'solve');

    let vote: VoteResult | undefined;
    let failure: ThicketError | undefined;
    try {
      vote = await sampleAndVote({
        fleet,
        model,
        budget: ledger.root,
        messages: [
          { role: 'system', content: SOLVE_SYSTEM_PROMPT },
          { role: 'user', content: query },
        ],
        samples,
        maxOutputTokens,
        recorder: journal.recorder(runId),
        signal: controller.signal,
      });
    } catch (error) {
      failure = toThicketError(error);
    } finally {
      stopProgress();
      process.removeListener('SIGINT', onSigint);
    }

    const firstError = failure ?? vote?.samples.find((sample) => sample.error && sample.error.category !== 'budget')?.error;
    const status: RunStatus = controller.signal.aborted
      ? 'cancelled'
      : vote && vote.refusedByBudget > 0
        ? 'budget_exhausted'
        : vote?.answer !== undefined
          ? 'ok'
          : 'error';
    const report = ledger.report();
    const replayed = vote?.samples.filter((sample) => sample.call?.replayed) ?? [];
    const usage = toTotals(report.total);
    const replayedUsage = replayed.reduce<UsageTotals>((sum, sample) => {
      const billed = sample.call!.billed;
      return {
        inputTokens: sum.inputTokens + billed.inputTokens,
        outputTokens: sum.outputTokens + billed.outputTokens,
        totalTokens: sum.totalTokens + billed.inputTokens + billed.outputTokens,
        costUsd: sum.costUsd + billed.usd,
        calls: sum.calls + billed.calls,
      };
    }, { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, calls: 0 });
    const newUsage: UsageTotals = {
      inputTokens: usage.inputTokens - replayedUsage.inputTokens,
      outputTokens: usage.outputTokens - replayedUsage.outputTokens,
      totalTokens: usage.totalTokens - replayedUsage.totalTokens,
      costUsd: Math.max(0, usage.costUsd - replayedUsage.costUsd),
      calls: usage.calls - replayedUsage.calls,
    };
    const errorInfo =
      status === 'budget_exhausted'
        ? vote?.samples.find((sample) => sample.error?.code === 'BUDGET_EXHAUSTED')?.error?.toJSON()
        : status === 'cancelled'
          ? { code: 'CANCELLED', message: 'The run was cancelled.' }
          : status === 'error'
            ? (firstError ?? new ThicketError('PROVIDER_ERROR', 'No sample produced an answer.', 'other')).toJSON()
            : undefined;
    const result: SolveResult = {
      runId,
      answer: vote?.answer ?? null,
      status,
      simulated,
      usage,
      replayedCalls: replayed.length,
      newUsage,
      budget: limits,
      spendByModel: Object.fromEntries(Object.entries(report.byModel).map(([key, line]) => [key, toTotals(line)])),
      vote: {
        samples,
        completed: vote?.completed ?? 0,
        agreement: vote?.agreement ?? 0,
        votes: vote?.votes ?? {},
        refusedByBudget: vote?.refusedByBudget ?? 0,
        failed: vote?.failed ?? 0,
      },
      resumed,
      journal: journalPath,
      ...(errorInfo ? { error: errorInfo } : {}),
    };
    journal.finishRun(runId, { status, answer: result.answer, error: result.error ?? null, usage });

    if (output.json) output.out(JSON.stringify(result));
    else printHuman(result, output.out);
    return status === 'ok' ? 0 : status === 'budget_exhausted' ? 3 : status === 'cancelled' ? 4 : exitCodeFor(firstError ?? new Error());
  } finally {
    journal.close();
  }
}

function toTotals(line: SpendLine): UsageTotals {
  return { inputTokens: line.inputTokens, outputTokens: line.outputTokens, totalTokens: line.totalTokens, costUsd: line.usd, calls: line.calls };
}

function printHuman(result: SolveResult, out: (text: string) => void): void {
  const statusColour = result.status === 'ok' ? pc.green : result.status === 'budget_exhausted' ? pc.yellow : pc.red;
  out(`${result.simulated ? `${SIMULATED_LABEL} ` : ''}${pc.bold('Answer:')} ${result.answer ?? pc.dim('(none)')}`);
  out(`Status: ${statusColour(result.status)}   Run: ${result.runId}${result.resumed ? ' (resumed)' : ''}`);
  if (result.vote.samples > 1) {
    const votes = Object.entries(result.vote.votes).sort((a, b) => b[1] - a[1]).map(([answer, count]) => `${answer}×${count}`).join(', ');
    out(`Vote: ${result.vote.completed}/${result.vote.samples} samples, agreement ${(result.vote.agreement * 100).toFixed(0)}% (${votes || 'no answers'})`);
  }
  if (result.error) out(pc.red(`Error ${result.error.code}: ${result.error.message}`));
  const limit = (value: number | undefined, format: (n: number) => string = String): string => (value === undefined ? '—' : format(value));
  out(
    table(
      ['', 'input tok', 'output tok', 'total tok', 'cost', 'calls'],
      [
        ['this run', result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens, formatUsd(result.usage.costUsd), result.usage.calls],
        ['  new', result.newUsage.inputTokens, result.newUsage.outputTokens, result.newUsage.totalTokens, formatUsd(result.newUsage.costUsd), result.newUsage.calls],
        [`  replayed`, result.usage.inputTokens - result.newUsage.inputTokens, result.usage.outputTokens - result.newUsage.outputTokens, result.usage.totalTokens - result.newUsage.totalTokens, formatUsd(result.usage.costUsd - result.newUsage.costUsd), result.replayedCalls],
        ['budget', limit(result.budget.inputTokens), limit(result.budget.outputTokens), limit(result.budget.totalTokens), limit(result.budget.usd, formatUsd), limit(result.budget.calls)],
      ],
    ),
  );
  if (result.simulated) out(pc.dim('Answers, usage, cost and latency come from the simulated fleet (sim:), not from a real model.'));
}
