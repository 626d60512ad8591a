import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BudgetExhaustedError,
  CancelledError,
  InvalidInputError,
  MalformedOutputError,
  ProviderError,
  TimeoutError,
  VirtualClock,
  countMessageTokens,
  type Clock,
} from '../core/index.ts';
import { Ledger, type Budget } from '../budget/index.ts';
import { Fleet, type ModelResolver, type ResolvedModel } from './fleet.ts';
import { MODEL_SPEC_VERSION, type GenerateRequest, type GenerateResponse, type ModelProvider } from './spec.ts';
import type { CallRecorder, RecordedCall } from './call-recorder.ts';

type Script = (request: GenerateRequest, callIndex: number) => Promise<GenerateResponse> | GenerateResponse;

/** A provider test double whose behaviour per call is scripted; it counts calls and tracks concurrency. */
class ScriptedProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'scripted';
  readonly modelId = 'scripted-model';
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly requests: GenerateRequest[] = [];
  constructor(private readonly script: Script) {}
  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    const index = this.calls++;
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.script(request, index);
    } finally {
      this.inFlight--;
    }
  }
}

function ok(request: GenerateRequest, text = 'Answer: 42', outputTokens = 10): GenerateResponse {
  return {
    text,
    usage: { inputTokens: countMessageTokens(request.messages), outputTokens: Math.min(outputTokens, request.maxOutputTokens) },
    usageEstimated: false,
    finishReason: 'stop',
    latencyMs: 5,
    simulated: true,
  };
}

function fleetWith(provider: ModelProvider, clock: Clock, overrides: Partial<ResolvedModel['profile']> = {}): Fleet {
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
        ...overrides,
      },
      promptMargin: () => 0,
    }),
  };
  return new Fleet({ resolver, clock, seed: 7, retry: { initialDelayMs: 100 } });
}

const request = (stepId = 's'): GenerateRequest => ({
  messages: [{ role: 'user', content: 'What is 6*7?' }],
  maxOutputTokens: 64,
  metadata: { stepId },
});

class MemoryRecorder implements CallRecorder {
  readonly calls = new Map<string, RecordedCall>();
  lookup(callKey: string): RecordedCall | undefined {
    return this.calls.get(callKey);
  }
  record(call: RecordedCall): void {
    this.calls.set(call.callKey, structuredClone(call));
  }
}

describe('Fleet call path', () => {
  it('reserves, calls, settles actual usage and reports cost', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req) => ok(req));
    const ledger = new Ledger({ clock, limits: { totalTokens: 1000 } });
    const result = await fleetWith(provider, clock).call('test', request(), { budget: ledger.root });
    const prompt = countMessageTokens(request().messages);
    assert.equal(result.text, 'Answer: 42');
    assert.equal(result.replayed, false);
    assert.equal(ledger.root.spent().totalTokens, prompt + 10);
    assert.equal(ledger.root.reserved().totalTokens, 0);
    assert.ok(Math.abs(result.costUsd - (prompt * 1 + 10 * 4) / 1e6) < 1e-15);
  });

  it('refuses before sending anything when the budget cannot cover the prompt', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req) => ok(req));
    const ledger = new Ledger({ clock, limits: { totalTokens: 5 } });
    await assert.rejects(fleetWith(provider, clock).call('test', request(), { budget: ledger.root }), BudgetExhaustedError);
    assert.equal(provider.calls, 0);
    assert.equal(ledger.root.spent().totalTokens, 0);
  });

  it('shrinks max output tokens to what the budget still covers', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req) => ok(req, 'Answer: 42', 1000));
    const prompt = countMessageTokens(request().messages);
    const ledger = new Ledger({ clock, limits: { totalTokens: prompt + 20 } });
    const result = await fleetWith(provider, clock).call('test', request(), { budget: ledger.root });
    assert.equal(provider.requests[0]!.maxOutputTokens, 20);
    assert.equal(result.usage.outputTokens, 20);
    assert.equal(ledger.root.spent().totalTokens, prompt + 20);
  });

  it('tells the provider each attempt and the call key (the identity a provider with its own sampler seeds from)', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req, index) => {
      if (index === 0) throw new ProviderError('flaky', { status: 503 });
      return ok(req);
    });
    const fleet = fleetWith(provider, clock);
    const ledger = new Ledger({ clock, limits: {} });
    const first = await fleet.call('test', request(), { budget: ledger.root });
    const second = await fleet.call('test', request(), { budget: ledger.root });
    assert.deepEqual(
      provider.requests.map((req) => [req.metadata?.callKey, req.metadata?.attempt]),
      [
        [first.callKey, 0],
        [first.callKey, 1],
        [second.callKey, 0],
      ],
    );
    assert.notEqual(first.callKey, second.callKey, 'the same request twice: two occurrences, two keys');
  });

  it('retries retryable errors, honouring retry-after on the clock, and reserves every attempt', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req, index) => {
      if (index < 2) throw new ProviderError('slow down', { status: 429, retryAfterMs: 5000 });
      return ok(req);
    });
    const ledger = new Ledger({ clock, limits: { calls: 3 } });
    const reserves: number[] = [];
    ledger.onEvent((event) => event.kind === 'reserve' && reserves.push(clock.now()));
    const result = await fleetWith(provider, clock).call('test', request(), { budget: ledger.root });
    assert.equal(result.attempts, 3);
    assert.equal(provider.calls, 3);
    assert.equal(reserves.length, 3);
    assert.ok(reserves[1]! - reserves[0]! >= 5000 && reserves[2]! - reserves[1]! >= 5000, `waited ${reserves.join(', ')}`);
    assert.equal(ledger.root.spent().calls, 3);
  });

  it('stops retrying when the call budget is spent, without exceeding it', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(() => {
      throw new ProviderError('boom', { status: 503 });
    });
    const ledger = new Ledger({ clock, limits: { calls: 2 } });
    await assert.rejects(fleetWith(provider, clock).call('test', request(), { budget: ledger.root }), BudgetExhaustedError);
    assert.equal(provider.calls, 2);
    assert.equal(ledger.root.spent().calls, 2);
  });

  it('does not retry non-retryable errors', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(() => {
      throw new ProviderError('bad request', { status: 400 });
    });
    const ledger = new Ledger({ clock });
    await assert.rejects(
      fleetWith(provider, clock).call('test', request(), { budget: ledger.root }),
      (error: unknown) => error instanceof ProviderError && error.status === 400,
    );
    assert.equal(provider.calls, 1);
  });

  it('times out a hanging call (per-call timeout) and retries it', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(async (req, index) => {
      if (index === 0) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- forwards the abort reason as is, like a real provider
        await new Promise<void>((_resolve, reject) => req.abortSignal!.addEventListener('abort', () => reject(req.abortSignal!.reason)));
      }
      return ok(req);
    });
    const ledger = new Ledger({ clock });
    const result = await fleetWith(provider, clock, { timeoutMs: 2000 }).call('test', request(), { budget: ledger.root });
    assert.equal(result.attempts, 2);
    assert.ok(clock.now() >= 2000);
  });

  it('turns a call cut off by the run deadline into budget exhaustion, not a retry', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(async (req) => {
      await clock.sleep(60_000, req.abortSignal);
      return ok(req);
    });
    const ledger = new Ledger({ clock, limits: { seconds: 3 } });
    await assert.rejects(
      fleetWith(provider, clock).call('test', request(), { budget: ledger.root }),
      (error: unknown) => error instanceof BudgetExhaustedError && error.shortfall.dimension === 'seconds',
    );
    assert.equal(provider.calls, 1);
    assert.ok(clock.now() <= 3000);
  });

  it('propagates cancellation to in-flight calls', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(async (req) => {
      await clock.sleep(10_000, req.abortSignal);
      return ok(req);
    });
    const ledger = new Ledger({ clock });
    const controller = new AbortController();
    const fleet = fleetWith(provider, clock);
    const pending = Promise.all(
      [1, 2, 3].map((index) => fleet.call('test', request(`s${index}`), { budget: ledger.root, signal: controller.signal })),
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new CancelledError('stop'));
    await assert.rejects(pending, CancelledError);
    assert.equal(ledger.root.reserved().totalTokens, 0);
  });

  it('respects the per-model concurrency limit', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider(async (req) => {
      await clock.sleep(100);
      return ok(req);
    });
    const ledger = new Ledger({ clock });
    const fleet = fleetWith(provider, clock, { maxConcurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, index) => fleet.call('test', request(`s${index}`), { budget: ledger.root })));
    assert.equal(provider.maxInFlight, 3);
    assert.equal(clock.now(), 400);
  });

  it('parses and validates structured output, retrying malformed JSON', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req, index) =>
      ok(req, index === 0 ? '{"answer": 4' : index === 1 ? '{"answer": "four"}' : '{"answer": 4}'),
    );
    const ledger = new Ledger({ clock });
    const schema = {
      name: 'result',
      schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false },
    };
    const result = await fleetWith(provider, clock).call('test', { ...request(), responseSchema: schema }, { budget: ledger.root });
    assert.deepEqual(result.object, { answer: 4 });
    assert.equal(result.attempts, 3);
    // Malformed attempts were billed: the provider produced (and charged for) them.
    assert.equal(ledger.root.spent().calls, 3);
    assert.ok(ledger.root.spent().outputTokens >= 30);
  });

  it('fails with MalformedOutputError when retries run out', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req) => ok(req, 'not json'));
    const ledger = new Ledger({ clock });
    await assert.rejects(
      fleetWith(provider, clock).call(
        'test',
        { ...request(), responseSchema: { name: 'x', schema: { type: 'object' } } },
        { budget: ledger.root, retry: { maxRetries: 1 } },
      ),
      MalformedOutputError,
    );
    assert.equal(provider.calls, 2);
  });

  it('rejects invalid requests with every problem listed', async () => {
    const clock = new VirtualClock();
    const fleet = fleetWith(new ScriptedProvider((req) => ok(req)), clock);
    await assert.rejects(
      fleet.call('test', { messages: [], maxOutputTokens: 0, temperature: 5 }, { budget: new Ledger({ clock }).root }),
      (error: unknown) =>
        error instanceof InvalidInputError && error.issues.map((issue) => issue.path).join(',') === 'messages,maxOutputTokens,temperature',
    );
  });

  it('replays recorded calls without calling the provider, charging the recorded usage', async () => {
    const clock = new VirtualClock();
    const recorder = new MemoryRecorder();
    const first = new ScriptedProvider((req, index) => ok(req, `Answer: ${index}`));
    const ledgerA = new Ledger({ clock });
    const fleetA = fleetWith(first, clock);
    const original = await Promise.all(
      [0, 1, 2].map((index) => fleetA.call('test', request(`s${index}`), { budget: ledgerA.root, recorder })),
    );
    const second = new ScriptedProvider((req) => ok(req, 'Answer: different'));
    const ledgerB = new Ledger({ clock });
    const fleetB = fleetWith(second, clock);
    const replayed = await Promise.all(
      [0, 1, 2].map((index) => fleetB.call('test', request(`s${index}`), { budget: ledgerB.root, recorder })),
    );
    assert.equal(second.calls, 0);
    assert.deepEqual(
      replayed.map((result) => result.text),
      original.map((result) => result.text),
    );
    assert.ok(replayed.every((result) => result.replayed));
    assert.equal(ledgerB.root.spent().totalTokens, ledgerA.root.spent().totalTokens);
    // Identical requests in one run are distinct calls (by occurrence), so a 4th identical call is new.
    await fleetB.call('test', request('s0'), { budget: ledgerB.root, recorder });
    assert.equal(second.calls, 1);
  });

  it('refuses prompts beyond the context window before sending', async () => {
    const clock = new VirtualClock();
    const provider = new ScriptedProvider((req) => ok(req));
    const fleet = fleetWith(provider, clock, { contextWindow: 10 });
    await assert.rejects(
      fleet.call('test', request(), { budget: new Ledger({ clock }).root }),
      (error: unknown) => (error as { code?: string }).code === 'CONTEXT_OVERFLOW',
    );
    assert.equal(provider.calls, 0);
  });
});

describe('Fleet property: no path spends beyond its budget', () => {
  it('holds for random concurrent call trees with faults, timeouts and retries', async () => {
    const faultArb = fc.constantFrom('ok', 'ok', 'ok', 'rate-limit', 'server-error', 'timeout', 'malformed', 'length');
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            totalTokens: fc.integer({ min: 0, max: 4000 }),
            usd: fc.double({ min: 0, max: 0.01, noNaN: true }),
            calls: fc.integer({ min: 0, max: 30 }),
            seconds: fc.integer({ min: 1, max: 120 }),
          },
          { requiredKeys: [] },
        ),
        fc.array(
          fc.record({
            share: fc.double({ min: 0.1, max: 1, noNaN: true }),
            calls: fc.array(
              fc.record({
                faults: fc.array(faultArb, { maxLength: 4 }),
                output: fc.integer({ min: 0, max: 400 }),
                maxOutput: fc.integer({ min: 1, max: 300 }),
              }),
              { maxLength: 5 },
            ),
          }),
          { maxLength: 4 },
        ),
        async (limits, branches) => {
          const clock = new VirtualClock();
          const scripts = new Map<string, { faults: string[]; output: number }>();
          const provider = new ScriptedProvider(async (req) => {
            const plan = scripts.get(req.metadata!.stepId!)!;
            const fault = plan.faults[req.metadata!.attempt ?? 0] ?? 'ok';
            await clock.sleep(50, req.abortSignal);
            if (fault === 'rate-limit') throw new ProviderError('429', { status: 429, retryAfterMs: 1000 });
            if (fault === 'server-error') throw new ProviderError('500', { status: 500 });
            if (fault === 'timeout') throw new TimeoutError('timeout');
            const response = ok(req, fault === 'malformed' ? '{"broken"' : '{"answer": 1}', plan.output);
            return fault === 'length' ? { ...response, finishReason: 'length' } : response;
          });
          const ledger = new Ledger({ clock, limits });
          const fleet = fleetWith(provider, clock, { maxConcurrency: 3 });
          const budgets: Budget[] = [ledger.root];
          const tasks: Array<Promise<unknown>> = [];
          branches.forEach((branch, branchIndex) => {
            const budget = ledger.root.child(`b${branchIndex}`, { share: branch.share });
            budgets.push(budget);
            branch.calls.forEach((call, callIndex) => {
              const stepId = `b${branchIndex}-c${callIndex}`;
              scripts.set(stepId, call);
              const req: GenerateRequest = {
                ...request(stepId),
                maxOutputTokens: call.maxOutput,
                responseSchema: { name: 'r', schema: { type: 'object' } },
              };
              tasks.push(fleet.call('test', req, { budget, retry: { maxRetries: 3 } }).catch((error: unknown) => error));
            });
          });
          await Promise.all(tasks);
          for (const budget of budgets) {
            for (let index = 0; index < budget.spentVector.length; index++) {
              assert.ok(
                budget.spentVector[index]! <= budget.limitVector[index]! + 1e-9,
                `${budget.path}[${index}] spent ${budget.spentVector[index]} > ${budget.limitVector[index]}`,
              );
              assert.ok(Math.abs(budget.reservedVector[index]!) < 1e-9, `${budget.path} has open reservations`);
            }
          }
          assert.equal(ledger.report().overrun.totalTokens, 0);
        },
      ),
      { numRuns: 400, seed: 424242 },
    );
  });
});
