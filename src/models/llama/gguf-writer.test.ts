/**
 * The GGUF writer and the fixture model, read back with node-llama-cpp's own GGUF parser (pure JS, no
 * native code): metadata, tensor names, ggml dimension order, offsets and alignment, determinism by seed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { encodeGguf, gguf, writeFixtureModel, writeGguf } from './index.ts';
import { float16Bits, quantizeQ8_0 } from './gguf-writer.ts';

let folder: string;
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-gguf-'));
});
after(() => rmSync(folder, { recursive: true, force: true }));

describe('encodeGguf', () => {
  it('writes GGUF v3 that node-llama-cpp parses back: metadata of every type, tensors with aligned offsets', async () => {
    const path = join(folder, 'small.gguf');
    const matrix = Float32Array.from({ length: 6 }, (_, index) => index + 0.5);
    writeGguf(path, {
      metadata: {
        'general.architecture': gguf.string('llama'),
        'test.count': gguf.uint32(7),
        'test.offset': gguf.int32(-3),
        'test.ratio': gguf.float32(0.25),
        'test.flag': gguf.bool(true),
        'test.words': gguf.strings(['a', 'bé', '']),
        'test.values': gguf.float32s([1.5, -2]),
      },
      tensors: [
        { name: 'first.weight', dims: [3, 2], data: matrix },
        { name: 'second.weight', dims: [5], data: new Float32Array(5).fill(1) },
      ],
    });
    const bytes = readFileSync(path);
    assert.equal(bytes.toString('latin1', 0, 4), 'GGUF');
    assert.equal(bytes.readUInt32LE(4), 3);

    const info = await readGgufFileInfo(path, { readTensorInfo: true, ignoreKeys: [] });
    assert.equal(info.version, 3);
    const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(metadata['general']!['architecture'], 'llama');
    assert.equal(metadata['general']!['alignment'], 32);
    assert.equal(metadata['test']!['count'], 7);
    assert.equal(metadata['test']!['offset'], -3);
    assert.equal(metadata['test']!['ratio'], 0.25);
    assert.equal(metadata['test']!['flag'], true);
    assert.deepEqual(metadata['test']!['words'], ['a', 'bé', '']);
    assert.deepEqual([...(metadata['test']!['values'] as number[])], [1.5, -2]);

    const tensors = info.fullTensorInfo ?? [];
    assert.deepEqual(
      tensors.map((tensor) => [tensor.name, tensor.dimensions.map(Number), Number(tensor.offset)]),
      [
        ['first.weight', [3, 2], 0],
        ['second.weight', [5], 32], // 24 bytes of data, padded to the 32-byte alignment
      ],
    );
    // The data section starts aligned, holds the F32 values little-endian, ne[0] fastest.
    const dataStart = bytes.length - 64;
    assert.equal(dataStart % 32, 0);
    assert.equal(bytes.readFloatLE(dataStart + 4 * 4), 4.5); // element (i0 = 1, i1 = 1) = row 1, column 1
  });

  it('encodes IEEE binary16 (the Q8_0 block scale): normals, rounding to nearest-even, subnormals, overflow', () => {
    assert.equal(float16Bits(1), 0x3c00);
    assert.equal(float16Bits(-2), 0xc000);
    assert.equal(float16Bits(0.1), 0x2e66);
    assert.equal(float16Bits(65504), 0x7bff);
    assert.equal(float16Bits(70000), 0x7c00);
    assert.equal(float16Bits(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(float16Bits(2 ** -26), 0); // below half of it
    assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // a tie rounds to the even mantissa
    assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02);
  });

  it('quantises Q8_0 as ggml does: d = max|x| / 127 as f16, then 32 int8s rounded half away from zero', () => {
    const values = Float32Array.from({ length: 32 }, (_, index) => (index - 16) / 16);
    const block = quantizeQ8_0(values);
    assert.equal(block.length, 34);
    const view = new DataView(block.buffer);
    assert.equal(view.getUint16(0, true), float16Bits(1 / 127));
    assert.equal(view.getInt8(2 + 0), -127);
    assert.equal(view.getInt8(2 + 16), 0);
    assert.equal(view.getInt8(2 + 24), 64); // 0.5 × 127 = 63.5
    assert.equal(view.getInt8(2 + 8), -64);
    assert.throws(() => quantizeQ8_0(new Float32Array(31)), /multiple of 32/);
  });

  it('writes Q8_0 tensors with their type and block size', async () => {
    const path = join(folder, 'q8.gguf');
    writeGguf(path, {
      metadata: { 'general.architecture': gguf.string('llama') },
      tensors: [
        { name: 'w', dims: [64, 2], data: new Float32Array(128).fill(0.5), type: 'Q8_0' },
        { name: 'n', dims: [8], data: new Float32Array(8) },
      ],
    });
    const info = await readGgufFileInfo(path, { readTensorInfo: true, ignoreKeys: [] });
    const [w, n] = info.fullTensorInfo ?? [];
    assert.equal(w?.ggmlType, 8);
    assert.equal(n?.ggmlType, 0);
    // 4 blocks × 34 bytes = 136, padded to the 32-byte alignment: the next tensor starts at 160.
    assert.equal(Number(n?.offset) - Number(w?.offset), 160);
    assert.throws(
      () => encodeGguf({ metadata: {}, tensors: [{ name: 'x', dims: [48, 2], data: new Float32Array(96), type: 'Q8_0' }] }),
      /multiple of 32/,
    );
  });

  it('refuses dims that do not match the data', () => {
    assert.throws(
      () => encodeGguf({ metadata: {}, tensors: [{ name: 'x', dims: [2, 2], data: new Float32Array(3) }] }),
      /hold 4 values, data has 3/,
    );
  });
});

describe('writeFixtureModel', () => {
  it('writes a llama-architecture model with the required metadata and tensors, under 1 MB', async () => {
    const path = join(folder, 'fixture.gguf');
    const written = writeFixtureModel(path, { seed: 11 });
    assert.equal(written.bytes, statSync(path).size);
    assert.ok(written.bytes > 400_000 && written.bytes < 1_000_000, `size ${written.bytes}`);
    assert.equal(written.vocabularySize, 260);

    const info = await readGgufFileInfo(path, { readTensorInfo: true, ignoreKeys: [] });
    const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
    const llama = metadata['llama']!;
    assert.equal(metadata['general']!['architecture'], 'llama');
    assert.equal(llama['context_length'], 4096);
    assert.equal(llama['embedding_length'], 64);
    assert.equal(llama['block_count'], 2);
    assert.equal(llama['feed_forward_length'], 128);
    assert.deepEqual(llama['attention'], { head_count: 4, head_count_kv: 4, layer_norm_rms_epsilon: Math.fround(1e-5) });
    assert.deepEqual(llama['rope'], { dimension_count: 16 });
    const tokenizer = metadata['tokenizer']!['ggml'] as Record<string, unknown>;
    assert.equal(tokenizer['model'], 'llama');
    const tokens = tokenizer['tokens'] as string[];
    assert.deepEqual(tokens.slice(0, 4), ['<unk>', '<s>', '</s>', '<0x00>']);
    assert.equal(tokens[3 + 0x41], '<0x41>');
    assert.equal(tokens.at(-1), '\u2581');
    assert.equal([tokenizer['bos_token_id'], tokenizer['eos_token_id'], tokenizer['unknown_token_id']].join(), '1,2,0');

    const dims = new Map((info.fullTensorInfo ?? []).map((tensor) => [tensor.name, tensor.dimensions.map(Number)]));
    assert.equal(dims.size, 3 + 2 * 9);
    assert.deepEqual(dims.get('token_embd.weight'), [64, 260]);
    assert.deepEqual(dims.get('output.weight'), [64, 260]);
    assert.deepEqual(dims.get('output_norm.weight'), [64]);
    assert.deepEqual(dims.get('blk.1.attn_q.weight'), [64, 64]);
    assert.deepEqual(dims.get('blk.0.ffn_gate.weight'), [64, 128]);
    assert.deepEqual(dims.get('blk.0.ffn_down.weight'), [128, 64]);
  });

  it('is deterministic by seed', () => {
    const digest = (seed: number, name: string): string => {
      const path = join(folder, name);
      writeFixtureModel(path, { seed });
      return createHash('sha256').update(readFileSync(path)).digest('hex');
    };
    assert.equal(digest(5, 'a.gguf'), digest(5, 'b.gguf'));
    assert.notEqual(digest(5, 'a.gguf'), digest(6, 'c.gguf'));
  });

  it("writes the speed fixture's format: grouped-query attention, Q8_0 blocks, unused tokens widening the output layer", async () => {
    const path = join(folder, 'speed.gguf');
    const written = writeFixtureModel(path, {
      seed: 3,
      embeddingLength: 128,
      headCount: 4,
      headCountKv: 2,
      feedForwardLength: 256,
      weightType: 'Q8_0',
      extraTokens: 40,
    });
    assert.equal(written.vocabularySize, 300);
    const info = await readGgufFileInfo(path, { readTensorInfo: true, ignoreKeys: [] });
    const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.deepEqual(metadata['llama']!['attention'], { head_count: 4, head_count_kv: 2, layer_norm_rms_epsilon: Math.fround(1e-5) });
    assert.equal(metadata['general']!['file_type'], 7);
    const tokenizer = metadata['tokenizer']!['ggml'] as Record<string, unknown>;
    assert.equal((tokenizer['tokens'] as string[]).at(-1), '<unused39>');
    assert.equal((tokenizer['token_type'] as number[]).at(-1), 5);
    const tensors = new Map((info.fullTensorInfo ?? []).map((tensor) => [tensor.name, tensor]));
    assert.deepEqual(tensors.get('blk.0.attn_k.weight')?.dimensions.map(Number), [128, 64]);
    assert.equal(tensors.get('blk.0.attn_k.weight')?.ggmlType, 8);
    assert.equal(tensors.get('output.weight')?.ggmlType, 8);
    assert.deepEqual(tensors.get('output.weight')?.dimensions.map(Number), [128, 300]);
    assert.equal(tensors.get('token_embd.weight')?.ggmlType, 0);
    assert.throws(() => writeFixtureModel(join(folder, 'bad.gguf'), { headCount: 4, headCountKv: 3 }), /multiple of headCountKv/);
    assert.throws(
      () => writeFixtureModel(join(folder, 'bad.gguf'), { embeddingLength: 80, headCount: 4, weightType: 'Q8_0' }),
      /multiples of 32/,
    );
  });

  it('declares pooling for the embedding variant', async () => {
    const path = join(folder, 'embedding.gguf');
    writeFixtureModel(path, { seed: 3, pooling: 'mean' });
    const info = await readGgufFileInfo(path, { ignoreKeys: [] });
    assert.equal((info.metadata as unknown as { llama: Record<string, unknown> }).llama['pooling_type'], 1);
  });
});
