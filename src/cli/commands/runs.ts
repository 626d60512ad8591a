/** `thicket runs ls` and `thicket runs show <id>`: what the journal holds. */
import { existsSync } from 'node:fs';
import pc from 'picocolors';
import { InvalidInputError, sumUsd, type UsageTotals } from '../../core/index.ts';
import { Journal, defaultJournalTarget, isPostgresUrl, type CallRow, type ModelSpend } from '../../journal/index.ts';
import type { TraceJson } from '../../ops/index.ts';
import { TRACE_STEP_ID } from '../../runtime/index.ts';
import { IssueCollector } from '../options.ts';
import { SIMULATED_LABEL, formatUsd, processOutput, table } from '../output.ts';

export interface RunsFlags {
  db?: string;
  json?: boolean;
  limit?: string;
  trace?: boolean;
}

/**
 * Reading commands never create a journal: a missing file means "no runs yet", not a new empty database. A
 * Postgres URL is opened read-only as it is (an unreachable server or a missing schema is an error).
 */
function openExisting(path: string): Journal | undefined {
  return isPostgresUrl(path) || existsSync(path) ? Journal.openReadOnly(path) : undefined;
}

export async function runsListCommand(flags: RunsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const limit = issues.number('--limit', flags.limit ?? '50', { integer: true, min: 1, max: 100_000 }) ?? 50;
  issues.throwIfAny('Invalid runs ls request');
  const journal = openExisting(flags.db ?? defaultJournalTarget());
  try {
    const runs = journal?.listRuns({ limit }) ?? [];
    if (output.json) {
      output.out(JSON.stringify({ runs }));
      return 0;
    }
    if (runs.length === 0) {
      output.out('No runs in the journal yet. Try: thicket solve "What is 17*23?" --model sim:small --samples 9');
      return 0;
    }
    output.out(
      table(
        ['run', 'command', 'status', 'query', 'calls', 'tokens', 'cost', 'created'],
        runs.map((run) => [
          `${run.id}${run.simulated ? ' (sim)' : ''}`,
          run.command,
          run.status,
          truncate(run.query ?? '', 40),
          run.totals.calls,
          run.totals.totalTokens,
          formatUsd(run.totals.usd),
          run.createdAt,
        ]),
      ),
    );
    return 0;
  } finally {
    journal?.close();
  }
}

export async function runsShowCommand(id: string, flags: RunsFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const journal = openExisting(flags.db ?? defaultJournalTarget());
  try {
    const run = journal?.getRun(id);
    if (!journal || !run)
      throw new InvalidInputError('Unknown run', [
        { path: 'id', message: `no run "${id}" in ${journal?.path ?? flags.db ?? defaultJournalTarget()}` },
      ]);
    if (flags.trace) return printTrace(journal, id, output);
    const report = runReport(journal, id);
    const { calls, totals } = report;
    const intents = report.inFlight;
    if (output.json) {
      output.out(JSON.stringify(report));
      return 0;
    }
    output.out(`${run.simulated ? `${SIMULATED_LABEL} ` : ''}${pc.bold(run.id)} — ${run.command} — status ${run.status}`);
    output.out(`Query: ${run.query ?? ''}`);
    output.out(`Answer: ${run.answer ?? '(none)'}`);
    output.out(
      table(
        ['#', 'model', 'step', 'purpose', 'tries', 'in', 'out', 'cost', 'latency ms', 'finish', 'answer text'],
        calls.map((call, index) => [
          index + 1,
          call.model,
          call.stepId ?? '',
          call.purpose ?? '',
          // Every attempt the provider answered is billed; in/out/cost are the sums over them (as in the totals).
          call.billed?.calls ?? call.attempts,
          call.billed?.inputTokens ?? call.inputTokens,
          call.billed?.outputTokens ?? call.outputTokens,
          formatUsd(call.billed?.usd ?? call.costUsd),
          Math.round(call.latencyMs),
          // A failed call spent (its tokens count in the totals) but produced nothing usable.
          `${call.finishReason ?? ''}${call.failed ? ` (failed: ${call.error?.code ?? 'error'})` : ''}${overCap(call) ? ' (over max_tokens)' : ''}`,
          // The last non-empty line: where chat models put their conclusion (`**Answer:** …`, `\boxed{…}`).
          truncate(
            (call.text ?? '')
              .split('\n')
              .filter((line) => line.trim() !== '')
              .at(-1) ?? '',
            30,
          ),
        ]),
      ),
    );
    output.out(
      table(
        ['total', 'input tok', 'output tok', 'total tok', 'cost', 'calls'],
        [['', totals.inputTokens, totals.outputTokens, totals.totalTokens, formatUsd(totals.usd), totals.calls]],
      ),
    );
    if (intents.length > 0) {
      // Sent but never recorded: a crash or cancel ended the process mid-call; the provider may have billed them.
      const tokens = intents.reduce((sum, intent) => sum + intent.inputTokens + intent.outputTokens, 0);
      const usd = sumUsd(intents.map((intent) => intent.costUsd));
      const label = run.status === 'running' ? 'in flight (or at a crash)' : 'in flight at crash';
      output.out(
        pc.yellow(
          `${label}: ${intents.length} call${intents.length === 1 ? '' : 's'}, ≤ ${tokens} tokens / ≤ ${formatUsd(usd)} ` +
            `counted at their worst case${run.status === 'running' ? '' : ' (a resume charges them to the budget)'}`,
        ),
      );
    }
    return 0;
  } finally {
    journal?.close();
  }
}

/** What `runs show <id> --json` prints: the run, its totals (summed over its journaled calls), spend by model, the calls, calls in flight. */
export function runReport(
  journal: Journal,
  id: string,
): {
  run: ReturnType<Journal['getRun']>;
  totals: UsageTotals;
  spendByModel: ModelSpend[];
  calls: CallRow[];
  /** Calls sent but never recorded (a crash or cancel mid-call), at their reserved worst case. */
  inFlight: ReturnType<Journal['callIntents']>;
} {
  return {
    run: journal.getRun(id),
    totals: journal.runTotals(id),
    spendByModel: journal.spendByModel(id),
    calls: journal.getCalls(id),
    inFlight: journal.callIntents(id),
  };
}

/** The reasoning graph and per-node steps of a run (written by `solve`; see TRACE_STEP_ID). */
function printTrace(journal: Journal, id: string, output: ReturnType<typeof processOutput>): number {
  const steps = journal.getSteps(id);
  const traceStep = steps.find((step) => step.stepId === TRACE_STEP_ID);
  const trace = (traceStep?.output ?? { events: [], graph: { nodes: [], edges: [] } }) as TraceJson;
  const nodeSteps = steps.filter((step) => step.stepId !== TRACE_STEP_ID);
  if (output.json) {
    output.out(JSON.stringify({ runId: id, steps: nodeSteps, trace }));
    return 0;
  }
  output.out(
    table(
      ['step', 'op', 'status', 'answer', 'calls', 'tokens', 'degraded'],
      nodeSteps.map((step) => {
        const result = (step.output ?? {}) as { answer?: string; calls?: number; degraded?: string[] };
        const input = (step.input ?? {}) as { op?: string };
        const usage = (step.usage ?? {}) as { totalTokens?: number };
        return [
          step.stepId,
          input.op ?? step.kind ?? '',
          step.status ?? '',
          result.answer ?? '',
          result.calls ?? 0,
          usage.totalTokens ?? 0,
          (result.degraded ?? []).join('; '),
        ];
      }),
    ),
  );
  const { nodes, edges } = trace.graph;
  output.out(pc.bold(`Reasoning graph: ${nodes.length} nodes, ${edges.length} edges`));
  const byKind = new Map<string, number>();
  for (const edge of edges) byKind.set(edge.kind, (byKind.get(edge.kind) ?? 0) + 1);
  output.out(`  edges: ${[...byKind.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ') || 'none'}`);
  for (const node of nodes.slice(0, 40))
    output.out(`  [${node.step}] ${node.kind.padEnd(10)} ${node.id}${node.answer !== undefined ? ` = ${node.answer}` : ''}`);
  if (nodes.length > 40) output.out(pc.dim(`  … ${nodes.length - 40} more (use --json for all)`));
  return 0;
}

function truncate(text: string, length: number): string {
  const single = text.replace(/\s+/g, ' ');
  return single.length > length ? `${single.slice(0, length - 1)}…` : single;
}

/** The provider reported more output tokens than the call allowed (`max_tokens`): flagged, booked as reported. */
function overCap(call: CallRow): boolean {
  const cap = (call.request as { maxOutputTokens?: unknown } | null)?.maxOutputTokens;
  return typeof cap === 'number' && call.outputTokens > cap;
}
