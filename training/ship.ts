/**
 * Ships a trained tiny model: writes its GGUF into models/tiny with the project's GGUF writer, evaluates it on
 * the held-out items through the embedded engine (src/lab/tiny.ts), and writes its model card
 * (`<file>.card.json`) and the cards' table in models/tiny/README.md.
 *
 *   node --import tsx training/ship.ts --from training/build/reasoning-small --name reasoning-small
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateTinyModel, runTimExperiment, THREAD_TASK, TINY_ARITHMETIC, TINY_HELDOUT_ITEMS, TINY_THREAD } from '../src/lab/index.ts';
import {
  disposeLlamaEngine,
  readTinyModelCard,
  TINY_LABEL,
  TINY_MODELS,
  tinyModelFile,
  tinyModelsDir,
  writeTrainedModelGguf,
  type TinyModelCard,
} from '../src/models/llama/index.ts';

const { values } = parseArgs({ options: { from: { type: 'string' }, name: { type: 'string' } } });
const info = TINY_MODELS.find((model) => model.name === values.name);
if (!values.from || !info)
  throw new Error(`--from <training/build/...> and --name (${TINY_MODELS.map((model) => model.name).join('|')}) are required`);

interface TrainLog {
  parameters: number;
  recipe: Record<string, unknown>;
  examples: number;
  steps: number;
  wallSeconds: number;
  torch: string;
  losses: Array<[number, number]>;
}
const log = JSON.parse(readFileSync(join(values.from, 'train-log.json'), 'utf8')) as TrainLog;
// A warm-started run (--init) continues an earlier stage: the card counts every stage's steps and time.
const stages: TrainLog[] = [log];
for (let init = log.recipe['init']; typeof init === 'string' && !init.endsWith('.gguf');) {
  const earlier = JSON.parse(readFileSync(join('training', init, 'train-log.json'), 'utf8')) as TrainLog;
  stages.unshift(earlier);
  init = earlier.recipe['init'];
}
const manifest = JSON.parse(readFileSync(join(values.from, 'manifest.json'), 'utf8')) as {
  config: TinyModelCard['architecture'] & { eps: number; rope_base: number };
};
const file = tinyModelFile(info.name);
const bytes = writeTrainedModelGguf(values.from, file);
const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
const reference = `tiny:${info.name}`;
const { dim, blocks, heads, ff, context } = manifest.config;
// The card first without its accuracy: resolving the model needs the card (its context size).
const card: TinyModelCard = {
  name: `tiny-${info.name}`,
  reference,
  file: `tiny-${info.name}.gguf`,
  sha256,
  bytes,
  parameters: log.parameters,
  format: info.format,
  tier: info.tier,
  reasoning: info.format !== 'direct',
  contextSize: context,
  architecture: { dim, blocks, heads, ff, context },
  data:
    info.format === 'thread'
      ? {
          generator: 'training/make-thread-data.ts (src/lab/tiny-thread.ts: thread documents as the pruned KV cache holds them, plus CoT)',
          task: 'sums of parenthesised arithmetic groups, as a running total in subtask trees',
          groups: THREAD_TASK.groups,
          maxOperand: THREAD_TASK.maxOperand,
          maxFactor: THREAD_TASK.maxFactor,
          examples: log.examples,
          seed: log.recipe['seed'],
          warmStart: log.recipe['init'],
        }
      : {
          generator: 'training/make-data.ts (the lab arithmetic generator; held-out and built-in study expressions excluded)',
          task: 'arithmetic chains',
          ...TINY_ARITHMETIC,
          examples: log.examples,
          seed: log.recipe['seed'],
        },
  training: {
    recipe: 'training/train.py (training/retrain.sh)',
    ...log.recipe,
    steps: stages.reduce((sum, stage) => sum + stage.steps, 0),
    wallSeconds: Math.round(stages.reduce((sum, stage) => sum + stage.wallSeconds, 0)),
    torch: log.torch,
    finalLoss: log.losses.at(-1)?.[1] ?? null,
    ...(stages.length > 1
      ? {
          stages: stages.map((stage) => ({
            ...stage.recipe,
            steps: stage.steps,
            wallSeconds: stage.wallSeconds,
            finalLoss: stage.losses.at(-1)?.[1] ?? null,
          })),
        }
      : {}),
  },
  heldOut: { items: 0, seed: 0, maxOutputTokens: 0, accuracy: 0, byOperations: {} },
  label: TINY_LABEL,
};
const cardPath = `${file}.card.json`;
writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
try {
  if (info.format === 'thread') {
    // Its held-out accuracy is the KV-pruned thread's on the TIM problems (their full trace exceeds the context).
    const tim = await runTimExperiment(reference, { items: TINY_THREAD.heldOutItems });
    const pruned = tim.modes.pruned!;
    card.heldOut = {
      items: tim.items,
      seed: tim.seed,
      maxOutputTokens: 0,
      accuracy: pruned.accuracy,
      byOperations: {},
    };
    card.tim = { ...tim };
  } else card.heldOut = await evaluateTinyModel(reference, { items: TINY_HELDOUT_ITEMS });
} finally {
  await disposeLlamaEngine();
}
writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
process.stderr.write(`${reference}: ${bytes} bytes, held-out accuracy ${card.heldOut.accuracy}\n`);

// The table of every shipped card.
const cards = readdirSync(tinyModelsDir())
  .filter((name) => name.endsWith('.card.json'))
  .map((name) => readTinyModelCard(name.replace(/^tiny-/, '').replace(/\.gguf\.card\.json$/, ''))!)
  .filter(Boolean);
const percent = (value: number | undefined): string => (value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);
const rows = cards.map((shipped) => {
  const byOps = [1, 2, 3, 4].map((ops) => percent(shipped.heldOut.byOperations[String(ops)]?.accuracy)).join(' | ');
  return (
    `| \`${shipped.reference}\` | ${shipped.format} | ${shipped.tier} | ${(shipped.parameters / 1e6).toFixed(2)}M | ${Number(shipped.training['steps'])} | ` +
    `${Math.round(Number(shipped.training['wallSeconds']) / 60)} min | ${percent(shipped.heldOut.accuracy)} | ${byOps} | \`${shipped.sha256.slice(0, 12)}…\` |`
  );
});
const readme = readFileSync(join(tinyModelsDir(), 'README.md'), 'utf8');
const table = [
  '| model | format | tier | parameters | steps | training | held-out | 1 op | 2 ops | 3 ops | 4 ops | sha256 |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
writeFileSync(
  join(tinyModelsDir(), 'README.md'),
  readme.replace(/<!-- cards -->[\s\S]*<!-- \/cards -->/, `<!-- cards -->\n${table}\n<!-- /cards -->`),
);
