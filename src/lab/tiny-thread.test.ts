import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  arithmeticSteps,
  cotCompletion,
  prunedSegments,
  threadPieces,
  threadProblem,
  threadText,
  THREAD_TASK,
  TINY_THREAD,
  type ThreadProblem,
} from './tiny-thread.ts';

/** (2+3)-(4*5-6): a one-operation group, then a two-operation group (its own task, level-3 leaves). */
const SMALL: ThreadProblem = {
  groups: [
    { expression: '2+3', value: 5, steps: [{ left: 2, operator: '+', right: 3, value: 5 }] },
    {
      expression: '4*5-6',
      value: 14,
      steps: [
        { left: 4, operator: '*', right: 5, value: 20 },
        { left: 20, operator: '-', right: 6, value: 14 },
      ],
    },
  ],
  joiners: ['-'],
  expression: '(2+3)-(4*5-6)',
  value: -9,
  tasks: 7,
  operations: 4,
};

const chars = (text: string): string[] => [...text];

describe('tiny thread format', () => {
  it('writes the running-total tree, as the KV thread decodes it (checked by hand)', () => {
    assert.equal(
      threadText(threadPieces(SMALL)),
      '{"reasoning":[{"thought":"2+3","subtasks":[{"thought":"2+3","subtasks":null,"conclusion":"5"}],"conclusion":"5"},' +
        '{"thought":"5-(4*5-6)","subtasks":[{"thought":"4*5-6","subtasks":[{"thought":"4*5","conclusion":"20"},' +
        '{"thought":"20-6","conclusion":"14"}],"conclusion":"14"},{"thought":"5-14","subtasks":null,"conclusion":"-9"}],' +
        '"conclusion":"-9"}],"answer":"-9"}',
    );
    assert.equal(cotCompletion(SMALL), '2+3=5\n4*5=20\n20-6=14\n5-14=-9\nAnswer: -9');
  });

  it('replays the FIFO: each segment is the cache as it stands when the next erasure comes (buffer 1, by hand)', () => {
    const segments = prunedSegments(['P'], threadPieces(SMALL), chars, { bufferSize: 1 });
    const text = (index: number): string => segments[index]!.tokens.join('');
    const targets = (index: number): string => segments[index]!.tokens.filter((_, position) => segments[index]!.target[position]).join('');
    assert.equal(segments.length, 3);
    // 1: up to the inner list's `]`, when the first list (the first task's) is erased.
    assert.ok(text(0).startsWith('P{"reasoning":[{"thought":"2+3","subtasks":[{'));
    assert.ok(text(0).endsWith('{"thought":"20-6","conclusion":"14"}]'));
    assert.equal(targets(0), '"2+3"["2+3"null"5"]"5",' + '"5-(4*5-6)"["4*5-6"["4*5""20","20-6""14"]');
    // 2: the first task's list gone; up to the second task's `]`, when the inner list goes.
    assert.equal(
      text(1),
      'P{"reasoning":[{"thought":"2+3","conclusion":"5"},{"thought":"5-(4*5-6)","subtasks":[{"thought":"4*5-6","subtasks":' +
        '[{"thought":"4*5","conclusion":"20"},{"thought":"20-6","conclusion":"14"}],"conclusion":"14"},{"thought":"5-14",' +
        '"subtasks":null,"conclusion":"-9"}]',
    );
    assert.equal(targets(1), '"14","5-14"null"-9"]');
    // 3: both gone; the rest of the document.
    assert.equal(
      text(2),
      'P{"reasoning":[{"thought":"2+3","conclusion":"5"},{"thought":"5-(4*5-6)","subtasks":[{"thought":"4*5-6",' +
        '"conclusion":"14"},{"thought":"5-14","subtasks":null,"conclusion":"-9"}],"conclusion":"-9"}],"answer":"-9"}',
    );
    assert.equal(targets(2), '"-9"]"-9"');
    // Unpruned: one segment, the whole document, every decoded piece a target.
    const whole = prunedSegments(['P'], threadPieces(SMALL), chars, { bufferSize: 1, prune: false });
    assert.equal(whole.length, 1);
    assert.equal(whole[0]!.tokens.join(''), `P${threadText(threadPieces(SMALL))}`);
  });

  it('draws problems whose values, trees and documents agree, within the thread limits', () => {
    for (let index = 0; index < 200; index++) {
      const groups = 2 + (index % 3);
      const problem = threadProblem(7, index, groups);
      assert.equal(problem.groups.length, groups);
      assert.equal(arithmeticSteps(problem.expression).value, problem.value, problem.expression);
      assert.ok(problem.tasks <= THREAD_TASK.maxTasks);
      const document = JSON.parse(threadText(threadPieces(problem))) as { reasoning: unknown[]; answer: string };
      assert.equal(document.answer, String(problem.value));
      assert.equal(document.reasoning.length, groups);
      assert.ok(cotCompletion(problem).endsWith(`Answer: ${problem.value}`));
      // Groups never go negative (a negative right operand would read `5--3`); running totals may.
      for (const group of problem.groups) assert.ok(group.value >= 0, group.expression);
    }
    // Seeded: the same stream every time; the held-out seed draws other problems.
    assert.deepEqual(threadProblem(7, 3, 4), threadProblem(7, 3, 4));
    assert.notEqual(threadProblem(TINY_THREAD.heldOutSeed, 3, 4).expression, threadProblem(1, 3, 4).expression);
  });
});
