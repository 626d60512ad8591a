/**
 * Intents (issue 16 §3): every attempt a billing provider is sent is journaled at its reservation and
 * committed BEFORE the request leaves; the call's result resolves it in the same transaction as the call row.
 * What a crash leaves unresolved is what a resumed run counts at worst case. Also: a provider reporting more
 * than `max_tokens` is booked as reported and flagged on the call.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError, VirtualClock } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Fleet, MODEL_SPEC_VERSION, type GenerateRequest, type GenerateResponse, type ModelProvider } from '../models/index.ts';
import { Journal } from './index.ts';
import { describeJournalBackends, type JournalBackend } from './testing/backends.ts';
import { sampleCall } from './testing/fixtures.ts';

/**
 * What another process sees in the journal right now: a second, read-only connection (a SQLite reader of the
 * file, a second Postgres session), so only committed rows.
 */
function committedRows(target: string, table: 'call_intents' | 'calls'): number {
  const reader = Journal.openReadOnly(target);
  try {
    const row = reader.sql.prepare<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).get();
    assert.ok(row !== undefined);
    return row.n;
  } finally {
    reader.close();
  }
}
const committedIntents = (target: string): number => committedRows(target, 'call_intents');
const committedCalls = (target: string): number => committedRows(target, 'calls');

/** A test given a fresh journal target of `backend` (removed with the backend's other targets). */
function withTarget(backend: JournalBackend, test: (target: string) => Promise<void> | void): () => Promise<void> {
  return async () => test(backend.freshTarget());
}

const intent = (callKey: string, attempt = 0) => ({
  callKey,
  attempt,
  model: 'endpoint:m',
  purpose: 'vote',
  budgetPath: 'run/vote',
  inputTokens: 30,
  outputTokens: 16,
  usd: 0.00004,
});

describeJournalBackends('journal: call intents', (backend) => {
  it(
    'commits an intent before returning, resolves it with the call row in one transaction, releases abandoned ones',
    withTarget(backend, (target) => {
      const journal = Journal.open(target);
      journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const recorder = journal.recorder('r');
      const call = sampleCall(1);
      recorder.intend!(intent(call.callKey));
      // Durable at once: visible to another connection, no flush needed.
      assert.equal(committedIntents(target), 1);
      recorder.record(call);
      // The call is buffered (group commit); until it is written its intent stays — never one without the other.
      assert.equal(committedIntents(target), 1);
      assert.equal(committedCalls(target), 0);
      journal.flush();
      assert.equal(committedIntents(target), 0);
      assert.equal(committedCalls(target), 1);

      // The next intent's commit carries every call buffered before it (one commit per sent call).
      const second = sampleCall(2);
      recorder.intend!(intent(second.callKey));
      recorder.record(second);
      recorder.intend!(intent('other#0'));
      assert.equal(committedCalls(target), 2);
      assert.deepEqual(
        journal.callIntents('r').map((row) => row.callKey),
        ['other#0'],
      );
      recorder.abandon!('other#0');
      journal.flush();
      assert.deepEqual(journal.callIntents('r'), []);
      journal.close();
    }),
  );

  it(
    'what a crash leaves unresolved is found by the next process, marked orphaned, with its reservation',
    withTarget(backend, (target) => {
      const first = Journal.open(target);
      first.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const recorder = first.recorder('r');
      recorder.intend!(intent('a#0'));
      recorder.intend!(intent('a#0', 1));
      recorder.intend!(intent('b#0'));
      recorder.record({ ...sampleCall(3), callKey: 'b#0' });
      // The process dies here: the buffered call of b#0 and its intent's deletion are lost together.
      const second = Journal.open(target);
      const orphans = second.orphanedIntents('r');
      assert.deepEqual(
        orphans.map((row) => [row.callKey, row.attempt, row.inputTokens, row.outputTokens, row.costUsd, row.purpose]),
        [
          ['a#0', 0, 30, 16, 0.00004, 'vote'],
          ['a#0', 1, 30, 16, 0.00004, 'vote'],
          ['b#0', 0, 30, 16, 0.00004, 'vote'],
        ],
      );
      assert.ok(orphans.every((row) => row.orphanedAt !== null));
      assert.equal(second.getCalls('r').length, 0);
      // Still counted by every later resume: they stay until the run is deleted.
      assert.equal(second.orphanedIntents('r').length, 3);
      second.close();
      first.close();
    }),
  );
});

/** A billing (not simulated) provider; `outputTokens` is what it reports, whatever `max_tokens` said. */
class BillingProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'billing';
  readonly modelId = 'billing-model';
  /** Intents committed (seen through another connection) when each request arrived. */
  readonly intentsAtSend: number[] = [];
  constructor(
    private readonly reply: (request: GenerateRequest) => GenerateResponse | Promise<GenerateResponse>,
    private readonly target: string,
  ) {}
  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    this.intentsAtSend.push(committedIntents(this.target));
    return this.reply(request);
  }
}

function fleetOf(provider: ModelProvider, clock: VirtualClock): Fleet {
  return new Fleet({
    clock,
    seed: 1,
    retry: { maxRetries: 0 },
    resolver: {
      resolve: () => ({
        provider,
        profile: {
          reference: 'endpoint:m',
          tier: 'small',
          priceInputPerMillion: 1000,
          priceOutputPerMillion: 3000,
          contextWindow: 8192,
          reasoning: false,
          maxConcurrency: 4,
          timeoutMs: 10_000,
          simulated: false,
        },
        promptMargin: () => 8,
      }),
    },
  });
}

const REQUEST: GenerateRequest = { messages: [{ role: 'user', content: 'What is 2 + 2?' }], maxOutputTokens: 64 };
const ok = (outputTokens: number): GenerateResponse => ({
  text: 'Answer: 4',
  usage: { inputTokens: 10, outputTokens },
  usageEstimated: false,
  finishReason: 'stop',
  latencyMs: 1,
  simulated: false,
});

describeJournalBackends('fleet + journal: intents and provider overspend', (backend) => {
  it(
    'the intent is committed before the request is sent and resolved with the result',
    withTarget(backend, async (target) => {
      const journal = Journal.open(target);
      journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const clock = new VirtualClock();
      const provider = new BillingProvider(() => ok(5), target);
      const ledger = new Ledger({ clock });
      await fleetOf(provider, clock).call('endpoint:m', REQUEST, { budget: ledger.root, recorder: journal.recorder('r') });
      assert.deepEqual(provider.intentsAtSend, [1]);
      journal.flush();
      assert.equal(committedIntents(target), 0);
      assert.equal(journal.getCalls('r').length, 1);
      journal.close();
    }),
  );

  it(
    'a call that fails before the provider answered releases its intent; a cancelled one keeps it (may be billed)',
    withTarget(backend, async (target) => {
      const journal = Journal.open(target);
      journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const clock = new VirtualClock();
      const ledger = new Ledger({ clock });
      const failing = new BillingProvider(() => {
        throw new ProviderError('bad request', { status: 400 });
      }, target);
      await assert.rejects(fleetOf(failing, clock).call('endpoint:m', REQUEST, { budget: ledger.root, recorder: journal.recorder('r') }));
      journal.flush();
      assert.equal(committedIntents(target), 0);

      const controller = new AbortController();
      const hanging = new BillingProvider(() => {
        controller.abort();
        throw new ProviderError('aborted', { status: 499 });
      }, target);
      await assert.rejects(
        fleetOf(hanging, clock).call('endpoint:m', REQUEST, {
          budget: ledger.root,
          recorder: journal.recorder('r'),
          signal: controller.signal,
        }),
      );
      journal.flush();
      assert.equal(committedIntents(target), 1, 'a cancelled call stays counted');
      journal.close();
    }),
  );

  it(
    'no intent is written when the journal cannot take it, and then nothing is sent',
    withTarget(backend, async (target) => {
      const journal = Journal.open(target);
      journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const recorder = journal.recorder('r');
      const clock = new VirtualClock();
      const ledger = new Ledger({ clock });
      const provider = new BillingProvider(() => ok(5), target);
      const broken = {
        ...recorder,
        intend: (): void => {
          throw new Error('SQLITE_FULL: database or disk is full');
        },
      };
      await assert.rejects(fleetOf(provider, clock).call('endpoint:m', REQUEST, { budget: ledger.root, recorder: broken }));
      assert.equal(provider.intentsAtSend.length, 0, 'never sent');
      assert.equal(ledger.root.reserved().totalTokens, 0, 'the reservation is released');
      assert.equal(ledger.root.spent().totalTokens, 0);
      journal.close();
    }),
  );

  it(
    'a provider that ignores max_tokens: what it reports is booked, flagged on the call, totals add up, budget closes',
    withTarget(backend, async (target) => {
      const journal = Journal.open(target);
      journal.createRun({ id: 'r', command: 'solve', query: 'q', simulated: false });
      const clock = new VirtualClock();
      const provider = new BillingProvider(() => ok(4200), target);
      const ledger = new Ledger({ clock, limits: { usd: 0.5 } });
      const fleet = fleetOf(provider, clock);
      const result = await fleet.call('endpoint:m', REQUEST, { budget: ledger.root, recorder: journal.recorder('r') });
      assert.equal(result.usage.outputTokens, 4200);
      assert.ok(result.overrun !== undefined && result.overrun.outputTokens === 4200 - 64);
      const spent = ledger.root.spent();
      assert.equal(spent.outputTokens, 4200);
      assert.equal(spent.totalTokens, spent.inputTokens + spent.outputTokens);
      // $3000/M × 4200 + $1000/M × 10 = $12.61: far past the $0.5 budget, so nothing more may be bought.
      assert.ok(Math.abs(spent.usd - 12.61) < 1e-9, String(spent.usd));
      await assert.rejects(
        fleet.call(
          'endpoint:m',
          { ...REQUEST, messages: [{ role: 'user', content: 'again' }] },
          { budget: ledger.root, recorder: journal.recorder('r') },
        ),
        (error: unknown) => (error as { code?: string }).code === 'BUDGET_EXHAUSTED',
      );
      assert.equal(provider.intentsAtSend.length, 1);
      const totals = journal.runTotals('r');
      assert.deepEqual([totals.outputTokens, totals.totalTokens, totals.calls], [4200, spent.totalTokens, 1]);
      assert.ok(Math.abs(totals.usd - spent.usd) < 1e-9);
      const settle = journal.getLedgerEntries('r').find((entry) => entry.kind === 'settle');
      assert.deepEqual((settle?.detail as { overrun?: { outputTokens: number } }).overrun?.outputTokens, 4136);
      const [call] = journal.getCalls('r');
      assert.ok(call!.outputTokens > (call!.request as { maxOutputTokens: number }).maxOutputTokens);
      journal.close();
    }),
  );
});
