/**
 * The model puller without the network: the cache lookup, checksum verification and its sidecar, fake
 * fetchers that write a local file, and the real node-llama-cpp downloader pointed at a local HTTP server
 * (a pinned revision, served from 127.0.0.1) and at a closed local port (the offline case). Nothing leaves
 * the machine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderError, ThicketError, exitCodeFor } from '../../core/index.ts';
import {
  DEFAULT_PULL_MODEL,
  ModelNotPulledError,
  PINNED_MODELS,
  findPulledDefaultModel,
  findPulledModel,
  modelsCacheDir,
  pullModel,
  requirePulledModel,
  type ModelFetcher,
  type PinnedModel,
  type PullProgress,
} from './index.ts';

let folder: string;
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'thicket-pull-'));
});
after(() => rmSync(folder, { recursive: true, force: true }));

const CONTENT = Buffer.from('not really a model, but a file with a known checksum\n'.repeat(100));
const fakePin = (overrides: Partial<PinnedModel> = {}): PinnedModel => ({
  name: 'fake-model',
  uri: 'hf:thicket/fake-model-GGUF/fake-model.gguf',
  fileName: 'fake-model.gguf',
  sizeBytes: CONTENT.length,
  sha256: createHash('sha256').update(CONTENT).digest('hex'),
  description: 'test pin',
  contextLength: 4096,
  ...overrides,
});

/** A fetcher that "downloads" `bytes` into the cache folder, reporting progress like the real one. */
function fakeFetcher(bytes: Buffer, calls: string[] = []): ModelFetcher {
  return async (pin, directory, options) => {
    calls.push(pin.name);
    const path = join(directory, pin.fileName);
    options.onProgress?.({ downloadedBytes: bytes.length / 2, totalBytes: bytes.length, phase: 'download' });
    writeFileSync(path, bytes);
    options.onProgress?.({ downloadedBytes: bytes.length, totalBytes: bytes.length, phase: 'download' });
    return path;
  };
}

const cacheFor = (name: string): string => {
  const directory = join(folder, name);
  mkdirSync(directory, { recursive: true });
  return directory;
};

describe('model cache', () => {
  it('uses THICKET_MODELS_DIR, else the thicket cache folder', () => {
    assert.equal(modelsCacheDir({ THICKET_MODELS_DIR: '/srv/models' }), '/srv/models');
    assert.match(modelsCacheDir({}), /thicket[/\\]models$/);
  });

  it('pins a default small instruct model with size and sha256', () => {
    const pin = PINNED_MODELS[DEFAULT_PULL_MODEL]!;
    // Pinned to a commit, not to main: the checksum below is that revision's file.
    assert.match(pin.uri, /^hf:Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF\/qwen2\.5-0\.5b-instruct-q4_k_m\.gguf#[0-9a-f]{40}$/);
    assert.match(pin.sha256, /^[0-9a-f]{64}$/);
    assert.ok(pin.sizeBytes > 100_000_000);
  });

  it('finds nothing in an empty cache, and requirePulledModel says how to get a model', () => {
    const cacheDir = cacheFor('empty');
    assert.equal(findPulledDefaultModel({ cacheDir }), undefined);
    assert.throws(
      () => requirePulledModel(DEFAULT_PULL_MODEL, { cacheDir }),
      (error: unknown) => {
        assert.ok(error instanceof ModelNotPulledError);
        assert.equal(error.code, 'NO_MODEL');
        assert.equal(exitCodeFor(error), 2);
        assert.match(error.message, /thicket models pull/);
        assert.match(error.message, /THICKET_MODELS_DIR/);
        return true;
      },
    );
  });
});

describe('pullModel', () => {
  it('downloads, verifies the checksum, records it, and is found afterwards without re-downloading', async () => {
    const cacheDir = cacheFor('ok');
    const calls: string[] = [];
    const progress: PullProgress[] = [];
    const pulled = await pullModel(fakePin(), {
      cacheDir,
      fetcher: fakeFetcher(CONTENT, calls),
      onProgress: (event) => progress.push(event),
    });
    assert.equal(pulled.alreadyPresent, false);
    assert.equal(pulled.path, join(cacheDir, 'fake-model.gguf'));
    assert.equal(pulled.reference, `gguf:${pulled.path}`);
    assert.ok(existsSync(`${pulled.path}.verified.json`));
    assert.deepEqual(
      progress.filter((event) => event.phase === 'download').map((event) => event.downloadedBytes),
      [CONTENT.length / 2, CONTENT.length],
    );
    assert.equal(progress.at(-1)?.phase, 'verify');

    assert.deepEqual(findPulledModel(fakePin(), { cacheDir }), { ...pulled, alreadyPresent: true });
    const again = await pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(CONTENT, calls) });
    assert.equal(again.alreadyPresent, true);
    assert.deepEqual(calls, ['fake-model']);
  });

  it('deletes a download whose checksum does not match and says so', async () => {
    const cacheDir = cacheFor('mismatch');
    const tampered = Buffer.from(CONTENT);
    tampered[10] = 0x21;
    await assert.rejects(pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(tampered) }), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.isRetryable, false);
      assert.match(error.message, /Checksum mismatch for fake-model\.gguf: expected sha256 [0-9a-f]{64}, got sha256 [0-9a-f]{64}/);
      return true;
    });
    assert.equal(existsSync(join(cacheDir, 'fake-model.gguf')), false);
    await assert.rejects(
      pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(CONTENT.subarray(1)) }),
      /expected \d+ bytes, got \d+ bytes/,
    );
  });

  it('verifies a file put in the cache by hand instead of downloading it', async () => {
    const cacheDir = cacheFor('by-hand');
    writeFileSync(join(cacheDir, 'fake-model.gguf'), CONTENT);
    assert.equal(findPulledModel(fakePin(), { cacheDir }), undefined, 'unverified files are not trusted');
    const calls: string[] = [];
    const pulled = await pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(CONTENT, calls) });
    assert.deepEqual(calls, []);
    assert.equal(pulled.alreadyPresent, false);
    assert.ok(findPulledModel(fakePin(), { cacheDir }));
  });

  it('stops trusting the sidecar once the file changes', async () => {
    const cacheDir = cacheFor('changed');
    const pulled = await pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(CONTENT) });
    const later = new Date(Date.now() + 5_000);
    utimesSync(pulled.path, later, later);
    assert.equal(findPulledModel(fakePin(), { cacheDir }), undefined);
  });

  it('offline: the real downloader fails fast with a retryable error that says what to do', async () => {
    // A port that was just free: connections are refused at once, as when offline.
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const cacheDir = cacheFor('offline');
    await assert.rejects(pullModel(fakePin(), { cacheDir, huggingFaceEndpoint: `http://127.0.0.1:${port}/` }), (error: unknown) => {
      assert.ok(error instanceof ProviderError, String(error));
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /Could not download fake-model .*Are you offline\?/);
      assert.ok(error.message.includes(cacheDir));
      return true;
    });
    assert.equal(findPulledModel(fakePin(), { cacheDir }), undefined);
  });

  it('downloads a revision-pinned hf: URI through the real downloader and verifies it', async () => {
    const revision = 'a'.repeat(40);
    const requested: string[] = [];
    // A Hugging Face stand-in: the file exists only under /resolve/<revision>/, as on a pinned commit.
    const server = createHttpServer((request, response) => {
      requested.push(`${request.method} ${request.url}`);
      if (!request.url?.startsWith(`/thicket/fake-model-GGUF/resolve/${revision}/fake-model.gguf`)) {
        response.writeHead(request.url === '/' ? 200 : 404).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range && range[2] ? Number(range[2]) : CONTENT.length - 1;
      const body = CONTENT.subarray(start, end + 1);
      response.writeHead(range ? 206 : 200, {
        'content-length': String(body.length),
        'content-type': 'application/octet-stream',
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end}/${CONTENT.length}` } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const cacheDir = cacheFor('revision');
      const progress: PullProgress[] = [];
      const pin = fakePin({ uri: `hf:thicket/fake-model-GGUF/fake-model.gguf#${revision}` });
      const pulled = await pullModel(pin, {
        cacheDir,
        huggingFaceEndpoint: `http://127.0.0.1:${port}/`,
        onProgress: (event) => progress.push(event),
      });
      assert.equal(pulled.path, join(cacheDir, 'fake-model.gguf'));
      assert.equal(pulled.alreadyPresent, false);
      assert.ok(
        requested.some((line) => line.includes(`/resolve/${revision}/fake-model.gguf`)),
        requested.join('\n'),
      );
      assert.ok(progress.some((event) => event.phase === 'verify' && event.downloadedBytes === CONTENT.length));
      assert.equal(findPulledModel(pin, { cacheDir })?.path, pulled.path);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("cuts the downloader's resume state off a complete download (ipull race), but never rescues a wrong file", async () => {
    // ipull's progress JSON, appended after the bytes, as it lands when a save races the final truncate.
    const tail = Buffer.from(JSON.stringify({ type: 'download', parts: [{ downloadedBytes: CONTENT.length }] }));
    const cacheDir = cacheFor('tail');
    const pulled = await pullModel(fakePin(), { cacheDir, fetcher: fakeFetcher(Buffer.concat([CONTENT, tail])) });
    assert.equal(statSync(pulled.path).size, CONTENT.length);
    assert.equal(findPulledModel(fakePin(), { cacheDir })?.path, pulled.path);

    const wrong = Buffer.from(CONTENT);
    wrong[0] = 0x21;
    const otherDir = cacheFor('tail-wrong');
    await assert.rejects(
      pullModel(fakePin(), { cacheDir: otherDir, fetcher: fakeFetcher(Buffer.concat([wrong, tail])) }),
      /Checksum mismatch/,
    );
    assert.equal(existsSync(join(otherDir, 'fake-model.gguf')), false);
  });

  it('refuses an unknown pin name', async () => {
    await assert.rejects(
      pullModel('no-such-model', { cacheDir: cacheFor('unknown') }),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'UNKNOWN_MODEL',
    );
  });
});
