/**
 * Test and bench helpers: a simulated fleet on a VirtualClock, and fake operators that stand in for the ops
 * still being written (they sleep on the clock, spend a fixed amount through their budget slice, count calls
 * and in-flight operators, and log start/end order). Not exported from index.ts.
 */
import { VirtualClock } from '../core/index.ts';
import { Fleet, FleetResolver, parseFleetConfig } from '../models/index.ts';
import type { OpContext, OpResult } from '../ops/index.ts';
import type { NodeInputs, OperatorRegistry } from './operator-types.ts';
import { OP_NAMES, type OpName } from './spec.ts';

/** `sim-fast`: sim:small with zero latency (bench / property tests); `sim:*` references work as usual. */
const TEST_FLEET_CONFIG = parseFleetConfig({
  version: 1,
  models: { 'sim-fast': { provider: 'sim', profile: 'small', overrides: { latency: { ttftMs: 0, perTokenMs: 0 } } } },
});

export function simFleet(seed = 1): { clock: VirtualClock; fleet: Fleet } {
  const clock = new VirtualClock();
  const fleet = new Fleet({ resolver: new FleetResolver({ config: TEST_FLEET_CONFIG, clock, seed }), clock, seed });
  return { clock, fleet };
}

export interface FakeLog {
  calls: Map<string, number>;
  events: string[];
  inFlight: number;
  maxInFlight: number;
}

export function fakeLog(): FakeLog {
  return { calls: new Map(), events: [], inFlight: 0, maxInFlight: 0 };
}

export interface FakeOptions {
  log?: FakeLog;
  /** Clock ms each operator takes (0: resolves on the next microtask). */
  latencyMs?: number;
  /** Spend reserved and settled through the node's slice (refused → BudgetExhaustedError → node skipped). */
  spend?: { inputTokens: number; outputTokens: number; usd?: number };
  /** Answer per node (default: the node id's length as a string, or the majority of its inputs' answers). */
  answer?: (inputs: NodeInputs) => string | undefined;
  /** Throw this from the given node ids. */
  failOn?: Record<string, Error>;
  /** Run before the operator returns (e.g. abort a controller at a given node). */
  hook?: (nodeId: string) => void;
}

/** Takes any params, so it fits every op's slot in a registry. */
export type FakeOperator = (context: OpContext, params: unknown, inputs: NodeInputs) => Promise<OpResult>;

export function fakeOperator(options: FakeOptions = {}): FakeOperator {
  return async (context, _params, inputs) => {
    const log = options.log;
    const id = inputs.nodeId;
    if (log) {
      log.calls.set(id, (log.calls.get(id) ?? 0) + 1);
      log.events.push(`start:${id}`);
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
    }
    try {
      if (options.spend) {
        const amount = {
          inputTokens: options.spend.inputTokens,
          outputTokens: options.spend.outputTokens,
          usd: options.spend.usd ?? 0,
          calls: 1,
        };
        context.budget.reserve(amount, { operator: 'fake' }).settle(amount);
      }
      if (options.latencyMs) await context.fleet.clock.sleep(options.latencyMs, context.signal);
      const failure = options.failOn?.[id];
      if (failure) throw failure;
      options.hook?.(id);
      const answer = options.answer ? options.answer(inputs) : defaultAnswer(inputs);
      const nodeId = context.trace.addNode(context.stepId, 'answer', `fake ${id}: Answer: ${answer}`, answer);
      const result: OpResult = {
        answer,
        confidence: 0.5,
        text: `fake ${id}: Answer: ${answer}`,
        nodeId,
        calls: options.spend ? 1 : 0,
        degraded: [],
        budgetExhausted: false,
        simulated: true,
        details: {},
      };
      return result;
    } finally {
      if (log) {
        log.inFlight--;
        log.events.push(`end:${id}`);
      }
    }
  };
}

function defaultAnswer(inputs: NodeInputs): string {
  const answers = inputs.list.flatMap((input) => (input.available && input.answer !== undefined ? [input.answer] : []));
  if (answers.length === 0) return String(inputs.nodeId.length);
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

/** A registry with the same fake operator under every op name. */
export function fakeRegistry(options: FakeOptions = {}): OperatorRegistry {
  const fake = fakeOperator(options);
  return Object.fromEntries(OP_NAMES.map((op) => [op, fake]));
}

/** A fan-out/fan-in spec: `source` → `width` generate nodes → one aggregate. */
export function fanSpec(width: number, options: { op?: OpName; model?: string } = {}): Record<string, unknown> {
  const op = options.op ?? 'generate';
  const params =
    op === 'generate'
      ? { prompt: '{{query}}', maxOutputTokens: 400 }
      : op === 'sample'
        ? { samples: 2, aggregator: 'majority', maxOutputTokens: 400 }
        : {};
  const middle = Array.from({ length: width }, (_, index) => ({ id: `n${index}`, op, inputs: { source: 'source.answer' }, params }));
  const inputs = Object.fromEntries(middle.map((node) => [node.id, `${node.id}.answer`]));
  return {
    version: 1,
    defaults: { model: options.model ?? 'sim-fast' },
    nodes: [
      { id: 'source', op: 'generate', params: { prompt: '{{query}}', maxOutputTokens: 400 } },
      ...middle,
      { id: 'sink', op: 'aggregate', inputs, params: { method: 'majority' } },
    ],
    output: 'sink',
  };
}
