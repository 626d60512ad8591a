/**
 * Test helpers for the governor (not exported from index.ts): a simulated fleet on a VirtualClock with
 * registered tasks, a call log that sees every provider call (purpose, step id, model) so tests can assert
 * what ran and what did not, and a scripted planner model (`fake:planner`) that returns given spec texts in
 * order — the way to put an exact invalid, cyclic or over-limit spec in front of the governor.
 */
import { VirtualClock, normalizeAnswer } from '../core/index.ts';
import { Ledger, type BudgetLimits } from '../budget/index.ts';
import {
  Fleet,
  FleetResolver,
  MODEL_SPEC_VERSION,
  TaskOracleRegistry,
  type GenerateRequest,
  type GenerateResponse,
  type ModelResolver,
  type ResolvedModel,
  type SimTask,
} from '../models/index.ts';

export interface LoggedCall {
  model: string;
  purpose: string;
  stepId: string;
  /** The last user message (what feedback a planner was shown). */
  lastUser: string;
}

export interface GovernorHarness {
  fleet: Fleet;
  clock: VirtualClock;
  tasks: TaskOracleRegistry;
  calls: LoggedCall[];
  /** A fresh root ledger on the harness clock. */
  ledger(limits?: BudgetLimits): Ledger;
  isCorrect(task: SimTask, answer: string | undefined): boolean;
}

export interface HarnessOptions {
  tasks?: readonly SimTask[];
  seed?: number;
  /** Spec texts `fake:planner` returns, in order (the last one repeats). */
  plannerReplies?: readonly string[];
}

export function governorHarness(options: HarnessOptions = {}): GovernorHarness {
  const seed = options.seed ?? 11;
  const clock = new VirtualClock();
  const tasks = new TaskOracleRegistry();
  if (options.tasks) tasks.registerTasks(options.tasks);
  const calls: LoggedCall[] = [];
  const base = new FleetResolver({ config: { version: 1, models: {} }, clock, seed, tasks });
  const replies = [...(options.plannerReplies ?? [])];
  let replyIndex = 0;
  const resolver: ModelResolver = {
    resolve(reference: string): ResolvedModel {
      if (reference === 'fake:planner') {
        return {
          provider: {
            specificationVersion: MODEL_SPEC_VERSION,
            providerId: 'fake',
            modelId: 'planner',
            async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
              log(calls, reference, request);
              const text = replies[Math.min(replyIndex++, replies.length - 1)] ?? '{}';
              return {
                text,
                usage: { inputTokens: 100, outputTokens: 50 },
                usageEstimated: false,
                finishReason: 'stop',
                latencyMs: 1,
                simulated: true,
              };
            },
          },
          profile: {
            reference,
            tier: 'small',
            priceInputPerMillion: 0.1,
            priceOutputPerMillion: 0.4,
            contextWindow: 200_000,
            reasoning: false,
            maxConcurrency: 4,
            timeoutMs: 60_000,
            simulated: true,
          },
          promptMargin: () => 0,
        };
      }
      const resolved = base.resolve(reference);
      const inner = resolved.provider;
      return {
        ...resolved,
        provider: {
          specificationVersion: inner.specificationVersion,
          providerId: inner.providerId,
          modelId: inner.modelId,
          doGenerate: (request) => {
            log(calls, reference, request);
            return inner.doGenerate(request);
          },
        },
      };
    },
  };
  const fleet = new Fleet({ resolver, clock, seed });
  return {
    fleet,
    clock,
    tasks,
    calls,
    ledger: (limits) => new Ledger({ clock, ...(limits ? { limits } : {}) }),
    isCorrect: (task, answer) => answer !== undefined && normalizeAnswer(answer) === normalizeAnswer(task.answer),
  };
}

function log(calls: LoggedCall[], model: string, request: GenerateRequest): void {
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  calls.push({ model, purpose: request.metadata?.tags?.['purpose'] ?? 'answer', stepId: request.metadata?.stepId ?? '', lastUser });
}
