/**
 * The workflow strategies as lab architectures (single, vote, refine, thread, search, debate, solo, cascade),
 * run through the workflow executor exactly as `thicket solve --strategy` runs it. Also the workflow plumbing
 * the governed architectures share with them: the operators per suite corpus and the tool-use counts of a trace.
 *
 * Names may carry a parameter: `vote@5` (samples), `refine@3` (rounds), `thread@12` / `search@4` (steps),
 * `debate@4` (agents). Without one, the main knob scales with the budget B (in tokens) the way a user would
 * set it for that cap: vote samples B/450 (3–15), refine rounds B/1500 (1–4), thread steps B/250 (4–24),
 * search steps B/700 (1–6), debate 3 agents × B/3000 rounds (1–3), cascade first-stage samples B/450 (3–5).
 * The hard cap is enforced by the ledger either way; the knob only decides how the architecture plans to use it.
 */
import type { Retriever, TraceJson } from '../ops/index.ts';
import {
  defaultOperators,
  runWorkflow,
  budgetedStrategySpec,
  STRATEGY_KNOBS,
  type OperatorRegistry,
  type Strategy,
} from '../workflow/index.ts';
import type { ArchitectureDefinition, ArchitectureFamily } from './architecture-registry.ts';

const FAMILIES: Record<Strategy, ArchitectureFamily> = {
  single: 'single-agent',
  refine: 'single-agent',
  thread: 'single-agent',
  solo: 'single-agent',
  search: 'single-agent',
  vote: 'multi-agent',
  debate: 'multi-agent',
  cascade: 'cascade',
};

const DESCRIPTIONS: Record<Strategy, string> = {
  single: 'one generation (temperature 0)',
  vote: 'width: independent samples, majority vote',
  refine: 'depth: draft → verify → critique → revise',
  thread: 'recursive subtask tree in one context (TIM)',
  search: 'retrieval tool loop over the suite corpus',
  debate: 'agents debating over rounds (all-to-all)',
  solo: 'one persona prompt simulating the debate (SPP)',
  cascade: 'cheapest model first, escalate on low agreement',
};

const operatorCache = new WeakMap<object, OperatorRegistry>();
const NO_RETRIEVER = {};

export function operatorsFor(retriever: Retriever | undefined): OperatorRegistry {
  const key = retriever ?? NO_RETRIEVER;
  let operators = operatorCache.get(key);
  if (!operators) operatorCache.set(key, (operators = defaultOperators(retriever ? { retriever } : {})));
  return operators;
}

/** Counts retrieval steps and all tool uses from a trace's events. */
export function toolUse(trace: TraceJson): { searchSteps: number; toolCalls: number } {
  let searchSteps = 0;
  let toolCalls = 0;
  for (const event of trace.events) {
    if (event.type !== 'tool') continue;
    toolCalls++;
    if (event.data['tool'] === 'retriever') searchSteps++;
  }
  return { searchSteps, toolCalls };
}

/** A named workflow strategy as a lab architecture. */
export function strategyArchitecture(strategy: Strategy): ArchitectureDefinition {
  const knob = STRATEGY_KNOBS[strategy];
  return {
    name: strategy,
    family: FAMILIES[strategy],
    description: DESCRIPTIONS[strategy],
    ...(knob ? { parameter: { name: knob.name, min: strategy === 'debate' ? 2 : 1, max: strategy === 'vote' ? 64 : 32 } } : {}),
    unsupported: (suite) =>
      suite.network
        ? 'network instances need a network architecture'
        : strategy === 'search' && !suite.retriever
          ? 'the suite has no corpus to search'
          : undefined,
    async run(input) {
      const spec = budgetedStrategySpec(strategy, {
        model: input.model,
        budgetTokens: input.budgetTokens,
        parameter: input.parameter,
        maxOutputTokens: input.maxOutputTokens,
        cascadeModels: input.cascadeModels,
      });
      const result = await runWorkflow({
        spec,
        query: input.task.prompt,
        fleet: input.fleet,
        budget: input.budget,
        operators: operatorsFor(input.suite.retriever),
        model: input.model,
        budgetPolicy: input.budgetPolicy,
        stepPrefix: input.stepPrefix,
        taskId: input.task.id,
        ...(input.journal ? { journal: input.journal } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      return {
        answer: result.answer,
        reply: result.answeredBy === undefined ? undefined : result.nodes[result.answeredBy]?.result?.text,
        status: result.status,
        graph: result.trace.graph,
        ...toolUse(result.trace),
        degraded: result.degraded.length,
        simulated: result.simulated,
      };
    },
  };
}
