/**
 * Capability nodes: a node may name a capability need (`capability: { need, require?, forbid?, … }`) instead
 * of a model. The workflow layer sits below the registry, so it never discovers anything itself: the caller
 * passes `resolveCapability` (the CLI backs it with the registry), and the executor calls it when the node
 * starts, with the run's policy merged into the node's constraints and the node's remaining dollars as a cost
 * cap. The choice is recorded in the trace (`capability-bound`), the step's journal input and the node record.
 *
 * Policy is a hard filter end to end: when no resolver was given, nothing qualifies, or what came back is not
 * callable or visibly outside the policy, the node fails with CapabilityUnresolvedError
 * (code CAPABILITY_UNRESOLVED) — it never falls back to a default model.
 */
import { ThicketError, type InputIssue } from '../core/index.ts';
import type { CapabilityNeed } from './spec.ts';

/** Run-level constraints every capability node must also satisfy (e.g. `solve --forbid may-use-network`). */
export interface CapabilityPolicy {
  require?: readonly string[];
  forbid?: readonly string[];
  providers?: readonly string[];
  maxCostPerCall?: number;
  maxLatencyMs?: number;
}

/** What the resolver must satisfy: the node's need with the run's policy merged in (see mergeCapabilityConstraints). */
export interface CapabilityRequest {
  need: string;
  require: string[];
  forbid: string[];
  /** Allowed providers: the intersection of the node's and the run's lists; absent = any. */
  providers?: string[];
  maxCostPerCall?: number;
  maxLatencyMs?: number;
}

export interface CapabilityResolveContext {
  nodeId: string;
  /** The node's own constraints and the run's policy, before merging (for explanations). */
  node: CapabilityNeed;
  runPolicy: CapabilityPolicy;
  /** Dollars the node's budget slice can still spend (undefined: no dollar limit on its path). */
  remainingUsd: number | undefined;
  signal?: AbortSignal;
}

/** The chosen capability. `model` is the fleet reference the node's operator will call. */
export interface CapabilityBinding {
  model: string;
  cardId: string;
  version: string;
  score: number;
  explanation: unknown;
  /** The card's policy labels and expected dollars per call, when the resolver knows them: checked again here. */
  labels?: readonly string[];
  costPerCall?: number;
}

export type CapabilityResolver = (request: CapabilityRequest, context: CapabilityResolveContext) => Promise<CapabilityBinding>;

export type CapabilityUnresolvedReason =
  'no-resolver' | 'no-match' | 'not-executable' | 'model-unavailable' | 'outside-policy' | 'no-registry';

/** A capability node could not be bound to something it may call. Stable code CAPABILITY_UNRESOLVED (exit 2). */
export class CapabilityUnresolvedError extends ThicketError {
  /** One entry per node that could not be bound (path `nodes.<id>.capability`); printed by the CLI with --json. */
  readonly issues: InputIssue[];
  constructor(
    readonly nodeId: string,
    readonly need: string,
    readonly reason: CapabilityUnresolvedReason,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'CAPABILITY_UNRESOLVED',
      `Node "${nodeId}" needs a capability for "${need}" but none could be bound (${reason}): ${detail}`,
      'bad_input',
      options,
    );
    this.name = 'CapabilityUnresolvedError';
    this.issues = [{ path: `nodes.${nodeId}.capability`, message: `${reason}: ${detail}` }];
  }

  /** Several nodes' failures as one error (every node listed), e.g. from preflightCapabilities. */
  static of(errors: readonly CapabilityUnresolvedError[]): CapabilityUnresolvedError {
    if (errors.length === 1) return errors[0]!;
    const first = errors[0]!;
    const combined = new CapabilityUnresolvedError(first.nodeId, first.need, first.reason, '', { cause: first });
    combined.message = `${errors.length} capability nodes could not be bound: ${errors.map((error) => error.message).join(' | ')}`;
    combined.issues.splice(0, 1, ...errors.flatMap((error) => error.issues));
    return combined;
  }
}

const union = (left: readonly string[] | undefined, right: readonly string[] | undefined): string[] =>
  [...new Set([...(left ?? []), ...(right ?? [])])].sort();
const tighter = (...values: Array<number | undefined>): number | undefined => {
  const given = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  return given.length === 0 ? undefined : Math.min(...given);
};

/**
 * The node's constraints with the run's policy merged in: labels required by either are required, labels
 * forbidden by either are forbidden, providers must be allowed by both, and every limit takes the tighter
 * value — including the node's remaining dollars, since a capability whose expected cost per call exceeds
 * what the node can still spend could not complete even one call. Throws (no-match) when the two provider
 * lists share nothing or a label is both required and forbidden: nothing could ever qualify.
 */
export function mergeCapabilityConstraints(
  nodeId: string,
  need: CapabilityNeed,
  policy: CapabilityPolicy = {},
  remainingUsd?: number,
): CapabilityRequest {
  const require = union(need.require, policy.require);
  const forbid = union(need.forbid, policy.forbid);
  const both = require.filter((label) => forbid.includes(label));
  if (both.length > 0)
    throw new CapabilityUnresolvedError(
      nodeId,
      need.need,
      'no-match',
      `label(s) ${both.join(', ')} are both required and forbidden (node and run policy merged)`,
    );
  let providers: string[] | undefined;
  if (need.providers !== undefined && policy.providers !== undefined) {
    providers = need.providers.filter((provider) => policy.providers!.includes(provider));
    if (providers.length === 0)
      throw new CapabilityUnresolvedError(
        nodeId,
        need.need,
        'no-match',
        `the node allows providers ${need.providers.join(', ')} but the run allows only ${policy.providers.join(', ')}`,
      );
  } else if (need.providers !== undefined || policy.providers !== undefined) providers = [...(need.providers ?? policy.providers!)];
  const maxCostPerCall = tighter(need.maxCostPerCall, policy.maxCostPerCall, remainingUsd);
  const maxLatencyMs = tighter(need.maxLatencyMs, policy.maxLatencyMs);
  return {
    need: need.need,
    require,
    forbid,
    ...(providers !== undefined ? { providers } : {}),
    ...(maxCostPerCall !== undefined ? { maxCostPerCall } : {}),
    ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
  };
}

/**
 * Calls the resolver for one node and checks what came back against the merged constraints it knows about
 * (labels and cost when the binding reports them) and against `canCall` (e.g. the fleet resolving the model).
 * Every failure is a CapabilityUnresolvedError; cancellation passes through unchanged.
 */
export async function bindCapability(
  nodeId: string,
  need: CapabilityNeed,
  options: {
    resolver: CapabilityResolver | undefined;
    policy?: CapabilityPolicy;
    remainingUsd?: number;
    signal?: AbortSignal;
    canCall?: (model: string) => string | undefined;
  },
): Promise<{ binding: CapabilityBinding; request: CapabilityRequest }> {
  const policy = options.policy ?? {};
  if (options.resolver === undefined) {
    throw new CapabilityUnresolvedError(
      nodeId,
      need.need,
      'no-resolver',
      'this run was given no capability resolver (e.g. no capability registry); capability nodes never fall back to a default model',
    );
  }
  const request = mergeCapabilityConstraints(nodeId, need, policy, options.remainingUsd);
  let binding: CapabilityBinding;
  try {
    binding = await options.resolver(request, {
      nodeId,
      node: need,
      runPolicy: policy,
      remainingUsd: options.remainingUsd,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof CapabilityUnresolvedError || (ThicketError.isInstance(error) && error.category === 'cancelled')) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CapabilityUnresolvedError(nodeId, need.need, 'no-match', message, { cause: error });
  }
  const problems: string[] = [];
  if (binding.labels !== undefined) {
    const missing = request.require.filter((label) => !binding.labels!.includes(label));
    const forbidden = request.forbid.filter((label) => binding.labels!.includes(label));
    if (missing.length > 0) problems.push(`lacks required label(s) ${missing.join(', ')}`);
    if (forbidden.length > 0) problems.push(`carries forbidden label(s) ${forbidden.join(', ')}`);
  }
  if (request.maxCostPerCall !== undefined && binding.costPerCall !== undefined && binding.costPerCall > request.maxCostPerCall) {
    problems.push(`costs ${binding.costPerCall} $/call, more than the ${request.maxCostPerCall} allowed`);
  }
  if (problems.length > 0)
    throw new CapabilityUnresolvedError(
      nodeId,
      need.need,
      'outside-policy',
      `the resolver returned ${binding.cardId}@${binding.version}, which ${problems.join('; ')}`,
    );
  const unavailable = options.canCall?.(binding.model);
  if (unavailable !== undefined)
    throw new CapabilityUnresolvedError(
      nodeId,
      need.need,
      'model-unavailable',
      `${binding.cardId}@${binding.version} binds model "${binding.model}", which this fleet cannot call: ${unavailable}`,
    );
  return { binding, request };
}

/**
 * Binds every capability node that will run, before anything runs — for callers that must reject a run whose
 * capabilities cannot be bound before they write anything (the CLI checks this before opening the journal).
 * All nodes are tried, and every failure is listed. The executor still binds each node again when it starts,
 * under its own budget slice, so these bindings are a check and a preview, not a pin.
 */
export async function preflightCapabilities(
  nodes: ReadonlyArray<{ id: string; capability: CapabilityNeed | undefined; reachable: boolean }>,
  options: {
    resolver: CapabilityResolver | undefined;
    policy?: CapabilityPolicy;
    remainingUsd?: number;
    signal?: AbortSignal;
    canCall?: (model: string) => string | undefined;
  },
): Promise<Record<string, CapabilityBinding>> {
  const bound: Record<string, CapabilityBinding> = {};
  const failures: CapabilityUnresolvedError[] = [];
  for (const node of nodes) {
    if (node.capability === undefined || !node.reachable) continue;
    try {
      bound[node.id] = (await bindCapability(node.id, node.capability, options)).binding;
    } catch (error) {
      if (!(error instanceof CapabilityUnresolvedError)) throw error;
      failures.push(error);
    }
  }
  if (failures.length > 0) throw CapabilityUnresolvedError.of(failures);
  return bound;
}
