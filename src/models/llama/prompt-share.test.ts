/**
 * Prompt prefix sharing (prompt-share.ts) on the fixture model through LlamaProvider: k concurrent calls with
 * one prompt evaluate it about once, are billed k times, and sample exactly what the unshared path samples
 * (and a copied state gives bit-identical next-token probabilities); prompts with a common prefix share just
 * that; aborts and a failed leader leave later calls working. Baselines run on the same context with sharing
 * and reuse off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { CancelledError, systemClock } from '../../core/index.ts';
import { Ledger } from '../../budget/index.ts';
import { Fleet } from '../fleet.ts';
import type { GenerateRequest, GenerateResponse } from '../spec.ts';
import { LlamaProvider, disposeLlamaEngine, renderChatPrompt, resolveGgufModel, writeFixtureModel } from './index.ts';
import { PromptSharer } from './prompt-share.ts';

const K = 4;
const CONTEXT = 1024;
let folder: string;
let modelPath: string;
let shared: LlamaProvider;
let unshared: LlamaProvider;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-share-'));
  modelPath = join(folder, 'fixture.gguf');
  writeFixtureModel(modelPath, { seed: 7 });
  shared = new LlamaProvider({ modelPath, contextSize: CONTEXT, sequences: K });
  // Same engine context (same options), so the same KV cache layout; every call evaluates its whole prompt.
  unshared = new LlamaProvider({ modelPath, contextSize: CONTEXT, sequences: K, sharePrompts: false, reusePrefix: false });
  await shared.engine();
});

after(async () => {
  await disposeLlamaEngine();
  rmSync(folder, { recursive: true, force: true });
});

interface Raw {
  promptTokens: number;
  reusedPrefixTokens: number;
  sharedPromptTokens: number;
  evaluatedPromptTokens: number;
  generatedTokens: number;
}
const raw = (response: GenerateResponse): Raw => response.raw as Raw;
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

const SYSTEM = 'You are one of several careful voters. Answer the question briefly.';
const ask = (question: string, seed: number, overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: question },
  ],
  maxOutputTokens: 16,
  temperature: 0.9,
  seed,
  ...overrides,
});

/** Input tokens the token meters of all the context's sequences counted during `run`. */
async function meteredInput<T>(run: () => Promise<T>): Promise<{ result: T; input: number }> {
  const { pool } = await shared.engine();
  const sequences: LlamaContextSequence[] = [];
  for (let index = 0; index < K; index++) sequences.push(await pool.acquire());
  for (const sequence of sequences) pool.release(sequence);
  const before = sum(sequences.map((sequence) => sequence.tokenMeter.usedInputTokens));
  const result = await run();
  return { result, input: sum(sequences.map((sequence) => sequence.tokenMeter.usedInputTokens)) - before };
}

describe('prompt prefix sharing', () => {
  it('k concurrent calls with one prompt evaluate it once, are billed k times, and sample what the unshared path samples', async () => {
    const question = 'What is 17 + 25? Think about the tens first.';
    const seeds = [1, 2, 3, 4];
    const { result: responses, input } = await meteredInput(() => Promise.all(seeds.map((seed) => shared.doGenerate(ask(question, seed)))));
    const baseline = await Promise.all(seeds.map((seed) => unshared.doGenerate(ask(question, seed))));
    const prompt = raw(responses[0]!).promptTokens;
    assert.ok(prompt > 40, `prompt of ${prompt} tokens`);
    // One call evaluated the prompt; each of the others evaluated only its last token (for its own logits).
    assert.equal(sum(responses.map((response) => raw(response).evaluatedPromptTokens)), prompt + K - 1);
    assert.deepEqual(
      responses.map((response) => raw(response).sharedPromptTokens).sort((a, b) => a - b),
      [0, prompt - 1, prompt - 1, prompt - 1],
    );
    // The meters agree: a state load counts nothing, and each call's last prompt token is metered as output.
    assert.equal(input, prompt - 1);
    for (const response of responses) {
      assert.equal(response.usage.inputTokens, prompt, 'billed: the whole prompt per call');
      assert.equal(response.usage.outputTokens, raw(response).generatedTokens);
    }
    assert.deepEqual(
      baseline.map((response) => raw(response).evaluatedPromptTokens),
      seeds.map(() => prompt),
    );
    assert.deepEqual(
      responses.map((response) => response.text),
      baseline.map((response) => response.text),
    );
    assert.ok(new Set(responses.map((response) => response.text)).size > 1, 'the seeds sample different texts');
  });

  it('a later call on another sequence loads the earlier evaluation instead of evaluating again', async () => {
    const question = 'Name a prime number larger than thirty.';
    const first = await shared.doGenerate(ask(question, 5));
    // Hold the sequence that evaluated it, so the next call gets another one.
    const { pool } = await shared.engine();
    const held: LlamaContextSequence[] = [];
    for (let index = 0; index < K - 1; index++) held.push(await pool.acquire());
    const second = await shared.doGenerate(ask(question, 5));
    for (const sequence of held) pool.release(sequence);
    assert.equal(raw(second).reusedPrefixTokens + raw(second).sharedPromptTokens, raw(second).promptTokens - 1);
    assert.equal(raw(second).evaluatedPromptTokens, 1);
    assert.equal(second.text, first.text);
  });

  it('prompts with a common prefix share it and evaluate only their own parts', async () => {
    const questions = ['Persona A: argue that the answer is 42 and say why.', 'Persona B: argue that the answer is 41 instead.'];
    // Greedy: persona B's own part is evaluated in a batch of its own after the copied common prefix, not with it as
    // in the baseline, and llama.cpp's floats vary in the last bits with the batch a token is in (a sampled near-tie
    // could flip; 20 of 20 seeds matched at 0.9 when measured).
    const requests = [0, 1, 2, 3].map((index) => ask(questions[index % 2]!, 10 + index, { temperature: 0 }));
    const responses = await Promise.all(requests.map((request) => shared.doGenerate(request)));
    const baseline = await Promise.all(requests.map((request) => unshared.doGenerate(request)));
    assert.deepEqual(
      responses.map((response) => response.text),
      baseline.map((response) => response.text),
    );
    const [a, b] = [raw(responses[0]!).promptTokens, raw(responses[1]!).promptTokens];
    const evaluated = sum(responses.map((response) => raw(response).evaluatedPromptTokens));
    // Without sharing: a + b + a + b. With it: the common prefix once, each persona's rest once, one token per call.
    assert.ok(evaluated < a + b + K, `evaluated ${evaluated}, personas ${a} and ${b} tokens`);
    assert.ok(responses.some((response) => raw(response).sharedPromptTokens > 0));
    for (const [index, response] of responses.entries()) assert.equal(response.usage.inputTokens, index % 2 === 0 ? a : b);
  });

  it('an aborted call does not break the calls sharing with it, nor later ones', async () => {
    const question = 'How many legs do three spiders have in total? Count them carefully.';
    const controllers = [0, 1, 2, 3].map(() => new AbortController());
    const greedy = { temperature: 0 };
    const calls = controllers.map((controller, index) =>
      shared.doGenerate(ask(question, 20 + index, { ...greedy, abortSignal: controller.signal })),
    );
    // The first call leads (it registered the prompt); the second waits for it. Abort both at once.
    await new Promise((resolve) => setImmediate(resolve));
    controllers[0]!.abort();
    controllers[1]!.abort();
    const settled = await Promise.allSettled(calls);
    for (const outcome of settled.slice(0, 2)) assert.ok(outcome.status === 'rejected' && outcome.reason instanceof CancelledError);
    const baseline = await Promise.all([0, 1, 2, 3].map((index) => unshared.doGenerate(ask(question, 20 + index, greedy))));
    for (const [index, outcome] of settled.entries()) {
      if (index < 2) continue;
      assert.ok(outcome.status === 'fulfilled');
      assert.equal(outcome.value.text, baseline[index]!.text);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await shared.engine()).pool.busy, 0);
    const again = await Promise.all([0, 1, 2, 3].map((index) => shared.doGenerate(ask(question, 20 + index, greedy))));
    assert.deepEqual(
      again.map((response) => response.text),
      baseline.map((response) => response.text),
    );
    assert.ok(sum(again.map((response) => raw(response).evaluatedPromptTokens)) <= raw(again[0]!).promptTokens + K);
  });

  it('a copied prefix is bit-identical: next-token probabilities equal those of the sequence that evaluated it', async () => {
    const { model, pool, prompts } = await shared.engine();
    const tokens = renderChatPrompt(model, ask('Which is larger, 0.3 or 0.25? Compare the digits.', 1).messages).tokens;
    const [leader, follower] = [await pool.acquire(), await pool.acquire()];
    try {
      const options = { reuse: false, abortError: () => new CancelledError('aborted') };
      const led = await prompts.prepare(leader, tokens, options);
      const followed = await prompts.prepare(follower, tokens, options);
      assert.equal(led.start, tokens.length - 1);
      assert.deepEqual(followed, { reused: 0, shared: tokens.length - 1, evaluated: 0, start: tokens.length - 1 });
      const nextTokenProbabilities = async (sequence: LlamaContextSequence): Promise<Array<[Token, number]>> => {
        for await (const output of sequence.evaluateWithMetadata(tokens.slice(-1), { probabilities: true }, { temperature: 1, topK: 0 }))
          return [...output.probabilities];
        throw new Error('no token');
      };
      const [fromLeader, fromFollower] = [await nextTokenProbabilities(leader), await nextTokenProbabilities(follower)];
      assert.ok(fromLeader.length > 100, `${fromLeader.length} probabilities`);
      assert.deepEqual(fromFollower, fromLeader);
    } finally {
      pool.release(leader);
      pool.release(follower);
    }
  });

  it('through the fleet, as the sample operator calls it: k concurrent calls, one prompt evaluation, k billed prompts', async () => {
    const reference = `gguf:${modelPath}`;
    const fleet = new Fleet({
      resolver: { resolve: (model) => resolveGgufModel(model, { path: modelPath, contextSize: CONTEXT, sequences: K }, { seed: 3 }) },
      clock: systemClock,
      seed: 3,
    });
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 1_000_000 } });
    // The same request K times: the fleet derives each call's seed from its occurrence (vote@k).
    const { seed: _unseeded, ...request } = ask('Is 91 a prime number? Check small divisors.', 0);
    const results = await Promise.all(Array.from({ length: K }, () => fleet.call(reference, request, { budget: ledger.root })));
    const prompt = raw(results[0]!).promptTokens;
    // One call evaluated the prompt (less what it could load: the system message is in an earlier test's snapshot),
    // each of the others only its last token.
    const evaluated = results.map((result) => raw(result).evaluatedPromptTokens).sort((a, b) => a - b);
    assert.deepEqual(evaluated.slice(0, K - 1), [1, 1, 1]);
    assert.ok(evaluated[K - 1]! > 1 && evaluated[K - 1]! <= prompt);
    assert.equal(ledger.report().total.inputTokens, K * prompt);
    assert.ok(new Set(results.map((result) => result.text)).size > 1, 'distinct samples');
  });

  it('removes its scratch folder when the engine is disposed', async () => {
    const { prompts } = await shared.engine();
    const scratch = prompts.scratchFolder;
    assert.ok(scratch !== undefined && existsSync(scratch));
    await disposeLlamaEngine();
    assert.equal(existsSync(scratch), false);
  });
});

describe('PromptSharer (a fake sequence)', () => {
  /** Just enough of a sequence: a token list, evaluation that may fail, and state files as a map. */
  function fakeSequence(files: Map<string, Token[]>, failEvaluation = false) {
    let tokens: Token[] = [];
    let evaluated = 0;
    const sequence = {
      get nextTokenIndex() {
        return tokens.length;
      },
      compareContextTokens: (other: Token[]) => {
        let index = 0;
        while (index < tokens.length && tokens[index] === other[index]) index++;
        return { firstDifferentIndex: index };
      },
      eraseContextTokenRanges: async (ranges: Array<{ start: number; end: number }>) => {
        tokens = tokens.slice(0, ranges[0]!.start);
      },
      evaluateWithoutGeneratingNewTokens: async (input: Token[]) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (failEvaluation) throw new Error('evaluation failed');
        evaluated += input.length;
        tokens = [...tokens, ...input];
      },
      saveStateToFile: async (file: string) => {
        files.set(file, [...tokens]);
        return { fileSize: tokens.length };
      },
      loadStateFromFile: async (file: string) => {
        tokens = [...files.get(file)!];
      },
    };
    return { sequence: sequence as unknown as LlamaContextSequence, evaluated: () => evaluated, tokens: () => tokens };
  }
  const prompt = Array.from({ length: 30 }, (_, index) => index as Token);
  const options = { reuse: true, abortError: () => new CancelledError('aborted') };

  it('when the leader fails, a waiter evaluates the prefix itself and later calls share it', async () => {
    const files = new Map<string, Token[]>();
    const sharer = new PromptSharer(3, { scratchRoot: tmpdir() });
    const leader = fakeSequence(files, true);
    const waiter = fakeSequence(files);
    const leading = sharer.prepare(leader.sequence, prompt, options);
    const waiting = sharer.prepare(waiter.sequence, prompt, options);
    await assert.rejects(leading, /evaluation failed/);
    assert.deepEqual(await waiting, { reused: 0, shared: 0, evaluated: 29, start: 29 });
    const later = fakeSequence(files);
    assert.deepEqual(await sharer.prepare(later.sequence, prompt, options), { reused: 0, shared: 29, evaluated: 0, start: 29 });
    assert.deepEqual(later.tokens(), prompt.slice(0, 29));
    // A prompt that differs at token 20 loads the snapshot, erases past the common prefix and evaluates its own rest.
    const other = [...prompt.slice(0, 20), ...Array.from({ length: 15 }, (_, index) => (100 + index) as Token)];
    const diverging = fakeSequence(files);
    assert.deepEqual(await sharer.prepare(diverging.sequence, other, options), { reused: 0, shared: 20, evaluated: 14, start: 34 });
    assert.deepEqual(diverging.tokens(), other.slice(0, 34));
    assert.equal(sharer.snapshotCount, 2);
    sharer.dispose();
  });

  it('keeps the most recently used snapshots within the count and byte limits', async () => {
    const files = new Map<string, Token[]>();
    const distinct = (offset: number): Token[] => prompt.map((token) => (token + offset) as Token);
    const byCount = new PromptSharer(2, { scratchRoot: tmpdir(), maxSnapshots: 2 });
    for (const offset of [100, 200, 300]) await byCount.prepare(fakeSequence(files).sequence, distinct(offset), options);
    assert.equal(byCount.snapshotCount, 2);
    assert.equal((await byCount.prepare(fakeSequence(files).sequence, distinct(100), options)).shared, 0, 'the oldest was dropped');
    assert.equal((await byCount.prepare(fakeSequence(files).sequence, distinct(300), options)).shared, 29);
    byCount.dispose();
    // The fake's files are one byte per token: 29 bytes each, so a 40-byte budget keeps only the newest.
    const byBytes = new PromptSharer(2, { scratchRoot: tmpdir(), maxSnapshotBytes: 40 });
    for (const offset of [100, 200]) await byBytes.prepare(fakeSequence(files).sequence, distinct(offset), options);
    assert.equal(byBytes.snapshotCount, 1);
    assert.equal((await byBytes.prepare(fakeSequence(files).sequence, distinct(200), options)).shared, 29);
    byBytes.dispose();
  });

  it('a waiter aborted while waiting rejects at once; the leader still publishes', async () => {
    const files = new Map<string, Token[]>();
    const sharer = new PromptSharer(2, { scratchRoot: tmpdir() });
    const leader = fakeSequence(files);
    const controller = new AbortController();
    const leading = sharer.prepare(leader.sequence, prompt, options);
    const waiting = sharer.prepare(fakeSequence(files).sequence, prompt, { ...options, signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, CancelledError);
    assert.equal((await leading).evaluated, 29);
    const later = fakeSequence(files);
    assert.equal((await sharer.prepare(later.sequence, prompt, options)).shared, 29);
    assert.equal(later.evaluated(), 0);
    sharer.dispose();
  });
});
