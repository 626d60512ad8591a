/**
 * What the run view derives from `GET /v1/runs/{id}`: the workflow graph (nodes are the trace's operator
 * steps, nested by step id; a workflow spec adds its data edges), each node's spend, the budget burn-down,
 * and the governor's decision. Pure functions, so they are tested without a browser.
 */
import { asText } from './format.ts';
import type { CallRecord, Limits, RunDetails, StepRecord, TraceEvent } from './types.ts';

const numberOr = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

export interface GraphNode {
  id: string;
  label: string;
  op: string;
  status: string;
  calls: number;
  tokens: number;
  usd: number;
  parent: string | null;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: 'contains' | 'data';
}

export const ROOT = 'run';

export function traceEvents(details: RunDetails): TraceEvent[] {
  const trace = details.steps.find((step) => step.kind === 'trace');
  const events = (trace?.output as { events?: unknown } | null)?.events;
  return Array.isArray(events) ? (events as TraceEvent[]) : [];
}

const parentPath = (stepId: string): string => stepId.slice(0, Math.max(0, stepId.lastIndexOf('/')));

export function buildGraph(details: RunDetails): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const events = traceEvents(details);
  const ops = new Map<string, string>();
  const ended = new Set<string>();
  for (const event of events) {
    if (event.type === 'op-start' && !ops.has(event.stepId))
      ops.set(event.stepId, asText(event.data['operator'] ?? event.data['op'] ?? event.data['workflow'], 'op'));
    if (event.type === 'op-end') ended.add(event.stepId);
  }
  const steps = new Map<string, StepRecord>();
  for (const step of details.steps) {
    if (step.kind === 'workflow-node' || step.kind === 'governor') {
      steps.set(step.stepId, step);
      if (step.kind === 'workflow-node' && !ops.has(step.stepId)) ops.set(step.stepId, asText(step.input?.['op'], 'node'));
    }
  }
  // Without a trace (an older run), each call's parent step stands for the operator that made it.
  if (ops.size === 0)
    for (const call of details.calls) if (call.stepId) ops.set(parentPath(call.stepId) || call.stepId, call.purpose ?? 'call');

  const ids = [...ops.keys()];
  const parentOf = (id: string): string => {
    let best: string | null = null;
    for (const other of ids) if (other !== id && id.startsWith(`${other}/`) && (best === null || other.length > best.length)) best = other;
    return best ?? ROOT;
  };
  const owner = (stepId: string | null): string => {
    if (!stepId) return ROOT;
    let best: string | null = null;
    for (const id of ids) if ((stepId === id || stepId.startsWith(`${id}/`)) && (best === null || id.length > best.length)) best = id;
    return best ?? ROOT;
  };

  const nodes = new Map<string, GraphNode>();
  nodes.set(ROOT, {
    id: ROOT,
    label: 'run',
    op: details.run.command,
    status: details.live ? 'running' : details.run.status,
    calls: 0,
    tokens: 0,
    usd: 0,
    parent: null,
  });
  for (const id of ids) {
    const step = steps.get(id);
    const status = step
      ? step.status
      : ended.has(id)
        ? 'ok'
        : details.live
          ? 'running'
          : details.run.status === 'ok'
            ? 'ok'
            : details.run.status;
    nodes.set(id, {
      id,
      label: id.split('/').slice(-1)[0] ?? id,
      op: ops.get(id) ?? 'op',
      status,
      calls: 0,
      tokens: 0,
      usd: 0,
      parent: parentOf(id),
    });
  }
  // Each call counts once, in its innermost node; totals roll up to the ancestors so a parent shows its subtree.
  for (const call of details.calls) {
    let node: GraphNode | undefined = nodes.get(owner(call.stepId));
    if (call.failed && node && node.status === 'ok') node.status = 'retried';
    while (node) {
      node.calls += 1;
      node.tokens += call.inputTokens + call.outputTokens;
      node.usd += call.costUsd;
      node = node.parent === null ? undefined : nodes.get(node.parent);
    }
  }
  const edges: GraphEdge[] = [];
  for (const node of nodes.values())
    if (node.parent !== null) edges.push({ id: `c:${node.parent}->${node.id}`, source: node.parent, target: node.id, kind: 'contains' });
  // A workflow spec's inputs are data edges between sibling nodes (`{ "draft": "writer" }`: writer → this node).
  for (const [id, step] of steps) {
    const inputs = step.input?.['inputs'];
    if (!inputs || typeof inputs !== 'object') continue;
    const base = parentPath(id);
    for (const source of Object.values(inputs as Record<string, unknown>)) {
      if (typeof source !== 'string' || source === 'query') continue;
      const sourceId = `${base}/${source.split('.')[0]}`;
      if (nodes.has(sourceId)) edges.push({ id: `d:${sourceId}->${id}`, source: sourceId, target: id, kind: 'data' });
    }
  }
  return { nodes: [...nodes.values()], edges };
}

export interface BurnPoint {
  seconds: number;
  totalTokens: number;
  usd: number;
  calls: number;
}

/** Cumulative spend after each call, by time since the run started (the trace's clock, else call timestamps). */
export function burnDown(details: RunDetails): BurnPoint[] {
  const points: BurnPoint[] = [{ seconds: 0, totalTokens: 0, usd: 0, calls: 0 }];
  const callEvents = traceEvents(details).filter((event) => event.type === 'call');
  let tokens = 0;
  let usd = 0;
  let calls = 0;
  if (callEvents.length > 0) {
    for (const event of [...callEvents].sort((a, b) => a.at - b.at)) {
      tokens += Number(event.data['inputTokens'] ?? 0) + Number(event.data['outputTokens'] ?? 0);
      usd += Number(event.data['costUsd'] ?? 0);
      calls += 1;
      points.push({ seconds: event.at / 1000, totalTokens: tokens, usd, calls });
    }
    return points;
  }
  const ordered = orderedCalls(details.calls);
  const start = ordered.length > 0 ? Math.min(...ordered.map((call) => Date.parse(call.createdAt) - call.latencyMs)) : 0;
  for (const call of ordered) {
    tokens += call.inputTokens + call.outputTokens;
    usd += call.costUsd;
    calls += 1;
    points.push({ seconds: (Date.parse(call.createdAt) - start) / 1000, totalTokens: tokens, usd, calls });
  }
  return points;
}

export function orderedCalls(calls: CallRecord[]): CallRecord[] {
  return [...calls].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

export const BUDGET_DIMENSIONS = [
  { key: 'totalTokens', label: 'tokens' },
  { key: 'usd', label: 'dollars' },
  { key: 'calls', label: 'calls' },
] as const;

export function limitsOf(budget: Limits | null): { key: 'totalTokens' | 'usd' | 'calls'; label: string; limit: number }[] {
  return BUDGET_DIMENSIONS.filter((dimension) => budget?.[dimension.key] !== undefined).map((dimension) => ({
    ...dimension,
    limit: budget![dimension.key]!,
  }));
}

export interface GovernorView {
  arm: string;
  strategy: string;
  policy: string;
  budgetLevel: number | null;
  features: Record<string, unknown>;
  escalations: unknown[];
  spendByAxis: Record<string, { totalTokens?: number; usd?: number; calls?: number }>;
  /** The frontier table's part in the decision; null when the policy had no table for the run's family and model. */
  frontier: FrontierView | null;
}

export interface FrontierCandidate {
  choice: string;
  /** Training accuracy, 0–1. */
  accuracy: number;
  /** Mean cost per item in the objective's unit (tokens, dollars or seconds). */
  cost: number;
  items: number;
  chosen: boolean;
}

export interface FrontierView {
  family: string;
  /** `given` by the caller, or `inferred` from the query (with the reason). */
  familySource: string;
  familyReason: string | null;
  objective: string;
  tableModel: string;
  matchedBy: string;
  level: number | null;
  budgetTokens: number | null;
  choice: string;
  tolerance: number | null;
  why: string;
  /** The choice first, then the alternatives it was weighed against, as journaled. */
  candidates: FrontierCandidate[];
}

const candidateOf = (value: unknown, chosen: boolean): FrontierCandidate | null => {
  const record = value as Record<string, unknown> | null;
  if (!record || typeof record['choice'] !== 'string') return null;
  return {
    choice: record['choice'],
    accuracy: numberOr(record['accuracy']) ?? 0,
    cost: numberOr(record['cost']) ?? 0,
    items: numberOr(record['items']) ?? 0,
    chosen,
  };
};

/** Reads the journaled `decision.frontier` (governor/frontier-decision.ts) defensively: older runs have none. */
export function frontierView(decision: Record<string, unknown>): FrontierView | null {
  const frontier = decision['frontier'] as Record<string, unknown> | undefined;
  if (!frontier || typeof frontier['choice'] !== 'string') return null;
  const table = (frontier['table'] as Record<string, unknown> | undefined) ?? {};
  const alternatives = Array.isArray(frontier['alternatives']) ? frontier['alternatives'] : [];
  const candidates = [candidateOf(frontier['train'], true), ...alternatives.map((alternative) => candidateOf(alternative, false))].filter(
    (candidate): candidate is FrontierCandidate => candidate !== null,
  );
  return {
    family: asText(frontier['family']),
    familySource: asText(frontier['familySource']),
    familyReason: typeof frontier['familyReason'] === 'string' ? frontier['familyReason'] : null,
    objective: asText(frontier['objective']),
    tableModel: asText(table['model']),
    matchedBy: asText(table['matchedBy']),
    level: numberOr(frontier['level']),
    budgetTokens: numberOr(frontier['budgetTokens']),
    choice: frontier['choice'],
    tolerance: numberOr(frontier['tolerance']),
    why: asText(frontier['why']),
    candidates,
  };
}

export function governorView(details: RunDetails): GovernorView | null {
  const governor = details.steps.find((step) => step.kind === 'governor');
  const decision = (governor?.output as { decision?: Record<string, unknown> } | null)?.decision;
  if (!governor || !decision) return null;
  const trajectory = details.steps.find((step) => step.kind === 'trajectory');
  const features =
    (trajectory?.input as { features?: Record<string, unknown> } | null)?.features ??
    (decision['difficulty'] as Record<string, unknown> | undefined) ??
    {};
  return {
    arm: asText(decision['arm']),
    strategy: asText(decision['strategy']),
    policy: asText(decision['policy']),
    budgetLevel: typeof decision['budgetLevel'] === 'number' ? decision['budgetLevel'] : null,
    features,
    escalations: Array.isArray(decision['escalations']) ? decision['escalations'] : [],
    spendByAxis: (governor.output as { spendByAxis?: GovernorView['spendByAxis'] }).spendByAxis ?? {},
    frontier: frontierView(decision),
  };
}

export interface KvSample {
  finishedTasks: number;
  kvTokens: number;
  unprunedTokens: number;
  elapsedMs: number;
}

export interface KvThreadView {
  stepId: string;
  samples: KvSample[];
  peakKvTokens: number | null;
  unprunedTokens: number | null;
  tokensErased: number | null;
  erasures: number | null;
}

/**
 * The KV-pruned threads of a run (the embedded engine): each thread node's journaled output carries the
 * engine's metrics, with one sample per finished task of the cache's occupancy (`kvTokens`) against what the
 * sequence would hold with nothing erased (`unprunedTokens`).
 */
export function kvThreads(details: RunDetails): KvThreadView[] {
  const threads: KvThreadView[] = [];
  for (const step of details.steps) {
    if (step.kind !== 'workflow-node') continue;
    const metrics = (step.output as { details?: { metrics?: Record<string, unknown> } } | null)?.details?.metrics;
    const samples = metrics?.['samples'];
    if (!metrics || !Array.isArray(samples)) continue;
    threads.push({
      stepId: step.stepId,
      samples: (samples as Record<string, unknown>[])
        .map((sample) => ({
          finishedTasks: numberOr(sample['finishedTasks']) ?? 0,
          kvTokens: numberOr(sample['kvTokens']) ?? 0,
          unprunedTokens: numberOr(sample['unprunedTokens']) ?? 0,
          elapsedMs: numberOr(sample['elapsedMs']) ?? 0,
        }))
        .sort((a, b) => a.finishedTasks - b.finishedTasks),
      peakKvTokens: numberOr(metrics['peakKvTokens']),
      unprunedTokens: numberOr(metrics['unprunedTokens']),
      tokensErased: numberOr(metrics['tokensErased']),
      erasures: numberOr(metrics['erasures']),
    });
  }
  return threads;
}

export interface CriticalityView {
  step: number;
  nodes: number;
  edges: number;
  discovery: number;
  surprisingShare: number;
  structuralEntropy: number;
  semanticEntropy: number;
  modularity: number | null;
  flags: string[];
}

/**
 * Criticality readings recorded during the run (src/criticality's monitor writes each snapshot as a trace
 * `note` with a `criticality` summary), in step order; empty when the run was not monitored.
 */
export function criticalityReadings(details: RunDetails): CriticalityView[] {
  const readings: CriticalityView[] = [];
  for (const event of traceEvents(details)) {
    const reading = event.data['criticality'] as Record<string, unknown> | undefined;
    if (!reading || typeof reading !== 'object') continue;
    // Flags are names: 'alpha-below-band', 'alpha-above-band', 'discovery-drift'.
    const flags = Array.isArray(reading['flags']) ? (reading['flags'] as unknown[]).map((flag) => asText(flag)) : [];
    readings.push({
      step: numberOr(reading['step']) ?? readings.length,
      nodes: numberOr(reading['nodes']) ?? 0,
      edges: numberOr(reading['edges']) ?? 0,
      discovery: numberOr(reading['discovery']) ?? Number.NaN,
      surprisingShare: numberOr(reading['surprisingShare']) ?? Number.NaN,
      structuralEntropy: numberOr(reading['structuralEntropy']) ?? Number.NaN,
      semanticEntropy: numberOr(reading['semanticEntropy']) ?? Number.NaN,
      modularity: numberOr(reading['modularity']),
      flags,
    });
  }
  return readings.sort((a, b) => a.step - b.step);
}
