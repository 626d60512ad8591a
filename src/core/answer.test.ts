import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANSWER_EXTRACTORS,
  cleanValue,
  extractAnswer,
  extractAnswerDetailed,
  isSimulatedPlaceholder,
  normalizeAnswer,
  type AnswerExtractor,
} from './answer.ts';

/** [reply as a chat model writes it, expected value, expected extractor]. */
type Case = [string, string, AnswerExtractor];

const check = (cases: readonly Case[], question?: string): void => {
  for (const [reply, value, extractor] of cases)
    assert.deepEqual(extractAnswerDetailed(reply, question !== undefined ? { question } : {}), { value, extractor }, JSON.stringify(reply));
};

describe('extractAnswerDetailed: replies as chat models write them', () => {
  it('reads inline and markdown Answer labels (the replies issue 16 found rejected)', () => {
    check([
      ['Paris is the capital. Answer: Paris', 'Paris', 'answer-line'],
      ['The capital of France is Paris.\n\n**Answer:** Paris', 'Paris', 'answer-line'],
      ['**Answer**: Paris', 'Paris', 'answer-line'],
      ['Answer: **Paris**', 'Paris', 'answer-line'],
      ['Answer: **Paris**.', 'Paris', 'answer-line'],
      ['- **Final Answer:** Paris', 'Paris', 'answer-line'],
      ['Let me work it out.\n17 × 23 = 391\n\nFinal answer: 391', '391', 'answer-line'],
      ['ANSWER: 17', '17', 'answer-line'],
      ['The result follows (Answer: 42)', '42', 'answer-line'],
      ['**Answer:**\n\nParis', 'Paris', 'answer-line'],
      ['### Final Answer\n\nParis', 'Paris', 'answer-line'],
      ['Answer: **B** because the others are wrong', 'B', 'answer-line'],
      ['Answer: Paris. It is also the largest city in France by far.', 'Paris', 'answer-line'],
      ['Answer: `391`', '391', 'answer-line'],
      ['After checking the map, the answer: Paris', 'Paris', 'answer-line'],
      // The sim's own format keeps working (Confidence on the next line is not part of the answer).
      ['[simulated] Worked it out.\nAnswer: 391\nConfidence: 0.80', '391', 'answer-line'],
    ]);
  });

  it('takes the last label when a reply restates its answer', () => {
    check([['Answer: 12\n\nWait, I forgot the carry.\n\nAnswer: 13', '13', 'answer-line']]);
  });

  it('does not take "answer:" inside a sentence as a label', () => {
    assert.deepEqual(extractAnswerDetailed('To answer: first we note that 3 + 4 = 7'), { value: '7', extractor: 'last-number' });
  });

  it('reads JSON (structured output), bare, fenced or closing a chatty reply', () => {
    check([
      ['{"answer": "Paris"}', 'Paris', 'json'],
      ['{"reasoning": "17*23 = 391", "answer": 391}', '391', 'json'],
      ['```json\n{"reasoning": "x", "answer": 42}\n```', '42', 'json'],
      ['Sure! Here you go: {"answer": "Paris"}', 'Paris', 'json'],
      ['{"final_answer": "Paris"}', 'Paris', 'json'],
    ]);
    // JSON without an answer field is prose to the other extractors.
    assert.equal(extractAnswerDetailed('{"city": "Paris"}'), undefined);
  });

  it('reads \\boxed{} with nested braces, and renders LaTeX fractions', () => {
    check([
      ['so we get $\\boxed{\\dfrac{1}{3}}$ as required.', '1/3', 'boxed'],
      ['The area is $\\boxed{12\\sqrt{2}}$.', '12\\sqrt{2}', 'boxed'],
      ['**Final Answer:** $\\boxed{\\frac{3}{4}}$', '3/4', 'answer-line'],
      ['We have \\boxed{x^{2}+1} in the end', 'x^{2}+1', 'boxed'],
    ]);
  });

  it('reads GSM8K-style #### lines only as the last line', () => {
    check([['Natalia sold 48/2 = 24 clips in May.\n48 + 24 = 72\n#### 72', '72', 'hashes']]);
    // A markdown h4 heading followed by more text is not an answer marker.
    assert.deepEqual(extractAnswerDetailed('#### Step 1\nAdd 2 and 3 to get 5.'), { value: '5', extractor: 'last-number' });
  });

  it('reads "the answer is x" prose', () => {
    check([
      ['Therefore, the answer is 42.', '42', 'the-answer-is'],
      ['So the answer is **Paris**. It is also the largest city in France.', 'Paris', 'the-answer-is'],
      ['Adding them up, the final answer is: $1,200', '$1,200', 'the-answer-is'],
      ['The answer to 17*23 is 391.', '391', 'the-answer-is'],
    ]);
    // "the answer is not …" is no answer.
    assert.deepEqual(extractAnswerDetailed('The answer is not obvious, but 12 apples'), { value: '12', extractor: 'last-number' });
  });

  it('reads choice letters for multiple-choice questions, and maps an option text to its letter', () => {
    const question = 'Which city is the capital of France?\nA) Rome\nB) Paris\nC) Berlin\nD) Madrid';
    check(
      [
        ['I think (B) is right.', 'B', 'choice'],
        ['B) Paris', 'B', 'choice'],
        ['**B.** Paris is the capital.', 'B', 'choice'],
        ['Answer: B', 'B', 'answer-line'],
        ['Answer: (B)', 'B', 'answer-line'],
        ['Answer: Paris', 'B', 'answer-line'],
        ['The answer is (B) Paris', 'B', 'the-answer-is'],
        ['Option B is correct: Paris has been the capital since 987.', 'B', 'choice'],
        ['B', 'B', 'choice'],
      ],
      question,
    );
    // Inline options are recognised too.
    check([['Clearly (C).', 'C', 'choice']], 'Pick one: (A) Rome (B) Paris (C) Berlin');
    // Without options in the question, "(B)" is prose, not a choice.
    assert.equal(extractAnswerDetailed('I think (B) is right.'), undefined);
    // Explicit letters work without a question.
    assert.deepEqual(extractAnswerDetailed('I think (B) is right.', { choices: ['A', 'B', 'C', 'D'] }), {
      value: 'B',
      extractor: 'choice',
    });
  });

  it('reads a bold number in the last paragraph as the result, the way chat models mark it, but not a bold phrase', () => {
    check([
      ['The result is **439**.', '439', 'bold-number'],
      ['17*23 = **391** and 12*4 = 48.\n\nSo the total is **$1,200** (before the 3 discounts).', '$1,200', 'bold-number'],
      ['It is about __42 cm__ long.', '42 cm', 'bold-number'],
      ['**-3** degrees, measured at 6 am', '-3', 'bold-number'],
    ]);
    // A bold value in an earlier paragraph is a step: the last number wins as before.
    check([['Step one gives **391**.\n\nAdding 48 we get 439', '439', 'last-number']]);
    // Emphasis on words is not an answer (an open-ended reply stays free text, or falls to its last number).
    assert.equal(extractAnswerDetailed('The sky is blue because of **Rayleigh scattering**.'), undefined);
    check([['Blue light scatters **about five times** more than red, near 450 nm', '450', 'last-number']]);
    // Normalised like any number: $1,200 and 1200 are the same answer.
    assert.equal(normalizeAnswer(extractAnswer('So the total is **$1,200**.')!), '1200');
    // Never on a truncated reply.
    assert.equal(extractAnswerDetailed('The result is **439**.', { noLastNumber: true }), undefined);
  });

  it('falls back on the last number only as a last resort, and never for a truncated reply', () => {
    check([['so it is 12, then 57', '57', 'last-number']]);
    check([['It costs $1,200 in total', '1,200', 'last-number']]);
    assert.equal(extractAnswerDetailed('so it is 12, then 57', { noLastNumber: true }), undefined);
  });

  it('finds no short answer in free text, and never one in the simulated placeholder', () => {
    for (const reply of [
      'Paris',
      'The capital of France is Paris, a city on the Seine.',
      'no answer here',
      '',
      '[simulated placeholder] The simulated fleet has no oracle for this prompt (no registered taskId, no arithmetic expression).',
      '{"answer": "[simulated placeholder]"}',
    ])
      assert.equal(extractAnswerDetailed(reply), undefined, JSON.stringify(reply));
    assert.equal(isSimulatedPlaceholder('[simulated placeholder] x'), true);
    assert.equal(isSimulatedPlaceholder('Paris'), false);
  });

  it('prefers earlier extractors: an Answer label beats a boxed value and a closing number', () => {
    check([['We get \\boxed{5} first, then recheck.\nAnswer: 6\nChecked with 3 samples.', '6', 'answer-line']]);
    check([['\\boxed{5} and 17 more', '5', 'boxed']]);
    assert.deepEqual(
      [...ANSWER_EXTRACTORS],
      ['json', 'answer-line', 'boxed', 'hashes', 'the-answer-is', 'choice', 'bold-number', 'last-number'],
    );
  });

  it('extractAnswer keeps returning just the value', () => {
    assert.equal(extractAnswer('[simulated] x\nAnswer: 391\nConfidence: 0.80'), '391');
    assert.equal(extractAnswer('Paris is the capital. Answer: Paris'), 'Paris');
    assert.equal(extractAnswer('no answer here'), undefined);
  });
});

describe('cleanValue', () => {
  it('drops markup around a value but keeps what it says', () => {
    assert.equal(cleanValue('**Paris**.'), 'Paris');
    assert.equal(cleanValue('$42$'), '42');
    assert.equal(cleanValue('\\( \\frac{3}{4} \\)'), '3/4');
    assert.equal(cleanValue('$1,200'), '$1,200');
    assert.equal(cleanValue('\\text{Paris}'), 'Paris');
  });
});

describe('normalizeAnswer', () => {
  it('removes thousands separators, currency and units', () => {
    const same: Array<[string, string]> = [
      ['$1,200', '1200'],
      ['1,200 dollars', '1200'],
      ['USD 1,200.00', '1200'],
      ['42 cm', '42'],
      ['42cm', '42'],
      ['15%', '15'],
      ['10\\%', '10'],
      ['12 km/h', '12'],
      ['3 apples', '3'],
      ['1\\,200', '1200'],
      ['90^\\circ', '90'],
      [' 1,234.0. ', '1234'],
      ['0.750', '0.75'],
      ['−5', '-5'],
    ];
    for (const [written, canonical] of same) assert.equal(normalizeAnswer(written), canonical, written);
  });

  it('turns LaTeX fractions into terminating decimals or reduced ratios', () => {
    assert.equal(normalizeAnswer('\\frac{3}{4}'), '0.75');
    assert.equal(normalizeAnswer('\\dfrac{3}{4}'), normalizeAnswer('0.75'));
    assert.equal(normalizeAnswer('$\\tfrac{2}{6}$'), '1/3');
    assert.equal(normalizeAnswer('2/6'), '1/3');
    assert.equal(normalizeAnswer('\\frac34'), '0.75');
  });

  it('drops a trailing period, quotes, emphasis and a variable name', () => {
    assert.equal(normalizeAnswer('Paris.'), 'paris');
    assert.equal(normalizeAnswer('"Paris"'), 'paris');
    assert.equal(normalizeAnswer('**391**'), '391');
    assert.equal(normalizeAnswer('x = 5'), '5');
    assert.equal(normalizeAnswer('(B)'), 'b');
  });

  it('leaves what is not one number alone', () => {
    assert.equal(normalizeAnswer('5 or 6'), '5 or 6');
    assert.equal(normalizeAnswer('3 hours 20 minutes'), '3 hours 20 minutes');
    assert.equal(normalizeAnswer('1,5'), '1,5');
    assert.equal(normalizeAnswer('New   York'), 'new york');
  });
});
