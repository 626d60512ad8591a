/**
 * What `thicket study` shows: progress bars on stderr while the cells run, then the result (the JSON-able
 * `StudyCommandResult`) as a summary with the accuracy table. Apart from running the study, which owns none
 * of the terminal formatting.
 */
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { StudyAnalysis } from './analysis/index.ts';
import type { CommandIO } from './command-io.ts';
import type { ReportFiles } from './report/index.ts';
import type { StudyProgress, StudyRun } from './runner.ts';

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

/** cli-progress bars on stderr (one per suite plus the total), fed by the runner's progress callback. */
export function progressBars(label: string): { update: (progress: StudyProgress) => void; stop: () => void } {
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

export function summaryTable(analysis: StudyAnalysis): StudyCommandResult['table'] {
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

export function printSummary(io: CommandIO, result: StudyCommandResult, analysis: StudyAnalysis): void {
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
