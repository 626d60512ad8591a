/**
 * Width on the embedded engine: k samples of one prompt (the `sample` operator's vote@k) on LlamaProvider.
 *
 *   - single sequence: k calls one after another on a 1-sequence context (each reuses the prompt the
 *     sequence still holds, so the prompt is evaluated once here too; decode steps run one token at a time);
 *   - batched, unshared: k concurrent calls on k sequences with `sharePrompts: false` (node-llama-cpp puts
 *     the k sequences' decode steps into one llama_decode, but each evaluates the prompt);
 *   - batched, shared: the same with prompt sharing (prompt-share.ts): one evaluation of the prompt, copied.
 *
 * Model: the speed fixture's layer shape (Qwen2.5-0.5B's blocks, Q8_0, 2 blocks, a proportionally wide output
 * layer; see bench/llama.ts) with random weights, so the text is gibberish and a call may stop before 32 tokens:
 * tokens/s counts the tokens really generated. Prompt ~60 tokens, 32 output tokens, k = 8, one thread (as the
 * engine picks for a model this size). Wall time on a shared machine: the load average is printed alongside.
 *
 * Then the same on `tiny:reasoning-small` (a trained model, real answers; ~45-token prompt), when it is shipped.
 *
 * Run alone: `THICKET_BENCH_ONLY=embedded npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaProvider, disposeLlamaEngine, shippedTinyModels, tinyModelFile, writeFixtureModel } from '../src/models/llama/index.ts';
import type { GenerateRequest, GenerateResponse } from '../src/models/spec.ts';
import type { BenchRow } from './foundation.ts';
import { SPEED_FIXTURE } from './llama.ts';

const K = 8;
const OUTPUT_TOKENS = 32;
const REPETITIONS = 5;

interface Run {
  tokensPerSecond: number;
  /** Generated tokens per second of process CPU time (all threads): less sensitive to a loaded machine than wall time. */
  tokensPerCpuSecond: number;
  evaluated: number;
  billed: number;
  generated: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const raw = (response: GenerateResponse): { evaluatedPromptTokens: number } => response.raw as { evaluatedPromptTokens: number };

async function measure(run: () => Promise<GenerateResponse[]>): Promise<Run> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const responses = await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const generated = responses.reduce((total, response) => total + response.usage.outputTokens, 0);
  return {
    tokensPerSecond: generated / seconds,
    tokensPerCpuSecond: generated / cpuSeconds,
    evaluated: responses.reduce((total, response) => total + raw(response).evaluatedPromptTokens, 0),
    billed: responses.reduce((total, response) => total + response.usage.inputTokens, 0),
    generated,
  };
}

interface WidthSubject {
  label: string;
  /** A provider on its own context: `sequences` sequences, `contextSize` cells each, sharing prompts or not. */
  provider: (options: { contextSize: number; sequences: number; sharePrompts?: boolean }) => LlamaProvider;
  request: (repetition: number, seed: number) => GenerateRequest;
}

/** k samples of one prompt, serially on one sequence vs batched on k sequences (unshared, shared). */
async function benchWidth(subject: WidthSubject): Promise<BenchRow[]> {
  const { request } = subject;
  const single = subject.provider({ contextSize: 1024, sequences: 1 });
  // Its own context (another size: the engine shares a context per option set), so neither batched run finds the
  // other's prompt already in its sequences. Attention spans the cells in use, so the size itself costs nothing.
  const unshared = subject.provider({ contextSize: 1280, sequences: K, sharePrompts: false });
  const shared = subject.provider({ contextSize: 1024, sequences: K });
  await Promise.all([single.engine(), unshared.engine(), shared.engine()]);
  // Warm-up (first decode allocations, page faults on the weights), with a prompt no repetition shares.
  for (const provider of [single, unshared, shared]) await provider.doGenerate({ ...request(-1, 99), maxOutputTokens: 4 });
  const seeds = Array.from({ length: K }, (_, index) => index + 1);
  const runs = { single: [] as Run[], unshared: [] as Run[], shared: [] as Run[] };
  const loadBefore = loadavg()[0]!;
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    runs.single.push(
      await measure(async () => {
        const responses: GenerateResponse[] = [];
        for (const seed of seeds) responses.push(await single.doGenerate(request(repetition, seed)));
        return responses;
      }),
    );
    runs.unshared.push(await measure(() => Promise.all(seeds.map((seed) => unshared.doGenerate(request(repetition, seed))))));
    runs.shared.push(await measure(() => Promise.all(seeds.map((seed) => shared.doGenerate(request(repetition, seed))))));
  }
  const loadAfter = loadavg()[0]!;
  const prompt = (await single.countPromptTokens(request(0, 1))).toString();
  const rate = (list: Run[]): number => median(list.map((run) => run.tokensPerSecond));
  const cpuRate = (list: Run[]): string => `${median(list.map((run) => run.tokensPerCpuSecond)).toFixed(0)} tokens per CPU second`;
  const last = (list: Run[]): Run => list[list.length - 1]!;
  const tokens = (run: Run): string => `last run: prompt evaluated ${run.evaluated} / billed ${run.billed}; ${run.generated} generated`;
  const load = `load ${loadBefore.toFixed(1)}→${loadAfter.toFixed(1)}`;
  const note = `${prompt}-token prompt, k=${K}, ≤ ${OUTPUT_TOKENS} out, 1 thread, median of ${REPETITIONS}; ${load}`;
  const singleRate = rate(runs.single);
  return [
    {
      name: `embedded (${subject.label}): single sequence, ${K} calls serially (tokens/s)`,
      value: singleRate.toFixed(0),
      target: 'baseline',
      met: undefined,
      note: `${tokens(last(runs.single))}; ${cpuRate(runs.single)}; ${note}`,
    },
    {
      name: `embedded (${subject.label}): batched width, ${K} sequences, no prompt sharing`,
      value: `${rate(runs.unshared).toFixed(0)} (${(rate(runs.unshared) / singleRate).toFixed(2)}×)`,
      target: '(comparison)',
      met: undefined,
      note: `${tokens(last(runs.unshared))}; ${cpuRate(runs.unshared)}`,
    },
    {
      name: `embedded (${subject.label}): batched width, ${K} sequences, shared prompt`,
      value: `${rate(runs.shared).toFixed(0)} (${(rate(runs.shared) / singleRate).toFixed(2)}×)`,
      target: '≥ 2× single',
      met: rate(runs.shared) >= 2 * singleRate,
      note: `${tokens(last(runs.shared))} (target: ≤ one prompt + ${K}); ${cpuRate(runs.shared)}`,
    },
  ];
}

export async function benchEmbedded(): Promise<BenchRow[]> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-bench-embedded-'));
  try {
    const modelPath = join(folder, 'speed.gguf');
    writeFixtureModel(modelPath, { seed: 7, contextLength: 4096, ...SPEED_FIXTURE });
    const rows = await benchWidth({
      label: 'speed fixture, 0.5B-shaped blocks',
      provider: (options) => new LlamaProvider({ modelPath, threads: 1, ...options }),
      // Different prompts per repetition, so no repetition starts with the previous one's prompt cached.
      request: (repetition, seed) => ({
        messages: [{ role: 'user', content: `Round ${repetition}: what is 17 * 23 + 4? Show steps.` }],
        maxOutputTokens: OUTPUT_TOKENS,
        temperature: 0.8,
        seed,
      }),
    });
    // The same on a tiny trained model, prompted as the quick study prompts it (real samples, real answers).
    const tiny = shippedTinyModels().find((model) => model.name === 'reasoning-small');
    if (tiny)
      rows.push(
        ...(await benchWidth({
          label: tiny.reference,
          provider: (options) =>
            new LlamaProvider({
              modelPath: tinyModelFile(tiny.name),
              modelId: tiny.reference,
              threads: 1,
              promptStyle: 'tiny',
              ...options,
            }),
          request: (repetition, seed) => ({
            messages: [{ role: 'user', content: `What is (${12 + repetition}+7)*3 - 4?` }],
            maxOutputTokens: OUTPUT_TOKENS,
            temperature: 0.8,
            seed,
          }),
        })),
      );
    return rows;
  } finally {
    await disposeLlamaEngine();
    rmSync(folder, { recursive: true, force: true });
  }
}
