/**
 * The options of `thicket study` and the study they resolve to: the study file (or a built-in one such as
 * `--quick`) with the command-line overrides applied and validated, every bad flag named at once. Apart from
 * running it, so the CLI can check a study (e.g. ask before spending on paid models) before it runs.
 */
import { InvalidInputError, parseDecimalText, type InputIssue } from '../core/index.ts';
import type { FleetConfig } from '../models/index.ts';
import { builtinStudyPath, loadStudyFile, parseStudy, type StudyDefinition } from './study-file.ts';

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
