/**
 * The command logic of `thicket study`, as a function the CLI wires to commander: parsed options in, printing
 * through injected output functions, a JSON-able result out (the exit code included). Kept here so the lab owns
 * its command surface and the CLI stays a thin shell. The options and the study they resolve to are in
 * ./study-options.ts, the terminal output in ./study-output.ts, `thicket sim fit` in ./sim-fit-command.ts; their
 * names are exported from here too, where the lab's surface and callers import them.
 *
 *   thicket study --quick                    # built-in quick study on the simulated fleet (≤ 2 min)
 *   thicket study --study studies/real-model.yaml --db lab.db
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  CancelledError,
  EXIT_CODE_BY_STATUS,
  InvalidInputError,
  systemClock,
  writableFolderIssue,
  type InputIssue,
} from '../core/index.ts';
import { FleetResolver, loadFleetConfig } from '../models/index.ts';
import { Journal, defaultJournalTarget, isPostgresUrl, resolveJournalTarget } from '../journal/index.ts';
import { analyzeStudy } from './analysis/index.ts';
import type { CommandIO } from './command-io.ts';
import { defaultStudyHooks } from './hooks.ts';
import { writeReport } from './report/index.ts';
import { runStudy, type StudyProgress, type StudyRun } from './runner.ts';
import { checkStudy } from './study-file.ts';
import { resolveStudy, type StudyCommandOptions } from './study-options.ts';
import { printSummary, progressBars, summaryTable, type StudyCommandResult } from './study-output.ts';
import { queueDispatcher, queuePrefixIssue, resolveRedisUrl } from './queue/index.ts';

export type { CommandIO } from './command-io.ts';
export { QUICK_FLEETS, quickStudyName, resolveStudy, retitle, type QuickFleet, type StudyCommandOptions } from './study-options.ts';
export type { StudyCommandResult } from './study-output.ts';
export { simFitCommand, type SimFitCommandOptions } from './sim-fit-command.ts';

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
