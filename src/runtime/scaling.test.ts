/**
 * Work per event must not grow with the size of the run (issue 16 §8): a 10,000-node fan-out workflow took
 * 324 s through `solve -w` because every settled call rebuilt the whole spend report (one line per budget, and
 * the executor carves one budget per node). Counted, not timed: a wall-clock threshold would flake under load.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../budget/index.ts';
import { createRuntime, type ThicketEvent } from './index.ts';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function fanOut(width: number): Record<string, unknown> {
  const params = { prompt: '{{query}}', maxOutputTokens: 400 };
  const middle = Array.from({ length: width }, (_, index) => ({
    id: `n${index}`,
    op: 'generate',
    inputs: { source: 'source.answer' },
    params,
  }));
  return {
    version: 1,
    defaults: { model: 'sim:small' },
    nodes: [
      { id: 'source', op: 'generate', params },
      ...middle,
      {
        id: 'sink',
        op: 'aggregate',
        inputs: Object.fromEntries(middle.map((node) => [node.id, `${node.id}.answer`])),
        params: { method: 'majority' },
      },
    ],
    output: 'sink',
  };
}

describe('runtime: per-call work does not grow with the run', () => {
  it('budget events of a fan-out workflow do not rebuild the spend report per settled call', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thicket-scaling-'));
    folders.push(folder);
    const thicket = await createRuntime({ journal: join(folder, 'journal.db'), config: { version: 1, models: {} } });
    const prototype = Ledger.prototype as { report: (this: Ledger) => ReturnType<Ledger['report']> };
    const original = prototype.report;
    let reports = 0;
    prototype.report = function counted(this: Ledger) {
      reports++;
      return original.call(this);
    };
    try {
      const width = 120;
      const events: ThicketEvent[] = [];
      const result = await thicket.runWorkflow(fanOut(width), 'What is 17*23?', { onEvent: (event) => events.push(event) });
      assert.equal(result.status, 'ok');
      const budgetEvents = events.filter((event) => event.type === 'budget');
      assert.ok(budgetEvents.length >= width, `one budget event per settled call, got ${budgetEvents.length}`);
      // The final report of the run, not one per call (each walks every node's budget: O(nodes²) in all).
      assert.ok(reports <= 3, `ledger.report() ran ${reports} times for ${budgetEvents.length} budget events`);
      const last = budgetEvents.at(-1);
      assert.ok(last?.type === 'budget');
      assert.deepEqual(last.spent, result.usage);
    } finally {
      prototype.report = original;
      await thicket.close();
    }
  });
});
