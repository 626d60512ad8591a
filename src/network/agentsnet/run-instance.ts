/**
 * One AgentsNet instance end to end: prompts → runNetwork → exact score, solved, per-agent verdicts and
 * error propagation, plus what it cost (calls, tokens, dollars, wall and clock time).
 */
import { CALL_PURPOSE } from '../../formats/index.ts';
import type { Budget, BudgetLimits } from '../../budget/index.ts';
import type { CallRecorder, Fleet } from '../../models/index.ts';
import { runNetwork, type HistoryMode, type NetworkProgress, type NetworkProtocol } from '../runtime.ts';
import type { TaskInstance } from './instances.ts';
import { agentsNetPrompts } from './prompts.ts';
import { agentVerdicts, scoreTask, type TaskId } from './score.ts';
import { TASKS } from './tasks.ts';

export interface InstanceRunOptions {
  fleet: Fleet;
  budget: Budget;
  /** One reference, or several assigned round-robin over the nodes (a mixed fleet). */
  model: string | readonly string[];
  protocol?: NetworkProtocol;
  history?: HistoryMode;
  /** Prefix of step ids (unique per run and configuration, so a resumed run replays the right calls). */
  stepId: string;
  concurrency?: number;
  maxOutputTokens?: number;
  agentBudget?: BudgetLimits;
  recorder?: CallRecorder;
  signal?: AbortSignal;
  chainOfThought?: boolean;
  onProgress?: (progress: NetworkProgress) => void;
}

export interface InstanceResult {
  task: TaskId;
  graph: string;
  family: string;
  size: number;
  sample: number;
  diameter: number;
  rounds: number;
  protocol: NetworkProtocol;
  history: string;
  score: number;
  solved: boolean;
  /** Share of agents whose answer failed the specification and who still held a claim that reached them wrong. */
  errorPropagation: number;
  agentsCorrect: number;
  roundsToAgreement: number | null;
  answers: Array<string | null>;
  calls: number;
  replayedCalls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  wallMs: number;
  /** Time on the fleet's clock (virtual, i.e. simulated latency, for `sim:` runs). */
  clockMs: number;
  messagesDelivered: number;
  messageRetries: number;
  messageFailures: number;
  answerRetries: number;
  answerFailures: number;
  callErrors: number;
  budgetExhaustedAgents: number;
  wrongClaimsDelivered: number;
  flagsRaised: number;
  simulated: boolean;
  /** Taken from the journal of an earlier invocation of the same run (no calls made, not even replayed). */
  reused: boolean;
}

export async function runInstance(instance: TaskInstance, options: InstanceRunOptions): Promise<InstanceResult> {
  const protocol = options.protocol ?? 'plain';
  const prompts = agentsNetPrompts({
    task: instance.task,
    agentCount: instance.size,
    rounds: instance.rounds,
    groups: instance.groups,
    protocol,
    ...(options.chainOfThought !== undefined ? { chainOfThought: options.chainOfThought } : {}),
  });
  const model =
    typeof options.model === 'string' ? options.model : instance.names.map((_, index) => options.model[index % options.model.length]!);
  const spec = TASKS[instance.task];
  const wallStart = performance.now();
  const clockStart = options.fleet.clock.now();
  const run = await runNetwork({
    fleet: options.fleet,
    budget: options.budget,
    graph: instance.graph,
    names: instance.names,
    model,
    rounds: instance.rounds,
    prompts,
    protocol,
    history: options.history ?? { kind: 'persistent' },
    stepId: options.stepId,
    purpose: CALL_PURPOSE.agentsnet,
    operator: 'agentsnet',
    tracking: { decision: spec.decision, ...(spec.networkClaimTruth ? { networkClaimTruth: spec.networkClaimTruth } : {}) },
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
    ...(options.agentBudget ? { agentBudget: options.agentBudget } : {}),
    ...(options.recorder ? { recorder: options.recorder } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const score = scoreTask(instance.task, instance.graph, instance.names, run.answers, instance.groups);
  const verdicts = agentVerdicts(instance.task, instance.graph, instance.names, run.answers, instance.groups);
  const propagated = verdicts.filter((ok, index) => !ok && run.heldWrongClaim[index]).length;
  return {
    task: instance.task,
    graph: instance.id,
    family: instance.family,
    size: instance.size,
    sample: instance.sample,
    diameter: instance.diameter,
    rounds: instance.rounds,
    protocol,
    history: run.history,
    score,
    solved: score === 1,
    errorPropagation: propagated / instance.size,
    agentsCorrect: verdicts.filter(Boolean).length / instance.size,
    roundsToAgreement: run.roundsToAgreement,
    answers: run.answers,
    calls: run.calls,
    replayedCalls: run.replayedCalls,
    inputTokens: run.usage.inputTokens,
    outputTokens: run.usage.outputTokens,
    usd: run.usage.usd,
    wallMs: performance.now() - wallStart,
    clockMs: options.fleet.clock.now() - clockStart,
    messagesDelivered: run.messagesDelivered,
    messageRetries: run.messageRetries,
    messageFailures: run.messageFailures,
    answerRetries: run.answerRetries,
    answerFailures: run.answerFailures,
    callErrors: run.callErrors,
    budgetExhaustedAgents: run.budgetExhaustedAgents.length,
    wrongClaimsDelivered: run.wrongClaimsDelivered,
    flagsRaised: run.flagsRaised,
    simulated: run.simulated,
    reused: false,
  };
}
