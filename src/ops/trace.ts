/**
 * The trace of a run: timed events per step, and the run's reasoning graph — nodes are the query, answers,
 * claims, critiques, verdicts, evidence and conclusions; edges say which was derived from, supports or
 * contradicts which, with the step at which each appeared. The criticality monitor (lab) reads the graph.
 */
import type { Clock } from '../core/index.ts';

/** `capability-bound`: a workflow capability node was bound to a card and model (workflow/capability.ts). */
export type TraceEventType = 'op-start' | 'op-end' | 'call' | 'degrade' | 'tool' | 'note' | 'capability-bound';

export interface TraceEvent {
  /** Clock time in ms (virtual for simulated runs). */
  at: number;
  stepId: string;
  type: TraceEventType;
  data: Record<string, unknown>;
}

export type GraphNodeKind = 'query' | 'answer' | 'claim' | 'critique' | 'verdict' | 'evidence' | 'conclusion' | 'plan';
export type GraphEdgeKind = 'derived-from' | 'supports' | 'contradicts';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  text: string;
  /** Normalised answer carried by the node, when it carries one (lets edges be derived by agreement). */
  answer?: string;
  /** The step (operator/node id) that produced it. */
  by: string;
  /** Order of appearance in the run. */
  step: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: GraphEdgeKind;
  step: number;
}

export interface ReasoningGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface TraceJson {
  events: TraceEvent[];
  graph: ReasoningGraph;
}

const MAX_NODE_TEXT = 2000;

export class Trace {
  readonly events: TraceEvent[] = [];
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  private readonly nodeCounters = new Map<string, number>();
  private readonly nodesById = new Map<string, GraphNode>();
  private step = 0;

  private readonly listeners: Array<(event: TraceEvent) => void> = [];

  constructor(private readonly clock: Clock) {}

  event(stepId: string, type: TraceEventType, data: Record<string, unknown> = {}): void {
    const event = { at: this.clock.now(), stepId, type, data };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Live events as they are recorded (the runtime's event stream); returns a function that unsubscribes. */
  onEvent(listener: (event: TraceEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Adds a node; ids are derived from the producing step, so they are stable across resumed runs. */
  addNode(by: string, kind: GraphNodeKind, text: string, answer?: string): string {
    const base = `${by}:${kind}`;
    const count = this.nodeCounters.get(base) ?? 0;
    this.nodeCounters.set(base, count + 1);
    const id = count === 0 ? base : `${base}#${count}`;
    const node: GraphNode = {
      id,
      kind,
      text: text.length > MAX_NODE_TEXT ? `${text.slice(0, MAX_NODE_TEXT)}…` : text,
      by,
      step: this.step++,
    };
    if (answer !== undefined) node.answer = answer;
    this.nodes.push(node);
    this.nodesById.set(id, node);
    return id;
  }

  addEdge(from: string, to: string, kind: GraphEdgeKind): void {
    this.edges.push({ from, to, kind, step: this.step++ });
  }

  /** Links `node` to each source: `derived-from`, plus supports/contradicts by answer agreement when both carry answers. */
  derive(node: string, sources: readonly string[]): void {
    const target = this.nodesById.get(node);
    for (const source of sources) {
      this.addEdge(node, source, 'derived-from');
      const origin = this.nodesById.get(source);
      if (target?.answer !== undefined && origin?.answer !== undefined)
        this.addEdge(source, node, origin.answer === target.answer ? 'supports' : 'contradicts');
    }
  }

  node(id: string): GraphNode | undefined {
    return this.nodesById.get(id);
  }

  toJSON(): TraceJson {
    return { events: this.events, graph: { nodes: this.nodes, edges: this.edges } };
  }
}
