/**
 * `thicket models pull [name]` fetches a pinned small instruct GGUF (checksum-verified, cached) for the
 * embedded engine; `thicket models fixture <path>` writes the project's tiny random-weight GGUF (real
 * mechanics, gibberish text) for offline tries and tests.
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DEFAULT_PULL_MODEL, PINNED_MODELS, modelsCacheDir, pullModel, writeFixtureModel } from '../../models/index.ts';
import { IssueCollector } from '../options.ts';
import { processOutput } from '../output.ts';

export async function modelsPullCommand(name: string | undefined, flags: { json?: boolean }): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const bar = output.json || !output.isTTY ? undefined : new cliProgress.SingleBar({ format: 'pull [{bar}] {percentage}% {value}/{total} bytes ({phase})', stream: process.stderr }, cliProgress.Presets.shades_classic);
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
  else output.out(`Pulled ${pulled.name} → ${pulled.path}\nUse it with --model gguf:default (or gguf:${pulled.path}). Pinned models: ${Object.keys(PINNED_MODELS).join(', ')}`);
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
  else output.out(`Wrote the fixture model (random weights: gibberish text, real mechanics) to ${target}\nTry: thicket solve "What is 2+2?" --model gguf:${path} --strategy thread --json`);
  return 0;
}
