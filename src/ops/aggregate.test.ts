/**
 * Aggregators as pure functions (tie-breaks, weights, scores, USC prompt and choice parsing), and the USC
 * fallback paths through `aggregate` with a real (simulated) call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAnswer } from '../core/index.ts';
import { makeArithmeticTask } from '../models/index.ts';
import { aggregate, ballots, bestScored, confidenceWeighted, majority, parseUscChoice, uscMessages, type Candidate } from './aggregate.ts';
import { createOpHarness } from './testing/harness.ts';

const candidate = (index: number, answer: string | undefined, confidence?: number): Candidate => ({
  index,
  answer,
  normalized: answer === undefined ? undefined : normalizeAnswer(answer),
  confidence,
  text: answer === undefined ? '[truncated]' : `Worked it out.\nAnswer: ${answer}\nConfidence: ${(confidence ?? 0.5).toFixed(2)}`,
  nodeId: `n${index}`,
});

describe('aggregators', () => {
  it('majority: plurality over normalised answers, ties to the answer seen first, whatever the arrival order', () => {
    const list = [candidate(3, '12'), candidate(0, '7'), candidate(1, '12.0'), candidate(2, ' 7 '), candidate(4, undefined)];
    const decision = majority(list);
    assert.equal(decision.normalized, '7');
    assert.equal(decision.confidence, 0.5);
    assert.deepEqual(majority([...list].reverse()), decision);
    assert.deepEqual(
      ballots(list).map((ballot) => [ballot.normalized, ballot.votes, ballot.firstIndex]),
      [
        ['7', 2, 0],
        ['12', 2, 1],
      ],
    );
    assert.equal(majority([candidate(0, undefined)]).answer, undefined);
  });

  it('confidence-weighted: confident minorities can win; missing confidences weigh 0.5', () => {
    const list = [candidate(0, '5', 0.3), candidate(1, '5', 0.3), candidate(2, '9', 0.95)];
    const decision = confidenceWeighted(list);
    assert.equal(decision.normalized, '9');
    assert.ok(Math.abs((decision.confidence ?? 0) - 0.95 / 1.55) < 1e-12);
    assert.equal(confidenceWeighted([candidate(0, '1'), candidate(1, '2', 0.5)]).normalized, '1');
  });

  it('bestScored: highest score, ties to more votes, unscored answers never win', () => {
    const list = ballots([candidate(0, 'a'), candidate(1, 'b'), candidate(2, 'b'), candidate(3, 'c')]);
    assert.equal(
      bestScored(
        list,
        new Map([
          ['a', 0.9],
          ['b', 0.9],
        ]),
      )?.normalized,
      'b',
    );
    assert.equal(bestScored(list, new Map([['c', 0.2]]))?.normalized, 'c');
    assert.equal(bestScored(list, new Map()), undefined);
  });

  it('USC prompt lists the responses with their answer lines; the choice is read by number or by answer', () => {
    const responses = [candidate(0, '41'), candidate(1, '42'), candidate(2, '42')];
    const [system, user] = uscMessages('What is 6*7?', responses);
    assert.equal(system?.role, 'system');
    assert.match(user!.content, /Response 1:\nWorked it out\.\nAnswer: 41/);
    assert.match(user!.content, /Response 3:[\s\S]*Answer: 42/);
    assert.deepEqual(parseUscChoice('All but one agree.\nThe most consistent response is Response 2.\nAnswer: 42', responses), {
      normalized: '42',
      via: 'index',
    });
    assert.deepEqual(parseUscChoice('Answer: 41', responses), { normalized: '41', via: 'answer' });
    assert.deepEqual(parseUscChoice('Answer: Response 3', responses), { normalized: '42', via: 'index' });
    assert.equal(parseUscChoice('Answer: 40', responses), undefined);
    assert.equal(parseUscChoice('The most consistent response is Response 7.', responses), undefined);
    assert.equal(parseUscChoice('no idea', responses), undefined);
  });
});

describe('aggregate with model calls', () => {
  const task = makeArithmeticTask('agg-1', '(23+19)*4-17');
  const h = createOpHarness({ tasks: [task] });

  it('USC makes one call when the samples disagree, none when they agree', async () => {
    const split = [candidate(0, task.answer), candidate(1, task.answer), candidate(2, task.distractors![0]!.answer)];
    const fresh = h.fresh({ taskId: task.id });
    const outcome = await aggregate(fresh.context, split, { kind: 'usc', question: task.prompt, operator: 'sample', axis: 'width' });
    assert.equal(outcome.calls, 1);
    assert.ok(['parsed', 'unparsed'].includes(String(outcome.details['usc'])));
    assert.ok(
      outcome.decision.normalized === normalizeAnswer(task.answer) ||
        outcome.decision.normalized === normalizeAnswer(task.distractors![0]!.answer),
    );
    const agreed = await aggregate(h.fresh({ taskId: task.id }).context, split.slice(0, 2), {
      kind: 'usc',
      question: task.prompt,
      operator: 'sample',
      axis: 'width',
    });
    assert.equal(agreed.calls, 0);
    assert.equal(agreed.details['usc'], 'unanimous (no call)');
  });

  it('falls back to majority when the budget refuses the aggregation call', async () => {
    const split = [candidate(0, '1'), candidate(1, '2'), candidate(2, '2')];
    const fresh = h.fresh({ taskId: task.id, limits: { calls: 0 } });
    const usc = await aggregate(fresh.context, split, { kind: 'usc', question: task.prompt, operator: 'sample', axis: 'width' });
    assert.deepEqual(
      [usc.decision.normalized, usc.decision.method, usc.budgetExhausted, usc.degraded],
      ['2', 'majority', true, ['usc → majority (budget)']],
    );
    const judged = await aggregate(fresh.context, split, { kind: 'verifier', question: task.prompt, operator: 'sample', axis: 'width' });
    assert.deepEqual([judged.decision.normalized, judged.decision.method, judged.budgetExhausted], ['2', 'majority', true]);
    assert.deepEqual(judged.degraded, ['verifier: 2 of 2 answers unjudged (budget)', 'verifier → majority (no verdicts, budget)']);
    assert.equal(fresh.ledger.report().total.calls, 0);
  });
});
