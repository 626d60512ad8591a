/**
 * Writes a tiny model's training data as token ids, tokenized by the embedded engine itself (node-llama-cpp
 * with the project's byte vocabulary), so what the model is trained on is exactly what it will be prompted
 * with: the prompt through the `tiny:` provider's template, the completion as the engine tokenizes it, then </s>.
 *
 *   node --import tsx training/make-data.ts --format reasoning --items 200000 --seed 1 --out training/data/reasoning.jsonl
 *
 * One JSON line per example: `{"p": [prompt ids], "c": [completion ids + eos], "o": operations}`. Deterministic
 * in --seed; expressions of the held-out set and of the built-in studies' suites are skipped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { disposeLlamaEngine, loadLlamaModel, renderTinyPrompt, writeFixtureModel } from '../src/models/llama/index.ts';
import {
  arithmeticCompletion,
  arithmeticQuestion,
  arithmeticSteps,
  excludedExpressions,
  trainingExpression,
  type TinyFormat,
} from './tasks.ts';

const { values } = parseArgs({
  options: {
    format: { type: 'string' },
    items: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const format = values.format as TinyFormat;
if (format !== 'direct' && format !== 'reasoning') throw new Error('--format must be direct or reasoning');
if (!values.out) throw new Error('--out is required');
const items = Number(values.items);
const seed = Number(values.seed);

const scratch = mkdtempSync(join(tmpdir(), 'thicket-vocab-'));
try {
  const vocabularyModel = join(scratch, 'vocabulary.gguf');
  writeFixtureModel(vocabularyModel);
  const model = await loadLlamaModel(vocabularyModel);
  const eos = model.tokens.eos;
  if (eos === null) throw new Error('the vocabulary model has no </s> token');
  const excluded = excludedExpressions();
  const lines: string[] = [];
  let skipped = 0;
  for (let index = 0; lines.length < items; index++) {
    const expression = trainingExpression(seed, index);
    if (excluded.has(expression)) {
      skipped++;
      continue;
    }
    const prompt = renderTinyPrompt(model, [{ role: 'user', content: arithmeticQuestion(expression) }]).tokens;
    const completion = [...model.tokenize(arithmeticCompletion(expression, format)), eos];
    lines.push(JSON.stringify({ p: prompt, c: completion, o: arithmeticSteps(expression).steps.length }));
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${lines.join('\n')}\n`);
  process.stderr.write(`${lines.length} ${format} examples → ${values.out} (${skipped} held-out/study expressions skipped)\n`);
} finally {
  await disposeLlamaEngine();
  rmSync(scratch, { recursive: true, force: true });
}
