/**
 * A model trained by `training/tiny_llama.py`, as a GGUF the embedded engine loads. The trainer exports
 * `manifest.json` (hyper-parameters and, per tensor, its GGUF name, dims innermost first and byte offset) and
 * `weights.bin` (float32, little endian); this writes them with the project's own GGUF writer, the fixture's
 * byte vocabulary and the llama metadata that must match training (RMSNorm epsilon, RoPE base and dimensions).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, type InputIssue } from '../../core/index.ts';
import { byteTokenizerMetadata, byteVocabulary } from './fixture.ts';
import { gguf, writeGguf, type GgufTensor } from './gguf-writer.ts';

interface TrainedManifest {
  name: string;
  vocabulary: string;
  config: { dim: number; blocks: number; heads: number; ff: number; eps: number; rope_base: number; context: number };
  tensors: Array<{ name: string; dims: number[]; offset: number; bytes: number }>;
}

function readManifest(folder: string): TrainedManifest {
  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as TrainedManifest;
  const issues: InputIssue[] = [];
  if (manifest.vocabulary !== 'thicket-bytes-v1')
    issues.push({ path: 'vocabulary', message: `must be thicket-bytes-v1, got ${JSON.stringify(manifest.vocabulary)}` });
  for (const key of ['dim', 'blocks', 'heads', 'ff', 'eps', 'rope_base', 'context'] as const)
    if (typeof manifest.config?.[key] !== 'number') issues.push({ path: `config.${key}`, message: 'must be a number' });
  if (!Array.isArray(manifest.tensors) || manifest.tensors.length === 0) issues.push({ path: 'tensors', message: 'must list the tensors' });
  if (issues.length > 0) throw new InvalidInputError(`Invalid trained-model manifest in ${folder}`, issues);
  return manifest;
}

/** Writes the GGUF of a trained model folder to `path`; returns its size in bytes. */
export function writeTrainedModelGguf(folder: string, path: string): number {
  const manifest = readManifest(folder);
  const weights = readFileSync(join(folder, 'weights.bin'));
  const { tokens, types } = byteVocabulary();
  const { config } = manifest;
  const tensors: GgufTensor[] = manifest.tensors.map((tensor) => {
    const count = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (tensor.bytes !== count * 4 || tensor.offset + tensor.bytes > weights.length)
      throw new InvalidInputError(`Invalid trained-model weights in ${folder}`, [
        {
          path: tensor.name,
          message: `dims ${tensor.dims.join('×')} need ${count * 4} bytes at ${tensor.offset}; the file has ${weights.length}`,
        },
      ]);
    // Copied out: the Buffer's offset need not be 4-byte aligned for a Float32Array view.
    const data = new Float32Array(count);
    for (let index = 0; index < count; index++) data[index] = weights.readFloatLE(tensor.offset + index * 4);
    return { name: tensor.name, dims: tensor.dims, data };
  });
  return writeGguf(path, {
    metadata: {
      'general.architecture': gguf.string('llama'),
      'general.name': gguf.string(manifest.name),
      'general.file_type': gguf.uint32(0),
      'llama.context_length': gguf.uint32(config.context),
      'llama.embedding_length': gguf.uint32(config.dim),
      'llama.block_count': gguf.uint32(config.blocks),
      'llama.feed_forward_length': gguf.uint32(config.ff),
      'llama.attention.head_count': gguf.uint32(config.heads),
      'llama.attention.head_count_kv': gguf.uint32(config.heads),
      'llama.rope.dimension_count': gguf.uint32(config.dim / config.heads),
      'llama.rope.freq_base': gguf.float32(config.rope_base),
      'llama.attention.layer_norm_rms_epsilon': gguf.float32(config.eps),
      'llama.vocab_size': gguf.uint32(tokens.length),
      ...byteTokenizerMetadata(tokens, types),
    },
    tensors,
    alignment: 32,
  });
}
