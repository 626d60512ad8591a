/**
 * `thicket criticality <graph.json> [--tau X] [--snapshots N|s1,s2,…] [--merge X] [--json]`: the criticality
 * metrics of any graph JSON (see schema.ts for the accepted shapes), for the whole graph or at several
 * snapshot steps. The CLI layer wires this function; it lives here so the lab can call it without the CLI.
 *
 * Flags arrive as strings from the command line or as numbers from code; both are validated here, and every
 * bad flag is reported at once (InvalidInputError, exit code 2).
 */
import { InvalidInputError, readUserFile, type InputIssue } from '../core/index.ts';
import { loadFleetConfig } from '../models/index.ts';
import { resolveEmbedder } from '../registry/index.ts';
import { setNullThreshold } from './calibration.ts';
import { criticalitySeries, evenSnapshotSteps, type CriticalityMetrics, type CriticalityOptions } from './metrics.ts';
import { parseGraph } from './schema.ts';
import { DEFAULT_TAU, defaultEmbedder, type Embedder } from './semantic.ts';

export interface CriticalityCommandOptions {
  /** Print one JSON object instead of text. */
  json?: boolean;
  /** Surprising-edge threshold (default DEFAULT_TAU). */
  tau?: number | string;
  /** A count of evenly spaced snapshots, or explicit steps ("5,10,20"). Default: the whole graph only. */
  snapshots?: number | string | readonly number[];
  /** Canonicalisation threshold (e.g. 0.85): merge near-duplicate nodes first. */
  merge?: number | string;
  /**
   * An embedder, or a reference (`hash`, `hash-v1-<dim>`, `gguf:<path>`, an alias under the fleet config's
   * `embedders`). Default: the config's `embedder` field, else the hashing embedder.
   */
  embedder?: Embedder | string;
  /** Fleet config path for embedder aliases (default: $THICKET_CONFIG, then ./thicket.config.json). */
  config?: string;
  /** Where text goes (default stdout). */
  out?: (text: string) => void;
  /** Extra metric options (dense limit, quadrature, betweenness sampling) for callers in code. */
  metrics?: Omit<CriticalityOptions, 'embedder' | 'tau' | 'mergeThreshold'>;
}

export interface CriticalityReport {
  file: string;
  embedder: string;
  tau: number;
  /** One entry per snapshot, in step order; the last is the latest snapshot asked for. */
  snapshots: CriticalityMetrics[];
  elapsedMs: number;
}

/** Most snapshots one invocation computes: each costs up to two O(n³) decompositions. */
const MAX_SNAPSHOTS = 200;

export async function criticalityCommand(path: string, options: CriticalityCommandOptions = {}): Promise<CriticalityReport> {
  const issues: InputIssue[] = [];
  const tau = parseNumberFlag('--tau', options.tau, issues, -1, 1) ?? DEFAULT_TAU;
  const merge = parseNumberFlag('--merge', options.merge, issues, 0, 1);
  const snapshots = parseSnapshotsFlag(options.snapshots, issues);
  if (issues.length > 0) throw new InvalidInputError('Invalid criticality request', issues);
  const graph = parseGraph(readJson(path), path);
  const steps = snapshots === undefined ? [null] : typeof snapshots === 'number' ? evenSnapshotSteps(graph, snapshots) : snapshots;
  const embedder = typeof options.embedder === 'object' ? options.embedder : await embedderFromReference(options.embedder, options.config);
  const started = performance.now();
  const series = await criticalitySeries(graph, steps.length > 0 ? steps : [null], {
    ...options.metrics,
    embedder,
    tau,
    ...(merge !== undefined ? { mergeThreshold: merge } : {}),
  });
  const report: CriticalityReport = {
    file: path,
    embedder: embedder.id,
    tau,
    snapshots: series,
    elapsedMs: Math.round(performance.now() - started),
  };
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  out(options.json ? JSON.stringify(report) : renderReport(report));
  return report;
}

/** `--embedder <ref>`, else the config's `embedder`, else the hashing embedder; a τ₀ the config records is used. */
async function embedderFromReference(reference: string | undefined, configPath: string | undefined): Promise<Embedder> {
  const { config } = loadFleetConfig(configPath);
  const chosen = reference ?? config.embedder;
  if (chosen === undefined) return defaultEmbedder();
  const resolved = await resolveEmbedder(chosen, config, { source: reference !== undefined ? '--embedder' : 'embedder' });
  if (resolved.nullThreshold !== undefined) setNullThreshold(resolved.embedder.id, resolved.nullThreshold);
  return resolved.embedder;
}

function readJson(path: string): unknown {
  return readUserFile(path, { what: 'graph', format: 'json' });
}

function parseNumberFlag(
  flag: string,
  value: number | string | undefined,
  issues: InputIssue[],
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    issues.push({ path: flag, message: `must be a number between ${min} and ${max}, got "${value}"` });
    return undefined;
  }
  return number;
}

/** "12" → 12 evenly spaced snapshots; "5,10,20" → those steps. */
export function parseSnapshotsFlag(
  value: number | string | readonly number[] | undefined,
  issues: InputIssue[],
): number | number[] | undefined {
  if (value === undefined) return undefined;
  const bad = (message: string) => {
    issues.push({ path: '--snapshots', message });
    return undefined;
  };
  if (typeof value === 'number' || (typeof value === 'string' && !value.includes(','))) {
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SNAPSHOTS)
      return bad(`must be a count between 1 and ${MAX_SNAPSHOTS}, or a comma-separated list of steps, got "${String(value)}"`);
    return count;
  }
  const steps = typeof value === 'string' ? value.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part))) : [...value];
  if (steps.length > MAX_SNAPSHOTS) return bad(`at most ${MAX_SNAPSHOTS} steps`);
  if (!steps.every((step) => Number.isInteger(step) && step >= 0)) return bad(`steps must be integers ≥ 0, got "${String(value)}"`);
  return steps;
}

const fixed = (value: number, digits = 4) => value.toFixed(digits);
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;

/** Text for a terminal: one line per snapshot, then the latest snapshot's structure in detail. */
export function renderReport(report: CriticalityReport): string {
  const threshold = report.snapshots[0]?.semanticThreshold;
  const null0 = threshold === undefined ? '' : `, semantic null τ₀ = ${threshold.toFixed(4)}`;
  const lines = [`criticality of ${report.file} (embedder ${report.embedder}, τ = ${report.tau}${null0}, ${report.elapsedMs} ms)`, ''];
  const header = ['step', 'nodes', 'edges', 'S_struct', 'S_sem', 'D', 'α', 'clustering', 'modularity'];
  const rows = report.snapshots.map((m) => [
    m.step === null ? 'all' : String(m.step),
    String(m.nodes),
    String(m.edges),
    fixed(m.structuralEntropy),
    fixed(m.semanticEntropy),
    fixed(m.discovery),
    `${percent(m.surprisingShare)} (${m.surprisingEdges})`,
    fixed(m.clustering.average, 3),
    fixed(m.modularity, 3),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, column) => cell.padStart(widths[column]!)).join('  '));
  const last = report.snapshots.at(-1);
  if (last !== undefined) {
    const estimated = [
      last.methods.structuralEntropy === 'lanczos' ? 'S_struct (Lanczos quadrature)' : '',
      last.methods.semanticEntropy === 'lanczos' ? 'S_sem (Lanczos quadrature)' : '',
      last.methods.betweenness === 'sampled' ? 'betweenness (sampled sources)' : '',
    ].filter(Boolean);
    lines.push(
      '',
      `latest snapshot: ` +
        `mean degree ${fixed(last.meanDegree, 2)}, density ${fixed(last.density, 4)}, ${last.components} component(s) (largest ${last.largestComponent}), ` +
        `transitivity ${fixed(last.clustering.transitivity, 3)}, ${last.communities} communities (largest ` +
        `${last.largestCommunities.slice(0, 5).join(', ') || '—'})` +
        (last.merged > 0 ? `, ${last.merged} nodes merged` : ''),
      `mean edge similarity ${fixed(last.meanEdgeSimilarity, 3)}`,
      `hubs (degree): ${last.hubs.map((hub) => `${hub.id} (${hub.degree})`).join(', ') || '—'}`,
      `bridges (betweenness): ${last.bridges.map((bridge) => `${bridge.id} (${fixed(bridge.betweenness, 3)})`).join(', ') || '—'}`,
      `degree distribution (degree:nodes): ${
        last.degreeDistribution
          .slice(0, 40)
          .map(({ degree, count }) => `${degree}:${count}`)
          .join(' ') || '—'
      }${last.degreeDistribution.length > 40 ? ' … (all in --json)' : ''}`,
    );
    if (estimated.length > 0) lines.push(`estimated, not exact: ${estimated.join(', ')}`);
  }
  return lines.join('\n');
}
