/**
 * The fleet's shared gate (LedgerOptions.shared): each attempt also holds its worst case on the shared
 * budgets after the local reserve; a refusal or an unreachable store ends the call before anything is sent
 * (fail closed); every attempt's spend is settled per call id, so replays never count twice and a call whose
 * first settle was lost is counted by its replay.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetExhaustedError,
  ProviderError,
  SharedLedgerUnreachableError,
  ThicketError,
  VirtualClock,
  countMessageTokens,
} from '../core/index.ts';
import { InMemorySharedLedger, Ledger, SharedGate, type SharedLedger, type SharedScope } from '../budget/index.ts';
import { Fleet, type ModelResolver } from './fleet.ts';
import { MODEL_SPEC_VERSION, type GenerateRequest, type GenerateResponse, type ModelProvider } from './spec.ts';
import type { CallRecorder, RecordedCall } from './call-recorder.ts';

class CountingProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'counting';
  readonly modelId = 'counting-model';
  calls = 0;
  constructor(private readonly failFirst = 0) {}
  doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    if (this.calls++ < this.failFirst) return Promise.reject(new ProviderError('flaky', { status: 503 }));
    return Promise.resolve({
      text: 'Answer: 42',
      usage: { inputTokens: countMessageTokens(request.messages), outputTokens: 10 },
      usageEstimated: false,
      finishReason: 'stop',
      latencyMs: 1,
      simulated: true,
    });
  }
}

function fleetWith(provider: ModelProvider, clock: VirtualClock): Fleet {
  const resolver: ModelResolver = {
    resolve: () => ({
      provider,
      profile: {
        reference: 'test',
        tier: 'small',
        priceInputPerMillion: 1,
        priceOutputPerMillion: 4,
        contextWindow: 4096,
        reasoning: false,
        maxConcurrency: 4,
        timeoutMs: 10_000,
        simulated: true,
      },
      promptMargin: () => 0,
    }),
  };
  return new Fleet({ resolver, clock, seed: 7, retry: { initialDelayMs: 100 } });
}

class MemoryRecorder implements CallRecorder {
  readonly calls = new Map<string, RecordedCall>();
  lookup(callKey: string): RecordedCall | undefined {
    return this.calls.get(callKey);
  }
  record(call: RecordedCall): void {
    this.calls.set(call.callKey, structuredClone(call));
  }
}

const request = (content = 'What is 6*7?'): GenerateRequest => ({ messages: [{ role: 'user', content }], maxOutputTokens: 64 });
const scope: SharedScope = { key: 'study:s', limits: { calls: 2 } };

describe('Fleet with a shared gate', () => {
  it('a refusal by the shared scope names it, sends nothing and leaves nothing reserved', async () => {
    const clock = new VirtualClock();
    const provider = new CountingProvider();
    const shared = new InMemorySharedLedger();
    const ledger = new Ledger({
      clock,
      limits: { totalTokens: 10_000 },
      shared: new SharedGate({ ledger: shared, scopes: [scope], runId: 'r1' }),
    });
    const fleet = fleetWith(provider, clock);
    await fleet.call('test', request('a'), { budget: ledger.root });
    await fleet.call('test', request('b'), { budget: ledger.root });
    await assert.rejects(fleet.call('test', request('c'), { budget: ledger.root }), (error: unknown) => {
      assert.ok(error instanceof BudgetExhaustedError);
      assert.deepEqual(error.shortfall, { budget: 'shared:study:s', dimension: 'calls', limit: 2, committed: 2, requested: 1 });
      return true;
    });
    assert.equal(provider.calls, 2);
    assert.equal(ledger.root.reserved().calls, 0);
    assert.equal(ledger.root.spent().calls, 2);
    const usage = await shared.usage('study:s');
    assert.deepEqual([usage.spent.calls, usage.spent.totalTokens, usage.holds], [2, ledger.root.spent().totalTokens, 0]);
  });

  it('retried attempts are settled as the call’s cumulative billed spend, once', async () => {
    const clock = new VirtualClock();
    const provider = new CountingProvider(1);
    const shared = new InMemorySharedLedger();
    const recorder = new MemoryRecorder();
    const gate = new SharedGate({ ledger: shared, scopes: [{ key: 'wide', limits: {} }], runId: 'r2' });
    const ledger = new Ledger({ clock, shared: gate });
    const result = await fleetWith(provider, clock).call('test', request(), { budget: ledger.root, recorder });
    assert.equal(result.attempts, 2);
    assert.equal(result.billed.calls, 2);
    const usage = await shared.usage('wide');
    assert.equal(usage.spent.calls, 2);
    assert.equal(usage.spent.outputTokens, result.billed.outputTokens);
    assert.equal(gate.inFlight, 0);

    // The same run resumed: the call is replayed from the journal, settled again, counted once.
    const resumed = new Ledger({ clock, shared: gate });
    const replay = await fleetWith(new CountingProvider(), clock).call('test', request(), { budget: resumed.root, recorder });
    assert.equal(replay.replayed, true);
    assert.deepEqual((await shared.usage('wide')).spent, usage.spent);

    // A store that never saw the settle (the worker died after journaling): the replay books it.
    const fresh = new InMemorySharedLedger();
    const again = new Ledger({ clock, shared: new SharedGate({ ledger: fresh, scopes: [{ key: 'wide', limits: {} }], runId: 'r2' }) });
    await fleetWith(new CountingProvider(), clock).call('test', request(), { budget: again.root, recorder });
    assert.deepEqual((await fresh.usage('wide')).spent, usage.spent);
  });

  it('an unreachable shared ledger fails the call closed: nothing sent, nothing left reserved', async () => {
    const clock = new VirtualClock();
    const provider = new CountingProvider();
    const down: SharedLedger = Object.assign(new InMemorySharedLedger(), {
      reserve: () => Promise.reject(new SharedLedgerUnreachableError('redis down')),
    });
    const ledger = new Ledger({ clock, limits: { calls: 5 }, shared: new SharedGate({ ledger: down, scopes: [scope], runId: 'r3' }) });
    await assert.rejects(
      fleetWith(provider, clock).call('test', request(), { budget: ledger.root }),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'SHARED_LEDGER_UNREACHABLE',
    );
    assert.equal(provider.calls, 0);
    assert.equal(ledger.root.reserved().calls, 0);
    assert.equal(ledger.root.spent().calls, 0);
  });
});
