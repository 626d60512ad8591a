/**
 * Validation: a spec reaches the executor only through here. It lists EVERY problem with its JSON path —
 * schema issues (zod), graph issues (duplicate ids, unknown or self references, cycles named node by node,
 * a missing output), operator-specific wiring, unavailable operators and unbindable models — and enforces
 * hard limits so a generated spec cannot become a budget bomb (node count, longest path, fan-out/fan-in,
 * per-node samples/steps/agents/rounds, and the total number of model calls the spec can make).
 *
 * Decisions: nodes that do not feed the output are allowed but pruned (a warning; they never run and are
 * not estimated) — they cannot change the answer, so running them would only spend budget. A spec with more
 * nodes than `maxNodes` is rejected on that alone, without running the other checks (validation itself must
 * not be a CPU bomb).
 */
import { InvalidInputError, structureProblem, type InputIssue } from '../core/index.ts';
import { zodIssues, type Fleet } from '../models/index.ts';
import { QUERY, analyseGraph, reachingOutput, type GraphInput, type LooseNode } from './graph.ts';
import { maxCalls } from './plan.ts';
import {
  DEFAULT_MAX_OUTPUT,
  MODEL_FREE_OPS,
  workflowNodeSchema,
  workflowSpecSchema,
  type CapabilityNeed,
  type OpName,
  type Tier,
  type WorkflowNode,
  type WorkflowSpec,
} from './spec.ts';
import { placeholders } from './template.ts';

export interface WorkflowLimits {
  maxNodes: number;
  /** Nodes on the longest path. */
  maxDepth: number;
  /** Nodes taking one node's output. */
  maxFanOut: number;
  /** Distinct upstream nodes of one node. */
  maxFanIn: number;
  /** Σ over nodes of the model calls each can make (samples × rounds × agents × steps …). */
  maxTotalSamples: number;
  maxSamplesPerNode: number;
  /** thread/search steps per node. */
  maxStepsPerNode: number;
  maxDebateAgents: number;
  maxDebateRounds: number;
  maxRefineRounds: number;
}

/** For hand-written specs. */
export const DEFAULT_WORKFLOW_LIMITS: Readonly<WorkflowLimits> = Object.freeze({
  maxNodes: 10_000,
  maxDepth: 1_000,
  maxFanOut: 10_000,
  maxFanIn: 10_000,
  maxTotalSamples: 100_000,
  maxSamplesPerNode: 1_000,
  maxStepsPerNode: 1_000,
  maxDebateAgents: 64,
  maxDebateRounds: 20,
  maxRefineRounds: 20,
});

/** A stricter preset for specs a planner generated per query. */
export const GENERATED_WORKFLOW_LIMITS: Readonly<WorkflowLimits> = Object.freeze({
  maxNodes: 64,
  maxDepth: 16,
  maxFanOut: 16,
  maxFanIn: 16,
  maxTotalSamples: 512,
  maxSamplesPerNode: 64,
  maxStepsPerNode: 64,
  maxDebateAgents: 8,
  maxDebateRounds: 5,
  maxRefineRounds: 5,
});

export type WorkflowIssueCode =
  | 'schema'
  | 'duplicate-id'
  | 'unknown-input'
  | 'self-input'
  | 'cycle'
  | 'output'
  | 'wiring'
  | 'template'
  | 'limit'
  | 'operator-unavailable'
  | 'model'
  | 'capability'
  | 'unreachable';

export interface WorkflowIssue extends InputIssue {
  code: WorkflowIssueCode;
}

/** A rejected spec: every issue with its JSON path and a code. `code` is INVALID_INPUT. */
export class InvalidWorkflowError extends InvalidInputError {
  override readonly issues: readonly WorkflowIssue[];
  constructor(issues: readonly WorkflowIssue[]) {
    super('Invalid workflow spec', issues);
    this.name = 'InvalidWorkflowError';
    this.issues = issues;
  }
  /** Operators the spec uses that the runtime's registry lacks. */
  get unavailableOperators(): string[] {
    return [
      ...new Set(
        this.issues.filter((issue) => issue.code === 'operator-unavailable').map((issue) => issue.message.match(/"([^"]+)"/)?.[1] ?? ''),
      ),
    ];
  }
}

export interface ValidateOptions {
  limits?: Partial<WorkflowLimits>;
  /** Operator registry (or its op names): nodes using an op it lacks are rejected. */
  operators?: Partial<Record<OpName, unknown>> | readonly string[];
  /** Default model for nodes that name none (after the spec's `defaults.model`). */
  model?: string;
  tierModels?: Partial<Record<Tier, string>>;
  /** Require every model-calling node to have a model (the executor and estimator need one). */
  requireModels?: boolean;
  /** Check that every model reference resolves in this fleet. */
  fleet?: Fleet;
}

export interface CompiledNode {
  index: number;
  id: string;
  op: OpName;
  node: WorkflowNode;
  /** Bound model (undefined for model-free ops, capability nodes — bound at run time — or when models are not required). */
  model: string | undefined;
  /** The node's capability need, when it names one instead of a model. */
  capability: CapabilityNeed | undefined;
  maxOutputTokens: number;
  inputs: GraphInput[];
  upstream: number[];
  downstream: number[];
  /** Feeds the output (others are pruned). */
  reachable: boolean;
}

export interface ValidatedWorkflow {
  spec: WorkflowSpec;
  nodes: CompiledNode[];
  byId: Map<string, CompiledNode>;
  /** Topological order of the reachable nodes. */
  order: number[];
  output: number;
  depth: number;
  /** Σ maxCalls over reachable nodes. */
  totalCalls: number;
  warnings: WorkflowIssue[];
  options: ValidateOptions;
}

export function validateWorkflow(value: unknown, options: ValidateOptions = {}): ValidatedWorkflow {
  const { workflow, issues } = checkWorkflow(value, options);
  if (!workflow) throw new InvalidWorkflowError(issues);
  return workflow;
}

/** Like validateWorkflow, but returns the issues instead of throwing. */
export function checkWorkflow(
  value: unknown,
  options: ValidateOptions = {},
): { workflow: ValidatedWorkflow | undefined; issues: WorkflowIssue[]; warnings: WorkflowIssue[] } {
  const limits = { ...DEFAULT_WORKFLOW_LIMITS, ...options.limits };
  const issues: WorkflowIssue[] = [];
  const warnings: WorkflowIssue[] = [];
  const add = (list: WorkflowIssue[], code: WorkflowIssueCode, path: string, message: string): void =>
    void list.push({ code, path, message });
  // Nesting and size first, without recursion: every check below (zod, the graph walk) would otherwise be
  // the first thing a 50,000-deep spec overflows.
  const shape = structureProblem(value);
  if (shape !== undefined) {
    add(issues, 'limit', '', `the spec ${shape}`);
    return { workflow: undefined, issues, warnings };
  }
  const raw = (value !== null && typeof value === 'object' ? value : {}) as { nodes?: unknown; output?: unknown };
  const rawNodes: unknown[] = Array.isArray(raw.nodes) ? raw.nodes : [];
  if (rawNodes.length > limits.maxNodes) {
    add(issues, 'limit', 'nodes', `${rawNodes.length} nodes, limit ${limits.maxNodes} (maxNodes)`);
    return { workflow: undefined, issues, warnings };
  }

  const parsed = workflowSpecSchema.safeParse(value);
  if (!parsed.success) for (const issue of zodIssues(parsed.error)) add(issues, 'schema', issue.path, issue.message);
  // Typed nodes for the per-node checks: all of them when the spec parsed, else those that parse alone.
  const typed: Array<WorkflowNode | undefined> = parsed.success
    ? parsed.data.nodes
    : rawNodes.map((node) => {
        const one = workflowNodeSchema.safeParse(node);
        return one.success ? one.data : undefined;
      });

  const graph = analyseGraph(rawNodes as LooseNode[]);
  for (const [index, first] of graph.duplicates)
    add(issues, 'duplicate-id', `nodes[${index}].id`, `duplicate id "${graph.ids[index]}" (also nodes[${first}])`);
  for (const [index, name, ref] of graph.unknownRefs)
    add(
      issues,
      'unknown-input',
      `nodes[${index}].inputs.${name}`,
      `"${ref}" names no node (known: query, ${[...graph.indexOf.keys()].slice(0, 20).join(', ')})`,
    );
  for (const [index, name] of graph.selfRefs)
    add(issues, 'self-input', `nodes[${index}].inputs.${name}`, 'a node cannot take its own output');
  for (const cycle of graph.cycles)
    add(issues, 'cycle', `nodes[${cycle[0]}].inputs`, `cycle: ${cycle.map((index) => graph.ids[index]).join(' → ')}`);
  for (const index of graph.indexOf.values())
    if (graph.ids[index] === 'query') add(issues, 'schema', `nodes[${index}].id`, '"query" is reserved for the query');
  const output = typeof raw.output === 'string' ? graph.indexOf.get(raw.output) : undefined;
  if (typeof raw.output === 'string' && output === undefined) add(issues, 'output', 'output', `"${raw.output}" names no node`);

  const reached = reachingOutput(graph, output ?? -1);
  if (output !== undefined && graph.cycles.length === 0) {
    for (let index = 0; index < rawNodes.length; index++)
      if (!reached[index])
        add(
          warnings,
          'unreachable',
          `nodes[${index}]`,
          `"${graph.ids[index]}" does not feed the output "${graph.ids[output]}"; it will not run`,
        );
  }

  // Structural limits.
  if (graph.depth > limits.maxDepth)
    add(issues, 'limit', 'nodes', `longest path has ${graph.depth} nodes, limit ${limits.maxDepth} (maxDepth)`);
  for (let index = 0; index < rawNodes.length; index++) {
    if (graph.downstream[index]!.length > limits.maxFanOut)
      add(
        issues,
        'limit',
        `nodes[${index}]`,
        `${graph.downstream[index]!.length} nodes take its output, limit ${limits.maxFanOut} (maxFanOut)`,
      );
    if (graph.upstream[index]!.length > limits.maxFanIn)
      add(
        issues,
        'limit',
        `nodes[${index}].inputs`,
        `${graph.upstream[index]!.length} upstream nodes, limit ${limits.maxFanIn} (maxFanIn)`,
      );
  }

  // Per-node checks on typed nodes: wiring, templates, parameter limits, operators, models.
  const available =
    options.operators === undefined
      ? undefined
      : new Set(Array.isArray(options.operators) ? options.operators : Object.keys(options.operators));
  const defaultModel = parsed.success ? (parsed.data.defaults?.model ?? options.model) : options.model;
  const defaultMax = parsed.success ? (parsed.data.defaults?.maxOutputTokens ?? DEFAULT_MAX_OUTPUT) : DEFAULT_MAX_OUTPUT;
  const resolves = modelChecker(options.fleet);
  let totalCalls = 0;
  const models: Array<string | undefined> = new Array<string | undefined>(rawNodes.length);
  typed.forEach((node, index) => {
    if (!node) return;
    const at = `nodes[${index}]`;
    if (reached[index]) totalCalls += maxCalls(node);
    const names = Object.keys(node.inputs ?? {});
    const nodeInputs = graph.inputs[index]!.filter((input) => input.from !== QUERY);
    if (node.inputs?.['query'] !== undefined && node.inputs['query'] !== 'query')
      add(issues, 'wiring', `${at}.inputs.query`, 'the input name "query" is reserved for the query');
    if (node.op === 'verify' && node.inputs?.['candidate'] === undefined)
      add(issues, 'wiring', `${at}.inputs`, 'verify needs a "candidate" input');
    if (node.op === 'aggregate' && nodeInputs.length === 0 && graph.unknownRefs.every(([from]) => from !== index))
      add(issues, 'wiring', `${at}.inputs`, 'aggregate needs at least one node input');
    if (node.op !== 'aggregate') {
      for (const field of ['system', 'prompt'] as const) {
        const template = node.params[field];
        if (template === undefined) continue;
        for (const name of placeholders(template))
          if (name !== 'query' && !names.includes(name))
            add(
              issues,
              'template',
              `${at}.params.${field}`,
              `{{${name}}} is neither "query" nor an input (${names.join(', ') || 'none declared'})`,
            );
      }
    }
    const over = (path: string, value: number, limit: number, key: keyof WorkflowLimits): void => {
      if (value > limit) add(issues, 'limit', `${at}.params.${path}`, `${value} exceeds ${key} ${limit}`);
    };
    if (node.op === 'sample') over('samples', node.params.samples, limits.maxSamplesPerNode, 'maxSamplesPerNode');
    if (node.op === 'cascade')
      node.params.stages.forEach((stage, stageIndex) =>
        over(`stages[${stageIndex}].samples`, stage.samples ?? 1, limits.maxSamplesPerNode, 'maxSamplesPerNode'),
      );
    if (node.op === 'thread' && node.params.maxSteps !== undefined)
      over('maxSteps', node.params.maxSteps, limits.maxStepsPerNode, 'maxStepsPerNode');
    if (node.op === 'search') over('maxSteps', node.params.maxSteps, limits.maxStepsPerNode, 'maxStepsPerNode');
    if (node.op === 'debate') {
      over('agents', node.params.agents, limits.maxDebateAgents, 'maxDebateAgents');
      over('rounds', node.params.rounds, limits.maxDebateRounds, 'maxDebateRounds');
    }
    if (node.op === 'refine') over('rounds', node.params.rounds, limits.maxRefineRounds, 'maxRefineRounds');
    if (available && !available.has(node.op))
      add(
        issues,
        'operator-unavailable',
        `${at}.op`,
        `operator "${node.op}" is not available in this runtime (available: ${[...available].join(', ') || 'none'})`,
      );

    // A capability need stands in for the model: exactly one of them where a model is needed, and none on a
    // node that calls no model or names its models itself (cascade stages). It is bound at run time, so
    // validation needs no resolver.
    const capability = node.capability;
    if (capability !== undefined) {
      if (node.model !== undefined) add(issues, 'capability', `${at}.capability`, 'give either model or capability, not both');
      if (node.tier !== undefined) add(issues, 'capability', `${at}.capability`, 'give either tier or capability, not both');
      if (MODEL_FREE_OPS.has(node.op)) add(issues, 'capability', `${at}.capability`, `${node.op} makes no model call; remove capability`);
      if (node.op === 'cascade')
        add(
          issues,
          'capability',
          `${at}.capability`,
          'a cascade names its models per stage (params.stages[].model); capability is not supported on cascade nodes',
        );
      models[index] = undefined;
      if ('verifierModel' in node.params && node.params.verifierModel !== undefined)
        resolves(node.params.verifierModel, `${at}.params.verifierModel`, issues);
      return;
    }
    // Model binding: node model, else its tier's model, else the spec's/caller's default.
    const tierModel = node.tier === undefined ? undefined : options.tierModels?.[node.tier];
    if (node.tier !== undefined && node.model === undefined && tierModel === undefined && defaultModel !== undefined)
      add(warnings, 'model', `${at}.tier`, `no model bound to tier "${node.tier}"; using ${defaultModel}`);
    // A cascade names its models per stage; its first stage stands for it where one model is needed.
    const stageModel = node.op === 'cascade' ? node.params.stages[0]?.model : undefined;
    const model = MODEL_FREE_OPS.has(node.op) ? undefined : (node.model ?? tierModel ?? defaultModel ?? stageModel);
    models[index] = model;
    if (model === undefined && !MODEL_FREE_OPS.has(node.op) && options.requireModels)
      add(
        issues,
        'model',
        `${at}.model`,
        'no model: set nodes[].model or nodes[].capability, a tier bound by the caller, defaults.model, or a default model',
      );
    if (model !== undefined)
      resolves(
        model,
        node.model !== undefined ? `${at}.model` : node.tier !== undefined && tierModel !== undefined ? `${at}.tier` : 'defaults.model',
        issues,
      );
    if ('verifierModel' in node.params && node.params.verifierModel !== undefined)
      resolves(node.params.verifierModel, `${at}.params.verifierModel`, issues);
    if (node.op === 'cascade')
      node.params.stages.forEach((stage, stageIndex) => resolves(stage.model, `${at}.params.stages[${stageIndex}].model`, issues));
  });
  if (totalCalls > limits.maxTotalSamples)
    add(
      issues,
      'limit',
      'nodes',
      `the spec can make ${totalCalls} model calls (Σ samples × rounds × agents × steps), limit ${limits.maxTotalSamples} (maxTotalSamples)`,
    );

  if (issues.length > 0 || !parsed.success || output === undefined || !graph.order)
    return { workflow: undefined, issues: dedupe(issues), warnings };
  const spec = parsed.data;
  const nodes: CompiledNode[] = spec.nodes.map((node, index) => ({
    index,
    id: node.id,
    op: node.op,
    node,
    model: models[index],
    capability: node.capability,
    maxOutputTokens: (node.op === 'aggregate' ? undefined : node.params.maxOutputTokens) ?? defaultMax,
    inputs: graph.inputs[index]!,
    upstream: graph.upstream[index]!,
    downstream: graph.downstream[index]!,
    reachable: reached[index] === 1,
  }));
  const workflow: ValidatedWorkflow = {
    spec,
    nodes,
    byId: new Map(nodes.map((node) => [node.id, node])),
    order: graph.order.filter((index) => reached[index] === 1),
    output,
    depth: graph.depth,
    totalCalls,
    warnings,
    options,
  };
  return { workflow, issues, warnings };
}

/** Same spec with some nodes replaced (params only; the graph is unchanged). Used by the `scale` policy. */
export function withNodes(workflow: ValidatedWorkflow, replaced: ReadonlyMap<number, WorkflowNode>): ValidatedWorkflow {
  if (replaced.size === 0) return workflow;
  const nodes = workflow.nodes.map((compiled) => {
    const node = replaced.get(compiled.index);
    return node ? { ...compiled, node } : compiled;
  });
  const spec = { ...workflow.spec, nodes: nodes.map((compiled) => compiled.node) };
  const totalCalls = nodes.reduce((sum, compiled) => sum + (compiled.reachable ? maxCalls(compiled.node) : 0), 0);
  return { ...workflow, spec, nodes, byId: new Map(nodes.map((node) => [node.id, node])), totalCalls };
}

function modelChecker(fleet: Fleet | undefined): (reference: string, path: string, issues: WorkflowIssue[]) => void {
  const known = new Map<string, string | undefined>();
  return (reference, path, issues) => {
    if (!fleet) return;
    if (!known.has(reference)) {
      try {
        fleet.model(reference);
        known.set(reference, undefined);
      } catch (error) {
        known.set(reference, error instanceof Error ? error.message : String(error));
      }
    }
    const problem = known.get(reference);
    if (problem !== undefined) issues.push({ code: 'model', path, message: problem });
  };
}

function dedupe(issues: WorkflowIssue[]): WorkflowIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
