/**
 * The model puller: pinned small GGUF models, downloaded once into Thicket's cache and verified.
 *
 * `thicket models pull` → `pullModel(DEFAULT_PULL_MODEL, { onProgress })`: resolves the pin's `hf:` URI with
 * node-llama-cpp's downloader, checks byte size and SHA-256, and writes a `<file>.verified.json` sidecar so
 * later lookups (`findPulledModel`, `findPulledDefaultModel`) are a stat, not a 500 MB hash. A file that
 * fails the checksum is deleted. Nothing downloads implicitly: when nothing is cached, `requirePulledModel`
 * throws a typed error that says how to get one.
 *
 * Cache folder: $THICKET_MODELS_DIR, else `<env-paths thicket cache>/models` (~/.cache/thicket/models on Linux).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { ProviderError, ThicketError, UnknownModelError } from '../../core/index.ts';
import { abortError } from '../abort.ts';
import { messageOf } from './engine.ts';
import { loadNodeLlamaCpp } from './native.ts';

export interface PinnedModel {
  name: string;
  /** node-llama-cpp model URI (`hf:<user>/<repo>/<file>`). */
  uri: string;
  fileName: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: string;
  description: string;
  contextLength: number;
}

/**
 * The pins. MUST be re-verified whenever a pin changes: size and SHA-256 are those of the Hugging Face file
 * (its git-LFS pointer), as recorded by several independent public manifests for
 * Qwen/Qwen2.5-0.5B-Instruct-GGUF at revision 9217f5db79a29953eb74d5343926648285ec7e67 (the same 491,400,032
 * bytes and sha256 appear in at least six unrelated public projects' manifests, some pinned to that revision) —
 * they could not be re-checked against Hugging Face from the machine this was written on (no network). A wrong
 * pin shows up as a checksum error after the download, never as a silently wrong model.
 */
export const PINNED_MODELS: Readonly<Record<string, PinnedModel>> = {
  'qwen2.5-0.5b-instruct': {
    name: 'qwen2.5-0.5b-instruct',
    // `#<commit>`: node-llama-cpp resolves it as /resolve/<commit>/…, so the pin cannot drift when the repo's main does.
    uri: 'hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf#9217f5db79a29953eb74d5343926648285ec7e67',
    fileName: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
    sizeBytes: 491_400_032,
    sha256: '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
    description: 'Qwen2.5 0.5B Instruct, Q4_K_M (Apache-2.0): the small default for the embedded engine',
    contextLength: 32_768,
  },
};

export const DEFAULT_PULL_MODEL = 'qwen2.5-0.5b-instruct';

export interface PullProgress {
  downloadedBytes: number;
  totalBytes: number;
  phase: 'download' | 'verify';
}

/** How a pin's file is fetched into `directory`; returns the downloaded file's path. Injectable for tests. */
export type ModelFetcher = (
  pin: PinnedModel,
  directory: string,
  options: { onProgress?: (progress: PullProgress) => void; signal?: AbortSignal },
) => Promise<string>;

export interface PullOptions {
  cacheDir?: string;
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  fetcher?: ModelFetcher;
  /** Hugging Face endpoint (default node-llama-cpp's: HF_ENDPOINT or https://huggingface.co/). */
  huggingFaceEndpoint?: string;
}

export interface PulledModel {
  name: string;
  path: string;
  /** `gguf:<path>`: the model reference for the fleet. */
  reference: string;
  /** False when this call downloaded (or verified) it. */
  alreadyPresent: boolean;
}

/** Nothing pulled yet: a bad-input error (exit code 2) that says how to get a model. */
export class ModelNotPulledError extends ThicketError {
  constructor(
    readonly modelName: string,
    readonly cacheDir: string,
  ) {
    super(
      'NO_MODEL',
      `No local model "${modelName}" in ${cacheDir}. Run \`thicket models pull\` ` +
        `once (downloads ${PINNED_MODELS[modelName] ? `${Math.round(PINNED_MODELS[modelName].sizeBytes / 1e6)} MB` : 'the model'}), set ` +
        `THICKET_MODELS_DIR to a folder that has it, or use gguf:<path> with a .gguf file you have.`,
      'bad_input',
    );
    this.name = 'ModelNotPulledError';
  }
}

export function modelsCacheDir(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment['THICKET_MODELS_DIR'];
  return configured !== undefined && configured !== '' ? configured : join(envPaths('thicket', { suffix: '' }).cache, 'models');
}

function resolvePin(nameOrPin: string | PinnedModel): PinnedModel {
  if (typeof nameOrPin !== 'string') return nameOrPin;
  const pin = PINNED_MODELS[nameOrPin];
  if (!pin) throw new UnknownModelError(nameOrPin, `Pinned models: ${Object.keys(PINNED_MODELS).join(', ')}.`);
  return pin;
}

const sidecarPath = (path: string): string => `${path}.verified.json`;

interface Sidecar {
  sha256: string;
  sizeBytes: number;
  mtimeMs: number;
}

/** The cached, verified file of a pin, or undefined. Cheap: trusts the sidecar when size and mtime still match. */
export function findPulledModel(nameOrPin: string | PinnedModel, options: { cacheDir?: string } = {}): PulledModel | undefined {
  const pin = resolvePin(nameOrPin);
  const path = join(options.cacheDir ?? modelsCacheDir(), pin.fileName);
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (stat.size !== pin.sizeBytes) return undefined;
  try {
    const sidecar = JSON.parse(readFileSync(sidecarPath(path), 'utf8')) as Sidecar;
    if (sidecar.sha256 !== pin.sha256 || sidecar.sizeBytes !== stat.size || sidecar.mtimeMs !== stat.mtimeMs) return undefined;
  } catch {
    return undefined;
  }
  return { name: pin.name, path, reference: `gguf:${path}`, alreadyPresent: true };
}

/** The default model, once pulled: what `solve` can use as its embedded default. */
export function findPulledDefaultModel(options: { cacheDir?: string } = {}): PulledModel | undefined {
  return findPulledModel(DEFAULT_PULL_MODEL, options);
}

export function requirePulledModel(nameOrPin: string | PinnedModel = DEFAULT_PULL_MODEL, options: { cacheDir?: string } = {}): PulledModel {
  const found = findPulledModel(nameOrPin, options);
  if (!found) throw new ModelNotPulledError(resolvePin(nameOrPin).name, options.cacheDir ?? modelsCacheDir());
  return found;
}

/** SHA-256 (hex) of a file — or of its first `limit` bytes — streamed. */
export async function sha256OfFile(path: string, onBytes?: (bytes: number) => void, limit?: number): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(limit !== undefined ? { end: limit - 1 } : {}) })) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
    onBytes?.(read);
  }
  return hash.digest('hex');
}

/** Checks size and SHA-256; on success records the sidecar, on failure deletes the file and throws. */
export async function verifyModelFile(path: string, pin: PinnedModel, onProgress?: (progress: PullProgress) => void): Promise<void> {
  const size = statSync(path).size;
  const sha256 =
    size === pin.sizeBytes
      ? await sha256OfFile(path, (bytes) => onProgress?.({ downloadedBytes: bytes, totalBytes: size, phase: 'verify' }))
      : undefined;
  if (size !== pin.sizeBytes || sha256 !== pin.sha256) {
    rmSync(path, { force: true });
    rmSync(sidecarPath(path), { force: true });
    const found = sha256 === undefined ? `${size} bytes` : `sha256 ${sha256}`;
    const expected = sha256 === undefined ? `${pin.sizeBytes} bytes` : `sha256 ${pin.sha256}`;
    throw new ProviderError(
      `Checksum mismatch for ${pin.fileName}: expected ${expected}, got ${found}. The file was deleted. If the pin was just changed, re-verify its ` +
        `size and sha256 (src/models/llama/pull.ts).`,
      { isRetryable: false },
    );
  }
  const sidecar: Sidecar = { sha256, sizeBytes: size, mtimeMs: statSync(path).mtimeMs };
  writeFileSync(sidecarPath(path), `${JSON.stringify(sidecar)}\n`);
}

/**
 * node-llama-cpp's downloader (ipull 3.9) keeps its resume state as JSON appended after the file's bytes and
 * truncates it away when the download finishes; but a progress save already past its "finished?" check can
 * land after that truncate (seen here under load: +63 bytes on a 5,300-byte file), and the checksum would then
 * delete a complete download. So a just-downloaded file longer than the pin whose first `sizeBytes` bytes
 * hash to the pin is cut back to them. A file whose prefix does not match is left for verifyModelFile to reject.
 */
async function trimDownloaderTail(path: string, pin: PinnedModel, onProgress?: (progress: PullProgress) => void): Promise<void> {
  if (!existsSync(path) || statSync(path).size <= pin.sizeBytes) return;
  const prefix = await sha256OfFile(
    path,
    (bytes) => onProgress?.({ downloadedBytes: bytes, totalBytes: pin.sizeBytes, phase: 'verify' }),
    pin.sizeBytes,
  );
  if (prefix === pin.sha256) truncateSync(path, pin.sizeBytes);
}

/** How long the reachability probe waits before calling the network unreachable. */
const REACHABILITY_TIMEOUT_MS = 10_000;

/**
 * node-llama-cpp's downloader (resumable, temp file until complete); progress in bytes. It is preceded by a
 * quick reachability probe of the Hugging Face endpoint: offline, the downloader itself keeps retrying the
 * connection for minutes before it gives up, where `thicket models pull` should say at once what is wrong.
 */
export function huggingFaceFetcher(endpoint?: string): ModelFetcher {
  return async (pin, directory, options) => {
    const base = endpoint ?? process.env['HF_ENDPOINT'] ?? process.env['MODEL_ENDPOINT'] ?? 'https://huggingface.co/';
    const probe = AbortSignal.timeout(REACHABILITY_TIMEOUT_MS);
    try {
      const response = await fetch(base, { method: 'HEAD', signal: options.signal ? AbortSignal.any([options.signal, probe]) : probe });
      await response.body?.cancel();
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new Error(`${base} is not reachable (${messageOf(error)}${cause})`, { cause: error });
    }
    const { createModelDownloader } = await loadNodeLlamaCpp();
    const downloader = await createModelDownloader({
      modelUri: pin.uri,
      dirPath: directory,
      fileName: pin.fileName,
      showCliProgress: false,
      deleteTempFileOnCancel: false,
      skipExisting: false,
      ...(endpoint ? { endpoints: { huggingFace: endpoint } } : {}),
      ...(options.onProgress
        ? {
            onProgress: ({ downloadedSize, totalSize }) =>
              options.onProgress!({ downloadedBytes: downloadedSize, totalBytes: totalSize, phase: 'download' }),
          }
        : {}),
    });
    return downloader.download(options.signal ? { signal: options.signal } : {});
  };
}

/**
 * Makes sure the pin's file is in the cache: returns at once when it is there and verified; verifies a file
 * that is there but unverified (e.g. copied in by hand); otherwise downloads and verifies it.
 */
export async function pullModel(nameOrPin: string | PinnedModel = DEFAULT_PULL_MODEL, options: PullOptions = {}): Promise<PulledModel> {
  const pin = resolvePin(nameOrPin);
  const cacheDir = options.cacheDir ?? modelsCacheDir();
  const present = findPulledModel(pin, { cacheDir });
  if (present) return present;
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, pin.fileName);
  if (!existsSync(path)) {
    if (options.signal?.aborted) throw abortError(options.signal, pin.name);
    const fetcher = options.fetcher ?? huggingFaceFetcher(options.huggingFaceEndpoint);
    let downloaded: string;
    try {
      downloaded = await fetcher(pin, cacheDir, {
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, pin.name);
      if (ThicketError.isInstance(error)) throw error;
      throw new ProviderError(
        `Could not download ${pin.name} (${pin.uri}): ${messageOf(error)}. Are you offline? Retry \`thicket models pull\` when connected, ` +
          `or download ${pin.fileName} yourself and put it in ${cacheDir} (or set THICKET_MODELS_DIR).`,
        { cause: error, isRetryable: true },
      );
    }
    if (downloaded !== path && !existsSync(path))
      throw new ProviderError(`The download of ${pin.name} ended at ${downloaded}, not ${path}.`, { isRetryable: false });
    await trimDownloaderTail(path, pin, options.onProgress);
  }
  await verifyModelFile(path, pin, options.onProgress);
  return { name: pin.name, path, reference: `gguf:${path}`, alreadyPresent: false };
}
