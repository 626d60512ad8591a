/**
 * KV cells versus tokens in the pruned thread, checked against llama.cpp's own report: THICKET_LLAMA_KV_DEBUG
 * turns on LLAMA_KV_CACHE_DEBUG, whose line before every batch says how many cells the stream uses and
 * where its highest used cell is (attention runs over every cell below it). Set before the engine starts,
 * so this file runs in a process of its own (node --test runs one per file).
 */
process.env['THICKET_LLAMA_KV_DEBUG'] = '1';

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { KvDecoder } from './kv-decoder.ts';
import {
  attendedCells,
  balancedTree,
  disposeLlamaEngine,
  getEngineContext,
  getLlamaEngine,
  lastKvCellReport,
  runKvThread,
  writeFixtureModel,
  type KvCellReport,
  type KvThreadOptions,
} from './index.ts';

let folder: string;
let model: LlamaModel;
let sequences: LlamaContextSequence[];

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-kv-cells-'));
  const modelPath = join(folder, 'fixture.gguf');
  writeFixtureModel(modelPath, { seed: 7 });
  // Two sequences, so two KV streams (node-llama-cpp contexts are not kv_unified): stream i is sequence i.
  const engine = await getEngineContext(modelPath, { contextSize: 4096, sequences: 2 });
  model = engine.model;
  sequences = [await engine.pool.acquire(), await engine.pool.acquire()];
});

after(async () => {
  await disposeLlamaEngine();
  rmSync(folder, { recursive: true, force: true });
});

const tree = balancedTree;

/**
 * llama.cpp's view of a stream now: one probe token is evaluated, and the report logged just before it was
 * placed describes the cells as the run left them. Log lines reach JS through the event loop, so wait for it.
 */
async function cellsNow(sequence: LlamaContextSequence, stream: number): Promise<KvCellReport> {
  const live = sequence.nextTokenIndex;
  await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize('.'));
  for (let turn = 0; turn < 400; turn++) {
    const report = lastKvCellReport(stream);
    if (report && report.used === live) return report;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no KV report for stream ${stream} with ${live} cells in use (last: ${JSON.stringify(lastKvCellReport(stream))})`);
}

const base: Omit<KvThreadOptions, 'shape'> = { question: 'What is 17 * 23?', maxThoughtChars: 48, maxConclusionChars: 48, seed: 3 };

describe('KV cells of the pruned thread (llama.cpp LLAMA_KV_CACHE_DEBUG)', () => {
  it('erasing frees cells for reuse, but attention keeps spanning up to the highest used cell', async () => {
    const sequence = sequences[0]!;
    const { metrics } = await runKvThread({ ...base, sequence, shape: tree(2, 2, 3), compact: false });
    assert.ok(metrics.erasures >= 4);
    assert.equal(metrics.compactions, 0);
    const cells = await cellsNow(sequence, 0);
    // Every live token has exactly one cell: the erased ones were freed.
    assert.equal(cells.used, metrics.finalKvTokens);
    // ...but the range attention runs over did not shrink with them: it is still the high-water mark.
    assert.ok(cells.span > cells.used + 100, `span ${cells.span}, used ${cells.used}`);
    // The decoder's estimate of that range is an upper bound, and here the exact figure.
    assert.ok(cells.span <= metrics.finalCellSpan, `reported ${cells.span}, estimated ${metrics.finalCellSpan}`);
    assert.equal(cells.span, metrics.peakKvTokens);
  });

  it('with compaction, the range attention spans stays at what the live tokens need', async () => {
    const sequence = sequences[1]!;
    const { metrics, usage } = await runKvThread({ ...base, sequence, shape: tree(2, 2, 3), compact: true });
    assert.ok(metrics.compactions >= 1, `${metrics.compactions} compactions`);
    assert.ok(metrics.compactedCells >= 256);
    assert.ok(metrics.compactMs > 0 && metrics.resyncMs > 0 && metrics.eraseMs > 0);
    // Compaction moves cells, it evaluates nothing: the meter still adds up.
    assert.equal(usage.inputTokens + usage.outputTokens, metrics.tokensProcessed + metrics.tokensShifted);
    const cells = await cellsNow(sequence, 1);
    assert.equal(cells.used, metrics.finalKvTokens);
    assert.ok(cells.span <= metrics.finalCellSpan);
    // Whatever holes are left cost no attention: the padded range is the one the live tokens need anyway.
    assert.equal(attendedCells(cells.span), attendedCells(cells.used));
  });

  it("compaction keeps the cache's content: same tokens, same next-token distribution, fewer cells spanned", async () => {
    const llama = await getLlamaEngine();
    const decode = async (sequence: LlamaContextSequence, compact: boolean) => {
      await sequence.clearHistory();
      const decoder = new KvDecoder(llama, model, sequence, { label: 'test', temperature: 0, seed: 1, compact });
      decoder.appendPromptTokens(model.tokenize('A question about seventeen and twenty-three.', true));
      decoder.append('{"a":');
      await decoder.generateString(32);
      const start = decoder.position;
      decoder.append(`,"filler":${JSON.stringify('seventeen times twenty-three '.repeat(24))}`);
      const end = decoder.position;
      decoder.append(',"b":');
      await decoder.generateString(32); // evaluates the filler with it
      decoder.append(',"c":');
      await decoder.erase({ start, end });
      return decoder;
    };
    const plain = await decode(sequences[0]!, false);
    const compacted = await decode(sequences[1]!, true);
    assert.equal(plain.compactions, 0);
    assert.equal(compacted.compactions, 1);
    assert.equal(compacted.text, plain.text);
    assert.deepEqual([...sequences[1]!.contextTokens], [...sequences[0]!.contextTokens]);
    assert.ok(compacted.cellSpan < plain.cellSpan);

    // One more token into each: the next-token distributions agree to float rounding. (On the fixture, whose
    // random attention barely depends on position, a compaction taken before the K-shift was applied measured
    // 2.5e-4; in the right order 8e-6. The bound sits between.)
    const probe = model.tokenize('a');
    const next = async (sequence: LlamaContextSequence) =>
      (await sequence.controlledEvaluate([[probe[0]!, { generateNext: { probabilities: true } }]]))[0]!.next.probabilities!;
    const live = sequences[0]!.nextTokenIndex;
    const [p, q] = [await next(sequences[0]!), await next(sequences[1]!)];
    let largest = 0;
    for (const [token, probability] of p) largest = Math.max(largest, Math.abs(probability - (q.get(token) ?? 0)));
    assert.ok(largest < 5e-5, `max |Δp| ${largest}`);

    // llama.cpp's own report, taken as the probes were placed.
    const reportFor = async (stream: number) => {
      for (let turn = 0; turn < 400 && lastKvCellReport(stream)?.used !== live; turn++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      return lastKvCellReport(stream)!;
    };
    const [plainCells, compactedCells] = [await reportFor(0), await reportFor(1)];
    assert.equal(plainCells.used, live);
    assert.equal(compactedCells.used, live);
    assert.equal(compactedCells.span, live); // contiguous from cell 0
    assert.ok(plainCells.span > live + 300, `plain span ${plainCells.span} for ${live} live tokens`);
  });
});
