/** Schema v6: runs.owner (who a run is billed to), the gateway's api_keys, owner spend, and listRuns filters. */
import { afterEach, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/index.ts';
import type { Journal } from './journal.ts';
import { describeJournalBackends } from './testing/backends.ts';
import { sampleCall } from './testing/fixtures.ts';

describeJournalBackends('journal: owners, API keys and run filters (schema v6)', ({ open }) => {
  let journal: Journal;
  let clock = Date.parse('2026-12-07T10:00:00.000Z');
  beforeEach(() => {
    clock = Date.parse('2026-12-07T10:00:00.000Z');
    journal = open({ now: () => clock });
  });
  afterEach(() => {
    journal.close();
  });

  it('stores keys by the hash of their secret, lists and revokes them', () => {
    const key = journal.createApiKey({ id: 'k1', name: 'app', secretSha256: 'ab'.repeat(32), role: 'client', settings: { period: 'day' } });
    assert.deepEqual(key.settings, { period: 'day' });
    assert.equal(journal.findApiKey('ab'.repeat(32))?.id, 'k1');
    assert.equal(journal.findApiKey('cd'.repeat(32)), undefined);
    assert.throws(() => journal.createApiKey({ id: 'k2', name: 'dup', secretSha256: 'ab'.repeat(32), role: 'client', settings: {} }));
    assert.equal(journal.revokeApiKey('k1'), true);
    assert.equal(journal.revokeApiKey('k1'), false, 'revoking twice reports nothing revoked');
    assert.notEqual(journal.getApiKey('k1')?.revokedAt, null);
    assert.deepEqual(
      journal.listApiKeys().map((row) => row.id),
      ['k1'],
    );
  });

  it("sums an owner's spend over its runs of the period: journaled calls plus unresolved intents at worst case", () => {
    journal.beginOrResumeRun({ id: 'old', command: 'solve', query: 'q', simulated: true, owner: 'k1' });
    journal.recorder('old').record(sampleCall(1));
    clock = Date.parse('2026-12-08T00:00:01.000Z');
    journal.beginOrResumeRun({ id: 'new', command: 'solve', query: 'q', simulated: true, owner: 'k1' });
    journal.beginOrResumeRun({ id: 'other', command: 'solve', query: 'q', simulated: true, owner: 'k2' });
    const call = sampleCall(2);
    journal.recorder('new').record(call);
    journal.recorder('other').record(sampleCall(3));
    journal.intendCall('new', {
      callKey: 'pending#0',
      attempt: 0,
      model: 'sim:small',
      purpose: null,
      budgetPath: 'run',
      inputTokens: 50,
      outputTokens: 100,
      usd: 0.001,
    });
    const today = journal.ownerSpend('k1', '2026-12-08T00:00:00.000Z');
    const billed = { input: call.response.usage.inputTokens, output: call.response.usage.outputTokens };
    assert.equal(today.inputTokens, billed.input + 50);
    assert.equal(today.outputTokens, billed.output + 100);
    assert.equal(today.calls, 1 + 1, 'the journaled call (its attempts counted as one row here) and the intent');
    const ever = journal.ownerSpend('k1', new Date(0).toISOString());
    assert.ok(ever.totalTokens > today.totalTokens, 'the earlier period counts from the beginning');
  });

  it('a run billed to one owner is not resumed by another', () => {
    journal.beginOrResumeRun({ id: 'r', command: 'solve', query: 'q', simulated: true, owner: 'k1' });
    assert.throws(
      () => journal.beginOrResumeRun({ id: 'r', command: 'solve', query: 'q', simulated: true, owner: 'k2' }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.some((issue) => issue.path === 'owner'),
    );
    assert.throws(() => journal.beginOrResumeRun({ id: 'r', command: 'solve', query: 'q', simulated: true }));
    assert.equal(journal.beginOrResumeRun({ id: 'r', command: 'solve', query: 'q', simulated: true, owner: 'k1' }).resumed, true);
  });

  it('lists runs by status, owner, strategy, model and time, with paging', () => {
    for (let index = 0; index < 6; index++) {
      clock += 1000;
      journal.beginOrResumeRun({
        id: `r${index}`,
        command: 'solve',
        query: 'q',
        simulated: true,
        owner: index % 2 === 0 ? 'even' : 'odd',
        args: { strategy: index < 3 ? 'vote' : 'single', model: 'sim:small' },
      });
      if (index % 3 === 0) journal.finishRun(`r${index}`, { status: 'ok', answer: '1' });
    }
    const ids = (filter: Parameters<Journal['listRuns']>[0]): string[] => journal.listRuns(filter).map((run) => run.id);
    assert.deepEqual(ids({ owner: 'even' }), ['r4', 'r2', 'r0']);
    assert.deepEqual(ids({ status: 'ok' }), ['r3', 'r0']);
    assert.deepEqual(ids({ strategy: 'vote', owner: 'odd' }), ['r1']);
    assert.deepEqual(ids({ model: 'sim:small', limit: 2, offset: 1 }), ['r4', 'r3']);
    assert.deepEqual(ids({ since: '2026-12-07T10:00:03.000Z', until: '2026-12-07T10:00:05Z' }), ['r3', 'r2']);
    assert.equal(journal.getRun('r0')?.owner, 'even');
    assert.throws(
      () => journal.listRuns({ limit: 0, status: 'nope' as 'ok', since: 'yesterday' }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 3,
    );
  });
});
