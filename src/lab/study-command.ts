/**
 * The command logic of `thicket study` and `thicket sim fit --from-journal`, as functions the CLI wires to
 * commander: parsed options in, printing through injected output functions, a JSON-able result out (the
 * exit code included). Kept here so the lab owns its command surface and the CLI stays a thin shell.
 *
 *   thicket study --quick                    # built-in quick study on the simulated fleet (≤ 2 min)
 *   thicket study --study studies/real-model.yaml --db lab.db
 *   thicket sim fit --from-journal lab.db --model local-small
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import {
  CancelledError,
  EXIT_CODE_BY_STATUS,
  InvalidInputError,
  parseDecimalText,
  systemClock,
  writableFolderIssue,
  type InputIssue,
} from '../core/index.ts';
import { FleetResolver, loadFleetConfig, type FleetConfig } from '../models/index.ts';
import { Journal, defaultJournalTarget, isPostgresUrl, resolveJournalTarget } from '../journal/index.ts';
import { analyzeStudy, type StudyAnalysis } from './analysis/index.ts';
import { defaultStudyHooks, type StudyHooks } from './hooks.ts';
import { writeReport, type ReportFiles } from './report/index.ts';
import { runStudy, type StudyProgress, type StudyRun } from './runner.ts';
import { mergeFleetConfigModel, type MergeResult } from './merge-fleet-config.ts';
import { fitSimProfile, type SimProfileFit } from './sim-fit.ts';
import { builtinStudyPath, checkStudy, loadStudyFile, parseStudy, type StudyDefinition } from './study-file.ts';
import { queueDispatcher, queuePrefixIssue, resolveRedisUrl } from './queue/index.ts';

export const QUICK_FLEETS = ['tiny', 'sim'] as const;
export type QuickFleet = (typeof QUICK_FLEETS)[number];

/** The built-in study behind `--quick [fleet]`. */
export function quickStudyName(quick: QuickFleet | boolean | undefined): string | undefined {
  if (quick === undefined || quick === false) return undefined;
  return quick === 'sim' ? 'quick-sim' : 'quick';
}

export interface StudyCommandOptions {
  /**
   * The built-in quick study: `true` or `'tiny'` — on Thicket's tiny trained models (`studies/quick.yaml`,
   * real); `'sim'` — on the simulated fleet (`studies/quick-sim.yaml`).
   */
  quick?: QuickFleet | boolean;
  /** A study file (YAML or JSON); default: the built-in default study. */
  study?: string;
  /** Overrides (comma-separated lists where plural). */
  id?: string;
  suites?: string;
  architectures?: string;
  budgets?: string;
  models?: string;
  seeds?: string;
  items?: string;
  concurrency?: string;
  /** Report folder (default: the study's `output`, else `thicket-lab/<id>`). */
  out?: string;
  db?: string;
  config?: string;
  json?: boolean;
  /** `false` (`--no-report`) skips writing the report. */
  report?: boolean;
  /** A fleet config object (the library's instance config); wins over `config` and the study's config file. */
  fleetConfig?: FleetConfig;
  /** Dollar budgets on models with no known price (`--allow-unpriced`): run anyway (they cost $0). */
  allowUnpriced?: boolean;
  /**
   * Run the cells on `thicket worker` processes through this Redis (`--queue [url]`; `true`: THICKET_REDIS_URL,
   * else the local default). The workers open the same journal: a path on a disk they share, or a postgres:// URL.
   */
  queue?: string | boolean;
  /** Key prefix of the queue in Redis (`--queue-prefix`; the workers' `--prefix`). */
  queuePrefix?: string;
}

export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Progress bars are drawn on stderr only on a TTY and never with --json. */
  isTTY: boolean;
  signal?: AbortSignal;
  /** Install a SIGINT handler that cancels the study (default true). */
  handleSigint?: boolean;
  /** Called with the cells done so far (the gateway's study jobs report it to the console). */
  onProgress?: (progress: StudyProgress) => void;
  hooks?: StudyHooks;
  now?: () => Date;
}

export interface StudyCommandResult {
  exitCode: number;
  studyId: string;
  runId: string;
  status: StudyRun['status'];
  simulated: boolean;
  /** Models of the study that are Thicket's tiny trained models (real, tiny, synthetic tasks). */
  tinyModels: string[];
  counts: StudyRun['counts'];
  calls: StudyRun['calls'];
  /** Embedded-engine calls: prompt tokens billed vs evaluated. */
  promptTokens?: StudyRun['promptTokens'];
  /** The TIM experiment, when the study has one (`tim`). */
  tim?: StudyRun['tim'];
  elapsedMs: number;
  journal: string;
  headline: { text: string; shares: Record<string, number>; explained: number } | null;
  /** Accuracy by suite × architecture × budget (pooled over models and seeds). */
  table: Array<{ suite: string; architecture: string; budget: number; accuracy: number; meanTokens: number; n: number }>;
  report: ReportFiles | null;
}

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

function numbers(flag: string, value: string | undefined, issues: InputIssue[], integer: boolean): number[] | undefined {
  const parts = list(value);
  if (!parts) return undefined;
  // The flags' own parser: plain decimal digits, nothing past Number.MAX_SAFE_INTEGER.
  return parts.map((part) => {
    const parsed = parseDecimalText(part, integer ? 'integer' : 'decimal');
    if (parsed.ok) return parsed.value;
    issues.push({ path: flag, message: parsed.message });
    return Number.NaN;
  });
}

/** The study to run: the file (or built-in), with command-line overrides applied and validated. */
export function resolveStudy(options: StudyCommandOptions): StudyDefinition {
  const quick = quickStudyName(options.quick);
  if (quick !== undefined && options.study !== undefined)
    throw new InvalidInputError('Invalid study request', [{ path: '--quick', message: 'give either --quick or --study, not both' }]);
  if (typeof options.quick === 'string' && !(QUICK_FLEETS as readonly string[]).includes(options.quick))
    throw new InvalidInputError('Invalid study request', [
      { path: '--quick', message: `the quick study runs on ${QUICK_FLEETS.join(' or ')}; got "${options.quick}"` },
    ]);
  const path = options.study ?? builtinStudyPath(quick ?? 'default');
  const study = loadStudyFile(path);
  const issues: InputIssue[] = [];
  const budgets = numbers('--budgets', options.budgets, issues, false);
  const seeds = numbers('--seeds', options.seeds, issues, true);
  const [items] = numbers('--items', options.items, issues, true) ?? [];
  const [concurrency] = numbers('--concurrency', options.concurrency, issues, true) ?? [];
  const keep = list(options.suites);
  const known = study.suites.map((suite) => suite.name);
  for (const name of keep ?? [])
    if (!known.includes(name)) issues.push({ path: '--suites', message: `no suite "${name}" in the study (it has ${known.join(', ')})` });
  if (issues.length > 0) throw new InvalidInputError('Invalid study options', issues);
  const suites = study.suites
    .filter((suite) => !keep || keep.includes(suite.name))
    .map((suite) => (items !== undefined && suite.kind !== 'agentsnet' ? { ...suite, items } : suite));
  const { source, ...rest } = study;
  const models = list(options.models);
  const merged = {
    ...rest,
    ...(models && rest.title !== undefined ? { title: retitle(rest.title, study.models, models) } : {}),
    suites,
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(list(options.architectures) ? { architectures: list(options.architectures) } : {}),
    ...(budgets ? { budgets } : {}),
    ...(models ? { models } : {}),
    ...(seeds ? { seeds } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  return { ...parseStudy(merged, `study ${path} (with command-line options)`), ...(source !== undefined ? { source } : {}) };
}

/**
 * The study file's title after `--models` replaced its models: a closing "(…)" that describes what the file
 * ran on (names one of its models, or says "simulated fleet") now names the models that run; any other title
 * gets them appended. Unchanged when the models are the file's own.
 */
export function retitle(title: string, fileModels: readonly string[], models: readonly string[]): string {
  if (models.length === fileModels.length && models.every((model, index) => model === fileModels[index])) return title;
  const describe = models.every((model) => model.startsWith('sim:')) ? `simulated fleet: ${models.join(', ')}` : models.join(', ');
  const closing = /\s*\(([^()]*)\)\s*$/.exec(title);
  if (closing && (/simulated fleet/i.test(closing[1]!) || fileModels.some((model) => closing[1]!.includes(model))))
    return `${title.slice(0, closing.index)} (${describe})`;
  return `${title} (${describe})`;
}

/** cli-progress bars on stderr (one per suite plus the total), fed by the runner's progress callback. */
function progressBars(label: string): { update: (progress: StudyProgress) => void; stop: () => void } {
  const bars = new cliProgress.MultiBar(
    {
      format: `{name} [{bar}] {value}/{total} cells | {calls} calls | {tokens} tok`,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bySuite = new Map<string, cliProgress.SingleBar>();
  let total: cliProgress.SingleBar | undefined;
  return {
    update(progress) {
      const payload = { calls: progress.newCalls + progress.replayedCalls, tokens: progress.newTokens.toLocaleString('en-US') };
      total ??= bars.create(progress.total, 0, { name: label.padEnd(18).slice(0, 18), ...payload });
      total.update(progress.done, payload);
      for (const [suite, counts] of Object.entries(progress.bySuite)) {
        let bar = bySuite.get(suite);
        // Calls and tokens are study-wide; a suite's bar counts its cells only.
        if (!bar)
          bySuite.set(
            suite,
            (bar = bars.create(
              counts.total,
              0,
              { name: `  ${suite}`.padEnd(18).slice(0, 18) },
              { format: '{name} [{bar}] {value}/{total} cells' },
            )),
          );
        bar.update(counts.done);
      }
    },
    stop: () => bars.stop(),
  };
}

function summaryTable(analysis: StudyAnalysis): StudyCommandResult['table'] {
  const rows: StudyCommandResult['table'] = [];
  for (const suite of analysis.suites) {
    for (const architecture of analysis.architectures) {
      for (const budget of analysis.budgets) {
        const configs = analysis.configurations.filter(
          (config) => config.suite === suite && config.architecture === architecture && config.budget === budget,
        );
        const n = configs.reduce((sum, config) => sum + config.n, 0);
        if (n === 0) continue;
        rows.push({
          suite,
          architecture,
          budget,
          n,
          accuracy: configs.reduce((sum, config) => sum + config.accuracy * config.n, 0) / n,
          meanTokens: configs.reduce((sum, config) => sum + config.meanTokens * config.n, 0) / n,
        });
      }
    }
  }
  return rows;
}

function printSummary(io: CommandIO, result: StudyCommandResult, analysis: StudyAnalysis): void {
  const label = result.simulated ? `${pc.yellow('[SIMULATED]')} ` : '';
  io.out(
    `${label}${pc.bold(`Study ${result.studyId}`)} — ${result.counts.executed + result.counts.resumed} runs (${result.counts.executed} new, ` +
      `${result.counts.resumed} resumed${result.counts.failed ? `, ${pc.red(`${result.counts.failed} failed`)}` : ''}) in ` +
      `${(result.elapsedMs / 1000).toFixed(1)} s · ${result.calls.new} model calls (${result.calls.replayed} replayed) · status ${result.status}`,
  );
  if (result.promptTokens)
    io.out(
      `Prompt tokens on the embedded engine: ${result.promptTokens.evaluated.toLocaleString('en-US')} evaluated of ` +
        `${result.promptTokens.billed.toLocaleString('en-US')} billed (samples of one prompt share its evaluation)`,
    );
  if (result.tim) {
    const { modes, contextSize } = result.tim;
    const part = (name: string, mode: keyof typeof modes): string => {
      const found = modes[mode];
      if (!found) return '';
      const overflows = found.overflows ? `, ${found.overflows} ran out of context` : '';
      return `${name} ${Math.round(found.accuracy * 100)}% (peak ${found.peakKv.max} cells${overflows})`;
    };
    io.out(
      `TIM on ${result.tim.reference}, ${result.tim.items} problems past the ${contextSize}-cell context: ` +
        [part('KV-pruned thread', 'pruned'), part('unpruned', 'unpruned'), part('chain of thought', 'cot')].filter(Boolean).join(' · '),
    );
  }
  if (result.tinyModels.length > 0)
    io.out(
      pc.cyan(`REAL — tiny models trained on synthetic tasks (${result.tinyModels.join(', ')}): real inference, not a capable model.`),
    );
  if (result.headline) {
    const shares = Object.entries(result.headline.shares)
      .sort((a, b) => b[1] - a[1])
      .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
      .join(' · ');
    io.out(
      `${pc.bold('Where did the gains come from?')} ${shares} of the explained variance (R² ${result.headline.explained.toFixed(2)} within suite)`,
    );
  }
  const table = new Table({
    head: [
      'suite',
      'architecture',
      ...analysis.budgets.map((budget) => (analysis.budgetUnit === 'usd' ? `≤ $${budget}` : `≤ ${budget.toLocaleString('en-US')} tok`)),
    ].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
  });
  for (const suite of analysis.suites) {
    for (const architecture of analysis.architectures) {
      const cells = analysis.budgets.map((budget) =>
        result.table.find((row) => row.suite === suite && row.architecture === architecture && row.budget === budget),
      );
      if (cells.every((cell) => cell === undefined)) continue;
      table.push([
        suite,
        architecture,
        ...cells.map((cell) => (cell ? `${(cell.accuracy * 100).toFixed(0)}% ${pc.dim(`${Math.round(cell.meanTokens)} tok`)}` : '—')),
      ]);
    }
  }
  io.out(`Accuracy at matched per-query budgets (mean tokens spent), pooled over models:\n${table.toString()}`);
  if (result.simulated) io.out(pc.dim('Simulated fleet (sim:): a workload simulator, not a real model’s accuracy.'));
  if (result.report) io.out(`Report: ${result.report.html}  (also report.md, report.json, charts/)`);
}

export async function studyCommand(options: StudyCommandOptions, io: CommandIO): Promise<StudyCommandResult> {
  const study = resolveStudy(options);
  const config = options.fleetConfig ?? loadFleetConfig(options.config ?? study.config).config;
  const outDir = resolve(options.out ?? study.output ?? `thicket-lab/${study.id}`);
  const journalPath = resolveJournalTarget(options.db ?? defaultJournalTarget());
  const hooks = io.hooks ?? defaultStudyHooks();
  // Everything that can be refused is refused before the journal is opened (created) and any cell runs: the
  // study's architectures and models, and the folders it will write (the report and corpus under --out).
  const locationIssues = [
    writableFolderIssue(outDir, '--out'),
    isPostgresUrl(journalPath) ? undefined : writableFolderIssue(dirname(journalPath), '--journal'),
  ];
  const problems = locationIssues.filter((issue): issue is InputIssue => issue !== undefined);
  const redisUrl = options.queue !== undefined && options.queue !== false ? resolveRedisUrl(options.queue, '--queue', problems) : undefined;
  const prefixIssue = queuePrefixIssue(options.queuePrefix, '--queue-prefix');
  if (prefixIssue) problems.push(prefixIssue);
  if (problems.length > 0) throw new InvalidInputError('Cannot run the study', problems);
  checkStudy(
    study,
    hooks.architectures,
    new FleetResolver({ config, clock: systemClock, seed: 0 }),
    study.source ? `study ${study.source}` : 'study',
  );
  if (!isPostgresUrl(journalPath)) mkdirSync(dirname(journalPath), { recursive: true });
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(io.signal?.reason ?? new CancelledError('Interrupted (SIGINT).'));
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const onSigint = (): void => controller.abort(new CancelledError('Interrupted (SIGINT).'));
  if (io.handleSigint !== false) process.once('SIGINT', onSigint);
  const bars = io.isTTY && !options.json ? progressBars(study.id) : undefined;
  const journal = Journal.open(journalPath);
  let run: StudyRun;
  try {
    run = await runStudy(study, {
      journal,
      config,
      architectures: hooks.architectures,
      ...(hooks.criticality ? { criticality: hooks.criticality } : {}),
      corpusDir: resolve(outDir, 'corpus'),
      signal: controller.signal,
      ...(bars || io.onProgress
        ? {
            onProgress: (progress: StudyProgress) => {
              bars?.update(progress);
              io.onProgress?.(progress);
            },
          }
        : {}),
      ...(options.allowUnpriced === true ? { allowUnpriced: true } : {}),
      ...(redisUrl !== undefined
        ? {
            dispatch: queueDispatcher({
              redisUrl,
              journal,
              journalTarget: journalPath,
              config,
              corpusDir: resolve(outDir, 'corpus'),
              ...(options.allowUnpriced === true ? { allowUnpriced: true } : {}),
              notice: (line) => io.err(line),
              ...(options.queuePrefix !== undefined ? { prefix: options.queuePrefix } : {}),
            }),
          }
        : {}),
    });
  } finally {
    bars?.stop();
    journal.close();
    process.removeListener('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onAbort);
  }
  const analysis = analyzeStudy({
    studyId: study.id,
    title: study.title ?? `Study ${study.id}`,
    simulated: run.simulated,
    cells: run.cells,
    notRunnable: run.notRunnable,
    criticalityHook: hooks.criticality !== undefined,
    models: run.models,
  });
  const { cells: _cells, ...summary } = run;
  const report =
    options.report === false || run.cells.length === 0
      ? null
      : await writeReport({ analysis, run: summary, generatedAt: (io.now?.() ?? new Date()).toISOString() }, outDir);
  const decomposition = analysis.headline.decomposition;
  const result: StudyCommandResult = {
    exitCode: EXIT_CODE_BY_STATUS[run.status],
    studyId: study.id,
    runId: run.runId,
    status: run.status,
    simulated: run.simulated,
    tinyModels: analysis.tinyModels,
    counts: run.counts,
    calls: run.calls,
    ...(run.promptTokens ? { promptTokens: run.promptTokens } : {}),
    ...(run.tim ? { tim: run.tim } : {}),
    elapsedMs: run.elapsedMs,
    journal: journalPath,
    headline: decomposition
      ? {
          text: analysis.headline.text,
          shares: Object.fromEntries(decomposition.groups.map((group) => [group.name, group.shareOfExplained])),
          explained: decomposition.total,
        }
      : null,
    table: summaryTable(analysis),
    report,
  };
  if (options.json) io.out(JSON.stringify(result));
  else printSummary(io, result, analysis);
  return result;
}

export interface SimFitCommandOptions {
  /** Journal to read (`--from-journal PATH`; default: --db, then the default journal). */
  fromJournal?: string;
  db?: string;
  /** The real model's reference as it appears in the journal (alias). */
  model: string;
  /** Study run ids to read (default: every study run). */
  run?: string[];
  base?: string;
  alias?: string;
  /** Write the fleet-config snippet (`{ version: 1, models: { alias: … } }`) to this file. */
  write?: string;
  json?: boolean;
}

export async function simFitCommand(options: SimFitCommandOptions, io: CommandIO): Promise<{ exitCode: number; fit: SimProfileFit }> {
  const path = resolveJournalTarget(options.fromJournal ?? options.db ?? defaultJournalTarget());
  // Reading only: a missing path is refused (never created), and a journal the user cannot write still reads.
  const journal = Journal.openReadOnly(path);
  let fit: SimProfileFit;
  try {
    fit = fitSimProfile(journal, {
      model: options.model,
      ...(options.run ? { runIds: options.run } : {}),
      ...(options.base ? { baseProfile: options.base } : {}),
      ...(options.alias ? { alias: options.alias } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError)
      throw new InvalidInputError('Cannot fit a simulated profile', [{ path: '--model', message: error.message }]);
    throw error;
  } finally {
    journal.close();
  }
  let written: MergeResult | undefined;
  if (options.write !== undefined) {
    const [alias, entry] = Object.entries(fit.fleetConfig.models)[0]!;
    written = mergeFleetConfigModel(resolve(options.write), alias, entry);
  }
  if (options.json) {
    io.out(JSON.stringify(fit));
    return { exitCode: 0, fit };
  }
  io.out(
    `${pc.bold(`Simulated profile fitted to ${fit.model}`)} from ${fit.observations} answer calls on ${fit.items} items (base profile ` +
      `${fit.baseProfile})${fit.simulatedSource ? ` ${pc.yellow('[the journal’s calls were themselves SIMULATED]')}` : ''}`,
  );
  const table = new Table({ head: ['parameter', 'value', '± se', 'note'].map((cell) => pc.bold(cell)), style: { head: [], border: [] } });
  const se = fit.standardErrors as Record<string, number | undefined>;
  for (const [name, value] of Object.entries(fit.parameters)) {
    const shown =
      typeof value === 'object'
        ? Object.entries(value)
            .map(([key, inner]) => `${key} ${inner}`)
            .join(', ')
        : String(value);
    table.push([name, shown, se[name] !== undefined ? String(se[name]) : '', fit.kept[name] ?? '']);
  }
  io.out(table.toString());
  for (const note of fit.notes) io.out(pc.dim(note));
  io.out(`Fleet config entry (add to thicket.config.json "models"):\n${JSON.stringify(fit.fleetConfig.models, null, 2)}`);
  if (options.write !== undefined && written)
    io.out(
      written.merged
        ? `${written.replaced ? 'Replaced' : 'Added'} "${Object.keys(fit.fleetConfig.models)[0]}" in ${resolve(options.write)} (its other settings kept)`
        : `Wrote ${resolve(options.write)}`,
    );
  return { exitCode: 0, fit };
}
