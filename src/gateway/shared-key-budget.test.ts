/**
 * Two gateway processes (here two gateways on two journals, as two hosts would run) serving one key whose
 * budget is shared through Redis: together they cannot spend more than the key's budget, and Redis's scope
 * holds exactly what their journals recorded. The scope is opened with the journal's spend only when new.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectRedisSharedLedger } from '../budget/index.ts';
import { periodStart } from './keys.ts';
import { makeTempDir, postJson, startTestGateway } from './testing/gateway-fixture.ts';

describe('gateway: a key budget shared by several gateways through Redis', () => {
  it('two gateways cannot overspend one key; the Redis scope equals the journals’ spend', async () => {
    const ledger = await connectRedisSharedLedger({ prefix: `test:gw-shared:${randomBytes(6).toString('hex')}:` });
    const folders = [makeTempDir(), makeTempDir()];
    const first = await startTestGateway({ journalPath: join(folders[0]!.path, 'a.db'), sharedLedger: ledger });
    const second = await startTestGateway({ journalPath: join(folders[1]!.path, 'b.db'), sharedLedger: ledger });
    try {
      const budget = { calls: 12 };
      const { key, token } = first.running.gateway.context.keys.create({ name: 'shared', settings: { budget } });
      // The same key in the second gateway's journal (as a shared key store would hold it).
      const row = first.thicket.openJournal().getApiKey(key.id)!;
      second.thicket
        .openJournal()
        .createApiKey({ id: row.id, name: row.name, secretSha256: row.secretSha256, role: row.role, settings: row.settings });

      const responses = await Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          postJson(
            `${(index % 2 === 0 ? first : second).url}/v1/chat/completions`,
            {
              model: 'thicket/vote',
              messages: [{ role: 'user', content: 'What is 17*23?' }],
              thicket: { samples: 3, runId: `shared-${index}` },
            },
            { token },
          ),
        ),
      );
      const since = periodStart(key.settings.period, new Date());
      const journaled = [first, second].map((gateway) => gateway.thicket.openJournal().ownerSpend(key.id, since));
      const calls = journaled[0]!.calls + journaled[1]!.calls;
      // Each gateway alone would have let the key spend its 12 calls; together they stay within 12.
      assert.ok(calls <= budget.calls, `journaled calls ${calls}`);
      assert.ok(journaled[0]!.calls > 0 && journaled[1]!.calls > 0, 'both gateways served');
      assert.ok(responses.some((response) => response.status === 429 || response.status === 200));
      const scope = await ledger.usage(`key:${key.id}:${since}`);
      assert.equal(scope.spent.calls, calls);
      assert.equal(scope.spent.totalTokens, journaled[0]!.totalTokens + journaled[1]!.totalTokens);
      assert.equal(scope.holds, 0);
      // Seeding keeps an existing scope as it is (SET NX): the journals' spend is already in it.
      assert.equal(await ledger.seed(`key:${key.id}:${since}`, { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 }), false);
    } finally {
      await first.close();
      await second.close();
      for (const folder of folders) folder.remove();
      await ledger.deleteAll();
      await ledger.close();
    }
  });
});
