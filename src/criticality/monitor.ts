/**
 * The criticality monitor: follows a run's reasoning graph as the trace grows and, every `every` graph
 * additions (nodes and edges share the trace's step counter), computes the metrics of the snapshot at that
 * point and records them as a trace event `note` with `{ criticality: … }`. It flags when α leaves its band
 * (default 8–16%) or D drifts from 0 (criticality.md); reacting to a flag is a controller's job, not this
 * one's.
 *
 * Snapshots are taken at fixed steps (every·k − 1), not "whenever observe is called", so the same run gives
 * the same readings however often the caller observes. Each node is embedded once (cached by id and text).
 *
 * @example
 *   const monitor = createCriticalityMonitor({ every: 20, tau: 0.2 });
 *   // after each operator / workflow node:
 *   await monitor.observe(trace);
 *   // at the end of the run, a reading of the final graph:
 *   await monitor.finish(trace);
 */
import { InvalidInputError } from '../core/index.ts';
import type { Trace } from '../ops/index.ts';
import type { CriticalityGraph } from './graph.ts';
import { canonicalize, snapshotAt } from './graph.ts';
import { nodeTexts, snapshotMetrics, type CriticalityMetrics, type CriticalityOptions } from './metrics.ts';
import { defaultEmbedder, embedTexts, type Embedder } from './semantic.ts';
import { nullThreshold } from './calibration.ts';

export type CriticalityFlag = 'alpha-below-band' | 'alpha-above-band' | 'discovery-drift';

export interface CriticalityReading {
  metrics: CriticalityMetrics;
  flags: CriticalityFlag[];
}

export interface CriticalityMonitorOptions extends CriticalityOptions {
  /** Take a snapshot after every this many graph additions (nodes + edges; default 10). */
  every?: number;
  /** Band α should stay in (default [0.08, 0.16]). */
  alphaBand?: readonly [number, number];
  /**
   * |D| above this is flagged as drift (default 0.1; the published critical state sits near −0.03). With
   * S_sem as semantic diversity (entropy.ts), D > 0 means the content is more uniform than the structure
   * (collapsing into the obvious), D < 0 more diverse than the structure (fragmenting).
   */
  discoveryTolerance?: number;
  /** No flags before a snapshot has this many edges: α over a handful of edges is noise (default 20). */
  minEdges?: number;
  /** stepId of the emitted trace events (default "criticality"). */
  stepId?: string;
  /** Called with each reading after its event is recorded. */
  onReading?: (reading: CriticalityReading) => void;
}

/** What the monitor reads and writes: a `Trace`, or anything with its graph arrays and `event`. */
export type ObservedTrace = Pick<Trace, 'nodes' | 'edges' | 'event'>;

export interface CriticalityMonitor {
  /** Emits a reading for each snapshot step the trace has passed since the last call. */
  observe(trace: ObservedTrace): Promise<CriticalityReading[]>;
  /** observe, then one reading of the whole current graph if the last snapshot did not already cover it. */
  finish(trace: ObservedTrace): Promise<CriticalityReading[]>;
  /** Every reading so far, in step order. */
  readonly readings: readonly CriticalityReading[];
}

export const MONITOR_DEFAULTS = {
  every: 10,
  alphaBand: [0.08, 0.16] as const,
  discoveryTolerance: 0.1,
  minEdges: 20,
  stepId: 'criticality',
};

export function createCriticalityMonitor(options: CriticalityMonitorOptions = {}): CriticalityMonitor {
  const every = options.every ?? MONITOR_DEFAULTS.every;
  if (!Number.isInteger(every) || every < 1)
    throw new InvalidInputError('Invalid criticality monitor', [{ path: 'every', message: 'must be an integer ≥ 1' }]);
  const [low, high] = options.alphaBand ?? MONITOR_DEFAULTS.alphaBand;
  const tolerance = options.discoveryTolerance ?? MONITOR_DEFAULTS.discoveryTolerance;
  const minEdges = options.minEdges ?? MONITOR_DEFAULTS.minEdges;
  const stepId = options.stepId ?? MONITOR_DEFAULTS.stepId;
  const embedder: Embedder = options.embedder ?? defaultEmbedder();
  const cache = new Map<string, { text: string; vector: Float32Array }>();
  const readings: CriticalityReading[] = [];
  let lastStep = -1;
  // Calls are chained: parallel workflow branches may observe concurrently, and readings must stay ordered.
  let queue: Promise<unknown> = Promise.resolve();

  const flagsOf = (metrics: CriticalityMetrics): CriticalityFlag[] => {
    if (metrics.edges < minEdges) return [];
    const flags: CriticalityFlag[] = [];
    if (metrics.surprisingShare < low) flags.push('alpha-below-band');
    if (metrics.surprisingShare > high) flags.push('alpha-above-band');
    if (Math.abs(metrics.discovery) > tolerance) flags.push('discovery-drift');
    return flags;
  };

  const read = async (trace: ObservedTrace, steps: number[]): Promise<CriticalityReading[]> => {
    const graph: CriticalityGraph = {
      nodes: trace.nodes.map((node) => ({ id: node.id, text: node.text, step: node.step })),
      edges: trace.edges.map((edge) => ({ from: edge.from, to: edge.to, step: edge.step })),
    };
    const texts = nodeTexts(graph);
    const missing = graph.nodes
      .map((node, index) => ({ id: node.id, text: texts[index]! }))
      .filter(({ id, text }) => cache.get(id)?.text !== text);
    const fresh = await embedTexts(
      embedder,
      missing.map(({ text }) => text),
    );
    missing.forEach(({ id, text }, index) => cache.set(id, { text, vector: fresh[index]! }));
    const vectors = graph.nodes.map((node) => cache.get(node.id)!.vector);
    const semanticThreshold = options.semanticThreshold ?? (await nullThreshold(embedder));
    const canonical = options.mergeThreshold !== undefined ? canonicalize(graph, vectors, options.mergeThreshold) : undefined;
    const made: CriticalityReading[] = [];
    for (const step of steps) {
      const merged =
        canonical === undefined ? 0 : graph.nodes.filter((node, index) => node.step <= step && canonical[index] !== index).length;
      const metrics = snapshotMetrics(snapshotAt(graph, step, canonical), vectors, embedder.id, { ...options, semanticThreshold }, merged);
      const reading = { metrics, flags: flagsOf(metrics) };
      trace.event(stepId, 'note', { criticality: summary(reading) });
      readings.push(reading);
      made.push(reading);
      lastStep = step;
      options.onReading?.(reading);
    }
    return made;
  };

  const enqueue = (task: () => Promise<CriticalityReading[]>): Promise<CriticalityReading[]> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };

  const observe = (trace: ObservedTrace) =>
    enqueue(() => {
      const progress = currentStep(trace) + 1;
      const steps: number[] = [];
      for (let boundary = Math.floor((lastStep + 1) / every) + 1; boundary * every <= progress; boundary++)
        steps.push(boundary * every - 1);
      return steps.length > 0 ? read(trace, steps) : Promise.resolve([]);
    });

  return {
    observe,
    finish: async (trace) => {
      const made = await observe(trace);
      const final = currentStep(trace);
      return final > lastStep ? [...made, ...(await enqueue(() => read(trace, [final])))] : made;
    },
    get readings() {
      return readings;
    },
  };
}

/** The largest step in the graph so far (−1 when empty). */
function currentStep(trace: ObservedTrace): number {
  let step = -1;
  for (const node of trace.nodes) step = Math.max(step, node.step);
  for (const edge of trace.edges) step = Math.max(step, edge.step);
  return step;
}

/** The event payload: the headline numbers only, so journaled traces stay small (full metrics: `readings`). */
export function summary(reading: CriticalityReading): Record<string, unknown> {
  const { metrics } = reading;
  return {
    step: metrics.step,
    nodes: metrics.nodes,
    edges: metrics.edges,
    structuralEntropy: metrics.structuralEntropy,
    semanticEntropy: metrics.semanticEntropy,
    semanticThreshold: metrics.semanticThreshold,
    discovery: metrics.discovery,
    surprisingShare: metrics.surprisingShare,
    surprisingEdges: metrics.surprisingEdges,
    tau: metrics.tau,
    clustering: metrics.clustering.average,
    modularity: metrics.modularity,
    communities: metrics.communities,
    embedder: metrics.embedder,
    methods: metrics.methods,
    flags: reading.flags,
  };
}
