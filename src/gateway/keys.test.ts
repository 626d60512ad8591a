/** Keys: tokens stored hashed, period budgets that roll over exactly and survive restarts, rate and concurrency. */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetExhaustedError, InvalidInputError, systemClock } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Journal } from '../journal/index.ts';
import { KeyBudgets, KeyLimiter, KeyStore, hashToken, keyAllowsModel, periodEnd, periodStart } from './keys.ts';

describe('gateway keys', () => {
  let dir: string;
  let journal: Journal;
  let now = new Date('2026-12-31T23:59:00.000Z');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'thicket-gw-keys-'));
    now = new Date('2026-12-31T23:59:00.000Z');
    journal = Journal.open(join(dir, 'j.db'), { now: () => now.getTime() });
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('periods are UTC days and months; total never rolls over', () => {
    const at = new Date('2026-12-31T23:59:59.999Z');
    assert.equal(periodStart('day', at), '2026-12-31T00:00:00.000Z');
    assert.equal(periodEnd('day', at), '2027-01-01T00:00:00.000Z');
    assert.equal(periodStart('month', at), '2026-12-01T00:00:00.000Z');
    assert.equal(periodEnd('month', at), '2027-01-01T00:00:00.000Z');
    assert.equal(periodStart('total', at), '1970-01-01T00:00:00.000Z');
    assert.equal(periodEnd('total', at), undefined);
    assert.equal(periodStart('day', new Date('2027-01-01T00:00:00.000Z')), '2027-01-01T00:00:00.000Z');
  });

  it('stores only the token hash; verify refuses unknown, malformed and revoked tokens', () => {
    const store = new KeyStore(() => journal);
    const { key, token } = store.create({ name: 'app', settings: { budget: { usd: 5 }, period: 'day' } });
    assert.match(token, /^thk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(journal.getApiKey(key.id)?.secretSha256, hashToken(token));
    assert.ok(!JSON.stringify(journal.listApiKeys()).includes(token.slice(18)), 'the secret is nowhere in the journal');
    assert.equal(store.verify(token)?.id, key.id);
    assert.equal(store.verify(`${token}x`), undefined);
    assert.equal(store.verify('sk-whatever'), undefined);
    store.revoke(key.id);
    assert.equal(store.verify(token), undefined);
    assert.throws(
      () => store.create({ name: ' ', settings: { budget: { usd: -1 }, period: 'week', rpm: 0 } }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 1,
    );
    assert.throws(
      () => store.create({ name: 'bad', settings: { budget: { usd: -1 }, period: 'week', rpm: 0 } }),
      (error: unknown) => error instanceof InvalidInputError && error.issues.length === 3,
    );
  });

  it("a day budget rolls over at midnight UTC; runs bind to the period they started in; a restart reads the journal's spend", () => {
    const store = new KeyStore(() => journal);
    const { key } = store.create({ name: 'daily', settings: { budget: { totalTokens: 1000 }, period: 'day' } });
    const budgets = new KeyBudgets(
      () => journal,
      () => now,
    );
    const today = budgets.budgetFor(key);
    // A run of today: its ledger draws from today's budget, and the journal records the run under the key.
    journal.beginOrResumeRun({ id: 'run-today', command: 'solve', query: 'q', simulated: true, owner: key.id });
    const run = new Ledger({ clock: systemClock, within: today });
    const reservation = run.root.reserve({ inputTokens: 300, outputTokens: 300, usd: 0, calls: 1 });
    assert.throws(
      () => new Ledger({ clock: systemClock, within: today }).root.reserve({ inputTokens: 200, outputTokens: 300, usd: 0, calls: 1 }),
      BudgetExhaustedError,
    );
    now = new Date('2027-01-01T00:00:00.000Z');
    const tomorrow = budgets.budgetFor(key);
    assert.notEqual(tomorrow, today, 'a new period opens a new budget');
    assert.equal(tomorrow.remaining().totalTokens, 1000);
    // The run that started yesterday still settles against yesterday's budget.
    reservation.settle({ inputTokens: 250, outputTokens: 250, usd: 0, calls: 1 });
    assert.equal(today.spent().totalTokens, 500);
    assert.equal(tomorrow.spent().totalTokens, 0);
    assert.equal(budgets.spend(key).periodStart, '2027-01-01T00:00:00.000Z');

    // A restart in the same period as spent runs: the budget opens with what the journal holds for the period.
    journal.beginOrResumeRun({ id: 'run-new-year', command: 'solve', query: 'q', simulated: true, owner: key.id });
    journal.recorder('run-new-year').record({
      callKey: 'c#0',
      requestHash: 'c',
      model: 'sim:small',
      provider: 'sim',
      request: { messages: [{ role: 'user', content: 'q' }], maxOutputTokens: 10 },
      response: {
        text: 'a',
        usage: { inputTokens: 70, outputTokens: 30 },
        usageEstimated: false,
        finishReason: 'stop',
        latencyMs: 1,
        simulated: true,
      },
      costUsd: 0,
      attempts: 1,
      budgetPath: 'run',
      tags: {},
    });
    const restarted = new KeyBudgets(
      () => journal,
      () => now,
    );
    assert.equal(restarted.budgetFor(key).spent().totalTokens, 100, 'only the runs created in this period count');
  });

  it('rate limits per key per minute and gates runs in flight', () => {
    let clock = 60_000 * 1000 + 59_000;
    const limiter = new KeyLimiter(() => clock);
    const store = new KeyStore(() => journal);
    const { key } = store.create({ name: 'limited', settings: { rpm: 2, concurrency: 1 } });
    assert.equal(limiter.admit(key), undefined);
    assert.equal(limiter.admit(key), undefined);
    assert.equal(limiter.admit(key), 1, 'the third request in the minute waits for the next one (1 s away)');
    clock += 1000;
    assert.equal(limiter.admit(key), undefined, 'a new minute');
    const release = limiter.acquire(key);
    assert.ok(release);
    assert.equal(limiter.acquire(key), undefined);
    release();
    release();
    assert.equal(limiter.running(key.id), 0, 'releasing twice frees one slot once');
    assert.ok(limiter.acquire(key));
  });

  it('model allow-lists match exact references and `prefix*` patterns', () => {
    const store = new KeyStore(() => journal);
    const { key } = store.create({ name: 'models', settings: { models: ['sim:*', 'local-small'] } });
    assert.ok(keyAllowsModel(key, 'sim:large'));
    assert.ok(keyAllowsModel(key, 'local-small'));
    assert.ok(!keyAllowsModel(key, 'local-small-2'));
    assert.ok(!keyAllowsModel(key, 'gpt'));
  });
});
