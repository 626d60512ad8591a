/**
 * The package's `Thicket`: the runtime instance plus the lab's matched-budget studies. `createThicket` is the
 * public entry (`import { createThicket } from 'thicket'`); the runtime below it assembles every run, the lab
 * adds what runs many of them (suites × architectures × budgets × models) and analyses the result.
 *
 * @example
 * ```ts
 * import { createThicket } from 'thicket';
 *
 * const thicket = await createThicket({ journal: './runs.db' });
 * const result = await thicket.solve('What is 17*23?', { model: 'sim:small', strategy: 'vote', samples: 5, budget: { totalTokens: 5000 } });
 * result.answer; result.status; result.usage; result.simulated; // '391', 'ok', {...}, true (the simulated fleet)
 * const study = await thicket.study({ quick: true, report: false });
 * await thicket.close();
 * ```
 */
import { ThicketRuntime, resolveThicketOptions, type ThicketOptions } from '../runtime/index.ts';
import type { StudyProgress } from './runner.ts';
import { studyCommand, type QuickFleet, type StudyCommandOptions, type StudyCommandResult } from './study-command.ts';
import { evalCommand, type EvalCommandOptions, type EvalCommandResult } from './eval/index.ts';

export interface StudyRequest {
  /**
   * The built-in quick study (offline): `true`/`'tiny'` on Thicket's tiny trained models (real, ~1.5 minutes),
   * `'sim'` on the simulated fleet (about a minute).
   */
  quick?: boolean | QuickFleet;
  /** A study file (YAML or JSON); default: the built-in default study. */
  study?: string;
  /** Study id: re-running the same id resumes (finished cells are skipped). */
  id?: string;
  /** Overrides, as in `thicket study`: comma-separated lists. */
  suites?: string;
  architectures?: string;
  budgets?: string;
  models?: string;
  seeds?: string;
  items?: number;
  concurrency?: number;
  /** Report folder (default: the study's `output`, else `thicket-lab/<id>`), or `false` for no report. */
  report?: string | false;
  signal?: AbortSignal;
  /** Called as cells finish: total, done, failed, per suite, calls and tokens so far. */
  onProgress?: (progress: StudyProgress) => void;
}

export type StudyResult = Omit<StudyCommandResult, 'exitCode'>;

/**
 * An evaluation on your own data (`thicket eval`): the dataset (or an eval file) and, as in the command, the
 * preset, field mapping, scorer, strategies, budgets (`'2k,8k'`), models and seeds. `id` starts or resumes it;
 * `idField` is the command's `--id` (the field holding each item's id: `id` here names the eval, as for studies).
 */
export interface EvalRequest extends Omit<
  EvalCommandOptions,
  'target' | 'id' | 'resume' | 'out' | 'db' | 'fleetConfig' | 'json' | 'report'
> {
  dataset: string;
  id?: string;
  idField?: string;
  /** Report folder (default `thicket-eval/<id>`), or `false` for no report. */
  report?: string | false;
  signal?: AbortSignal;
  /** Called as cells finish, as for a study (the gateway's eval jobs report it to the console). */
  onProgress?: (progress: StudyProgress) => void;
}

export type EvalResult = Omit<EvalCommandResult, 'exitCode'>;

export class Thicket extends ThicketRuntime {
  /**
   * Runs a matched-budget study in this instance's journal and fleet config, analyses it and (unless
   * `report: false`) writes the HTML/Markdown/JSON report. Simulated results say so (`simulated: true`).
   */
  async study(request: StudyRequest = {}): Promise<StudyResult> {
    const options: StudyCommandOptions = {
      ...(request.quick !== undefined && request.quick !== false ? { quick: request.quick } : {}),
      ...(request.study !== undefined ? { study: request.study } : {}),
      ...(request.id !== undefined ? { id: request.id } : {}),
      ...(request.suites !== undefined ? { suites: request.suites } : {}),
      ...(request.architectures !== undefined ? { architectures: request.architectures } : {}),
      ...(request.budgets !== undefined ? { budgets: request.budgets } : {}),
      ...(request.models !== undefined ? { models: request.models } : {}),
      ...(request.seeds !== undefined ? { seeds: request.seeds } : {}),
      ...(request.items !== undefined ? { items: String(request.items) } : {}),
      ...(request.concurrency !== undefined ? { concurrency: String(request.concurrency) } : {}),
      ...(typeof request.report === 'string' ? { out: request.report } : {}),
      ...(request.report === false ? { report: false } : {}),
      db: this.journalPath,
      fleetConfig: this.config,
      json: true,
    };
    const { exitCode: _exitCode, ...result } = await studyCommand(options, {
      out: () => {},
      err: () => {},
      isTTY: false,
      handleSigint: false,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
    return result;
  }

  /**
   * Runs a matched-budget evaluation on a dataset in this instance's journal and fleet config: accuracy and cost
   * with bootstrap intervals, paired comparisons, the lab's report (unless `report: false`).
   */
  async eval(request: EvalRequest): Promise<EvalResult> {
    const { dataset, id, idField, report, signal, onProgress, ...rest } = request;
    const { exitCode: _exitCode, ...result } = await evalCommand(
      {
        ...rest,
        target: dataset,
        ...(idField !== undefined ? { id: idField } : {}),
        ...(id !== undefined ? { resume: id } : {}),
        ...(typeof report === 'string' ? { out: report } : {}),
        ...(report === false ? { report: false } : {}),
        db: this.journalPath,
        fleetConfig: this.config,
        json: true,
      },
      {
        out: () => {},
        err: () => {},
        isTTY: false,
        handleSigint: false,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
      },
    );
    return result;
  }
}

/** Creates an instance. Nothing is written until a run starts (the journal and registry open on first use). */
export async function createThicket(options: ThicketOptions = {}): Promise<Thicket> {
  return new Thicket(...(await resolveThicketOptions(options)));
}
