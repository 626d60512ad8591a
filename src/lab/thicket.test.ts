/** The package's `createThicket`: the runtime instance plus studies, in a temp journal. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThicket } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-lab-instance-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('createThicket: studies on the instance', () => {
  it('runs a small study in the instance journal, resumable by id, and solves through the same instance', async () => {
    const thicket = await createThicket({ journal: join(folder, 'journal.db'), config: { version: 1, models: {} } });
    try {
      const request = {
        quick: 'sim' as const,
        id: 'tiny',
        suites: 'arithmetic',
        architectures: 'single,vote',
        budgets: '2000',
        models: 'sim:small',
        items: 4,
        report: false as const,
      };
      const study = await thicket.study(request);
      assert.equal(study.status, 'ok');
      assert.equal(study.simulated, true);
      assert.equal(study.counts.planned, 8);
      assert.equal(study.counts.executed, 8);
      assert.equal(study.report, null);
      assert.deepEqual(study.table.map((row) => row.architecture).sort(), ['single', 'vote']);
      const again = await thicket.study(request);
      assert.equal(again.counts.resumed, 8);
      assert.equal(again.counts.executed, 0);
      assert.ok(thicket.runs.list().some((run) => run.id === study.runId));
      const solved = await thicket.solve('What is 17*23?', { model: 'sim:small', samples: 3 });
      assert.equal(solved.answer, '391');
    } finally {
      await thicket.close();
    }
  });
});
