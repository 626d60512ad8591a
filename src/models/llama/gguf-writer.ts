/**
 * A minimal GGUF v3 writer — enough to produce model files llama.cpp loads (the fixture model in
 * fixture.ts), with no dependency beyond node:fs.
 *
 * Layout (github.com/ggml-org/ggml, docs/gguf.md), all little-endian:
 *   magic "GGUF" · version u32 = 3 · tensor count u64 · metadata count u64
 *   metadata: key (string) · value type u32 · value
 *   tensor infos: name (string) · n_dims u32 · ne[0..n) u64 · ggml type u32 · data offset u64
 *   padding to `general.alignment` · tensor data, each tensor starting at an aligned offset
 * A string is a u64 byte length followed by UTF-8 bytes (no terminator). `ne[0]` is the fastest-varying
 * dimension: a weight matrix that maps n_in → n_out is stored as ne = [n_in, n_out], row-major over n_out.
 *
 * Tensors are F32, or Q8_0 (blocks of 32 values: an f16 scale and 32 int8s, 34 bytes) for the weight
 * matrices of the larger speed fixture: a real small model is read as ~1 byte per weight on CPU, and F32
 * would make the fixture's weights four times heavier against its KV cache than a real model's.
 */
import { writeFileSync } from 'node:fs';

/** GGUF metadata value types (the numbering is part of the file format). */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof GgufValueType, 'array'>;

export type GgufValue =
  | { type: Exclude<GgufScalarType, 'string' | 'bool' | 'uint64' | 'int64'>; value: number }
  | { type: 'uint64' | 'int64'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'array'; itemType: 'string'; value: readonly string[] }
  | { type: 'array'; itemType: Exclude<GgufScalarType, 'string' | 'bool'>; value: ArrayLike<number> };

/** Shorthands for metadata values, so a metadata table reads like the GGUF spec's key list. */
export const gguf = {
  string: (value: string): GgufValue => ({ type: 'string', value }),
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  strings: (value: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', value }),
  float32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'float32', value }),
  int32s: (value: ArrayLike<number>): GgufValue => ({ type: 'array', itemType: 'int32', value }),
};

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the fastest-varying (contiguous) dimension. */
  dims: readonly number[];
  data: Float32Array;
  /** Storage type (default F32). Q8_0 needs dims[0] to be a multiple of 32. */
  type?: 'F32' | 'Q8_0';
}

export interface GgufDocument {
  /** Written in insertion order. `general.alignment` is added when absent. */
  metadata: Record<string, GgufValue>;
  tensors: readonly GgufTensor[];
  /** Tensor data alignment in bytes (default 32, GGUF's default). */
  alignment?: number;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_VERSION = 3;
const GGML_TYPE = { F32: 0, Q8_0: 8 } as const;
const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/**
 * IEEE 754 binary16 bits of `value`, rounded to nearest-even (subnormals and overflow to infinity handled).
 * Node 20 has no Float16Array, and this is the only f16 the writer needs (Q8_0 block scales).
 */
export function float16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf / NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // below half the smallest subnormal: zero
    // Subnormal: shift the mantissa (with its implicit 1) right, rounding to nearest-even.
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (remainder > midpoint || (remainder === midpoint && half & 1) ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and can reach infinity).
  return sign | (half + (remainder > 0x1000 || (remainder === 0x1000 && half & 1) ? 1 : 0));
}

/** ggml's Q8_0 (quantize_row_q8_0_ref): per block of 32, d = max|x| / 127 stored as f16, q = round(x / d). */
export function quantizeQ8_0(data: Float32Array): Uint8Array {
  if (data.length % Q8_0_BLOCK !== 0) throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${data.length}`);
  const blocks = data.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let block = 0; block < blocks; block++) {
    const from = block * Q8_0_BLOCK;
    let amax = 0;
    for (let index = 0; index < Q8_0_BLOCK; index++) amax = Math.max(amax, Math.abs(data[from + index]!));
    const d = Math.fround(amax / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const at = block * Q8_0_BLOCK_BYTES;
    view.setUint16(at, float16Bits(d), true);
    // roundf rounds halves away from zero; Math.round rounds them up, hence the sign dance.
    for (let index = 0; index < Q8_0_BLOCK; index++) {
      const scaled = Math.fround(data[from + index]! * inverse);
      view.setInt8(at + 2 + index, Math.sign(scaled) * Math.round(Math.abs(scaled)));
    }
  }
  return out;
}

function tensorBytes(tensor: GgufTensor): Uint8Array {
  if ((tensor.type ?? 'F32') === 'Q8_0') {
    if ((tensor.dims[0] ?? 0) % Q8_0_BLOCK !== 0)
      throw new Error(`GGUF tensor ${tensor.name}: Q8_0 needs dims[0] to be a multiple of ${Q8_0_BLOCK}, got ${tensor.dims[0]}`);
    return quantizeQ8_0(tensor.data);
  }
  // The typed array's own bytes: little-endian on every host node-llama-cpp ships binaries for.
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

/** Grows as it is written to; one allocation per doubling rather than one per field. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.length);
    this.length += 1;
  }
  u32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }
  u64(value: number | bigint): void {
    this.ensure(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    this.length += 8;
  }
  scalar(type: GgufScalarType, value: number | bigint | boolean | string): void {
    switch (type) {
      case 'string': {
        const bytes = Buffer.from(String(value), 'utf8');
        this.u64(bytes.length);
        this.bytes(bytes);
        return;
      }
      case 'bool':
        return this.u8(value ? 1 : 0);
      case 'uint64':
        return this.u64(value as number | bigint);
      case 'int64':
        this.ensure(8);
        this.buffer.writeBigInt64LE(BigInt(value), this.length);
        this.length += 8;
        return;
    }
    const size = SCALAR_SIZE[type];
    this.ensure(size);
    const number = Number(value);
    const at = this.length;
    if (type === 'uint8') this.buffer.writeUInt8(number, at);
    else if (type === 'int8') this.buffer.writeInt8(number, at);
    else if (type === 'uint16') this.buffer.writeUInt16LE(number, at);
    else if (type === 'int16') this.buffer.writeInt16LE(number, at);
    else if (type === 'uint32') this.buffer.writeUInt32LE(number, at);
    else if (type === 'int32') this.buffer.writeInt32LE(number, at);
    else if (type === 'float32') this.buffer.writeFloatLE(number, at);
    else this.buffer.writeDoubleLE(number, at);
    this.length += size;
  }
  bytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    this.ensure(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }
  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const SCALAR_SIZE: Record<Exclude<GgufScalarType, 'string' | 'bool' | 'uint64' | 'int64'>, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** The whole file as bytes. Throws on malformed input (dims that do not match the data, bad alignment). */
export function encodeGguf(document: GgufDocument): Buffer {
  const alignment = document.alignment ?? 32;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0)
    throw new Error(`GGUF alignment must be a positive multiple of 8, got ${alignment}`);
  const metadata: Record<string, GgufValue> = { ...document.metadata };
  metadata['general.alignment'] ??= gguf.uint32(alignment);

  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(document.tensors.length);
  sink.u64(Object.keys(metadata).length);
  for (const [key, entry] of Object.entries(metadata)) {
    sink.scalar('string', key);
    sink.u32(GgufValueType[entry.type]);
    if (entry.type !== 'array') {
      sink.scalar(entry.type, entry.value);
      continue;
    }
    sink.u32(GgufValueType[entry.itemType]);
    sink.u64(entry.value.length);
    for (let index = 0; index < entry.value.length; index++) sink.scalar(entry.itemType, entry.value[index]!);
  }

  // Offsets are relative to the start of the data section; each tensor starts aligned.
  let offset = 0;
  const offsets: number[] = [];
  const data: Uint8Array[] = [];
  for (const tensor of document.tensors) {
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (elements !== tensor.data.length)
      throw new Error(
        `GGUF tensor ${tensor.name}: dims [${tensor.dims.join(', ')}] hold ${elements} values, data has ${tensor.data.length}`,
      );
    const bytes = tensorBytes(tensor);
    data.push(bytes);
    offsets.push(offset);
    offset += Math.ceil(bytes.length / alignment) * alignment;
  }
  document.tensors.forEach((tensor, index) => {
    sink.scalar('string', tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(GGML_TYPE[tensor.type ?? 'F32']);
    sink.u64(offsets[index]!);
  });
  sink.padTo(alignment);
  for (const bytes of data) {
    sink.bytes(bytes);
    sink.padTo(alignment);
  }
  return sink.result();
}

/** Writes a GGUF v3 file; returns its size in bytes. */
export function writeGguf(path: string, document: GgufDocument): number {
  const bytes = encodeGguf(document);
  writeFileSync(path, bytes);
  return bytes.length;
}
