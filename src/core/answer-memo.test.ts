import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractAnswer, extractAnswerDetailed } from './answer.ts';

test('extractAnswerDetailed: a repeated reply gives the same answer each time, as a fresh object the caller may change', () => {
  const text = 'Let me compute 17*23 step by step: 17*20 = 340, 17*3 = 51.\nAnswer: 391';
  const first = extractAnswerDetailed(text);
  assert.deepEqual(first, { value: '391', extractor: 'answer-line' });
  first.value = 'changed by the caller';
  const second = extractAnswerDetailed(text);
  assert.deepEqual(second, { value: '391', extractor: 'answer-line' });
  assert.notEqual(first, second);
});

test('extractAnswerDetailed: noLastNumber is part of what is remembered (same text, both ways, either order)', () => {
  const text = 'We tried 12 and then 40 was the total.';
  assert.deepEqual(extractAnswerDetailed(text), { value: '40', extractor: 'last-number' });
  assert.equal(extractAnswerDetailed(text, { noLastNumber: true }), undefined);
  assert.deepEqual(extractAnswerDetailed(text), { value: '40', extractor: 'last-number' });
  const other = 'Somewhere 7 appears, and 9 at the end';
  assert.equal(extractAnswer(other, { noLastNumber: true }), undefined);
  assert.equal(extractAnswer(other), '9');
});

test('extractAnswerDetailed: a question with options is never answered from a reply remembered without one', () => {
  const reply = 'The right one is Paris.\nAnswer: Paris';
  assert.deepEqual(extractAnswerDetailed(reply), { value: 'Paris', extractor: 'answer-line' });
  const question = 'Capital of France?\nA) Lyon\nB) Paris\nC) Nice';
  assert.deepEqual(extractAnswerDetailed(reply, { question }), { value: 'B', extractor: 'answer-line' });
  assert.deepEqual(extractAnswerDetailed(reply), { value: 'Paris', extractor: 'answer-line' });
});

test('extractAnswerDetailed: many distinct replies (past the memo bound) keep being answered correctly', () => {
  for (let index = 0; index < 5000; index++) assert.equal(extractAnswer(`Working it out.\nAnswer: ${index}`), String(index));
  assert.equal(extractAnswer('Working it out.\nAnswer: 17'), '17');
});
