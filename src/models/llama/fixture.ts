/**
 * The fixture model: a tiny llama-architecture GGUF with seeded random weights and a byte-level vocabulary,
 * written by the project's own GGUF writer. No weights can be downloaded in CI, so tests and benchmarks of
 * the embedded engine run on this file. Its text is gibberish, but loading, grammar-constrained JSON, token
 * metering, KV-cache erasure and occupancy are all real (thread-solo.md).
 *
 * Shape (the one known to load with node-llama-cpp's prebuilt binaries): 2 blocks, embedding 64, 4 heads,
 * feed-forward 128, F32 tensors, an SPM ("llama") vocabulary of `<unk>`, `<s>`, `</s>`, the 256 byte
 * tokens `<0x00>`…`<0xFF>` and `▁` (so a space in a prompt costs one token instead of three), context
 * length 4096 — byte-level prompts are long. About 0.5 MB; written in a few milliseconds, deterministic by
 * seed (same seed → byte-identical file).
 *
 * Why the output layer is biased: random weights almost never pick the same byte twice in a row, let alone
 * close a JSON string, so every token embedding shares one common direction (the residual stream carries
 * it through the small random blocks) and the output rows of readable bytes — lower-case letters, space,
 * digits, and a little the double quote — lean towards it. Generated text then looks like words, and
 * strings end on their own now and then; schemas should still bound string lengths (`maxLength`).
 *
 * @example
 *   writeFixtureModel('/tmp/fixture.gguf', { seed: 7 });                       // chat/thread fixture
 *   writeFixtureModel('/tmp/embed.gguf', { seed: 7, pooling: 'mean' });        // embedding fixture
 */
import { rngFor, type Rng } from '../../core/index.ts';
import { gguf, writeGguf, type GgufTensor, type GgufValue } from './gguf-writer.ts';

export interface FixtureModelOptions {
  /** Weight seed (default 1). */
  seed?: number;
  /** Declared training context (default 4096). */
  contextLength?: number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  /** Key/value heads (grouped-query attention, default = headCount): sets the KV cache's width per cell. */
  headCountKv?: number;
  feedForwardLength?: number;
  /**
   * Storage of the blocks' weight matrices (default F32). Q8_0 (~1.06 bytes per weight) is how a real small
   * model is read on CPU; it needs embeddingLength and feedForwardLength to be multiples of 32.
   */
  weightType?: 'F32' | 'Q8_0';
  /**
   * Unused tokens appended to the vocabulary (default 0). They are never produced by the tokenizer and have
   * empty pieces, so a grammar never lets them be sampled; they only widen the output layer, whose matrix
   * product is a large part of a real small model's per-token work (a 150k-token vocabulary).
   */
  extraTokens?: number;
  /** Pooling for an embedding model (`llama.pooling_type`); absent for a generative model. */
  pooling?: 'mean' | 'cls' | 'last';
}

export interface FixtureModelInfo {
  path: string;
  bytes: number;
  vocabularySize: number;
  /** Token ids of the control tokens. */
  bos: number;
  eos: number;
}

/** Token ids: 0 `<unk>`, 1 `<s>`, 2 `</s>`, 3 + b the byte b, then `▁`. */
export const FIXTURE_BYTE_TOKEN_OFFSET = 3;
const SPACE_PIECE = '\u2581';

/** SPM token types (llama.cpp's llama_token_type). */
const TokenType = { normal: 1, unknown: 2, control: 3, unused: 5, byte: 6 } as const;
const SPACE_TOKEN = FIXTURE_BYTE_TOKEN_OFFSET + 256;
const POOLING = { none: 0, mean: 1, cls: 2, last: 3 } as const;

/** Output-layer lean (in logits at unit alignment) towards bytes that make readable strings. */
function readableLean(byte: number): number {
  if (byte >= 0x61 && byte <= 0x7a) return 3.2; // a-z
  if (byte === 0x20) return 2.6; // space
  if (byte >= 0x30 && byte <= 0x39) return 1.6; // 0-9
  if (byte === 0x22) return 2.4; // the double quote: closes JSON strings now and then
  if (byte === 0x2c || byte === 0x2e) return 1.2; // , .
  return 0;
}

interface Shape {
  vocabulary: number;
  embedding: number;
  blocks: number;
  heads: number;
  headsKv: number;
  feedForward: number;
  weightType: 'F32' | 'Q8_0';
}

/** The tensors of a llama model, in llama.cpp's names and ggml dimension order ([n_in, n_out]). */
function buildTensors(shape: Shape, rng: Rng, readable: boolean): GgufTensor[] {
  const { vocabulary, embedding, feedForward, weightType: type } = shape;
  const embeddingKv = (embedding / shape.heads) * shape.headsKv;
  const gaussian = (count: number, scale: number): Float32Array => {
    const data = new Float32Array(count);
    for (let index = 0; index < count; index++) data[index] = rng.normal() * scale;
    return data;
  };
  const ones = (count: number): Float32Array => new Float32Array(count).fill(1);
  // Standard deviations are set for the default shape (embedding 64, feed-forward 128) and scaled by
  // 1/sqrt(fan-in) beyond it, so a wider fixture keeps the same signal-to-noise: the readable lean below
  // still decides the bytes instead of drowning in random logits. At the default shape the factor is 1.
  const wide = Math.sqrt(64 / embedding);
  const wideFfn = Math.sqrt(128 / feedForward);
  const blockScale = 0.02 * wide;

  // The common direction every token embedding carries (unit length).
  const common = gaussian(embedding, 1);
  const norm = Math.hypot(...common);
  for (let index = 0; index < embedding; index++) common[index]! /= norm;

  // An embedding model gets no common direction: it would make every text's vector nearly the same.
  const commonWeight = readable ? 0.2 : 0;
  const tokenEmbedding = gaussian(vocabulary * embedding, 0.02 * wide);
  for (let token = 0; token < vocabulary; token++) {
    for (let index = 0; index < embedding; index++) tokenEmbedding[token * embedding + index]! += common[index]! * commonWeight;
  }
  // After RMS norm the hidden state has norm ≈ sqrt(embedding); dividing by it turns the lean into logits.
  const output = gaussian(vocabulary * embedding, 0.08 * wide);
  for (let token = 0; token < vocabulary; token++) {
    const byte = token - FIXTURE_BYTE_TOKEN_OFFSET;
    const lean = byte >= 0 && byte < 256 ? readableLean(byte) : token === SPACE_TOKEN ? readableLean(0x20) : 0;
    for (let index = 0; index < embedding; index++)
      output[token * embedding + index]! += ((common[index]! * lean) / Math.sqrt(embedding)) * 1.2;
  }

  const tensors: GgufTensor[] = [{ name: 'token_embd.weight', dims: [embedding, vocabulary], data: tokenEmbedding }];
  for (let block = 0; block < shape.blocks; block++) {
    const name = (part: string): string => `blk.${block}.${part}.weight`;
    tensors.push(
      { name: name('attn_norm'), dims: [embedding], data: ones(embedding) },
      { name: name('attn_q'), dims: [embedding, embedding], data: gaussian(embedding * embedding, blockScale), type },
      { name: name('attn_k'), dims: [embedding, embeddingKv], data: gaussian(embedding * embeddingKv, blockScale), type },
      { name: name('attn_v'), dims: [embedding, embeddingKv], data: gaussian(embedding * embeddingKv, blockScale), type },
      { name: name('attn_output'), dims: [embedding, embedding], data: gaussian(embedding * embedding, blockScale), type },
      { name: name('ffn_norm'), dims: [embedding], data: ones(embedding) },
      { name: name('ffn_gate'), dims: [embedding, feedForward], data: gaussian(embedding * feedForward, blockScale), type },
      { name: name('ffn_up'), dims: [embedding, feedForward], data: gaussian(embedding * feedForward, blockScale), type },
      { name: name('ffn_down'), dims: [feedForward, embedding], data: gaussian(feedForward * embedding, 0.02 * wideFfn), type },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [embedding], data: ones(embedding) },
    { name: 'output.weight', dims: [embedding, vocabulary], data: output, type },
  );
  return tensors;
}

/** The byte-level SPM vocabulary of the fixture (and of the models Thicket trains: training/tiny_llama.py). */
export function byteVocabulary(extraTokens = 0): { tokens: string[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.byte);
  }
  tokens.push(SPACE_PIECE);
  types.push(TokenType.normal);
  for (let index = 0; index < extraTokens; index++) {
    tokens.push(`<unused${index}>`);
    types.push(TokenType.unused);
  }
  return { tokens, types };
}

/** The tokenizer entries of a byte-vocabulary GGUF: SPM with zero scores, BOS added, no space prefix. */
export function byteTokenizerMetadata(tokens: readonly string[], types: readonly number[]): Record<string, GgufValue> {
  return {
    'tokenizer.ggml.model': gguf.string('llama'),
    'tokenizer.ggml.tokens': gguf.strings([...tokens]),
    'tokenizer.ggml.scores': gguf.float32s(new Float32Array(tokens.length)),
    'tokenizer.ggml.token_type': gguf.int32s([...types]),
    'tokenizer.ggml.unknown_token_id': gguf.uint32(0),
    'tokenizer.ggml.bos_token_id': gguf.uint32(1),
    'tokenizer.ggml.eos_token_id': gguf.uint32(2),
    'tokenizer.ggml.add_bos_token': gguf.bool(true),
    'tokenizer.ggml.add_eos_token': gguf.bool(false),
    // No leading "▁" on every tokenized piece: the thread decoder tokenizes JSON syntax piece by piece.
    'tokenizer.ggml.add_space_prefix': gguf.bool(false),
  };
}

/** Writes the fixture model to `path` (overwriting). Deterministic by options. */
export function writeFixtureModel(path: string, options: FixtureModelOptions = {}): FixtureModelInfo {
  const seed = options.seed ?? 1;
  const { tokens, types } = byteVocabulary(Math.max(0, Math.floor(options.extraTokens ?? 0)));
  const shape: Shape = {
    vocabulary: tokens.length,
    embedding: options.embeddingLength ?? 64,
    blocks: options.blockCount ?? 2,
    heads: options.headCount ?? 4,
    headsKv: options.headCountKv ?? options.headCount ?? 4,
    feedForward: options.feedForwardLength ?? 128,
    weightType: options.weightType ?? 'F32',
  };
  if (shape.embedding % shape.heads !== 0)
    throw new RangeError(`embeddingLength ${shape.embedding} must be a multiple of headCount ${shape.heads}`);
  if (shape.heads % shape.headsKv !== 0)
    throw new RangeError(`headCount ${shape.heads} must be a multiple of headCountKv ${shape.headsKv}`);
  if (shape.weightType === 'Q8_0' && (shape.embedding % 32 !== 0 || shape.feedForward % 32 !== 0))
    throw new RangeError(
      `Q8_0 weights need embeddingLength and feedForwardLength to be multiples of 32, got ${shape.embedding} and ${shape.feedForward}`,
    );
  const metadata: Record<string, GgufValue> = {
    'general.architecture': gguf.string('llama'),
    'general.name': gguf.string(`thicket-fixture-${options.pooling ? 'embedding' : 'chat'}-seed${seed}`),
    'general.file_type': gguf.uint32(shape.weightType === 'Q8_0' ? 7 : 0), // llama_ftype: ALL_F32 = 0, MOSTLY_Q8_0 = 7
    'llama.context_length': gguf.uint32(options.contextLength ?? 4096),
    'llama.embedding_length': gguf.uint32(shape.embedding),
    'llama.block_count': gguf.uint32(shape.blocks),
    'llama.feed_forward_length': gguf.uint32(shape.feedForward),
    'llama.attention.head_count': gguf.uint32(shape.heads),
    'llama.attention.head_count_kv': gguf.uint32(shape.headsKv),
    'llama.rope.dimension_count': gguf.uint32(shape.embedding / shape.heads),
    'llama.attention.layer_norm_rms_epsilon': gguf.float32(1e-5),
    'llama.vocab_size': gguf.uint32(shape.vocabulary),
    ...(options.pooling ? { 'llama.pooling_type': gguf.uint32(POOLING[options.pooling]) } : {}),
    ...byteTokenizerMetadata(tokens, types),
    'thicket.fixture.seed': gguf.uint32(seed >>> 0),
  };
  const bytes = writeGguf(path, {
    metadata,
    tensors: buildTensors(shape, rngFor(seed, 'fixture-model', options.pooling ?? 'chat'), options.pooling === undefined),
    alignment: 32,
  });
  return { path, bytes, vocabularySize: tokens.length, bos: 1, eos: 2 };
}
