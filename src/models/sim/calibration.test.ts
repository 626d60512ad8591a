/**
 * Calibration of the default profiles against the qualitative findings in anchors.md. Deterministic (fixed
 * seeds); the bounds leave margin around the values measured when the defaults were tuned (noted per test).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, createRng } from '../../core/index.ts';
import {
  DEFAULT_SIM_PROFILES,
  SimProvider,
  TaskOracleRegistry,
  extractAnswer,
  generateArithmeticChain,
  makeArithmeticTask,
  normalizeAnswer,
} from './index.ts';

const SEED = 7;
const TASK_SEED = 2024;
const TASK_COUNT = 200;

const tasks = new TaskOracleRegistry();
const ids: string[] = [];

/** ~200 multi-step arithmetic chains of medium difficulty (1 ≤ d ≤ 2.5), like GSM8K-style multi-step sums. */
function buildTaskSet(): void {
  const rng = createRng(TASK_SEED);
  while (ids.length < TASK_COUNT) {
    const task = makeArithmeticTask(`chain-${ids.length}`, generateArithmeticChain(rng, { operations: 3 + rng.int(2) }));
    if (task.difficulty < 1 || task.difficulty > 2.5) continue;
    tasks.registerTask(task);
    ids.push(task.id);
  }
}

function sim(name: string): SimProvider {
  return new SimProvider({ profileName: name, profile: DEFAULT_SIM_PROFILES[name]!, seed: SEED, clock: new VirtualClock(), tasks });
}

interface ItemSamples {
  answers: string[];
  correct: boolean[];
  meanP: number;
  meanTokens: number;
}

/** `count` samples per task (distinct stepIds, default temperature), normalised answers. */
async function sampleAll(name: string, count: number, tags: Record<string, string> = {}): Promise<ItemSamples[]> {
  const provider = sim(name);
  const out: ItemSamples[] = [];
  for (const id of ids) {
    const task = tasks.getTask(id)!;
    const responses = await Promise.all(
      Array.from({ length: count }, (_, k) =>
        provider.doGenerate({
          messages: [{ role: 'user', content: task.prompt }],
          maxOutputTokens: 16_000,
          metadata: { taskId: id, stepId: `vote/sample-${k}`, tags },
        }),
      ),
    );
    const answers = responses.map((response) => normalizeAnswer(extractAnswer(response.text) ?? ''));
    const truth = normalizeAnswer(task.answer);
    out.push({
      answers,
      correct: answers.map((answer) => answer === truth),
      meanP: responses.reduce((sum, response) => sum + (response.raw as { pCorrect: number }).pCorrect, 0) / count,
      meanTokens: responses.reduce((sum, response) => sum + response.usage.outputTokens, 0) / count,
    });
  }
  return out;
}

/** Plurality vote; ties go to the answer seen first (as a simple voter would do). */
function vote(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  let best = '';
  let bestCount = -1;
  for (const [answer, count] of counts) if (count > bestCount) [best, bestCount] = [answer, count];
  return best;
}

const singleAccuracy = (items: readonly ItemSamples[]): number =>
  mean(items.map((item) => item.correct.filter(Boolean).length / item.correct.length));
/**
 * Accuracy of an n-vote majority, averaged over the disjoint groups of n samples available per item: the
 * expected vote accuracy with less sampling noise than a single vote per item.
 */
function voteAccuracy(items: readonly ItemSamples[], n: number, firstIndex = 0): number {
  return mean(
    items.map((item, offset) => {
      const truth = normalizeAnswer(tasks.getTask(ids[firstIndex + offset]!)!.answer);
      const groups = Math.floor(item.answers.length / n);
      let right = 0;
      for (let group = 0; group < groups; group++) if (vote(item.answers.slice(group * n, group * n + n)) === truth) right++;
      return right / groups;
    }),
  );
}
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

describe('sim calibration (anchors.md)', () => {
  let small: ItemSamples[];
  let medium: ItemSamples[];
  let large: ItemSamples[];

  before(async () => {
    buildTaskSet();
    // Several disjoint vote groups per item (2×15 small, 3×9 medium) to estimate expected vote accuracy.
    [small, medium, large] = await Promise.all([sampleAll('small', 30), sampleAll('medium', 27), sampleAll('large', 5)]);
  });

  it('orders single-sample accuracy by size on medium-difficulty chains', (t) => {
    // Tuned: small ≈ 51%, medium ≈ 58%, large ≈ 68%.
    const [s, m, l] = [singleAccuracy(small), singleAccuracy(medium), singleAccuracy(large)];
    t.diagnostic(`single-sample: small ${pct(s)}, medium ${pct(m)}, large ${pct(l)}`);
    assert.ok(s < m && m < l, `small ${pct(s)}, medium ${pct(m)}, large ${pct(l)}`);
    assert.ok(m > 0.45 && m < 0.7, `medium ${pct(m)}`);
  });

  it('self-consistency: majority of 9 samples beats medium single-sample by ~10–18 points (Wang et al.)', (t) => {
    // Tuned: +15.3 points.
    const gain = voteAccuracy(medium, 9) - singleAccuracy(medium);
    t.diagnostic(`medium: single ${pct(singleAccuracy(medium))}, vote@9 ${pct(voteAccuracy(medium, 9))} (+${pct(gain)})`);
    assert.ok(gain >= 0.1 && gain <= 0.18, `medium vote@9 gain ${pct(gain)}`);
  });

  it('small with 15 votes approaches large single-sample accuracy (More Agents Is All You Need)', (t) => {
    // Tuned: small vote@15 ≈ 69%, large single ≈ 68%.
    const smallVote = voteAccuracy(small, 15);
    const largeSingle = singleAccuracy(large);
    t.diagnostic(`small single ${pct(singleAccuracy(small))}, vote@15 ${pct(smallVote)}; large single ${pct(largeSingle)}`);
    assert.ok(Math.abs(smallVote - largeSingle) <= 0.08, `small vote@15 ${pct(smallVote)} vs large single ${pct(largeSingle)}`);
    assert.ok(smallVote - singleAccuracy(small) >= 0.1, 'voting helps the small model a lot');
  });

  it('voting gains flatten: 15 votes add little over 9', (t) => {
    const gain9 = voteAccuracy(small, 9) - singleAccuracy(small);
    const extra = voteAccuracy(small, 15) - voteAccuracy(small, 9);
    t.diagnostic(`small: vote@9 +${pct(gain9)} over single, vote@15 a further +${pct(extra)}`);
    assert.ok(extra < gain9 / 2, `9 votes +${pct(gain9)}, 9→15 +${pct(extra)}`);
  });

  it('voting hurts on items where the dominant distractor outweighs the correct answer', (t) => {
    const harmful = small.filter((item, index) => (1 - item.meanP) * tasks.resolve(ids[index]!)!.distractors[0]!.weight > item.meanP);
    const harmfulIndexes = small.map((item, index) => (harmful.includes(item) ? index : -1)).filter((index) => index >= 0);
    assert.ok(harmful.length >= 20, `only ${harmful.length} such items`);
    const single = singleAccuracy(harmful);
    const voted = mean(harmfulIndexes.map((index) => voteAccuracy([small[index]!], 15, index)));
    t.diagnostic(
      `small, ${harmful.length} items where the dominant distractor outweighs the answer: single ${pct(single)}, vote@15 ${pct(voted)}`,
    );
    assert.ok(voted < single, `${harmful.length} items: single ${pct(single)}, vote@15 ${pct(voted)}`);
  });

  it('extra output tokens help reasoners clearly and non-reasoners barely', async (t) => {
    const [mediumLow, mediumHigh, reasonerLow, reasonerHigh] = await Promise.all([
      sampleAll('medium', 3, { reasoningEffort: 'low' }),
      sampleAll('medium', 3, { reasoningEffort: 'high' }),
      sampleAll('reasoner-small', 3, { reasoningEffort: 'low' }),
      sampleAll('reasoner-small', 3, { reasoningEffort: 'high' }),
    ]);
    const tokens = (items: ItemSamples[]): number => mean(items.map((item) => item.meanTokens));
    assert.ok(
      tokens(mediumHigh) > 3 * tokens(mediumLow) && tokens(reasonerHigh) > 3 * tokens(reasonerLow),
      'high effort spends more tokens',
    );
    const nonReasonerGain = singleAccuracy(mediumHigh) - singleAccuracy(mediumLow);
    const reasonerGain = singleAccuracy(reasonerHigh) - singleAccuracy(reasonerLow);
    t.diagnostic(
      `medium low→high effort: ${tokens(mediumLow).toFixed(0)}→${tokens(mediumHigh).toFixed(0)} tokens, ${pct(singleAccuracy(mediumLow))}→` +
        `${pct(singleAccuracy(mediumHigh))}; ` +
        `reasoner-small: ${tokens(reasonerLow).toFixed(0)}→${tokens(reasonerHigh).toFixed(0)} tokens, ${pct(singleAccuracy(reasonerLow))}→` +
        `${pct(singleAccuracy(reasonerHigh))}`,
    );
    assert.ok(nonReasonerGain < 0.04, `medium low→high ${pct(nonReasonerGain)}`);
    assert.ok(reasonerGain > 0.1, `reasoner-small low→high ${pct(reasonerGain)}`);
  });

  it('non-reasoners stay behind: a reasoner at low effort beats its same-tier non-reasoner at max effort, for less', async (t) => {
    const cost = (name: string, items: ItemSamples[]): number =>
      mean(items.map((item) => item.meanTokens)) * DEFAULT_SIM_PROFILES[name]!.priceOutputPerMillion;
    for (const [reasoner, plain] of [
      ['reasoner-small', 'small'],
      ['reasoner-large', 'large'],
    ] as const) {
      const [thinking, verbose] = await Promise.all([
        sampleAll(reasoner, 2, { reasoningEffort: 'low' }),
        sampleAll(plain, 2, { reasoningEffort: 'max' }),
      ]);
      t.diagnostic(
        `${reasoner}@low ${pct(singleAccuracy(thinking))} ($${cost(reasoner, thinking).toFixed(0)}/M answers out) vs ${plain}@max ` +
          `${pct(singleAccuracy(verbose))} ($${cost(plain, verbose).toFixed(0)}/M)`,
      );
      assert.ok(singleAccuracy(thinking) > singleAccuracy(verbose), `${reasoner} vs ${plain}`);
      assert.ok(cost(reasoner, thinking) < cost(plain, verbose), `${reasoner} cheaper`);
    }
  });
});

describe('sim calibration: single prompts, verifier, context, confidence', () => {
  const registry = new TaskOracleRegistry();
  const provider = (name: string): SimProvider =>
    new SimProvider({ profileName: name, profile: DEFAULT_SIM_PROFILES[name]!, seed: SEED, clock: new VirtualClock(), tasks: registry });

  async function accuracyOn(
    name: string,
    content: string,
    answer: string,
    samples: number,
    history: Array<{ role: 'user' | 'assistant'; content: string }> = [],
  ): Promise<{ accuracy: number; answers: string[] }> {
    const model = provider(name);
    const responses = await Promise.all(
      Array.from({ length: samples }, (_, k) =>
        model.doGenerate({ messages: [...history, { role: 'user', content }], maxOutputTokens: 8000, metadata: { stepId: `s-${k}` } }),
      ),
    );
    const answers = responses.map((response) => normalizeAnswer(extractAnswer(response.text) ?? ''));
    return { accuracy: answers.filter((a) => a === answer).length / samples, answers };
  }

  it('What is 17*23? → 391; large is highly accurate, small much less', async (t) => {
    // Tuned (seed 7): large 93%, medium 74%, small 66%.
    const large = await accuracyOn('large', 'What is 17*23?', '391', 300);
    const small = await accuracyOn('small', 'What is 17*23?', '391', 300);
    t.diagnostic(`17*23: large ${pct(large.accuracy)}, small ${pct(small.accuracy)}`);
    assert.ok(large.accuracy > 0.85, `large ${pct(large.accuracy)}`);
    assert.ok(small.accuracy < large.accuracy - 0.15, `small ${pct(small.accuracy)}`);
    // Wrong answers concentrate on a few plausible slips.
    const wrong = small.answers.filter((a) => a !== '391');
    const top = Math.max(...[...new Set(wrong)].map((a) => wrong.filter((b) => b === a).length));
    assert.ok(top / wrong.length > 0.4, 'dominant distractor');
  });

  it('verifier: TPR and TNR are higher for large than for small', async (t) => {
    const rates = async (name: string): Promise<{ tpr: number; tnr: number }> => {
      const model = provider(name);
      let tp = 0;
      let tn = 0;
      const n = 40;
      for (let index = 0; index < n; index++) {
        const a = 12 + index;
        const content = `What is ${a}*${a + 7} - ${index + 3}?`;
        const truth = String(a * (a + 7) - (index + 3));
        const wrongAnswer = String(Number(truth) + 10);
        for (const [candidate, isRight] of [
          [truth, true],
          [wrongAnswer, false],
        ] as const) {
          const response = await model.doGenerate({
            messages: [{ role: 'user', content }],
            maxOutputTokens: 4000,
            metadata: { stepId: `verify-${index}`, tags: { purpose: 'verify', candidate } },
          });
          const accepted = /VERDICT: correct/.test(response.text);
          if (isRight && accepted) tp++;
          if (!isRight && !accepted) tn++;
        }
      }
      return { tpr: tp / n, tnr: tn / n };
    };
    const small = await rates('small');
    const large = await rates('large');
    t.diagnostic(`verifier small TPR ${pct(small.tpr)} TNR ${pct(small.tnr)}; large TPR ${pct(large.tpr)} TNR ${pct(large.tnr)}`);
    assert.ok(large.tpr > small.tpr && large.tnr > small.tnr, `small ${JSON.stringify(small)}, large ${JSON.stringify(large)}`);
  });

  it('correct claims in the context raise accuracy; wrong ones lower it and propagate', async (t) => {
    const question = 'Compute (38+27)*6 - 19*7';
    const truth = String((38 + 27) * 6 - 19 * 7);
    const plain = await accuracyOn('medium', question, truth, 200);
    const helped = await accuracyOn('medium', question, truth, 200, [
      { role: 'assistant', content: `Another agent reported: the answer is ${truth}.` },
    ]);
    const misled = await accuracyOn('medium', question, truth, 200, [
      { role: 'assistant', content: 'Another agent reported: the answer is 267.' },
    ]);
    const copied = misled.answers.filter((a) => a === '267').length / misled.answers.length;
    t.diagnostic(
      `medium: plain ${pct(plain.accuracy)}, with a correct claim ${pct(helped.accuracy)}, with a wrong claim ${pct(misled.accuracy)} (copied ${pct(copied)})`,
    );
    assert.ok(helped.accuracy > plain.accuracy + 0.1, `plain ${pct(plain.accuracy)}, helped ${pct(helped.accuracy)}`);
    assert.ok(misled.accuracy < plain.accuracy - 0.1, `plain ${pct(plain.accuracy)}, misled ${pct(misled.accuracy)}`);
    assert.ok(copied > 0.1, `the wrong claim is copied (${pct(copied)})`);
  });

  it('confidence is informative but small models are over-confident', async (t) => {
    const stats = async (name: string): Promise<{ meanConfidence: number; accuracy: number; gap: number }> => {
      const model = provider(name);
      const rows: Array<{ confidence: number; correct: boolean }> = [];
      for (let index = 0; index < 60; index++) {
        const response = await model.doGenerate({
          messages: [{ role: 'user', content: `Compute (${index + 13}+${index * 2 + 9})*${(index % 7) + 3} - ${index + 4}` }],
          maxOutputTokens: 4000,
          metadata: { stepId: 'c' },
        });
        rows.push({ confidence: response.confidence ?? 0, correct: (response.raw as { correct: boolean }).correct });
      }
      const right = rows.filter((row) => row.correct);
      const wrong = rows.filter((row) => !row.correct);
      return {
        meanConfidence: mean(rows.map((row) => row.confidence)),
        accuracy: right.length / rows.length,
        gap: mean(right.map((row) => row.confidence)) - mean(wrong.map((row) => row.confidence)),
      };
    };
    const small = await stats('small');
    const large = await stats('large');
    t.diagnostic(
      `small: accuracy ${pct(small.accuracy)}, mean confidence ${pct(small.meanConfidence)}; large: accuracy ${pct(large.accuracy)}, mean ` +
        `confidence ${pct(large.meanConfidence)}`,
    );
    assert.ok(small.meanConfidence - small.accuracy > 0.1, `small over-confident: ${JSON.stringify(small)}`);
    assert.ok(small.meanConfidence - small.accuracy > large.meanConfidence - large.accuracy, `large ${JSON.stringify(large)}`);
    assert.ok(small.gap > 0 && large.gap > 0, 'confidence higher when correct');
  });
});
