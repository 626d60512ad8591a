/**
 * The KV-pruned thread on the fixture model: real KV-cache erasure checked token by token, bounded
 * occupancy against the unpruned baseline, grammar-valid TIM documents, tool results injected as tokens,
 * bounds on a model-decided tree, token caps that are never crossed (a property), and abort. One model for
 * the file; the engine is disposed at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import fc from 'fast-check';
import { BudgetExhaustedError, CancelledError, ContextOverflowError, type Usage } from '../../core/index.ts';
import type { JsonSchema } from '../spec.ts';
import {
  balancedTree,
  disposeLlamaEngine,
  getEngineContext,
  runKvThread,
  writeFixtureModel,
  type EraseInfo,
  type KvTask,
  type KvThreadOptions,
} from './index.ts';

let folder: string;
let modelPath: string;
let model: LlamaModel;
let sequence: LlamaContextSequence;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-kv-'));
  modelPath = join(folder, 'fixture.gguf');
  writeFixtureModel(modelPath, { seed: 7 });
  // A context of its own (2 sequences): runs given `model:` use the engine's 1-sequence context, which must stay free.
  const engine = await getEngineContext(modelPath, { contextSize: 4096, sequences: 2 });
  model = engine.model;
  sequence = await engine.pool.acquire();
});

after(async () => {
  await disposeLlamaEngine();
  rmSync(folder, { recursive: true, force: true });
});

const tree = balancedTree;

function countTasks(tasks: readonly KvTask[] | null | undefined): number {
  return (tasks ?? []).reduce((sum, task) => sum + 1 + countTasks(task.subtasks), 0);
}

function maxListLength(tasks: readonly KvTask[] | null | undefined): number {
  return Math.max(tasks?.length ?? 0, ...(tasks ?? []).map((task) => maxListLength(task.subtasks)));
}

function depthOf(tasks: readonly KvTask[] | null | undefined): number {
  return tasks && tasks.length > 0 ? 1 + Math.max(...tasks.map((task) => depthOf(task.subtasks))) : 0;
}

/** The TIM document schema (all fields required, no extra properties), depth levels, with one tool. */
function timSchema(depth: number, toolName?: string): JsonSchema {
  const tooluse = toolName
    ? {
        anyOf: [
          {
            type: 'object',
            properties: { tool_name: { const: toolName }, parameters: { type: 'object' }, tool_result: { type: 'string' } },
            required: ['tool_name', 'parameters', 'tool_result'],
            additionalProperties: false,
          },
          { type: 'null' },
        ],
      }
    : undefined;
  let level: JsonSchema | undefined;
  for (let current = depth; current >= 1; current--) {
    const properties: Record<string, unknown> = {
      thought: { type: 'string' },
      ...(tooluse ? { tooluse } : {}),
      ...(level ? { subtasks: { anyOf: [{ type: 'array', items: level }, { type: 'null' }] } } : {}),
      conclusion: { type: 'string' },
    };
    level = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
  }
  return {
    type: 'object',
    properties: { reasoning: { type: 'array', items: level }, answer: { type: 'string' } },
    required: ['reasoning', 'answer'],
    additionalProperties: false,
  };
}

const base: Omit<KvThreadOptions, 'shape'> = { question: 'What is 17 * 23?', maxThoughtChars: 24, maxConclusionChars: 24, seed: 5 };

describe('runKvThread', () => {
  it('erases exactly the popped subtask list from the KV cache, keeping every other token', async () => {
    const erasures: EraseInfo[] = [];
    const result = await runKvThread({ ...base, sequence, shape: tree(2, 2, 2), onErase: (info) => erasures.push(info) });
    assert.ok(erasures.length >= 3, `${erasures.length} erasures`);
    assert.equal(result.metrics.erasures, erasures.length);
    for (const { range, kvTokensBefore, kvTokensAfter } of erasures) {
      // The KV cache afterwards is exactly the old one minus [start, end) — llama.cpp shifted, nothing re-evaluated.
      assert.deepEqual(kvTokensAfter, [...kvTokensBefore.slice(0, range.start), ...kvTokensBefore.slice(range.end)]);
      // Positions stayed exact through earlier erasures: the range is one task's whole `,"subtasks":[…]` member,
      // right after its thought, and a conclusion follows it.
      assert.match(model.detokenize(kvTokensBefore.slice(range.start, range.end)), /^,"subtasks":\[\{"thought":".*\}\]$/s);
      assert.equal(model.detokenize(kvTokensBefore.slice(range.start - 1, range.start)), '"');
      if (range.end < kvTokensBefore.length)
        assert.match(model.detokenize(kvTokensBefore.slice(range.end, range.end + 14)), /^,"conclusion":/);
    }
    const { metrics } = result;
    assert.equal(metrics.finalKvTokens, sequence.contextTokens.length);
    assert.equal(
      metrics.tokensErased,
      erasures.reduce((sum, info) => sum + info.range.end - info.range.start, 0),
    );
    // What is left is what was written minus what was erased (the closing "}" was never evaluated: nothing reads it).
    assert.equal(metrics.unprunedTokens - metrics.tokensErased - metrics.finalKvTokens, 1);
    // The pruned tasks read {"thought":…,"conclusion":…}: no empty subtask list is left behind.
    const memory = model.detokenize(sequence.contextTokens);
    assert.doesNotMatch(memory, /"subtasks":\[\]/);
    assert.equal(memory.split('"subtasks":[').length - 1, result.metrics.finishedLists - result.metrics.erasures);
  });

  it('keeps peak KV occupancy below the unpruned run on a deep tree, with the same tree decoded', async () => {
    const shape = tree(2, 2, 3);
    const pruned = await runKvThread({ ...base, model: modelPath, contextSize: 4096, shape });
    const unpruned = await runKvThread({ ...base, model: modelPath, contextSize: 4096, shape, prune: false });
    assert.equal(countTasks(pruned.document.reasoning), 2 + 4 + 12);
    assert.equal(countTasks(unpruned.document.reasoning), 2 + 4 + 12);
    assert.equal(unpruned.metrics.tokensErased, 0);
    assert.equal(unpruned.metrics.peakKvTokens, unpruned.metrics.tokensProcessed);
    assert.ok(pruned.metrics.erasures >= 4);
    assert.ok(
      pruned.metrics.peakKvTokens < unpruned.metrics.peakKvTokens,
      `pruned peak ${pruned.metrics.peakKvTokens} vs unpruned ${unpruned.metrics.peakKvTokens}`,
    );
    assert.ok(pruned.metrics.peakKvTokens < 0.8 * pruned.metrics.unprunedTokens);
    assert.equal(pruned.metrics.samples.length, pruned.metrics.finishedTasks);
    for (const sample of pruned.metrics.samples) assert.ok(sample.kvTokens <= pruned.metrics.peakKvTokens);
  });

  it('never lets the token meter cross its caps: a thread finishes within them or stops with BudgetExhaustedError', async () => {
    // Erasures shift cells, which the meter counts as input: the caps must hold through them too (tree 2×2×2, buffer 1).
    const unlimited = await runKvThread({ ...base, sequence, shape: tree(2, 2, 2), bufferSize: 1 });
    assert.ok(unlimited.metrics.tokensShifted > 0, 'the shape erases and shifts cells');
    const full = unlimited.usage;
    let stopped = 0;
    let finished = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: full.inputTokens + 50 }),
        fc.integer({ min: 0, max: full.outputTokens + 50 }),
        async (inputTokens, outputTokens) => {
          let reported: Usage | undefined;
          const limits = { inputTokens, outputTokens };
          try {
            const result = await runKvThread({
              ...base,
              sequence,
              shape: tree(2, 2, 2),
              bufferSize: 1,
              limits,
              onUsage: (usage) => (reported = usage),
            });
            finished++;
            assert.deepEqual(reported, result.usage);
          } catch (error) {
            if (!(error instanceof BudgetExhaustedError)) throw error;
            stopped++;
          }
          assert.ok(reported, 'onUsage is called however the run ends');
          assert.ok(reported.inputTokens <= inputTokens, `input ${reported.inputTokens} > cap ${inputTokens}`);
          assert.ok(reported.outputTokens <= outputTokens, `output ${reported.outputTokens} > cap ${outputTokens}`);
        },
      ),
      { numRuns: 14, seed: 42 },
    );
    assert.ok(stopped > 0, 'some caps stop the thread');
    assert.ok(finished > 0, 'some caps let it finish');
    // Caps with room to spare change nothing: the same seeded thread, the same usage. (The check is a worst case —
    // a generated token fed back is counted as input in advance though the meter counted it as output — so a cap
    // of exactly the full usage may stop the last piece.)
    const roomy = await runKvThread({
      ...base,
      sequence,
      shape: tree(2, 2, 2),
      bufferSize: 1,
      limits: { inputTokens: full.inputTokens + 16, outputTokens: full.outputTokens + 16 },
    });
    assert.deepEqual(roomy.usage, full);
    assert.equal(roomy.text, unlimited.text);
  });

  it('decodes a grammar-valid TIM document; usage is the token meter (evaluated tokens plus shifted cells)', async () => {
    const result = await runKvThread({ ...base, sequence, shape: tree(2, 2) });
    const parsed: unknown = JSON.parse(result.text);
    assert.deepEqual(parsed, result.document);
    const validate = new Ajv({ strict: false }).compile(timSchema(3));
    assert.ok(validate(parsed), JSON.stringify(validate.errors));
    assert.equal(result.usage.inputTokens + result.usage.outputTokens, result.metrics.tokensProcessed + result.metrics.tokensShifted);
    assert.ok(result.metrics.decodeTokensPerSecond > 0);
  });

  it('runs tools: the runtime fills tool_result and injects it into the KV cache as tokens', async () => {
    const calls: Array<Record<string, unknown>> = [];
    const tools = {
      echo: {
        parameters: {
          type: 'object',
          properties: { input: { type: 'string', maxLength: 10 } },
          required: ['input'],
          additionalProperties: false,
        },
        run: async (parameters: Record<string, unknown>) => {
          calls.push(parameters);
          return `echo#${calls.length}`;
        },
      },
    };
    const result = await runKvThread({ ...base, sequence, tools, shape: [{ tool: 'echo' }, { subtasks: [{ tool: 'echo' }, {}] }] });
    assert.equal(calls.length, 2);
    const first = result.document.reasoning[0]!;
    assert.deepEqual(first.tooluse, { tool_name: 'echo', parameters: calls[0], tool_result: 'echo#1' });
    assert.equal(result.document.reasoning[1]!.tooluse, null);
    assert.equal(result.document.reasoning[1]!.subtasks![0]!.tooluse!.tool_result, 'echo#2');
    assert.ok(new Ajv({ strict: false }).compile(timSchema(3, 'echo'))(JSON.parse(result.text)));
    assert.ok(model.detokenize(sequence.contextTokens).includes('"tool_result":"echo#1"}'));
  });

  it('keeps a model-decided tree within maxDepth, maxSubtasks and maxTasks', async () => {
    for (const seed of [1, 2, 3]) {
      const result = await runKvThread({ ...base, sequence, seed, maxDepth: 2, maxSubtasks: 2, maxTasks: 5 });
      assert.ok(depthOf(result.document.reasoning) <= 2);
      assert.ok(maxListLength(result.document.reasoning) <= 2);
      assert.ok(countTasks(result.document.reasoning) <= 5);
      assert.ok(new Ajv({ strict: false }).compile(timSchema(2))(JSON.parse(result.text)));
    }
  });

  it("runs on the speed fixture's format (grouped-query attention, Q8_0, unused tokens the grammar never samples)", async () => {
    const path = join(folder, 'speed-format.gguf');
    writeFixtureModel(path, {
      seed: 7,
      embeddingLength: 128,
      headCount: 4,
      headCountKv: 2,
      feedForwardLength: 256,
      weightType: 'Q8_0',
      extraTokens: 500,
    });
    const result = await runKvThread({ ...base, model: path, contextSize: 4096, shape: tree(2, 2) });
    assert.deepEqual(JSON.parse(result.text), result.document);
    assert.ok(new Ajv({ strict: false }).compile(timSchema(3))(JSON.parse(result.text)));
    assert.ok(result.metrics.tokensGenerated > 20);
    assert.ok(!result.text.includes('<unused'));
  });

  it('decodes pieces in what the context has left; past it, stops with ContextOverflowError, never shifting the context', async () => {
    // A 768-cell context and a tree whose whole trace is longer: the string bounds (6 tokens a character) are far
    // above the room left late in the tree, yet pieces still decode there — until the room runs out.
    const small = await getEngineContext(modelPath, { contextSize: 768, sequences: 1 });
    const own = await small.pool.acquire();
    const window = own.contextSize;
    assert.equal(window, 768);
    try {
      const options = { ...base, sequence: own, shape: tree(3, 3, 2), maxThoughtChars: 16, maxConclusionChars: 8, seed: 3 };
      let peak = 0;
      const pruned = await runKvThread({ ...options, bufferSize: 1, onSample: (sample) => (peak = Math.max(peak, sample.kvTokens)) });
      assert.ok(pruned.metrics.unprunedTokens > window, `the whole trace (${pruned.metrics.unprunedTokens}) exceeds the context`);
      assert.ok(pruned.metrics.peakKvTokens <= window && peak <= window);
      // A thought's grammar bound is 16 × 6 + 8 tokens: reserving it whole (plus 16 for syntax) would have refused this run.
      assert.ok(pruned.metrics.peakKvTokens + 16 * 6 + 8 + 16 > window, `peak ${pruned.metrics.peakKvTokens}: pieces decoded near the end`);
      await assert.rejects(runKvThread({ ...options, prune: false }), (error: unknown) => {
        assert.ok(error instanceof ContextOverflowError, String(error));
        assert.equal(error.code, 'CONTEXT_OVERFLOW');
        return true;
      });
      assert.ok(own.nextTokenIndex <= window, `the sequence holds ${own.nextTokenIndex} cells`);
    } finally {
      small.pool.release(own);
    }
  });

  it('rejects an abort mid-thread promptly with CancelledError', async () => {
    const controller = new AbortController();
    let samples = 0;
    let samplesAfterAbort = 0;
    // Abort once the thread is well under way (a task count, not a timer: deterministic).
    const onSample = () => {
      samples++;
      if (controller.signal.aborted) samplesAfterAbort++;
      else if (samples === 3) controller.abort();
    };
    const run = runKvThread({ ...base, sequence, shape: tree(4, 4, 4), maxThoughtChars: 160, signal: controller.signal, onSample });
    await assert.rejects(run, (error: unknown) => error instanceof CancelledError);
    // Promptly = no further task concluded: the piece being decoded stopped at its next token.
    assert.equal(samplesAfterAbort, 0);
    assert.equal(samples, 3);
  });
});
