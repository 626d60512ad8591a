/**
 * A loaded dataset as a lab suite: one LabTask per item (per seed, as generated suites are), scored by the
 * eval's scorer, with a BM25 retriever over the context paragraphs when items have them (HotpotQA-style: all
 * items' paragraphs form one corpus, so `search` retrieves among other questions' paragraphs too).
 *
 * For the simulated fleet every task also needs a difficulty and wrong answers. Nothing in a user's row says
 * how hard it is, so: an item whose question holds an arithmetic expression equal to its answer gets the sim's
 * arithmetic difficulty and distractors (the same oracle as the lab's arithmetic suite); a multiple-choice item
 * gets the other letters as its wrong answers; anything else a middling difficulty (1.0 on the sim's logit
 * scale) and the oracle's default distractors. That only shapes simulated answers; real models see the prompt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { normalizeAnswer } from '../../core/index.ts';
import { makeArithmeticTask, parseArithmetic, type SimDistractor } from '../../models/index.ts';
import { Bm25Retriever, parseJsonlCorpus } from '../../ops/index.ts';
import type { Scorer } from '../scorers/builtin.ts';
import type { LabTask, SuiteInstance } from '../types.ts';
import type { DatasetItem, LoadedDataset } from './load.ts';
import { LETTERS } from './presets.ts';

/** The sim's difficulty for items it has no oracle for (logit scale: ~0 easy for a small model, ≥ 4 hard for all). */
const DEFAULT_DIFFICULTY = 1;

export interface DatasetSuiteOptions {
  name: string;
  seed: number;
  scorer: Scorer;
  /** Where to write the context corpus (JSONL), for inspection and `thicket solve --corpus`. */
  corpusPath?: string;
}

/** The arithmetic expression in a question whose value is the answer, when there is one. */
function arithmeticOf(question: string, answer: string): string | undefined {
  const candidates = question.match(/[\d(][\d\s+\-*/×÷().]*[\d)]/g) ?? [];
  for (const candidate of candidates.sort((a, b) => b.length - a.length)) {
    const expression = candidate.replace(/×/g, '*').replace(/÷/g, '/').trim();
    const parsed = parseArithmetic(expression);
    if (parsed && normalizeAnswer(makeArithmeticTask('probe', expression).answer) === normalizeAnswer(answer)) return expression;
  }
  return undefined;
}

function simFields(item: DatasetItem): { difficulty: number; distractors?: SimDistractor[]; meta: Record<string, string | number> } {
  if (item.choices) {
    const others = item.choices.map((_choice, index) => LETTERS[index]!).filter((letter) => letter !== item.answer);
    return {
      difficulty: DEFAULT_DIFFICULTY,
      distractors: others.map((answer, index) => ({ answer, weight: others.length - index })),
      meta: {},
    };
  }
  const expression = arithmeticOf(item.input, item.answer);
  if (expression !== undefined) {
    const task = makeArithmeticTask('probe', expression);
    return { difficulty: task.difficulty, ...(task.distractors ? { distractors: task.distractors } : {}), meta: { expression } };
  }
  return { difficulty: DEFAULT_DIFFICULTY, meta: {} };
}

export function datasetSuite(dataset: LoadedDataset, options: DatasetSuiteOptions): SuiteInstance {
  const byTask = new Map<string, DatasetItem>();
  const tasks: LabTask[] = dataset.items.map((item) => {
    const id = `${options.name}/s${options.seed}/${item.id}`;
    byTask.set(id, item);
    const sim = simFields(item);
    return {
      id,
      prompt: item.prompt,
      answer: item.answer,
      difficulty: sim.difficulty,
      ...(sim.distractors ? { distractors: sim.distractors } : {}),
      suite: options.name,
      meta: { ...sim.meta, item: item.id, line: item.line },
    };
  });
  const paragraphs = new Map<string, { id: string; title: string; text: string }>();
  for (const item of dataset.items)
    for (const paragraph of item.context ?? []) {
      const key = `${paragraph.title}\u0000${paragraph.text}`;
      if (!paragraphs.has(key)) paragraphs.set(key, { id: `p${paragraphs.size + 1}`, title: paragraph.title, text: paragraph.text });
    }
  let retriever: SuiteInstance['retriever'];
  if (paragraphs.size > 0) {
    const jsonl = `${[...paragraphs.values()].map((doc) => JSON.stringify(doc)).join('\n')}\n`;
    if (options.corpusPath !== undefined) {
      mkdirSync(dirname(options.corpusPath), { recursive: true });
      writeFileSync(options.corpusPath, jsonl);
    }
    retriever = new Bm25Retriever(parseJsonlCorpus(jsonl, options.corpusPath ?? `${options.name}.jsonl`));
  }
  const itemOf = (task: LabTask): DatasetItem => {
    const item = byTask.get(task.id);
    if (!item) throw new RangeError(`task ${task.id} is not an item of dataset ${dataset.path}`);
    return item;
  };
  const { scorer } = options;
  return {
    name: options.name,
    kind: 'dataset',
    seed: options.seed,
    tasks,
    check(task, answer) {
      const score = scorer.score(answer, itemOf(task));
      if (typeof score !== 'number') throw new TypeError(`scorer ${scorer.name} is asynchronous: use score()`);
      return score;
    },
    score: async (task, answer, reply) => scorer.score(answer, itemOf(task), reply),
    ...(retriever ? { retriever } : {}),
    ...(options.corpusPath !== undefined && retriever ? { corpusPath: options.corpusPath } : {}),
    description: `${tasks.length} items of ${dataset.path} (${dataset.format}, preset ${dataset.preset}, scorer ${scorer.name})`,
  };
}
