/**
 * `thicket eval <dataset | eval.yaml>`: a matched-budget study on the user's own data. The dataset becomes a
 * lab suite (src/lab/datasets), scored by the chosen scorer (src/lab/scorers), and runs through the study
 * runner — the same journal, matched per-query budgets, resume by id, concurrency — then the lab's analysis and
 * report, plus bootstrap intervals, paired comparisons and the per-item export.
 *
 *   thicket eval fixtures/gsm8k-sample.jsonl --preset gsm8k --strategies single,vote --budgets 2k,8k --models sim:small
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import {
  CancelledError,
  EXIT_CODE_BY_STATUS,
  InvalidInputError,
  VirtualClock,
  systemClock,
  writableFolderIssue,
  type InputIssue,
} from '../../core/index.ts';
import { FleetResolver, TaskOracleRegistry, loadFleetConfig, type FleetConfig } from '../../models/index.ts';
import { Journal, defaultJournalTarget, isPostgresUrl, resolveJournalTarget } from '../../journal/index.ts';
import { openFleet } from '../../runtime/index.ts';
import { analyzeStudy, configStats, pairedComparisons } from '../analysis/index.ts';
import { defaultStudyHooks } from '../hooks.ts';
import { writeReport, type ReportFiles } from '../report/index.ts';
import { runStudy, studyRunId, type StudyProgress, type StudyRun } from '../runner.ts';
import { checkStudy, type StudyDefinition } from '../study-file.ts';
import type { CommandIO } from '../study-command.ts';
import { datasetSuite, describeRowIssue, loadDataset, presetOf, type LoadedDataset } from '../datasets/index.ts';
import { judgeScorer, parseScorerSpec, resolveScorer, type JudgeScorer, type Scorer } from '../scorers/index.ts';
import { defaultEvalId, evalIdentity, isEvalFile, loadEvalFile, parseAmount, parseEval, type EvalDefinition } from './eval-file.ts';
import { appendEvalReport, itemResults, writeItemResults, type EvalSummary } from './eval-report.ts';
import { queueDispatcher, queuePrefixIssue, resolveRedisUrl } from '../queue/index.ts';

/** Judge tokens per cell when no slice is given. */
const DEFAULT_JUDGE_TOKENS_PER_CELL = 1_500;

export interface EvalCommandOptions {
  /** A dataset file, or an eval file (`.yaml`/`.yml`, `eval.json`) describing the whole evaluation. */
  target: string;
  preset?: string;
  format?: string;
  input?: string;
  answer?: string;
  choices?: string;
  context?: string;
  id?: string;
  scorer?: string;
  limit?: string;
  sample?: string;
  split?: string;
  strict?: boolean;
  strategies?: string;
  budgets?: string;
  models?: string;
  seeds?: string;
  concurrency?: string;
  judgeBudget?: string;
  maxUsd?: string;
  /** The eval's id to start or resume (default: derived from the dataset and options, so the same command resumes). */
  resume?: string;
  out?: string;
  export?: string;
  db?: string;
  config?: string;
  json?: boolean;
  report?: boolean;
  fleetConfig?: FleetConfig;
  /** Run the cells on `thicket worker` processes through this Redis (`--queue [url]`, as `thicket study`). */
  queue?: string | boolean;
  /** Key prefix of the queue in Redis (`--queue-prefix`; the workers' `--prefix`). */
  queuePrefix?: string;
  allowUnpriced?: boolean;
}

export interface EvalCommandResult {
  exitCode: number;
  evalId: string;
  runId: string;
  status: StudyRun['status'];
  simulated: boolean;
  counts: StudyRun['counts'];
  calls: StudyRun['calls'];
  failures: StudyRun['failures'];
  elapsedMs: number;
  journal: string;
  summary: EvalSummary;
  report: (ReportFiles & { eval: string }) | null;
  export: string | null;
}

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** The evaluation: the eval file (when the target is one) with the flags applied over it, validated. */
export function resolveEval(options: EvalCommandOptions): EvalDefinition {
  const fromFile = isEvalFile(options.target) ? loadEvalFile(options.target) : undefined;
  const issues: InputIssue[] = [];
  const integer = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (/^\d+$/.test(value.trim())) return Number(value);
    issues.push({ path: flag, message: `"${value}" is not a whole number` });
    return undefined;
  };
  const amounts = (flag: string, value: string | undefined): number[] | undefined =>
    list(value)?.map((part) => {
      const parsed = parseAmount(part);
      if (parsed === undefined) issues.push({ path: flag, message: `"${part}" is not an amount (e.g. 2000, 2k, 8k)` });
      return parsed ?? 0;
    });
  const seeds = list(options.seeds)?.map((part) => integer('--seeds', part) ?? 0);
  const maxUsd = options.maxUsd === undefined ? undefined : Number(options.maxUsd);
  if (maxUsd !== undefined && !(maxUsd > 0))
    issues.push({ path: '--max-usd', message: `"${options.maxUsd}" is not a positive number of dollars` });
  const flags = {
    ...(fromFile ? {} : { dataset: resolve(options.target) }),
    ...(options.preset !== undefined ? { preset: options.preset } : {}),
    ...(options.format !== undefined ? { format: options.format } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.answer !== undefined ? { answer: options.answer } : {}),
    ...(options.choices !== undefined ? { choices: options.choices } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.scorer !== undefined ? { scorer: options.scorer } : {}),
    ...(options.limit !== undefined ? { limit: integer('--limit', options.limit) } : {}),
    ...(options.sample !== undefined ? { sample: integer('--sample', options.sample) } : {}),
    ...(options.split !== undefined ? { split: options.split } : {}),
    ...(options.strict === true ? { strict: true } : {}),
    ...(list(options.strategies) ? { strategies: list(options.strategies) } : {}),
    ...(options.budgets !== undefined ? { budgets: amounts('--budgets', options.budgets) } : {}),
    ...(list(options.models) ? { models: list(options.models) } : {}),
    ...(seeds ? { seeds } : {}),
    ...(options.concurrency !== undefined ? { concurrency: integer('--concurrency', options.concurrency) } : {}),
    ...(options.judgeBudget !== undefined ? { judgeBudget: amounts('--judge-budget', options.judgeBudget)?.[0] } : {}),
    ...(maxUsd !== undefined && maxUsd > 0 ? { maxUsd } : {}),
    ...(options.resume !== undefined ? { name: options.resume } : {}),
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.export !== undefined ? { export: options.export } : {}),
    ...(options.config !== undefined ? { config: options.config } : {}),
  };
  if (issues.length > 0) throw new InvalidInputError('Invalid eval options', issues);
  const { source, ...base } = fromFile ?? {};
  const definition = parseEval({ ...base, ...flags }, fromFile ? `eval ${options.target} (with command-line options)` : 'eval options');
  return { ...definition, ...(source !== undefined ? { source } : {}) };
}

/** The study the runner executes: the eval's strategies × budgets × models × seeds (its one suite is the dataset). */
export function evalStudy(definition: EvalDefinition, id: string): StudyDefinition {
  return {
    version: 1,
    id,
    title: definition.title ?? `Evaluation on ${definition.dataset.split(/[/\\]/).pop() ?? definition.dataset}`,
    suites: [],
    architectures: definition.strategies,
    budgets: definition.budgets,
    budgetUnit: definition.budgetUnit,
    models: definition.models,
    seeds: definition.seeds,
    concurrency: definition.concurrency,
    maxOutputTokens: definition.maxOutputTokens,
    budgetPolicy: 'degrade',
    ...(definition.maxUsd !== undefined ? { limits: { usd: definition.maxUsd } } : {}),
  };
}

/** Cells the eval plans (items × strategies × budgets × models × seeds). */
export const plannedCells = (definition: EvalDefinition, items: number): number =>
  items * definition.strategies.length * definition.budgets.length * definition.models.length * definition.seeds.length;

function progressBar(label: string): { update: (progress: StudyProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(18).slice(0, 18)} [{bar}] {value}/{total} cells | ETA {eta_formatted} | {calls} calls | {tokens} tok | \${usd}`,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: true,
      fps: 10,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      const payload = {
        calls: progress.newCalls + progress.replayedCalls,
        tokens: progress.newTokens.toLocaleString('en-US'),
        usd: progress.newUsd.toFixed(4),
      };
      if (!started) {
        bar.start(progress.total, progress.done, payload);
        started = true;
      } else bar.update(progress.done, payload);
    },
    stop: () => bar.stop(),
  };
}

async function buildScorer(
  spec: string,
  context: { definition: EvalDefinition; config: FleetConfig; runId: string; journal: Journal; cells: number },
): Promise<Scorer> {
  const { kind, option } = parseScorerSpec(spec);
  if (kind !== 'judge') return resolveScorer(spec, scorerBase(context.definition));
  if (option === undefined || option === '')
    throw new InvalidInputError('Invalid eval options', [{ path: '--scorer', message: 'name the judge model: judge:<model>' }]);
  const oracle = new TaskOracleRegistry();
  const opened = openFleet({ config: context.config, seed: context.definition.seeds[0] ?? 1, models: [option], tasks: oracle });
  const slice = context.definition.judgeBudget ?? DEFAULT_JUDGE_TOKENS_PER_CELL * context.cells;
  return judgeScorer({
    model: option,
    fleet: opened.fleet,
    clock: opened.simulated ? new VirtualClock() : systemClock,
    limits: { totalTokens: Math.round(slice) },
    oracle,
    journal: { journal: context.journal, runId: context.runId },
  });
}

/** Where a custom scorer module's relative path starts: the eval file's folder, else the working directory. */
function scorerBase(definition: EvalDefinition): string {
  return definition.source ? dirname(definition.source) : process.cwd();
}

export async function evalCommand(options: EvalCommandOptions, io: CommandIO): Promise<EvalCommandResult> {
  const definition = resolveEval(options);
  presetOf(definition.preset);
  const config = options.fleetConfig ?? loadFleetConfig(definition.config).config;
  const dataset: LoadedDataset = await loadDataset(definition.dataset, {
    ...(definition.preset !== undefined ? { preset: definition.preset } : {}),
    ...(definition.format !== undefined ? { format: definition.format } : {}),
    ...(definition.input !== undefined ? { input: definition.input } : {}),
    ...(definition.answer !== undefined ? { answer: definition.answer } : {}),
    ...(definition.choices !== undefined ? { choices: definition.choices } : {}),
    ...(definition.context !== undefined ? { context: definition.context } : {}),
    ...(definition.id !== undefined ? { id: definition.id } : {}),
    ...(definition.limit !== undefined ? { limit: definition.limit } : {}),
    ...(definition.sample !== undefined ? { sample: definition.sample, seed: definition.seeds[0] ?? 1 } : {}),
    ...(definition.split !== undefined ? { split: definition.split } : {}),
    strict: definition.strict,
  });
  for (const issue of dataset.issues.slice(0, 10)) io.err(pc.yellow(`skipped ${describeRowIssue(issue, dataset.unit)}`));
  if (dataset.issues.length > 10) io.err(pc.yellow(`… ${dataset.issues.length - 10} more bad rows skipped (listed in eval.json)`));
  const id = definition.name ?? defaultEvalId(definition);
  const study = evalStudy(definition, id);
  const hooks = io.hooks ?? defaultStudyHooks();
  const outDir = resolve(definition.out ?? `thicket-eval/${id}`);
  const journalPath = resolveJournalTarget(options.db ?? defaultJournalTarget());
  const problems = [
    writableFolderIssue(outDir, '--out'),
    isPostgresUrl(journalPath) ? undefined : writableFolderIssue(dirname(journalPath), '--journal'),
  ].filter((issue): issue is InputIssue => issue !== undefined);
  const scorerSpec = definition.scorer ?? presetOf(definition.preset).scorer;
  const redisUrl = options.queue !== undefined && options.queue !== false ? resolveRedisUrl(options.queue, '--queue', problems) : undefined;
  if (redisUrl !== undefined && parseScorerSpec(scorerSpec).kind === 'judge')
    problems.push({ path: '--queue', message: "the LLM judge's budget slice is held in one process: run a judged eval without --queue" });
  const prefixIssue = queuePrefixIssue(options.queuePrefix, '--queue-prefix');
  if (prefixIssue) problems.push(prefixIssue);
  if (problems.length > 0) throw new InvalidInputError('Cannot run the eval', problems);
  checkStudy(
    study,
    hooks.architectures,
    new FleetResolver({ config, clock: systemClock, seed: 0 }),
    definition.source ? `eval ${definition.source}` : 'eval',
  );
  if (!isPostgresUrl(journalPath)) mkdirSync(dirname(journalPath), { recursive: true });
  const journal = Journal.open(journalPath);
  const runId = studyRunId(id);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(io.signal?.reason ?? new CancelledError('Interrupted (SIGINT).'));
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const onSigint = (): void => controller.abort(new CancelledError('Interrupted (SIGINT).'));
  if (io.handleSigint !== false) process.once('SIGINT', onSigint);
  const bar = io.isTTY && !options.json ? progressBar(id) : undefined;
  let run: StudyRun;
  let scorer: Scorer;
  try {
    const identity = { ...evalIdentity(definition), scorer: scorerSpec, items: dataset.items.map((item) => item.id) };
    scorer = await buildScorer(scorerSpec, { definition, config, runId, journal, cells: plannedCells(definition, dataset.items.length) });
    run = await runStudy(study, {
      journal,
      config,
      architectures: hooks.architectures,
      suites: {
        build: (seed) => [
          datasetSuite(dataset, { name: 'data', seed, scorer, corpusPath: resolve(outDir, 'corpus', `data-s${seed}.jsonl`) }),
        ],
        identity,
      },
      ...(redisUrl !== undefined
        ? {
            dispatch: queueDispatcher({
              redisUrl,
              journal,
              journalTarget: journalPath,
              config,
              ...(options.allowUnpriced === true ? { allowUnpriced: true } : {}),
              ...(options.queuePrefix !== undefined ? { prefix: options.queuePrefix } : {}),
              dataset: { loaded: dataset, scorer: scorerSpec, scorerBase: scorerBase(definition), identity },
              notice: (line) => io.err(line),
            }),
          }
        : {}),
      signal: controller.signal,
      ...(bar || io.onProgress
        ? {
            onProgress: (progress: StudyProgress) => {
              bar?.update(progress);
              io.onProgress?.(progress);
            },
          }
        : {}),
      ...(options.allowUnpriced === true ? { allowUnpriced: true } : {}),
    });
  } finally {
    bar?.stop();
    journal.close();
    process.removeListener('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onAbort);
  }
  const judge = scorer.name.startsWith('judge:') ? (scorer as JudgeScorer) : undefined;
  const summary: EvalSummary = {
    dataset: {
      path: definition.dataset,
      format: dataset.format,
      preset: dataset.preset,
      rows: dataset.rows,
      items: dataset.items.length,
      skipped: dataset.issues,
      unit: dataset.unit,
    },
    scorer: scorer.name,
    stats: configStats(run.cells),
    comparisons: pairedComparisons(run.cells),
    ...(judge
      ? {
          judge: {
            model: judge.name.slice('judge:'.length),
            slice: { ...judge.limits },
            spent: { totalTokens: judge.spent().totalTokens, usd: judge.spent().usd, calls: judge.spent().calls },
            verdicts: judge.verdicts.judged + judge.verdicts.cached,
          },
        }
      : {}),
    systemSpend: run.newUsage,
  };
  let report: EvalCommandResult['report'] = null;
  let exported: string | null = null;
  if (options.report !== false && run.cells.length > 0) {
    const analysis = analyzeStudy({
      studyId: id,
      title: study.title ?? id,
      simulated: run.simulated,
      cells: run.cells,
      notRunnable: run.notRunnable,
      criticalityHook: hooks.criticality !== undefined,
      models: run.models,
    });
    const { cells: _cells, ...runSummary } = run;
    const files = await writeReport({ analysis, run: runSummary, generatedAt: (io.now?.() ?? new Date()).toISOString() }, outDir);
    report = { ...files, eval: appendEvalReport(files, summary) };
  }
  if (definition.export !== undefined) {
    mkdirSync(outDir, { recursive: true });
    exported = writeItemResults(itemResults(run.cells, dataset), definition.export, outDir);
  }
  const result: EvalCommandResult = {
    exitCode: EXIT_CODE_BY_STATUS[run.status],
    evalId: id,
    runId: run.runId,
    status: run.status,
    simulated: run.simulated,
    counts: run.counts,
    calls: run.calls,
    failures: run.failures,
    elapsedMs: run.elapsedMs,
    journal: journalPath,
    summary,
    report,
    export: exported,
  };
  if (options.json) io.out(JSON.stringify(result));
  else printSummary(io, result);
  return result;
}

function printSummary(io: CommandIO, result: EvalCommandResult): void {
  const { summary } = result;
  const label = result.simulated ? `${pc.yellow('[SIMULATED]')} ` : '';
  io.out(
    `${label}${pc.bold(`Eval ${result.evalId}`)} — ${summary.dataset.items} items × ${summary.stats.length} configurations: ` +
      `${result.counts.executed} cells run, ${result.counts.resumed} resumed` +
      `${result.counts.failed > 0 ? `, ${pc.red(`${result.counts.failed} failed`)}` : ''} · status ${result.status}`,
  );
  for (const row of summary.stats)
    io.out(
      `  ${row.model} ${row.architecture} @ ${row.budget.toLocaleString('en-US')}: ${(row.accuracy * 100).toFixed(1)}% ` +
        `[${(row.accuracyCi.low * 100).toFixed(1)}, ${(row.accuracyCi.high * 100).toFixed(1)}] · ${Math.round(row.meanTokens)} tok/item`,
    );
  for (const row of summary.comparisons) {
    const name = (side: typeof row.a): string => (row.factor === 'architecture' ? side.architecture : side.model);
    const p = row.mcnemar?.p ?? row.bootstrapP;
    io.out(
      `  ${name(row.b)} − ${name(row.a)} (${row.a.budget.toLocaleString('en-US')}): ` +
        `${row.difference >= 0 ? '+' : ''}${(row.difference * 100).toFixed(1)} pts, p ${p.toFixed(3)}${row.withinNoise ? pc.yellow(' — within noise') : ''}`,
    );
  }
  if (summary.judge)
    io.out(
      `  judge ${summary.judge.model}: ${summary.judge.spent.totalTokens.toLocaleString('en-US')} tokens of its ` +
        `${Object.values(summary.judge.slice)[0]?.toLocaleString('en-US')} slice (apart from the system's spend)`,
    );
  for (const failure of result.failures.slice(0, 5)) io.err(pc.red(`failed ${failure.stepId}: ${failure.code} ${failure.message}`));
  if (result.report) io.out(`Report: ${result.report.html}  (also report.md, report.json, eval.json)`);
  if (result.export) io.out(`Per-item results: ${result.export}`);
}
