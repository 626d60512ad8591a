/**
 * Graph JSON accepted by the criticality command, validated with zod; every problem is reported with its
 * JSON path in one InvalidInputError. Accepted shapes:
 *
 * - Thicket's `ReasoningGraph` (`{ nodes: [{ id, kind, text, by, step }], edges: [{ from, to, kind, step }] }`),
 *   a whole trace (`{ events, graph: ReasoningGraph }`, as `TraceJson`), or what `thicket runs show <id> --trace
 *   --json` prints (`{ runId, steps, trace: TraceJson }`);
 * - a plain graph: `{ nodes: [{ id, text? | label? , step? }], edges: [{ source | from, target | to, step? }] }`,
 *   including networkx's node-link JSON (`links` for `edges`, numeric ids).
 *
 * Missing steps count as 0 (present from the start), so a graph without steps has one meaningful snapshot.
 * Extra fields are allowed: graphs from other tools carry weights, kinds and labels the metrics do not use.
 */
import { z } from 'zod';
import { InvalidInputError, type InputIssue } from '../core/index.ts';
import { zodIssues } from '../models/index.ts';
import type { CriticalityGraph } from './graph.ts';

const identifier = z.union([z.string().min(1, 'must be a non-empty string'), z.number().finite()]);
const step = z.number().int('must be an integer').min(0, 'must be ≥ 0');

const nodeSchema = z.looseObject({
  id: identifier,
  text: z.string().optional(),
  label: z.string().optional(),
  step: step.optional(),
});

const edgeSchema = z.looseObject({
  from: identifier.optional(),
  to: identifier.optional(),
  source: identifier.optional(),
  target: identifier.optional(),
  step: step.optional(),
});

const graphSchema = z.looseObject({
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema).optional(),
  links: z.array(edgeSchema).optional(),
});

const documentSchema = z.union([
  graphSchema,
  z.looseObject({ graph: graphSchema }),
  z.looseObject({ trace: z.looseObject({ graph: graphSchema }) }),
]);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The graph object inside a document: itself, its `graph`, or its `trace.graph` (whichever holds it first). */
function unwrap(value: unknown): { prefix: string; inner: unknown } {
  if (!isRecord(value) || 'nodes' in value) return { prefix: '', inner: value };
  if ('graph' in value) return { prefix: 'graph', inner: value['graph'] };
  const trace = value['trace'];
  if (isRecord(trace) && 'graph' in trace) return { prefix: 'trace.graph', inner: trace['graph'] };
  return { prefix: '', inner: value };
}

/** Validates any accepted shape and returns the normalised graph; throws InvalidInputError listing every problem. */
export function parseGraph(value: unknown, source = 'graph'): CriticalityGraph {
  // A trace wraps the graph, and `runs show --trace --json` wraps the trace: validate the inner object so
  // paths point into it ("trace.graph.nodes[2].id").
  const { prefix, inner } = unwrap(value);
  const parsed = graphSchema.safeParse(inner);
  if (!parsed.success) throw new InvalidInputError(`Invalid ${source}`, zodIssues(parsed.error, prefix));
  const at = (path: string) => (prefix ? `${prefix}.${path}` : path);
  const issues: InputIssue[] = [];
  const { nodes, edges: edgeList, links } = parsed.data;
  if (edgeList !== undefined && links !== undefined)
    issues.push({ path: at('links'), message: 'give either "edges" or "links", not both' });
  const edgesKey = edgeList !== undefined ? 'edges' : 'links';
  const ids = new Map<string, number>();
  const graph: CriticalityGraph = { nodes: [], edges: [] };
  nodes.forEach((node, index) => {
    const id = String(node.id);
    const first = ids.get(id);
    if (first !== undefined) issues.push({ path: at(`nodes[${index}].id`), message: `duplicate id "${id}" (first at nodes[${first}])` });
    else ids.set(id, index);
    graph.nodes.push({ id, text: node.text ?? node.label ?? '', step: node.step ?? 0 });
  });
  (edgeList ?? links ?? []).forEach((edge, index) => {
    const base = at(`${edgesKey}[${index}]`);
    const ends: string[] = [];
    for (const [name, primary, alias] of [
      ['from', edge.from, edge.source],
      ['to', edge.to, edge.target],
    ] as const) {
      const aliasName = name === 'from' ? 'source' : 'target';
      if (primary !== undefined && alias !== undefined)
        issues.push({ path: `${base}.${aliasName}`, message: `give either "${name}" or "${aliasName}", not both` });
      const end = primary ?? alias;
      if (end === undefined) issues.push({ path: base, message: `missing "${name}" (or "${aliasName}")` });
      else if (!ids.has(String(end)))
        issues.push({ path: `${base}.${primary !== undefined ? name : aliasName}`, message: `unknown node "${String(end)}"` });
      else ends.push(String(end));
    }
    if (ends.length === 2) graph.edges.push({ from: ends[0]!, to: ends[1]!, step: edge.step ?? 0 });
  });
  if (issues.length > 0) throw new InvalidInputError(`Invalid ${source}`, issues);
  return graph;
}

/** The shape as a schema, for documentation and for callers that want to pre-check. */
export const graphJsonSchema = documentSchema;
