/** The built-in arithmetic oracle: parsing, canonical answers, difficulty, distractors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/index.ts';
import {
  arithmeticDifficulty,
  arithmeticTask,
  findArithmetic,
  generateArithmeticChain,
  makeArithmeticTask,
  parseArithmetic,
} from './index.ts';

describe('arithmetic oracle', () => {
  it('recognises free-form questions and computes the canonical answer', () => {
    const cases: Array<[string, string]> = [
      ['What is 17*23?', '391'],
      ['Compute (12+7)*3 - 4', '53'],
      ['What is 6 x 7?', '42'],
      ['What is 6 × 7?', '42'],
      ['Calculate 100 ÷ 4 + 1.', '26'],
      ['What is -3*4?', '-12'],
      ['What is 10/4?', '2.5'],
      ['What is 1/3?', '0.333333'],
      ['Evaluate 2*(3+(4-1))*5', '60'],
    ];
    for (const [prompt, answer] of cases) assert.equal(findArithmetic(prompt)?.answer, answer, prompt);
  });

  it('refuses what it cannot check instead of misreading it', () => {
    for (const prompt of [
      'What is 2.5*2?',
      'Write a poem.',
      'What is 1,000+1?',
      'What is 7?',
      'Divide 5/0',
      'What is 99999999*99999999*99999999?',
    ]) {
      assert.equal(findArithmetic(prompt), undefined, prompt);
    }
    assert.equal(parseArithmetic('2 +'), undefined);
    assert.equal(parseArithmetic('(2+3'), undefined);
    assert.equal(parseArithmetic('2 + process.exit()'), undefined);
  });

  it('picks the question, not incidental numbers (dates, step labels)', () => {
    assert.equal(findArithmetic('Step 1 of 3. Released 2024-05-01. What is 12*12?')?.answer, '144');
    assert.equal(findArithmetic('Earlier: 2+2. Now compute (8+5)*4 - 6')?.answer, '46');
  });

  it('orders difficulty: single small ops easy, 17*23 medium-easy, long chains hard', () => {
    const easy = arithmeticDifficulty('3+4')!;
    const product = arithmeticDifficulty('17*23')!;
    const chain = arithmeticDifficulty('(12+7)*3 - 4')!;
    const long = arithmeticDifficulty('12+7*3-4+15*3-28+9*4-7')!;
    assert.ok(easy < -1, `3+4: ${easy}`);
    assert.ok(product > -0.5 && product < 1, `17*23: ${product}`);
    assert.ok(chain > product && chain < long, `chain ${chain}`);
    assert.ok(long > 4, `long chain: ${long}`);
    // Carries make it harder: 19+27 carries, 12+13 does not.
    assert.ok(arithmeticDifficulty('19+27')! > arithmeticDifficulty('12+13')!);
    assert.ok(arithmeticDifficulty('123*45')! > arithmeticDifficulty('12*4')!);
  });

  it('derives concentrated, plausible, deterministic distractors', () => {
    const task = arithmeticTask('What is 17*23?')!;
    assert.equal(task.answer, '391');
    assert.equal(task.key, 'arith:17*23');
    assert.ok(task.distractors.length >= 3);
    assert.ok(!task.distractors.some((entry) => entry.normalized === '391'));
    const weights = task.distractors.map((entry) => entry.weight);
    assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(weights[0]! >= 0.45 && weights[0]! <= 0.75, `dominant ${weights[0]}`);
    assert.ok(weights[0]! + weights[1]! > 0.7, 'two dominant wrong answers');
    const plausible = new Set(['381', '401', '390', '392', '291', '491', '319', '3910', '-391', '393', '399', '371', '341']);
    assert.ok(plausible.has(task.distractors[0]!.normalized), `dominant ${task.distractors[0]!.normalized}`);
    // Same expression, same distractors — whatever the surrounding prompt.
    assert.deepEqual(arithmeticTask('Please compute 17 * 23 for me.')!.distractors, task.distractors);
  });

  it('caches per prompt (same object back)', () => {
    assert.equal(arithmeticTask('What is 41*43?'), arithmeticTask('What is 41*43?'));
  });

  it('knows intermediate results, so correct sub-results in a prompt can be recognised', () => {
    const problem = findArithmetic('Compute (12+7)*3 - 4')!;
    assert.deepEqual([...problem.intermediates].sort(), ['19', '57']);
  });

  it('generates reproducible chains and registrable tasks', () => {
    const a = Array.from(
      { length: 5 },
      (
        (rng) => () =>
          generateArithmeticChain(rng, { operations: 4 })
      )(createRng(3)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (rng) => () =>
          generateArithmeticChain(rng, { operations: 4 })
      )(createRng(3)),
    );
    assert.deepEqual(a, b);
    for (const expression of a) {
      const task = makeArithmeticTask('t', expression);
      assert.ok(Number.isFinite(Number(task.answer)), expression);
      assert.ok(Number.isInteger(Number(task.answer)), `exact division only: ${expression}`);
      assert.equal(task.prompt, `What is ${expression}?`);
    }
    assert.throws(() => makeArithmeticTask('bad', 'hello'), RangeError);
  });
});
