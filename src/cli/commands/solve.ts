/**
 * `thicket solve "<query>"`: parse flags → the runtime's solve → print. Everything that assembles the run
 * (fleet, ledger, journal, governor, executor) is in src/runtime; this file only turns flags into
 * `SolveOptions` (naming the flag in every problem) and the `SolveResult` into text or JSON.
 */
import pc from 'picocolors';
import { CancelledError, exitCodeForRun } from '../../core/index.ts';
import { STRATEGIES } from '../../workflow/index.ts';
import { FAMILIES, OBJECTIVES, type Objective } from '../../governor/index.ts';
import { readWorkflowFile, type SolveOptions, type SolveResult, type SolveStrategy, type ThicketRuntime } from '../../runtime/index.ts';
import { IssueCollector, parseBudgetFlags, type BudgetFlags } from '../options.ts';
import { SIMULATED_LABEL, attachProgress, formatUsd, processOutput, table } from '../output.ts';

export interface SolveFlags extends BudgetFlags {
  model?: string;
  samples?: string;
  strategy?: string;
  workflow?: string;
  corpus?: string;
  rounds?: string;
  agents?: string;
  steps?: string;
  budgetPolicy?: string;
  policy?: string;
  planner?: string;
  plan?: string;
  optimize?: string;
  family?: string;
  maxOutputTokens?: string;
  runId?: string;
  seed?: string;
  json?: boolean;
  /** Capability nodes of a --workflow spec and strategy auto under a policy: the run's policy labels. */
  require?: string[];
  forbid?: string[];
  /** Allowed providers of bound capabilities (repeatable), and the most a bound model may cost per call. */
  provider?: string[];
  maxCostPerCall?: string;
  /** Accept a dollar budget on models with no known price (not enforced on them). */
  allowUnpriced?: boolean;
}

/** Flags → options. Every problem is named by its flag; the runtime checks the options again for library callers. */
export function solveOptionsFromFlags(query: string, flags: SolveFlags): SolveOptions {
  const issues = new IssueCollector();
  if (query.trim() === '') issues.add('query', 'must not be empty');
  const samples = issues.number('--samples', flags.samples, { integer: true, min: 1, max: 1000 });
  const maxOutputTokens = issues.number('--max-output-tokens', flags.maxOutputTokens, { integer: true, min: 1, max: 1_000_000 });
  const seed = issues.number('--seed', flags.seed, { integer: true, min: 0, max: 2 ** 31 - 1 });
  const rounds = issues.number('--rounds', flags.rounds, { integer: true, min: 1, max: 100 });
  const agents = issues.number('--agents', flags.agents, { integer: true, min: 2, max: 1000 });
  const steps = issues.number('--steps', flags.steps, { integer: true, min: 1, max: 1000 });
  const budget = parseBudgetFlags(flags, issues);
  if (flags.runId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(flags.runId))
    issues.add('--run-id', 'use 1–128 letters, digits, ".", "_" or "-"');
  if (flags.strategy !== undefined && flags.strategy !== 'auto' && !(STRATEGIES as readonly string[]).includes(flags.strategy))
    issues.add('--strategy', `must be auto or one of ${STRATEGIES.join(', ')}; got "${flags.strategy}"`);
  if (flags.plan !== undefined && !['auto', 'always', 'never'].includes(flags.plan))
    issues.add('--plan', `must be auto, always or never; got "${flags.plan}"`);
  if (flags.optimize !== undefined && !(OBJECTIVES as readonly string[]).includes(flags.optimize))
    issues.add('--optimize', `must be ${OBJECTIVES.join(', ')}; got "${flags.optimize}"`);
  if (flags.family !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(flags.family))
    issues.add('--family', `must be a lower-case name such as ${FAMILIES.join(', ')}; got "${flags.family}"`);
  if (flags.strategy !== undefined && flags.workflow !== undefined)
    issues.add('--workflow', 'give either --strategy or --workflow, not both');
  if (flags.budgetPolicy !== undefined && !['degrade', 'scale', 'reject'].includes(flags.budgetPolicy))
    issues.add('--budget-policy', `must be degrade, scale or reject; got "${flags.budgetPolicy}"`);
  const strategy = flags.workflow !== undefined ? 'workflow' : (flags.strategy ?? (flags.samples !== undefined ? 'explicit' : 'auto'));
  if (strategy === 'search' && flags.corpus === undefined)
    issues.add('--corpus', 'the search strategy needs a corpus (a folder of .txt/.md files or a .jsonl file)');
  for (const provider of flags.provider ?? []) if (provider.trim() === '') issues.add('--provider', 'must be a non-empty provider name');
  const maxCostPerCall = issues.number('--max-cost-per-call', flags.maxCostPerCall, { min: 0 });
  for (const flag of ['require', 'forbid', 'provider', 'maxCostPerCall'] as const) {
    const name = flag === 'maxCostPerCall' ? 'max-cost-per-call' : flag;
    if (flags[flag] !== undefined && strategy !== 'workflow' && strategy !== 'auto')
      issues.add(
        `--${name}`,
        'capability policy applies to --strategy auto (models bound through the registry) and to the capability nodes of a --workflow spec',
      );
  }
  issues.throwIfAny('Invalid solve request');
  const policy = {
    ...(flags.require?.length ? { require: flags.require } : {}),
    ...(flags.forbid?.length ? { forbid: flags.forbid } : {}),
    ...(flags.provider?.length ? { providers: flags.provider } : {}),
    ...(maxCostPerCall !== undefined ? { maxCostPerCall } : {}),
  };
  return {
    ...(flags.workflow !== undefined ? { workflow: readWorkflowFile(flags.workflow, '--workflow') } : {}),
    ...(flags.strategy !== undefined ? { strategy: flags.strategy as SolveStrategy } : {}),
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(samples !== undefined ? { samples } : {}),
    ...(rounds !== undefined ? { rounds } : {}),
    ...(agents !== undefined ? { agents } : {}),
    ...(steps !== undefined ? { steps } : {}),
    ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
    ...(seed !== undefined ? { seed } : {}),
    budget,
    ...(flags.budgetPolicy !== undefined ? { budgetPolicy: flags.budgetPolicy as NonNullable<SolveOptions['budgetPolicy']> } : {}),
    ...(Object.keys(policy).length > 0 ? { policy } : {}),
    ...(flags.policy !== undefined ? { governorPolicy: flags.policy } : {}),
    ...(flags.planner !== undefined ? { planner: flags.planner } : {}),
    ...(flags.plan !== undefined ? { planning: flags.plan as NonNullable<SolveOptions['planning']> } : {}),
    ...(flags.optimize !== undefined ? { optimize: flags.optimize as Objective } : {}),
    ...(flags.family !== undefined ? { family: flags.family } : {}),
    ...(flags.corpus !== undefined ? { corpus: flags.corpus } : {}),
    ...(flags.runId !== undefined ? { runId: flags.runId } : {}),
    ...(flags.allowUnpriced === true ? { allowUnpriced: true } : {}),
  };
}

export async function solveCommand(runtime: ThicketRuntime, query: string, flags: SolveFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const options = solveOptionsFromFlags(query, flags);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new CancelledError('Interrupted (SIGINT).'));
  process.once('SIGINT', onSigint);
  const progress = attachProgress(output);
  try {
    const result = await runtime.solve(query, { ...options, signal: controller.signal, onEvent: progress.onEvent });
    progress.stop();
    for (const warning of result.warnings ?? []) if (!output.json) output.err(`${pc.yellow('warning:')} ${warning}`);
    if (output.json) output.out(JSON.stringify(result));
    else printHuman(result, output.out);
    return exitCodeForRun(result.status, result.error?.code);
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

/** Lines of the model's reply shown under the answer; the whole reply is in `--json` (`extraction.text`). */
const REPLY_LINES = 12;

/** Which extractor read the answer (or that none did), and the model's reply as it came. */
function printExtraction(result: SolveResult, out: (text: string) => void): void {
  const extraction = result.extraction!;
  const how =
    extraction.extractor !== null
      ? `${extraction.extractor} extractor`
      : result.answer !== null
        ? 'none matched — no short answer in the reply, so the answer is the reply itself'
        : `none matched — no answer could be read from the reply${extraction.truncated ? ' (it was cut off at the output cap)' : ''}`;
  const structured = extraction.structured !== undefined ? `; structured output: ${extraction.structured}` : '';
  const via = extraction.via !== undefined ? `; reply chosen by ${extraction.via}` : '';
  out(pc.dim(`Read by: ${how}${structured}${via}`));
  // The reply is worth showing when the answer was read out of it, or when it gave none.
  if (extraction.extractor === null && result.answer !== null) return;
  const lines = extraction.text.trim().split('\n');
  out(pc.dim('Reply:'));
  for (const line of lines.slice(0, REPLY_LINES)) out(pc.dim(`  ${line}`));
  if (lines.length > REPLY_LINES) out(pc.dim(`  … (${lines.length - REPLY_LINES} more lines; --json has the whole reply)`));
}

function printHuman(result: SolveResult, out: (text: string) => void): void {
  const statusColour = result.status === 'ok' ? pc.green : result.status === 'budget_exhausted' ? pc.yellow : pc.red;
  out(`${result.simulated ? `${SIMULATED_LABEL} ` : ''}${pc.bold('Answer:')} ${result.answer ?? pc.dim('(none)')}`);
  out(`Status: ${statusColour(result.status)}   Strategy: ${result.strategy}   Run: ${result.runId}${result.resumed ? ' (resumed)' : ''}`);
  // (A simulated run outside its generated tasks has only stand-in text to show: its error says it all.)
  if (result.extraction && result.error?.code !== 'SIM_UNKNOWN_TASK') printExtraction(result, out);
  if (result.vote && result.vote.samples > 1) {
    const votes = Object.entries(result.vote.votes)
      .sort((a, b) => b[1] - a[1])
      .map(([answer, count]) => `${answer}×${count}`)
      .join(', ');
    out(
      `Vote: ${result.vote.completed}/${result.vote.samples} samples, agreement ${(result.vote.agreement * 100).toFixed(0)}% (${votes || 'no answers'})`,
    );
  }
  if (result.governor) {
    const decision = result.governor;
    const escalations =
      decision.escalations.length > 0 ? `, escalations: ${decision.escalations.map((step) => JSON.stringify(step)).join(' ')}` : '';
    const difficulty =
      decision.difficulty.bin === 'unprobed'
        ? 'no probe'
        : `difficulty ${decision.difficulty.bin} (agreement ${(decision.difficulty.agreement * 100).toFixed(0)}% over ` +
          `${decision.difficulty.samples} probe samples)`;
    out(`Governor: ${difficulty} → ${decision.strategy}${escalations}`);
    if (decision.frontier)
      out(
        `Why: ${decision.frontier.family} (${decision.frontier.familySource}), ${decision.frontier.objective}-optimal table of ` +
          `${decision.frontier.table.model}, level ${decision.frontier.level}: ${decision.frontier.why}`,
      );
    if (decision.bindings)
      out(`Bound: ${decision.bindings.map((bound) => `${bound.need}@${bound.tier} ${bound.card} → ${bound.model}`).join(', ')}`);
  }
  for (const [id, node] of Object.entries(result.nodes))
    if (node.capability) out(`Capability ${id}: ${node.capability.card} → ${node.capability.model}`);
  for (const [id, node] of Object.entries(result.nodes)) {
    if (!node.kv) continue;
    const { kv } = node;
    const share =
      kv.unprunedTokens > 0 ? ` (${((kv.peakKvTokens / kv.unprunedTokens) * 100).toFixed(0)}% of ${kv.unprunedTokens} unpruned)` : '';
    out(
      `KV cache ${id}: ${kv.tokensProcessed} tokens processed, ${kv.tokensErased} erased in ${kv.erasures} erasures, peak ${kv.peakKvTokens} ` +
        `cells${share}, final ${kv.finalKvTokens}; decode ${kv.decodeTokensPerSecond} tok/s over ${kv.overTime.length} tasks`,
    );
  }
  for (const note of result.degraded) out(pc.yellow(`Degraded: ${note}`));
  if (result.error) out(pc.red(`Error ${result.error.code}: ${result.error.message}`));
  const axes = Object.entries(result.spendByAxis);
  if (axes.length > 1) out(`Spend by axis: ${axes.map(([axis, line]) => `${axis} ${line.totalTokens} tok`).join(', ')}`);
  const limit = (value: number | undefined, format: (n: number) => string = String): string => (value === undefined ? '—' : format(value));
  const crash = result.inFlightAtCrash;
  out(
    table(
      ['', 'input tok', 'output tok', 'total tok', 'cost', 'calls'],
      [
        [
          'this run',
          result.usage.inputTokens,
          result.usage.outputTokens,
          result.usage.totalTokens,
          formatUsd(result.usage.usd),
          result.usage.calls,
        ],
        [
          '  new',
          result.newUsage.inputTokens,
          result.newUsage.outputTokens,
          result.newUsage.totalTokens,
          formatUsd(result.newUsage.usd),
          result.newUsage.calls,
        ],
        [
          `  replayed`,
          result.usage.inputTokens - result.newUsage.inputTokens - (crash?.inputTokens ?? 0),
          result.usage.outputTokens - result.newUsage.outputTokens - (crash?.outputTokens ?? 0),
          result.usage.totalTokens - result.newUsage.totalTokens - (crash?.totalTokens ?? 0),
          formatUsd(result.usage.usd - result.newUsage.usd - (crash?.usd ?? 0)),
          result.replayedCalls,
        ],
        // Sent by an earlier process that died before recording them: counted at their worst case.
        ...(crash
          ? [['  in flight at crash (≤)', crash.inputTokens, crash.outputTokens, crash.totalTokens, formatUsd(crash.usd), crash.calls]]
          : []),
        [
          'budget',
          limit(result.budget.inputTokens),
          limit(result.budget.outputTokens),
          limit(result.budget.totalTokens),
          limit(result.budget.usd, formatUsd),
          limit(result.budget.calls),
        ],
      ],
    ),
  );
  if (result.simulated) out(pc.dim('Answers, usage, cost and latency come from the simulated fleet (sim:), not from a real model.'));
}
