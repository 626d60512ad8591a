/** SimProvider behaviour: determinism, output format, usage, limits, faults, abort, labelling. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  ContextOverflowError,
  ProviderError,
  TimeoutError,
  VirtualClock,
  countMessageTokens,
  hashValue,
} from '../../core/index.ts';
import type { ChatMessage, GenerateRequest, GenerateResponse } from '../spec.ts';
import { callIdentityHash } from './sim-provider.ts';
import {
  DEFAULT_SIM_PROFILES,
  PLACEHOLDER_PREFIX,
  SimProvider,
  TaskOracleRegistry,
  extractAnswer,
  mergeSimProfile,
  type SimProfileOverrides,
} from './index.ts';

const SEED = 7;

function provider(
  name: string,
  overrides: SimProfileOverrides = {},
  clock = new VirtualClock(),
  tasks = new TaskOracleRegistry(),
): SimProvider {
  const base = DEFAULT_SIM_PROFILES[name];
  assert.ok(base, `profile ${name}`);
  return new SimProvider({ profileName: name, profile: mergeSimProfile(base, overrides), seed: SEED, clock, tasks });
}

const ask = (content: string, stepId: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [
    { role: 'system', content: 'You are a careful calculator.' },
    { role: 'user', content },
  ],
  maxOutputTokens: 4000,
  metadata: { stepId },
  ...extra,
});

describe('SimProvider', () => {
  it('declares the v1 spec and its identity', () => {
    const sim = provider('medium');
    assert.equal(sim.specificationVersion, 'thicket.v1');
    assert.equal(sim.providerId, 'sim');
    assert.equal(sim.modelId, 'medium');
  });

  it('answers arithmetic with reasoning lines, an Answer line and a Confidence line, marked simulated', async () => {
    const response = await provider('large').doGenerate(ask('What is 17*23?', 'a'));
    assert.equal(response.simulated, true);
    assert.equal(response.usageEstimated, false);
    assert.equal(response.finishReason, 'stop');
    assert.match(response.text, /^\[simulated\]/);
    assert.match(response.text, /\nAnswer: -?\d+\nConfidence: 0\.\d\d$/);
    assert.ok(response.confidence !== undefined && response.confidence > 0 && response.confidence < 1);
    const raw = response.raw as { difficulty: number; pCorrect: number; correct: boolean; answer: string };
    assert.equal(raw.correct, extractAnswer(response.text) === '391');
    assert.ok(raw.pCorrect > 0.5 && raw.pCorrect < 1);
    assert.equal(raw.difficulty, 0.199);
  });

  it('counts prompt tokens with the real tokenizer and reports latency from the profile', async () => {
    const request = ask('What is 17*23?', 'a');
    const response = await provider('small').doGenerate(request);
    assert.equal(response.usage.inputTokens, countMessageTokens(request.messages));
    const { ttftMs, perTokenMs } = DEFAULT_SIM_PROFILES['small']!.latency;
    assert.equal(response.latencyMs, Math.round(ttftMs + perTokenMs * response.usage.outputTokens));
    assert.ok(response.usage.outputTokens > 20 && response.usage.outputTokens < 1000);
  });

  it('is byte-identical for the same seed and requests, whatever the order or concurrency', async () => {
    const requests = Array.from({ length: 24 }, (_, index) =>
      ask(`What is ${index + 11}*${(index % 7) + 13}?`, `step-${index % 5}`, index % 3 === 0 ? { temperature: 0.7 } : {}),
    );
    const sequential: string[] = [];
    const first = provider('medium');
    for (const request of requests) sequential.push(JSON.stringify(await first.doGenerate(request)));
    const second = provider('medium');
    const reversed = await Promise.all([...requests].reverse().map((request) => second.doGenerate(request)));
    assert.deepEqual(
      reversed.reverse().map((response) => JSON.stringify(response)),
      sequential,
    );
  });

  it('varies across stepIds but not at temperature 0 (greedy decoding)', async () => {
    const sim = provider('small');
    const sampled = new Set<string>();
    const greedy = new Set<string>();
    for (let index = 0; index < 30; index++) {
      sampled.add((await sim.doGenerate(ask('Compute (12+7)*3 - 4', `s${index}`))).text);
      greedy.add((await sim.doGenerate(ask('Compute (12+7)*3 - 4', `s${index}`, { temperature: 0 }))).text);
    }
    assert.ok(sampled.size > 10);
    assert.equal(greedy.size, 1);
  });

  it('throws ContextOverflowError when prompt + maxOutputTokens exceed the window', async () => {
    await assert.rejects(provider('small').doGenerate(ask('What is 2+2?', 'a', { maxOutputTokens: 40_000 })), ContextOverflowError);
    await assert.rejects(
      provider('small', { contextWindow: 64 }).doGenerate(ask('What is 2+2? '.repeat(20), 'a', { maxOutputTokens: 10 })),
      (error: unknown) => {
        assert.ok(error instanceof ContextOverflowError);
        assert.equal(error.code, 'CONTEXT_OVERFLOW');
        return true;
      },
    );
  });

  it('truncates like a real provider when maxOutputTokens is too small: finishReason length, no answer', async () => {
    const response = await provider('reasoner-small').doGenerate(ask('What is 17*23?', 'a', { maxOutputTokens: 16 }));
    assert.equal(response.finishReason, 'length');
    assert.equal(response.usage.outputTokens, 16);
    assert.doesNotMatch(response.text, /Answer:/);
    assert.equal(response.simulated, true);
  });

  it('rejects with CancelledError when aborted mid-latency (virtual clock, no real sleep)', async () => {
    // A short call on the same virtual clock finishes first; the long call is then mid-latency.
    const clock = new VirtualClock();
    const controller = new AbortController();
    const pending = provider('large', {}, clock).doGenerate(ask('What is 17*23?', 'a', { abortSignal: controller.signal }));
    const outcome = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    const short = await provider('small', {}, clock).doGenerate(ask('What is 1+1?', 'b'));
    assert.equal(clock.now(), short.latencyMs);
    controller.abort();
    const error = await outcome;
    assert.ok(error instanceof CancelledError, String(error));
    assert.ok(clock.now() < 2000, `virtual time ${clock.now()}`);
    const already = new AbortController();
    already.abort();
    await assert.rejects(provider('large').doGenerate(ask('What is 1+1?', 'a', { abortSignal: already.signal })), CancelledError);
  });

  it("passes on the fleet's TimeoutError when the signal carries one", async () => {
    const controller = new AbortController();
    const pending = provider('large').doGenerate(ask('What is 17*23?', 'a', { abortSignal: controller.signal }));
    controller.abort(new TimeoutError('fleet timeout'));
    await assert.rejects(pending, TimeoutError);
  });

  it('returns JSON restricted to the declared schema properties for structured output', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'number' }, confidence: { type: 'number' }, steps: { type: 'array' } },
      required: ['answer', 'steps'],
    };
    const response = await provider('large').doGenerate(ask('What is 17*23?', 'a', { responseSchema: { name: 'result', schema } }));
    const parsed = JSON.parse(response.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed).sort(), ['answer', 'confidence', 'steps']);
    assert.equal(typeof parsed['answer'], 'number');
    assert.deepEqual(parsed['steps'], []);
    const open = await provider('large').doGenerate(
      ask('What is 17*23?', 'a', { responseSchema: { name: 'free', schema: { type: 'object' } } }),
    );
    assert.deepEqual(Object.keys(JSON.parse(open.text) as object).sort(), ['answer', 'confidence', 'reasoning']);
  });

  it('acts as a verifier when purpose is verify', async () => {
    const response = await provider('large').doGenerate(
      ask('What is 17*23?', 'v', { metadata: { stepId: 'v', tags: { purpose: 'verify', candidate: '391' } } }),
    );
    assert.match(response.text, /\nVERDICT: (correct|incorrect)\nSCORE: 0\.\d\d$/);
    const raw = response.raw as { candidateCorrect: boolean; accepted: boolean };
    assert.equal(raw.candidateCorrect, true);
    assert.equal(response.text.includes('VERDICT: correct'), raw.accepted);
  });

  it('gives clearly marked placeholder text (and no answer) when it has no oracle for the prompt', async () => {
    const response = await provider('medium').doGenerate(ask('Write a haiku about budgets.', 'a'));
    assert.ok(response.text.startsWith(PLACEHOLDER_PREFIX));
    assert.doesNotMatch(response.text, /Answer:/);
    assert.equal(response.simulated, true);
    assert.equal(response.confidence, 0);
  });

  it('looks registered tasks up by metadata taskId, not by prompt text', async () => {
    const tasks = new TaskOracleRegistry();
    tasks.registerTask({ id: 'capital-fr', prompt: 'Capital of France?', answer: 'Paris', difficulty: -3 });
    const response = await provider('large', {}, new VirtualClock(), tasks).doGenerate({
      messages: [{ role: 'user', content: 'Name the capital city of France.' }],
      maxOutputTokens: 1000,
      metadata: { stepId: 'a', taskId: 'capital-fr' },
    });
    assert.equal(extractAnswer(response.text), 'Paris');
    assert.equal((response.raw as { taskId: string }).taskId, 'capital-fr');
  });

  it('cuts text at stop sequences and bills fewer tokens', async () => {
    const full = await provider('medium').doGenerate(ask('What is 17*23?', 'a'));
    const stopped = await provider('medium').doGenerate(ask('What is 17*23?', 'a', { stop: ['\nConfidence:'] }));
    assert.match(stopped.text, /Answer: -?\d+$/);
    assert.ok(stopped.usage.outputTokens < full.usage.outputTokens);
  });
});

describe('SimProvider faults', () => {
  const calls = (count: number): GenerateRequest[] =>
    Array.from({ length: count }, (_, index) => ask(`What is ${index}+${index * 3}?`, `f${index}`));
  const settle = async (sim: SimProvider, requests: GenerateRequest[]): Promise<Array<GenerateResponse | Error>> =>
    Promise.all(requests.map((request) => sim.doGenerate(request).catch((error: unknown) => error as Error)));

  it('rateLimit = 1 always fails with a 429 ProviderError carrying retryAfterMs', async () => {
    const results = await settle(provider('small', { faults: { rateLimit: 1, retryAfterMs: 2000 } }), calls(20));
    for (const result of results) {
      assert.ok(result instanceof ProviderError);
      assert.equal(result.status, 429);
      assert.equal(result.code, 'RATE_LIMITED');
      assert.equal(result.isRetryable, true);
      assert.ok(result.retryAfterMs !== undefined && result.retryAfterMs >= 1500 && result.retryAfterMs <= 2500);
    }
  });

  it('a rate of 0.3 fails roughly 30% of calls, and the next attempt can succeed', async () => {
    const sim = provider('small', { faults: { serverError: 0.3 } });
    const requests = calls(400);
    const results = await settle(sim, requests);
    const failed = results.map((result, index) => ({ result, index })).filter(({ result }) => result instanceof ProviderError);
    const rate = failed.length / results.length;
    assert.ok(rate > 0.24 && rate < 0.36, `failure rate ${rate}`);
    for (const { result } of failed) assert.ok([500, 503].includes((result as ProviderError).status ?? 0));
    const retried = await settle(
      sim,
      failed.map(({ index }) => ({ ...requests[index]!, metadata: { ...requests[index]!.metadata, attempt: 1 } })),
    );
    const recovered = retried.filter((result) => !(result instanceof Error)).length;
    assert.ok(recovered / failed.length > 0.6, `recovered ${recovered}/${failed.length}`);
    // A retry returns the answer an unfaulted call would have: faults never change what is measured.
    const clean = provider('small');
    const index = failed[0]!.index;
    const success = retried.find((result) => !(result instanceof Error)) as GenerateResponse;
    const successIndex = failed[retried.indexOf(success)]!.index;
    assert.equal(success.text, (await clean.doGenerate(requests[successIndex]!)).text);
    assert.ok(index >= 0);
  });

  it('timeouts reject with TimeoutError after the configured hang', async () => {
    const clock = new VirtualClock();
    await assert.rejects(
      provider('small', { faults: { timeout: 1, timeoutAfterMs: 5000 } }, clock).doGenerate(ask('What is 2+3?', 'a')),
      TimeoutError,
    );
    assert.equal(clock.now(), 5000);
  });

  it('malformed JSON and truncated output are returned, not thrown', async () => {
    const schema = { name: 'r', schema: { type: 'object', properties: { answer: { type: 'string' } } } };
    const malformed = await provider('small', { faults: { malformedJson: 1 } }).doGenerate(
      ask('What is 2+3?', 'a', { responseSchema: schema }),
    );
    assert.throws(() => JSON.parse(malformed.text));
    assert.equal(malformed.finishReason, 'stop');
    const truncated = await provider('small', { faults: { truncated: 1 } }).doGenerate(ask('What is 2+3?', 'a'));
    assert.equal(truncated.finishReason, 'length');
    assert.equal(extractAnswer(truncated.text), undefined);
  });
});

describe('callIdentityHash (the fast call identity)', () => {
  const identity = (messages: ChatMessage[], extra: Partial<Parameters<typeof callIdentityHash>[0]> = {}) => ({
    model: 'large',
    messages,
    stepId: 'net/Alice/r1' as string | undefined,
    taskId: undefined as string | undefined,
    temperature: undefined as number | undefined,
    seed: undefined as number | undefined,
    purpose: 'agentsnet' as string | undefined,
    candidate: undefined as string | undefined,
    ...extra,
  });
  // The simulated outcome of every call is seeded by this hash: it must equal the generic canonical hash
  // byte for byte, or every simulated result would change.
  const same = (value: ReturnType<typeof identity>, what: string): void => assert.equal(callIdentityHash(value), hashValue(value), what);

  it('equals hashValue of the identity as a chat grows turn by turn (prefixes reused from earlier calls)', () => {
    const system: ChatMessage = { role: 'system', content: 'You are Alice. Neighbours: Bob, Chen.' };
    const chat: ChatMessage[] = [system];
    for (let turn = 0; turn < 6; turn++) {
      chat.push({ role: 'user', content: `Round ${turn}: {"Bob":"colour ${turn}"} — ünïcödé 😀 "quoted" \\ back\nslash` });
      same(identity([...chat]), `turn ${turn}, prompt`);
      chat.push({ role: 'assistant', content: `{"Bob":"I take ${turn % 3}"}` });
      same(identity([...chat], { temperature: 0.7, seed: turn, taskId: `t${turn}` }), `turn ${turn}, reply`);
    }
  });

  it('stays equal when a message object follows a different predecessor (pruned history) or is edited in place', () => {
    const messages: ChatMessage[] = Array.from({ length: 6 }, (_, index) => ({
      role: index % 2 === 0 ? 'user' : 'assistant',
      content: `message ${index}`,
    }));
    same(identity(messages), 'full');
    same(identity([messages[0]!, messages[4]!, messages[5]!]), 'pruned: same objects after other predecessors');
    same(identity(messages), 'full again');
    messages[2]!.content = 'edited in place';
    same(identity(messages), 'after an in-place edit');
    messages[3]!.role = 'user';
    same(identity(messages), 'after a role change');
  });

  it('stays equal with a candidate, extra message fields, a lone surrogate and every optional field', () => {
    const odd = { role: 'user', content: 'lone \uD800 surrogate', name: 'extra' } as ChatMessage;
    same(identity([odd, { role: 'assistant', content: '' }], { candidate: '42', stepId: undefined, purpose: 'verify' }), 'candidate');
    same(identity([odd], { taskId: 'task-1', temperature: 0, seed: 3, purpose: undefined, stepId: undefined }), 'optional fields');
    same(identity([]), 'no messages');
  });
});
