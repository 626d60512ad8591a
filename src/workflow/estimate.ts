/**
 * Static cost estimate of a validated workflow, before anything runs: worst-case and expected tokens, dollars
 * and calls, per node and in total.
 *
 * Worst case — what the fleet would reserve: each call's prompt is the node's rendered prompt (query filled
 * in, node inputs empty) plus, for every node input, the upstream's output bound (its max output tokens; the
 * executor truncates longer upstream texts to it, so the bound holds), plus the operator's prompt growth
 * (plan.ts), priced exactly as `Fleet.worstCase` prices a call (prompt + the model's margin, output capped by
 * max output and the context window). No actual run can spend more (the ledger's reservations are the same
 * worst cases); `estimate.test.ts` checks it.
 *
 * Expected case — a planning model, not a promise: each call is assumed to produce 55% of its max output
 * (EXPECTED_OUTPUT_FRACTION; sim models and real chat models typically stop well before the cap), upstream
 * texts are assumed that long too, no prompt margin, and adaptive operators stop early (plan.ts).
 *
 * Capability nodes — their model is chosen at run time — cannot be priced from the fleet: their tokens are
 * counted without a model's prompt margin or context cap, and their dollars are `maxCostPerCall` per call
 * when the need gives one (the bound on the chosen card's expected cost per call; a planning figure, not a
 * reservation), else the node is listed in `unpriced` and its dollars count as zero. The ledger still
 * enforces the hard budget at run time whatever the estimate says.
 */
import { costOf, countMessageTokens, type UsageTotals } from '../core/index.ts';
import type { Fleet } from '../models/index.ts';
import { QUERY } from './graph.ts';
import { callPlan } from './plan.ts';
import { buildMessages, type TemplateValue } from './template.ts';
import type { ValidatedWorkflow } from './validate.ts';

export const EXPECTED_OUTPUT_FRACTION = 0.55;
/** Tokens allowed per inserted input for the label it is appended under and BPE effects at its boundaries. */
const INPUT_SLACK_TOKENS = 8;
/** The fleet refuses calls that cannot afford this many output tokens (its default minOutputTokens). */
const MIN_START_OUTPUT = 16;

export interface NodeEstimate {
  op: string;
  model: string | undefined;
  worst: UsageTotals;
  expected: UsageTotals;
  /** Bound (worst) and expectation of the node's output text in tokens, as downstream prompts see it. */
  textTokens: { worst: number; expected: number };
  /** Capability node: the need the model is bound from at run time. */
  capability?: string;
  /** Capability node without `maxCostPerCall`: its dollars are unknown until it is bound (counted as 0 here). */
  unpriced?: boolean;
  /**
   * A lower bound on the node's first call (its prompt without inputs, minimal output); zero for no-call ops.
   * The executor skips a node whose slice cannot pay even this.
   */
  firstCall: UsageTotals;
}

export interface WorkflowEstimate {
  nodes: Record<string, NodeEstimate>;
  total: { worst: UsageTotals; expected: UsageTotals };
  /** Ids of nodes whose dollars are unknown before they run (capability nodes without maxCostPerCall). */
  unpriced: string[];
  assumptions: string[];
}

export const ESTIMATE_ASSUMPTIONS: readonly string[] = [
  `expected output per call = ${Math.round(EXPECTED_OUTPUT_FRACTION * 100)}% of max output tokens; upstream texts likewise`,
  'worst case = the fleet reservation of every call the plan allows (prompt + margin, full max output)',
  'adaptive sample / thread / search stop after ~60% of their calls; refine after ~half its rounds; cascade stage i runs with probability 2^-i',
  'search passages ≤ 256 tokens each; thread worst case ignores pruning (expected keeps `buffer` steps)',
  'seconds are not estimated (a deadline, enforced by the ledger at run time)',
];

export const CAPABILITY_ASSUMPTION =
  'capability nodes (model bound at run time): tokens without a prompt margin or context cap; dollars = maxCostPerCall per call (a bound on the ' +
  "chosen card's expected cost), else unpriced (counted as $0)";

export function zeroLine(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 };
}

function addTo(line: UsageTotals, inputTokens: number, outputTokens: number, usd: number, calls: number): void {
  line.inputTokens += inputTokens * calls;
  line.outputTokens += outputTokens * calls;
  line.totalTokens += (inputTokens + outputTokens) * calls;
  line.usd += usd * calls;
  line.calls += calls;
}

export function addLines(target: UsageTotals, source: UsageTotals): void {
  target.inputTokens += source.inputTokens;
  target.outputTokens += source.outputTokens;
  target.totalTokens += source.totalTokens;
  target.usd += source.usd;
  target.calls += source.calls;
}

/** Per-node prompt token counts that do not depend on scalable params; reused across `scale` iterations. */
export type EstimateCache = Map<number, number>;

/**
 * The reservation of one call whose prompt counts `counted` tokens — the same arithmetic as
 * `Fleet.worstCase` (a test keeps them equal), taking a count so grown prompts need no synthetic text.
 */
export function worstCall(
  fleet: Fleet,
  model: string,
  counted: number,
  maxOutputTokens: number,
  /** The prompt's exact length in the model's own tokens, for models that can count it (`countPrompt`): no margin then. */
  exact?: number,
): { inputTokens: number; outputTokens: number; usd: number } {
  const resolved = fleet.model(model);
  const inputTokens = exact !== undefined && resolved.countPrompt ? exact : counted + resolved.promptMargin(counted);
  const outputTokens = Math.max(0, Math.min(maxOutputTokens, resolved.profile.contextWindow - inputTokens));
  const usd = costOf(
    { inputTokens, outputTokens },
    { inputPerMillion: resolved.profile.priceInputPerMillion, outputPerMillion: resolved.profile.priceOutputPerMillion },
  );
  return { inputTokens, outputTokens, usd };
}

export function estimateWorkflow(
  workflow: ValidatedWorkflow,
  fleet: Fleet,
  options: { query: string; cache?: EstimateCache },
): WorkflowEstimate {
  const cache = options.cache ?? new Map<number, number>();
  const textWorst = new Float64Array(workflow.nodes.length);
  const textExpected = new Float64Array(workflow.nodes.length);
  const nodes: Record<string, NodeEstimate> = {};
  const total = { worst: zeroLine(), expected: zeroLine() };
  const unpriced: string[] = [];
  let capabilityNodes = 0;
  for (const index of workflow.order) {
    const compiled = workflow.nodes[index]!;
    const node = compiled.node;
    const max = compiled.maxOutputTokens;
    const worst = zeroLine();
    const expected = zeroLine();
    const firstCall = zeroLine();
    let inputWorst = 0;
    let inputExpected = 0;
    let upstreamWorst = 0;
    let upstreamExpected = 0;
    for (const input of compiled.inputs) {
      if (input.from === QUERY) continue;
      inputWorst += textWorst[input.from]! + INPUT_SLACK_TOKENS;
      inputExpected += textExpected[input.from]!;
      upstreamWorst = Math.max(upstreamWorst, textWorst[input.from]!);
      upstreamExpected = Math.max(upstreamExpected, textExpected[input.from]!);
    }
    if (node.op === 'aggregate') {
      // Passes one of its inputs through: its text is as long as the longest input.
      textWorst[index] = upstreamWorst;
      textExpected[index] = upstreamExpected;
    } else {
      let base = cache.get(index);
      if (base === undefined) {
        // Query inputs carry the query; node inputs are rendered empty and bounded separately.
        const values: TemplateValue[] = compiled.inputs.map((input) => ({
          name: input.name,
          value: input.from === QUERY ? options.query : '',
        }));
        base = countMessageTokens(buildMessages(node.params, options.query, values));
        cache.set(index, base);
      }
      // Models that count their prompt exactly (byte-level tiny models) are reserved in their own tokens, as the
      // fleet reserves them; node inputs and extras stay bounded the same way (their caps are model tokens too).
      const exactBase = (model: string): number | undefined => {
        const count = fleet.model(model).countPrompt;
        if (!count) return undefined;
        const values: TemplateValue[] = compiled.inputs.map((input) => ({
          name: input.name,
          value: input.from === QUERY ? options.query : '',
        }));
        return count(buildMessages(node.params, options.query, values));
      };
      const plan = callPlan(node);
      plan.forEach((group, groupIndex) => {
        const model = group.model ?? compiled.model;
        if (model === undefined) {
          // A capability node's own calls: model unknown until it is bound at run time.
          const perCall = compiled.capability?.maxCostPerCall ?? 0;
          addTo(worst, base + inputWorst + group.worstExtra * max + group.extraTokens, max, perCall, group.calls);
          if (groupIndex === 0) addTo(firstCall, base + group.extraTokens, Math.min(MIN_START_OUTPUT, max), 0, 1);
          const inputTokens = base + inputExpected + group.expectedExtra * max * EXPECTED_OUTPUT_FRACTION + group.extraTokens;
          addTo(expected, inputTokens, max * EXPECTED_OUTPUT_FRACTION, perCall, group.expectedCalls);
          return;
        }
        const counted = base + inputWorst + group.worstExtra * max + group.extraTokens;
        const exact = exactBase(model);
        const extra = inputWorst + group.worstExtra * max + group.extraTokens;
        const call = worstCall(fleet, model, counted, max, exact === undefined ? undefined : exact + extra);
        addTo(worst, call.inputTokens, call.outputTokens, call.usd, group.calls);
        if (groupIndex === 0) {
          // Inputs left out: the real prompt is only known at run time, and this is a necessary condition only.
          const start = worstCall(
            fleet,
            model,
            base + group.extraTokens,
            Math.min(MIN_START_OUTPUT, max),
            exact === undefined ? undefined : exact + group.extraTokens,
          );
          addTo(firstCall, start.inputTokens, start.outputTokens, start.usd, 1);
        }
        const profile = fleet.model(model).profile;
        const outputTokens = Math.min(max, profile.contextWindow) * EXPECTED_OUTPUT_FRACTION;
        const inputTokens = base + inputExpected + group.expectedExtra * max * EXPECTED_OUTPUT_FRACTION + group.extraTokens;
        const usd = costOf(
          { inputTokens, outputTokens },
          { inputPerMillion: profile.priceInputPerMillion, outputPerMillion: profile.priceOutputPerMillion },
        );
        addTo(expected, inputTokens, outputTokens, usd, group.expectedCalls);
      });
      textWorst[index] = max;
      textExpected[index] = max * EXPECTED_OUTPUT_FRACTION;
    }
    roundLine(expected);
    nodes[compiled.id] = {
      op: node.op,
      model: compiled.model,
      worst,
      expected,
      textTokens: { worst: textWorst[index], expected: Math.round(textExpected[index]) },
      firstCall,
    };
    if (compiled.capability !== undefined) {
      capabilityNodes++;
      nodes[compiled.id]!.capability = compiled.capability.need;
      if (compiled.capability.maxCostPerCall === undefined) {
        nodes[compiled.id]!.unpriced = true;
        unpriced.push(compiled.id);
      }
    }
    addLines(total.worst, worst);
    addLines(total.expected, expected);
  }
  const assumptions = [...ESTIMATE_ASSUMPTIONS];
  if (capabilityNodes > 0) assumptions.push(CAPABILITY_ASSUMPTION);
  return { nodes, total, unpriced, assumptions };
}

/** Expected token counts are whole tokens (dollars stay exact). */
function roundLine(line: UsageTotals): void {
  line.inputTokens = Math.round(line.inputTokens);
  line.outputTokens = Math.round(line.outputTokens);
  line.totalTokens = line.inputTokens + line.outputTokens;
  line.calls = Math.round(line.calls * 100) / 100;
}
