/**
 * Writes the thread model's training data (src/lab/tiny-thread.ts): each problem's thread document as the engine's KV cache
 * holds it under pruning — one example per stretch between erasures, its targets the tokens the model decodes
 * in that stretch — and, for the CoT baseline, the same problems in chain-of-thought form. Tokenized by the
 * embedded engine itself, piece by piece as KvDecoder tokenizes them.
 *
 *   node --import tsx training/make-thread-data.ts --problems 24000 --seed 1 --out training/data/thread.jsonl
 *
 * One JSON line per example: `{"x": [token ids], "m": "0011…"}` (m: 1 where the token is a training target).
 * Problems alternate buffer sizes 1 and 2 (the FIFO the thread runs with) and take 2–4 groups; every third
 * problem is also written as CoT. The held-out problems (seed 9001, see src/lab/tiny.ts) are never drawn: the
 * stream is seeded separately and any expression of the held-out set is skipped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { disposeLlamaEngine, loadLlamaModel, renderTinyPrompt, writeFixtureModel } from '../src/models/llama/index.ts';
import {
  cotCompletion,
  cotQuestion,
  prunedSegments,
  threadPieces,
  threadProblem,
  threadQuestion,
  THREAD_TASK,
  TINY_THREAD,
} from '../src/lab/index.ts';

const { values } = parseArgs({
  options: {
    problems: { type: 'string', default: '24000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
if (!values.out) throw new Error('--out is required');
const problems = Number(values.problems);
const seed = Number(values.seed);
if (seed === TINY_THREAD.heldOutSeed) throw new Error(`seed ${seed} is the held-out seed`);

const scratch = mkdtempSync(join(tmpdir(), 'thicket-vocab-'));
try {
  const vocabularyModel = join(scratch, 'vocabulary.gguf');
  writeFixtureModel(vocabularyModel);
  const model = await loadLlamaModel(vocabularyModel);
  const eos = model.tokens.eos;
  if (eos === null) throw new Error('the vocabulary model has no </s> token');
  const heldOut = new Set<string>();
  for (let index = 0; index < TINY_THREAD.heldOutItems * 4; index++)
    for (let groups = THREAD_TASK.groups[0]; groups <= THREAD_TASK.groups[1]; groups++)
      heldOut.add(threadProblem(TINY_THREAD.heldOutSeed, index, groups).expression);
  const tokenize = (text: string): number[] => [...model.tokenize(text)];
  const lines: string[] = [];
  let longest = 0;
  let skipped = 0;
  for (let index = 0; index < problems; index++) {
    // More long problems than short ones: the long ones are the point (their full trace exceeds the context).
    const groups = [2, 3, 4, 4][index % 4]!;
    const problem = threadProblem(seed, index, groups);
    if (heldOut.has(problem.expression)) {
      skipped++;
      continue;
    }
    const prompt = renderTinyPrompt(model, [{ role: 'user', content: threadQuestion(problem) }]).tokens;
    const bufferSize = 1 + (index % 2);
    for (const segment of prunedSegments(prompt, threadPieces(problem), tokenize, { bufferSize })) {
      longest = Math.max(longest, segment.tokens.length);
      lines.push(JSON.stringify({ x: segment.tokens, m: segment.target.map((target) => (target ? '1' : '0')).join('') }));
    }
    if (index % 3 === 0) {
      const cotPrompt = renderTinyPrompt(model, [{ role: 'user', content: cotQuestion(problem) }]).tokens;
      const completion = [...tokenize(cotCompletion(problem)), eos];
      lines.push(JSON.stringify({ x: [...cotPrompt, ...completion], m: '0'.repeat(cotPrompt.length) + '1'.repeat(completion.length) }));
    }
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${lines.join('\n')}\n`);
  process.stderr.write(
    `${lines.length} thread/CoT examples from ${problems} problems → ${values.out} (longest ${longest} tokens; ${skipped} held-out skipped)\n`,
  );
} finally {
  await disposeLlamaEngine();
  rmSync(scratch, { recursive: true, force: true });
}
