/**
 * The llama provider on the fixture model (generated into a temp folder, seeded): real llama.cpp, real
 * grammars, real token meter. The model is loaded once for the file and the engine disposed at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import {
  CancelledError,
  ContextOverflowError,
  ProviderError,
  ThicketError,
  TimeoutError,
  countMessageTokens,
  systemClock,
} from '../../core/index.ts';
import { Ledger } from '../../budget/index.ts';
import { Fleet } from '../fleet.ts';
import type { GenerateRequest, JsonSchema } from '../spec.ts';
import { LlamaProvider, ModelNotPulledError, disposeLlamaEngine, llamaPromptMargin, resolveGgufModel, writeFixtureModel } from './index.ts';
import { renderChatPrompt } from './chat-template.ts';
import { toGbnfSchema } from './grammars.ts';

let folder: string;
let modelPath: string;
let provider: LlamaProvider;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-llama-'));
  modelPath = join(folder, 'fixture.gguf');
  writeFixtureModel(modelPath, { seed: 7 });
  provider = new LlamaProvider({ modelPath: `gguf:${modelPath}`, contextSize: 4096, sequences: 2 });
  await provider.engine();
});

after(async () => {
  await disposeLlamaEngine();
  rmSync(folder, { recursive: true, force: true });
});

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'What is 2 + 2?' },
  ],
  maxOutputTokens: 24,
  temperature: 0.8,
  seed: 42,
  ...overrides,
});

describe('LlamaProvider', () => {
  it('implements the v1 spec under the llama provider id', () => {
    assert.equal(provider.specificationVersion, 'thicket.v1');
    assert.equal(provider.providerId, 'llama');
    assert.equal(provider.modelId, `gguf:${modelPath}`);
  });

  it('generates from the fixture; bills prompt + generated tokens; the meter agrees on what was evaluated', async () => {
    const { pool } = await provider.engine();
    // Two sequences exist once two calls were made; read both meters around a call and sum the changes.
    const first = await pool.acquire();
    const second = await pool.acquire();
    const before = [first.tokenMeter.getState(), second.tokenMeter.getState()];
    pool.release(first);
    pool.release(second);
    const response = await provider.doGenerate(request({ messages: [{ role: 'user', content: 'A fresh prompt about meters.' }] }));
    const inputDelta =
      first.tokenMeter.usedInputTokens + second.tokenMeter.usedInputTokens - before[0]!.usedInputTokens - before[1]!.usedInputTokens;
    const outputDelta =
      first.tokenMeter.usedOutputTokens + second.tokenMeter.usedOutputTokens - before[0]!.usedOutputTokens - before[1]!.usedOutputTokens;
    assert.equal(response.usageEstimated, false);
    assert.equal(response.simulated, false);
    const raw = response.raw as {
      promptTokens: number;
      reusedPrefixTokens: number;
      sharedPromptTokens: number;
      evaluatedPromptTokens: number;
      generatedTokens: number;
      template: string;
    };
    assert.equal(raw.template, 'plain');
    assert.deepEqual(response.usage, { inputTokens: raw.promptTokens, outputTokens: raw.generatedTokens });
    assert.equal(raw.evaluatedPromptTokens, raw.promptTokens - raw.reusedPrefixTokens - raw.sharedPromptTokens);
    // The meter counts prompt tokens evaluated without logits as input, and one output per token evaluated with them
    // (the last prompt token, then each sampled token that was fed back).
    assert.equal(inputDelta, raw.evaluatedPromptTokens - 1);
    assert.equal(outputDelta, response.finishReason === 'length' ? raw.generatedTokens : raw.generatedTokens + 1);
    assert.ok(response.text.length > 0);
  });

  it('samples deterministically by seed', async () => {
    const one = await provider.doGenerate(request({ seed: 9 }));
    const two = await provider.doGenerate(request({ seed: 9 }));
    const other = await provider.doGenerate(request({ seed: 10 }));
    assert.equal(one.text, two.text);
    assert.notEqual(one.text, other.text);
  });

  it('reuses the prompt prefix a sequence still holds', async () => {
    const sequential = new LlamaProvider({ modelPath, contextSize: 2048, sequences: 1 });
    const first = await sequential.doGenerate(request({ maxOutputTokens: 4 }));
    const second = await sequential.doGenerate(request({ maxOutputTokens: 4 }));
    const raw = (response: typeof first) => response.raw as { promptTokens: number; reusedPrefixTokens: number };
    assert.equal(raw(first).reusedPrefixTokens, 0);
    assert.equal(raw(second).reusedPrefixTokens, raw(second).promptTokens - 1);
    assert.equal(second.usage.inputTokens, raw(second).promptTokens, 'billed in full all the same');
    assert.equal(first.text, second.text);
  });

  it('returns grammar-valid JSON for a response schema (anyOf converted, strings bounded)', async () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        answer: { type: 'string', maxLength: 12 },
        confidence: { type: 'integer' },
        note: { anyOf: [{ type: 'string', maxLength: 8 }, { type: 'null' }] },
        steps: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
      },
      required: ['answer', 'confidence', 'note', 'steps'],
      additionalProperties: false,
    };
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const seed of [1, 2, 3]) {
      const response = await provider.doGenerate(request({ seed, maxOutputTokens: 400, responseSchema: { name: 'answer', schema } }));
      assert.equal(response.finishReason, 'stop', response.text);
      const parsed: unknown = JSON.parse(response.text);
      assert.ok(validate(parsed), `${response.text}: ${JSON.stringify(validate.errors)}`);
      assert.ok(!response.text.endsWith('\n'), 'no trailing newlines from the grammar');
    }
  });

  it('serves more concurrent calls than sequences by queueing', async () => {
    const { pool } = await provider.engine();
    const calls = [1, 2, 3, 4, 5].map((seed) => provider.doGenerate(request({ seed, maxOutputTokens: 16 })));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pool.busy, 2);
    assert.ok(pool.queued >= 1);
    const responses = await Promise.all(calls);
    assert.equal(responses.length, 5);
    for (const response of responses) assert.ok(response.usage.outputTokens > 0);
    assert.equal(pool.busy, 0);
  });

  it('refuses prompt + output beyond the context with ContextOverflowError', async () => {
    await assert.rejects(provider.doGenerate(request({ maxOutputTokens: 4096 })), (error: unknown) => {
      assert.ok(error instanceof ContextOverflowError);
      assert.equal(error.contextWindow, 4096);
      assert.ok(error.promptTokens > 0);
      return true;
    });
  });

  it('rejects an abort mid-generation promptly with CancelledError, and frees the sequence', async () => {
    const controller = new AbortController();
    const call = provider.doGenerate(
      request({ maxOutputTokens: 3500, abortSignal: controller.signal, messages: [{ role: 'user', content: 'x' }] }),
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    const abortedAt = performance.now();
    controller.abort();
    await assert.rejects(call, (error: unknown) => error instanceof CancelledError && error.code === 'CANCELLED');
    assert.ok(performance.now() - abortedAt < 100, `rejected ${performance.now() - abortedAt} ms after the abort`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await provider.engine()).pool.busy, 0);
  });

  it('re-throws a ThicketError abort reason as is (the fleet times calls out this way)', async () => {
    const controller = new AbortController();
    const reason = new TimeoutError('call timed out after 5 ms');
    controller.abort(reason);
    await assert.rejects(provider.doGenerate(request({ abortSignal: controller.signal })), (error: unknown) => error === reason);
  });

  it('samples an unseeded request from the run seed and the call key: reproducible per seed, distinct per call', async () => {
    const { seed: _seeded, ...unseeded } = request({ temperature: 1, maxOutputTokens: 16 });
    const ask = (seed: number, callKey: string) =>
      new LlamaProvider({ modelPath, contextSize: 4096, sequences: 2, seed, reusePrefix: false }).doGenerate({
        ...unseeded,
        metadata: { callKey, attempt: 0 },
      });
    const first = (await ask(3, 'k#0')).text;
    assert.equal((await ask(3, 'k#0')).text, first, 'same run seed, same call: same sample');
    assert.notEqual((await ask(3, 'k#1')).text, first, 'another occurrence of the prompt: another sample');
    assert.notEqual((await ask(4, 'k#0')).text, first, 'another run seed: another sample');
  });

  it('builds grammars for schemas with bounds llama.cpp cannot repeat (large ones left to the validator)', async () => {
    const schema = {
      type: 'object',
      properties: {
        short: { type: 'string', maxLength: 12 },
        essay: { type: 'string', minLength: 1, maxLength: 100_000 },
        notes: { type: 'array', items: { type: 'string', maxLength: 2000 }, maxItems: 500 },
      },
      required: ['short', 'essay', 'notes'],
      additionalProperties: false,
    };
    // Small bounds stay (they keep a weak model's strings short); large ones go; names of properties are untouched.
    assert.deepEqual(toGbnfSchema({ ...schema, properties: { ...schema.properties, maxLength: { type: 'string', maxLength: 9999 } } }), {
      type: 'object',
      properties: {
        short: { type: 'string', maxLength: 12 },
        essay: { type: 'string', minLength: 1 },
        notes: { type: 'array', items: { type: 'string' } },
        maxLength: { type: 'string' },
      },
      additionalProperties: false,
    });
    const response = await provider.doGenerate(request({ maxOutputTokens: 200, responseSchema: { name: 'bounded', schema } }));
    assert.ok(response.text.startsWith('{'), response.text);
  });

  it('names the missing file and how to get a model', async () => {
    const missing = join(folder, 'nope.gguf');
    await assert.rejects(new LlamaProvider({ modelPath: `gguf:${missing}` }).doGenerate(request()), (error: unknown) => {
      assert.ok(ThicketError.isInstance(error));
      assert.equal(error.code, 'UNKNOWN_MODEL');
      assert.match(error.message, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(error.message, /thicket models pull/);
      return true;
    });
  });

  it('reports a file llama.cpp cannot load as a non-retryable ProviderError that says why', async () => {
    const broken = join(folder, 'broken.gguf');
    writeFileSync(broken, 'GGUF, but not really a model file');
    await assert.rejects(new LlamaProvider({ modelPath: broken }).doGenerate(request()), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.isRetryable, false);
      assert.match(error.message, /Could not load the GGUF model .*broken\.gguf: unsupported GGUF version/);
      return true;
    });
    const truncated = join(folder, 'truncated.gguf');
    writeFileSync(truncated, readFileSync(modelPath).subarray(0, 200_000));
    await assert.rejects(new LlamaProvider({ modelPath: truncated }).doGenerate(request()), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /truncated\.gguf: Failed to load model \(llama\.cpp: .*not within the file bounds/);
      return true;
    });
  });
});

describe('resolveGgufModel (gguf: references for the fleet)', () => {
  it('runs the fixture through the fleet call path: budget charged with the billed usage, JSON parsed', async () => {
    const fleet = new Fleet({
      resolver: { resolve: (reference) => resolveGgufModel(reference, { path: reference.slice(5), contextSize: 2048, sequences: 2 }) },
      clock: systemClock,
      seed: 1,
    });
    const reference = `gguf:${modelPath}`;
    assert.deepEqual(
      { ...fleet.model(reference).profile },
      {
        reference,
        tier: 'small',
        priceInputPerMillion: 0,
        priceOutputPerMillion: 0,
        contextWindow: 2048,
        reasoning: false,
        maxConcurrency: 2,
        timeoutMs: 300_000,
        simulated: false,
      },
    );
    const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 100_000 } });
    const reservedInput: number[] = [];
    ledger.onEvent((event) => {
      if (event.kind === 'reserve') reservedInput.push(event.amount.inputTokens);
    });
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string', maxLength: 10 } },
      required: ['answer'],
      additionalProperties: false,
    };
    // A prompt long enough for the byte-level count to leave the o200k estimate's margin behind.
    const messages: GenerateRequest['messages'] = [{ role: 'user', content: `What is 2 + 2? ${'Explain it briefly. '.repeat(40)}` }];
    const result = await fleet.call(reference, request({ messages, maxOutputTokens: 64, responseSchema: { name: 'answer', schema } }), {
      budget: ledger.root,
    });
    assert.equal(typeof (result.object as { answer: unknown }).answer, 'string');
    // Reserved: the model's own count of the rendered prompt — on this byte-level vocabulary far above the o200k
    // estimate plus margin, which the call would have overrun. Nothing is over its reservation.
    const { model } = await (fleet.model(reference).provider as LlamaProvider).engine();
    const exact = renderChatPrompt(model, messages).tokens.length;
    const estimated = countMessageTokens(messages) + llamaPromptMargin(countMessageTokens(messages));
    assert.ok(exact > estimated, `exact ${exact} vs estimate ${estimated}`);
    assert.deepEqual(reservedInput, [exact]);
    assert.equal(result.usage.inputTokens, exact, 'billed: exactly the reserved prompt');
    assert.deepEqual(ledger.report().overrun, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    assert.equal(result.usageEstimated, false);
    assert.equal(result.billed.inputTokens, result.usage.inputTokens);
    assert.equal(result.billed.outputTokens, result.usage.outputTokens);
  });

  it('rejects a missing or non-GGUF file when the reference resolves, before anything runs', () => {
    const missing = join(folder, 'missing.gguf');
    assert.throws(
      () => resolveGgufModel(`gguf:${missing}`, { path: missing }),
      (error: unknown) =>
        ThicketError.isInstance(error) &&
        error.code === 'UNKNOWN_MODEL' &&
        error.category === 'bad_input' &&
        error.message.includes(`No model file at ${missing}`) &&
        /thicket models pull/.test(error.message),
    );
    const text = join(folder, 'notes.gguf');
    writeFileSync(text, 'these are my notes, not a model\n');
    assert.throws(
      () => resolveGgufModel(`gguf:${text}`, { path: text }),
      (error: unknown) =>
        ThicketError.isInstance(error) &&
        error.code === 'UNKNOWN_MODEL' &&
        error.message.includes(`${text} is not a GGUF file (no "GGUF" magic at the start)`),
    );
    const future = join(folder, 'future.gguf');
    const header = Buffer.alloc(24);
    header.write('GGUF', 0, 'latin1');
    header.writeUInt32LE(9, 4);
    writeFileSync(future, header);
    assert.throws(
      () => resolveGgufModel(`gguf:${future}`, { path: future }),
      (error: unknown) =>
        ThicketError.isInstance(error) && error.message.includes('a GGUF file llama.cpp cannot read: unsupported GGUF version 9'),
    );
  });

  it('gguf:default needs a pulled model and says how to get one', () => {
    const empty = mkdtempSync(join(folder, 'models-'));
    assert.throws(
      () => resolveGgufModel('gguf:default', { path: 'default' }, { environment: { THICKET_MODELS_DIR: empty } }),
      (error: unknown) => error instanceof ModelNotPulledError && error.message.includes(empty),
    );
  });
});
