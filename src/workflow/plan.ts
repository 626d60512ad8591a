/**
 * What each operator costs, statically: the model calls a node may make (its worst case) and is expected to
 * make, grouped by prompt size. Validation sums `maxCalls` against the hard limits; the estimator prices
 * `callPlan` groups with the fleet.
 *
 * Prompt growth is expressed in units of the node's max output tokens M: a debate round that shows an agent
 * its neighbours' previous answers has `worstExtra = neighbours × M`. Assumptions (documented here because
 * the operators that realise them are still being written — they must stay within these bounds):
 *   - sample: N answer calls; `verifier` adds N verify calls (prompt + one candidate), `usc` one call that
 *     sees all N samples. Adaptive sampling is expected to stop after ~60% of N.
 *   - verify: one call. refine: 1 + 3K calls (answer, then per round verify, critique, revise; the critique
 *     sees one draft, the revision a draft and a critique); expected to stop after ~half the rounds.
 *   - thread: maxSteps calls (default 8); step s sees at most s earlier outputs (worst case ignores pruning;
 *     the expected case keeps `buffer` of them). Expected to finish after ~60% of the steps.
 *   - search: maxSteps calls; step s sees its s earlier outputs and k passages of ≤ 256 tokens per step.
 *   - debate (multi): agents × rounds calls; round r shows each agent its own and its neighbours' answers of
 *     every earlier round (all-to-all: n−1 neighbours, ring: 2, star: hub n−1 / spokes 1). Solo mode: one
 *     persona call per round that sees the earlier rounds.
 *   - solo: one call. aggregate: no call.
 *   - cascade: Σ stage samples (+1 verify call per stage with signal `verifier`); stage i is expected to run
 *     with probability 2^−i (each stage escalates half the time).
 */
import type { WorkflowNode } from './spec.ts';

export const DEFAULT_THREAD_STEPS = 8;
export const SEARCH_PASSAGE_TOKENS = 256;
const EARLY_STOP_FRACTION = 0.6;
const REFINE_EXPECTED_ROUNDS = 0.5;

export interface CallGroup {
  /** Model for these calls; undefined = the node's model. */
  model: string | undefined;
  purpose: 'answer' | 'verify';
  /** Worst-case number of calls of this shape. */
  calls: number;
  /** Expected number (may be fractional). */
  expectedCalls: number;
  /** Extra prompt size beyond the node's own prompt, in units of M (worst case / expected case). */
  worstExtra: number;
  expectedExtra: number;
  /** Extra prompt tokens independent of M (retrieved passages). */
  extraTokens: number;
}

const group = (calls: number, expectedCalls: number, extra = 0, options: Partial<CallGroup> = {}): CallGroup => ({
  model: undefined,
  purpose: 'answer',
  calls,
  expectedCalls,
  worstExtra: extra,
  expectedExtra: extra,
  extraTokens: 0,
  ...options,
});

/** Upper bound on model calls a node can make (closed form: validation runs before anything is expanded). */
export function maxCalls(node: WorkflowNode): number {
  switch (node.op) {
    case 'generate':
    case 'verify':
    case 'solo':
      return 1;
    case 'sample':
      return node.params.samples * (node.params.aggregator === 'verifier' ? 2 : 1) + (node.params.aggregator === 'usc' ? 1 : 0);
    case 'refine':
      return 1 + 3 * node.params.rounds;
    case 'thread':
      return node.params.maxSteps ?? DEFAULT_THREAD_STEPS;
    case 'search':
      return node.params.maxSteps;
    case 'debate':
      return node.params.mode === 'solo' ? node.params.rounds : node.params.agents * node.params.rounds;
    case 'cascade':
      return node.params.stages.reduce((sum, stage) => sum + (stage.samples ?? 1) + (stage.signal === 'verifier' ? 1 : 0), 0);
    case 'aggregate':
      return 0;
  }
}

/** The node's calls grouped by shape. Only called on validated specs (bounded by the limits). */
export function callPlan(node: WorkflowNode): CallGroup[] {
  switch (node.op) {
    case 'generate':
    case 'solo':
      return [group(1, 1)];
    case 'verify':
      return [group(1, 1, 0, { purpose: 'verify', model: node.params.verifierModel })];
    case 'sample': {
      const { samples, aggregator, adaptive, verifierModel } = node.params;
      const expected = adaptive ? Math.max(1, Math.ceil(samples * EARLY_STOP_FRACTION)) : samples;
      const groups = [group(samples, expected)];
      if (aggregator === 'verifier') groups.push(group(samples, expected, 1, { purpose: 'verify', model: verifierModel }));
      if (aggregator === 'usc') groups.push(group(1, 1, samples, { expectedExtra: expected }));
      return groups;
    }
    case 'refine': {
      const rounds = node.params.rounds;
      const expected = Math.max(1, Math.ceil(rounds * REFINE_EXPECTED_ROUNDS));
      return [
        group(1, 1),
        group(rounds, expected, 1, { purpose: 'verify', model: node.params.verifierModel }),
        group(rounds, expected, 1),
        group(rounds, expected, 2),
      ];
    }
    case 'thread': {
      const steps = node.params.maxSteps ?? DEFAULT_THREAD_STEPS;
      const expectedSteps = Math.ceil(steps * EARLY_STOP_FRACTION);
      const buffer = node.params.buffer ?? steps;
      return Array.from({ length: steps }, (_, step) =>
        group(1, step < expectedSteps ? 1 : 0, step, { expectedExtra: Math.min(step, buffer) }),
      );
    }
    case 'search': {
      const steps = node.params.maxSteps;
      const expectedSteps = Math.ceil(steps * EARLY_STOP_FRACTION);
      return Array.from({ length: steps }, (_, step) =>
        group(1, step < expectedSteps ? 1 : 0, step, { extraTokens: (step + 1) * node.params.k * SEARCH_PASSAGE_TOKENS }),
      );
    }
    case 'debate': {
      const { agents, rounds, topology } = node.params;
      if (node.params.mode === 'solo') return Array.from({ length: rounds }, (_, round) => group(1, 1, round));
      // Agents with the same number of neighbours share a group per round.
      const classes: Array<[number, number]> =
        topology === 'all-to-all'
          ? [[agents, agents - 1]]
          : topology === 'ring'
            ? [[agents, Math.min(2, agents - 1)]]
            : [
                [1, agents - 1],
                [agents - 1, 1],
              ];
      const groups: CallGroup[] = [];
      for (let round = 0; round < rounds; round++)
        for (const [members, neighbours] of classes) groups.push(group(members, members, round * (neighbours + 1)));
      return groups;
    }
    case 'cascade':
      return node.params.stages.flatMap((stage, index) => {
        const samples = stage.samples ?? 1;
        const probability = 2 ** -index;
        const stageGroups = [group(samples, samples * probability, 0, { model: stage.model })];
        if (stage.signal === 'verifier') stageGroups.push(group(1, probability, 1, { model: stage.model, purpose: 'verify' }));
        return stageGroups;
      });
    case 'aggregate':
      return [];
  }
}
