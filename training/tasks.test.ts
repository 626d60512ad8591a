/** The tiny models' task formats, checked by hand: evaluation order, precedence, parentheses, the two formats. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arithmeticCompletion, arithmeticSteps, excludedExpressions, trainingExpression } from './tasks.ts';
import { tinyHeldOutItems } from '../src/lab/index.ts';

describe('tiny task formats', () => {
  it('evaluates in order with the usual precedence', () => {
    assert.deepEqual(arithmeticSteps('(12+7)*3 - 4'), {
      value: 53,
      steps: [
        { left: 12, operator: '+', right: 7, value: 19 },
        { left: 19, operator: '*', right: 3, value: 57 },
        { left: 57, operator: '-', right: 4, value: 53 },
      ],
    });
    assert.equal(arithmeticSteps('2 + 3*4').value, 14);
    assert.equal(arithmeticSteps('36/4/3').value, 3);
    assert.throws(() => arithmeticSteps('2 + x'), RangeError);
    assert.throws(() => arithmeticSteps('(2 + 3'), RangeError);
  });

  it('writes the direct and the reasoning completions', () => {
    assert.equal(arithmeticCompletion('(12+7)*3 - 4', 'direct'), 'Answer: 53');
    assert.equal(arithmeticCompletion('(12+7)*3 - 4', 'reasoning'), '12+7=19\n19*3=57\n57-4=53\nAnswer: 53');
  });

  it('agrees with the lab on every held-out answer, and training never draws a held-out expression', () => {
    const excluded = excludedExpressions();
    for (const item of tinyHeldOutItems()) {
      assert.equal(String(arithmeticSteps(item.expression).value), item.answer, item.expression);
      assert.ok(excluded.has(item.expression));
    }
    // The generator is seeded: the same index gives the same expression.
    assert.equal(trainingExpression(1, 7), trainingExpression(1, 7));
  });
});
