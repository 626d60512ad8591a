/**
 * Calls that spend but fail (issue 15a): a structured call whose output is cut off at its cap fails on every
 * attempt with MalformedOutputError, yet each attempt was billed. The journal records it as a failed call with
 * everything it spent, so the journal's totals (and `runs show`) agree with the ledger, and a resume replays
 * the failure — charging the same spend — instead of treating it as a success or calling the model again.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MalformedOutputError, VirtualClock, countMessageTokens } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { Fleet, MODEL_SPEC_VERSION, type GenerateRequest, type GenerateResponse, type ModelProvider } from '../models/index.ts';
import { describeJournalBackends } from './testing/backends.ts';

/** Always writes to the cap and stops there: the JSON is truncated (finish 'length'), billed in full. */
class TruncatingProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'truncating';
  readonly modelId = 'truncating-model';
  calls = 0;
  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    this.calls++;
    return {
      text: '{"personas":[{"name":"AI Assis',
      usage: { inputTokens: countMessageTokens(request.messages), outputTokens: request.maxOutputTokens },
      usageEstimated: false,
      finishReason: 'length',
      latencyMs: 5,
      simulated: true,
    };
  }
}

function fleetOf(provider: ModelProvider, clock: VirtualClock): Fleet {
  return new Fleet({
    clock,
    seed: 1,
    resolver: {
      resolve: () => ({
        provider,
        profile: {
          reference: 'trunc',
          tier: 'small',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 4,
          contextWindow: 8192,
          reasoning: false,
          maxConcurrency: 1,
          timeoutMs: 10_000,
          simulated: true,
        },
        promptMargin: () => 0,
      }),
    },
  });
}

const REQUEST: GenerateRequest = {
  messages: [{ role: 'user', content: 'Task: What is (17*23)+(4*9)?' }],
  maxOutputTokens: 512,
  responseSchema: { name: 'solo_performance', schema: { type: 'object', required: ['final_answer'] } },
  metadata: { stepId: 'wf/solo/solo' },
};

describeJournalBackends('journal: failed calls that spent', ({ open }) => {
  it('records a truncated structured call as a failed call with its usage; journal totals == ledger totals', async () => {
    const journal = open();
    journal.createRun({ id: 'r1', command: 'solve', query: 'q', simulated: true });
    const clock = new VirtualClock();
    const provider = new TruncatingProvider();
    const ledger = new Ledger({ clock, limits: { totalTokens: 20_000 } });
    await assert.rejects(
      fleetOf(provider, clock).call('trunc', REQUEST, { budget: ledger.root, recorder: journal.recorder('r1') }),
      MalformedOutputError,
    );
    assert.equal(provider.calls, 4, 'one try and three retries');

    const prompt = countMessageTokens(REQUEST.messages);
    const spent = ledger.root.spent();
    assert.deepEqual([spent.inputTokens, spent.outputTokens, spent.calls], [4 * prompt, 4 * 512, 4]);

    const calls = journal.getCalls('r1');
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call!.failed, true);
    assert.equal(call!.error?.code, 'MALFORMED_OUTPUT');
    assert.equal(call!.finishReason, 'length');
    assert.equal(call!.attempts, 4);
    assert.deepEqual(call!.billed, { inputTokens: 4 * prompt, outputTokens: 4 * 512, usd: spent.usd, calls: 4 });

    const totals = journal.runTotals('r1');
    assert.deepEqual(
      { inputTokens: totals.inputTokens, outputTokens: totals.outputTokens, totalTokens: totals.totalTokens, calls: totals.calls },
      { inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, totalTokens: spent.inputTokens + spent.outputTokens, calls: 4 },
    );
    assert.ok(Math.abs(totals.usd - spent.usd) < 1e-12);
    assert.equal(journal.spendByModel('r1')[0]!.totalTokens, spent.inputTokens + spent.outputTokens);
    // The settle ledger entry carries the whole spend too.
    const settles = journal.getLedgerEntries('r1').filter((entry) => entry.kind === 'settle');
    assert.deepEqual(
      settles.map((entry) => [entry.inputTokens, entry.outputTokens]),
      [[4 * prompt, 4 * 512]],
    );
    // listRuns aggregates the same way.
    assert.equal(journal.listRuns().find((run) => run.id === 'r1')!.totals.totalTokens, spent.inputTokens + spent.outputTokens);
    journal.close();
  });

  it('a resume replays the failed call as the same failure: same charge, no provider call, never a success', async () => {
    const journal = open();
    journal.createRun({ id: 'r1', command: 'solve', query: 'q', simulated: true });
    const clock = new VirtualClock();
    const first = new TruncatingProvider();
    const ledger = new Ledger({ clock });
    await assert.rejects(fleetOf(first, clock).call('trunc', REQUEST, { budget: ledger.root, recorder: journal.recorder('r1') }));

    const again = new TruncatingProvider();
    const resumed = new Ledger({ clock });
    await assert.rejects(
      fleetOf(again, clock).call('trunc', REQUEST, { budget: resumed.root, recorder: journal.recorder('r1') }),
      (error: unknown) => error instanceof MalformedOutputError && error.rawText === '{"personas":[{"name":"AI Assis',
    );
    assert.equal(again.calls, 0, 'replayed from the journal, not called');
    assert.deepEqual(resumed.root.spent(), ledger.root.spent());
    assert.equal(journal.getCalls('r1').length, 1, 'nothing new recorded');
    journal.close();
  });

  it('a run with no calls still totals zero (the LEFT JOIN of listRuns counts none)', () => {
    const journal = open();
    journal.createRun({ id: 'empty', command: 'solve', query: 'q', simulated: true });
    assert.deepEqual(journal.listRuns()[0]!.totals, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    assert.deepEqual(journal.runTotals('empty'), { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    journal.close();
  });
});
