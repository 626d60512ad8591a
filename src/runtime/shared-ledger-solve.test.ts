/**
 * Runs spending from one budget held in Redis (SolveOptions.sharedLedger): two concurrent solves on the
 * simulated fleet, each with room for more than the shared scope allows, together stay inside it; the
 * journal's call totals equal the shared ledger's spent; resuming a run replays its calls without counting
 * them again.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toNanoUsd } from '../core/index.ts';
import { connectRedisSharedLedger, type SharedScope } from '../budget/index.ts';
import { createRuntime } from './index.ts';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('solve with a shared ledger on Redis', () => {
  it('two concurrent runs cannot overspend the shared scope; journal totals = shared spent; replays add nothing', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thicket-shared-solve-'));
    folders.push(folder);
    const ledger = await connectRedisSharedLedger({ prefix: `test:solve-shared:${randomBytes(6).toString('hex')}:` });
    const thicket = await createRuntime({ journal: join(folder, 'journal.db'), config: { version: 1, models: {} } });
    try {
      const scope: SharedScope = { key: 'study:shared', limits: { totalTokens: 3_000, calls: 14 } };
      const options = (runId: string, seed: number) =>
        ({
          model: 'sim:small',
          strategy: 'vote',
          samples: 9,
          budget: { totalTokens: 4_000 },
          seed,
          runId,
          sharedLedger: { ledger, scopes: [scope], leaseMs: 5_000 },
        }) as const;
      const results = await Promise.all([
        thicket.solve('What is 17*23?', options('shared-a', 1)),
        thicket.solve('What is 6*7?', options('shared-b', 2)),
      ]);
      const usage = await ledger.usage(scope.key);
      // Each run alone could spend up to 4,000 tokens and 9 calls; together they wanted more than the scope has.
      assert.ok(usage.spent.totalTokens <= 3_000, `shared spent ${usage.spent.totalTokens}`);
      assert.ok(usage.spent.calls <= 14, `shared calls ${usage.spent.calls}`);
      assert.ok(usage.spent.calls < 18, 'the shared scope refused some calls');
      assert.equal(usage.holds, 0);
      assert.equal(usage.reserved.totalTokens, 0);
      // The journal's call totals (what was billed, all attempts) equal what the shared ledger booked.
      const calls = ['shared-a', 'shared-b'].flatMap((runId) => thicket.runs.get(runId)?.calls ?? []);
      const billed = calls.map(
        (call) => call.billed ?? { inputTokens: call.inputTokens, outputTokens: call.outputTokens, usd: call.costUsd, calls: 1 },
      );
      assert.equal(
        usage.spent.inputTokens,
        billed.reduce((sum, amount) => sum + amount.inputTokens, 0),
      );
      assert.equal(
        usage.spent.outputTokens,
        billed.reduce((sum, amount) => sum + amount.outputTokens, 0),
      );
      assert.equal(
        usage.spent.calls,
        billed.reduce((sum, amount) => sum + amount.calls, 0),
      );
      assert.equal(
        toNanoUsd(usage.spent.usd),
        billed.reduce((sum, amount) => sum + toNanoUsd(amount.usd), 0),
      );
      // …and the runs' own reports.
      assert.equal(usage.spent.totalTokens, results[0].usage.totalTokens + results[1].usage.totalTokens);

      // Resuming a run replays its journaled calls: settled again on the shared ledger, counted once.
      const again = await thicket.solve('What is 17*23?', options('shared-a', 1));
      assert.equal(again.newUsage.calls, 0);
      assert.deepEqual((await ledger.usage(scope.key)).spent, usage.spent);
    } finally {
      await thicket.close();
      await ledger.deleteAll();
      await ledger.close();
    }
  });
});
