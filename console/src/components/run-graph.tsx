/**
 * The run's workflow as a graph: @xyflow/react draws it, dagre lays it out top-down. Nodes are coloured by
 * status and show their spend; the same facts are in the table beside it for keyboard and screen-reader use.
 */
import dagre from '@dagrejs/dagre';
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import { useEffect, useMemo, useRef, type ReactNode, type RefObject } from 'react';
import { formatTokens, formatUsd } from '../format.ts';
import type { GraphEdge, GraphNode } from '../run-model.ts';

// Small boxes: a vote or debate run has several siblings per rank, and the panel is ~700 px wide at 1280 px.
export const WIDTH = 150;
export const HEIGHT = 58;
/** Fit the whole graph, but never magnify a small one past 1:1 (its text would look oversized). */
const FIT = { padding: 0.12, maxZoom: 1, minZoom: 0.1 } as const;

export function layout(nodes: GraphNode[], edges: GraphEdge[]): Map<string, { x: number; y: number }> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'TB', nodesep: 16, ranksep: 36 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: WIDTH, height: HEIGHT });
  for (const edge of edges) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const placed = graph.node(node.id) as { x: number; y: number };
    positions.set(node.id, { x: placed.x - WIDTH / 2, y: placed.y - HEIGHT / 2 });
  }
  return positions;
}

type StepNodeData = { node: GraphNode };

function StepNode({ data }: NodeProps<Node<StepNodeData>>): ReactNode {
  const { node } = data;
  return (
    <div className={`flow-node status-${node.status}`} title={`${node.id} (${node.op}): ${node.status}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="flow-node-title">
        {node.label} <span className="flow-node-op">{node.op}</span>
      </div>
      <div className="flow-node-spend">
        {formatTokens(node.tokens)} tok · {node.calls} calls
      </div>
      <div className="flow-node-spend">{formatUsd(node.usd)}</div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

/**
 * Keeps the whole graph in view: React Flow's `fitView` prop fits once, on the first render — before a live
 * run has added its nodes and before the panel has its final width — so this fits again whenever the set of
 * nodes changes (once they are measured) and whenever the panel is resized.
 */
function FitOnChange({ nodeKey, container }: { nodeKey: string; container: RefObject<HTMLDivElement | null> }): null {
  const flow = useReactFlow();
  const initialized = useNodesInitialized();
  useEffect(() => {
    if (initialized) void flow.fitView(FIT);
  }, [flow, initialized, nodeKey]);
  useEffect(() => {
    const element = container.current;
    if (!element || typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(() => void flow.fitView(FIT));
    observer.observe(element);
    return () => observer.disconnect();
  }, [flow, container]);
  return null;
}

export function RunGraph({ nodes, edges }: { nodes: GraphNode[]; edges: GraphEdge[] }): ReactNode {
  const { flowNodes, flowEdges } = useMemo(() => {
    const positions = layout(nodes, edges);
    const flowNodes: Node<StepNodeData>[] = nodes.map((node) => ({
      id: node.id,
      type: 'step',
      position: positions.get(node.id) ?? { x: 0, y: 0 },
      data: { node },
      draggable: false,
      connectable: false,
      ariaLabel: `${node.id}: ${node.status}, ${formatTokens(node.tokens)} tokens, ${formatUsd(node.usd)}`,
    }));
    const flowEdges: Edge[] = edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      target: edge.target,
      animated: edge.kind === 'data',
      className: `edge-${edge.kind}`,
    }));
    return { flowNodes, flowEdges };
  }, [nodes, edges]);

  const container = useRef<HTMLDivElement>(null);
  const nodeKey = nodes.map((node) => node.id).join('|');
  // Taller for deeper trees, so that a fitted graph stays legible.
  const ranks = useMemo(() => {
    const byId = new Map(nodes.map((node) => [node.id, node]));
    const depth = (node: GraphNode): number => {
      let levels = 1;
      for (let parent = node.parent; parent !== null && levels <= nodes.length; levels++) parent = byId.get(parent)?.parent ?? null;
      return levels;
    };
    return Math.max(1, ...nodes.map(depth));
  }, [nodes]);
  const height = Math.min(560, Math.max(300, 110 + ranks * 90));

  return (
    <div className="flow" aria-label="Workflow graph" role="region" ref={container} style={{ height }}>
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={FIT}
        minZoom={0.1}
        nodesConnectable={false}
        nodesDraggable={false}
      >
        <Background />
        <Controls showInteractive={false} fitViewOptions={FIT} />
        <FitOnChange nodeKey={nodeKey} container={container} />
      </ReactFlow>
    </div>
  );
}
