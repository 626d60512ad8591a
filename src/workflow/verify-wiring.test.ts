/**
 * A verify node whose upstream answered nothing (issue 16 §5: `search-then-check.json` exited 2 with
 * INVALID_INPUT "needs an upstream answer to judge"): nothing to judge is the run's outcome, not bad input.
 * The node answers nothing, makes no call and says why; the run ends without an answer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../budget/index.ts';
import { defaultOperators } from './index.ts';
import { runWorkflow } from './executor.ts';
import { fakeOperator, simFleet } from './testing.ts';

describe('verify after an upstream node with no answer', () => {
  it('answers nothing, calls nothing and records why; the run has no answer (status error), no exception', async () => {
    const { fleet } = simFleet();
    const operators = { ...defaultOperators(), sample: fakeOperator({ answer: () => undefined }) };
    const result = await runWorkflow({
      spec: {
        version: 1,
        nodes: [
          { id: 'guess', op: 'sample', model: 'sim:small', inputs: { query: 'query' }, params: { samples: 1, aggregator: 'majority' } },
          { id: 'check', op: 'verify', model: 'sim:small', inputs: { query: 'query', candidate: 'guess.answer' }, params: {} },
        ],
        output: 'check',
      },
      query: 'What is 2+2?',
      fleet,
      budget: new Ledger({ clock: fleet.clock }).root,
      operators,
    });
    const check = result.nodes['check']!;
    assert.equal(check.status, 'ok', JSON.stringify(check.error));
    assert.equal(check.result?.answer, undefined);
    assert.equal(check.result?.calls, 0);
    assert.deepEqual(check.result?.degraded, ['verify: nothing to judge (guess gave no answer)']);
    assert.equal(result.answer, undefined);
    assert.notEqual(result.status, 'ok');
  });
});
