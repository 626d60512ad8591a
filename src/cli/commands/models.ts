/**
 * `thicket models pull [name]` fetches a pinned small instruct GGUF (checksum-verified, cached) for the
 * embedded engine; `thicket models ls` lists the pins and which are in the cache; `thicket models fixture <path>` writes the project's tiny
 * random-weight GGUF (real mechanics, gibberish text) for offline tries and tests.
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DEFAULT_PULL_MODEL, PINNED_MODELS, findPulledModel, modelsCacheDir, pullModel, writeFixtureModel } from '../../models/index.ts';
import { IssueCollector } from '../options.ts';
import { processOutput, table } from '../output.ts';

export async function modelsPullCommand(name: string | undefined, flags: { json?: boolean }): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const bar =
    output.json || !output.isTTY
      ? undefined
      : new cliProgress.SingleBar(
          { format: 'pull [{bar}] {percentage}% {value}/{total} bytes ({phase})', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
  let started = false;
  const pulled = await pullModel(name ?? DEFAULT_PULL_MODEL, {
    onProgress: (progress) => {
      if (!bar) return;
      if (!started) bar.start(progress.totalBytes, 0, { phase: progress.phase });
      started = true;
      bar.update(progress.downloadedBytes, { phase: progress.phase });
    },
  });
  bar?.stop();
  if (output.json) output.out(JSON.stringify({ model: pulled, cache: modelsCacheDir() }));
  else
    output.out(
      `Pulled ${pulled.name} → ${pulled.path}\nUse it with --model ` +
        `gguf:default (or gguf:${pulled.path}). Pinned models: ${Object.keys(PINNED_MODELS).join(', ')}`,
    );
  return 0;
}

/** The pins, whether each is in the cache (verified), and the `--model` reference to use it. Reads no weights. */
export function modelsListCommand(flags: { json?: boolean }): number {
  const output = processOutput(Boolean(flags.json));
  const cache = modelsCacheDir();
  const rows = Object.values(PINNED_MODELS).map((pin) => {
    const pulled = findPulledModel(pin, { cacheDir: cache });
    return {
      name: pin.name,
      default: pin.name === DEFAULT_PULL_MODEL,
      uri: pin.uri,
      sizeBytes: pin.sizeBytes,
      sha256: pin.sha256,
      contextLength: pin.contextLength,
      description: pin.description,
      pulled: pulled !== undefined,
      path: pulled?.path ?? null,
      reference: pulled ? (pin.name === DEFAULT_PULL_MODEL ? 'gguf:default' : pulled.reference) : null,
    };
  });
  if (output.json) {
    output.out(JSON.stringify({ cache, models: rows }));
    return 0;
  }
  output.out(
    table(
      ['model', 'size', 'pulled', 'use with --model'],
      rows.map((row) => [
        `${row.name}${row.default ? ' (default)' : ''}`,
        `${Math.round(row.sizeBytes / 1e6)} MB`,
        row.pulled ? 'yes' : 'no',
        row.reference ?? '`thicket models pull` first',
      ]),
    ),
  );
  output.out(`Cache: ${cache} ($THICKET_MODELS_DIR). Any other .gguf file: --model gguf:<path>.`);
  return 0;
}

export async function modelsFixtureCommand(path: string, flags: { seed?: string; json?: boolean }): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const seed = issues.number('--seed', flags.seed ?? '1', { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 1;
  issues.throwIfAny('Invalid fixture request');
  const target = resolve(path);
  const info = writeFixtureModel(target, { seed });
  if (output.json) output.out(JSON.stringify({ ...info, path: target }));
  else
    output.out(
      `Wrote the fixture model (random weights: gibberish text, real mechanics) to ${target}\nTry: thicket solve "What is 2+2?" ` +
        `--model gguf:${path} --strategy thread --json`,
    );
  return 0;
}
