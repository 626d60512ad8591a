import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError, VirtualClock } from '../../core/index.ts';
import { Journal } from '../../journal/index.ts';
import { TaskOracleRegistry } from '../../models/index.ts';
import { openFleet } from '../../runtime/index.ts';
import type { DatasetItem } from '../datasets/load.ts';
import {
  anyOfScorer,
  exactScorer,
  f1Scorer,
  judgeScorer,
  mcScorer,
  numericScorer,
  parseNumber,
  parseVerdict,
  regexScorer,
  resolveScorer,
  tokenF1,
  type Scorer,
} from './index.ts';

const item = (fields: Partial<DatasetItem> & { answer: string }): DatasetItem => ({
  id: fields.id ?? 'i1',
  line: 1,
  input: fields.input ?? 'q',
  prompt: fields.prompt ?? fields.input ?? 'q',
  aliases: fields.aliases ?? [fields.answer],
  expected: fields.expected ?? fields.answer,
  record: {},
  ...fields,
});
const fixture = (name: string): string => join(import.meta.dirname, '../../../fixtures', name);
const sync = (scorer: Scorer, answer: string | undefined, of: DatasetItem): number => scorer.score(answer, of) as number;

describe('built-in scorers (hand-checked)', () => {
  it('exact: normalised (case, punctuation, articles, numbers), canonical answer only', () => {
    const paris = item({ answer: 'Paris', aliases: ['Paris', 'City of Light'] });
    assert.equal(sync(exactScorer, ' paris.', paris), 1);
    assert.equal(sync(exactScorer, 'The Paris', paris), 1);
    assert.equal(sync(exactScorer, 'City of Light', paris), 0);
    assert.equal(sync(exactScorer, undefined, paris), 0);
    assert.equal(sync(exactScorer, '1,000', item({ answer: '1000' })), 1);
    assert.equal(sync(exactScorer, '53.0', item({ answer: '53' })), 1);
  });
  it('any-of: any alias counts', () => {
    const sunset = item({ answer: 'Sunset Boulevard', aliases: ['Sunset Boulevard', 'Sunset Blvd'] });
    assert.equal(sync(anyOfScorer, 'sunset blvd', sunset), 1);
    assert.equal(sync(anyOfScorer, 'Sunset Strip', sunset), 0);
  });
  it('numeric: last number in the text, separators, fractions, percent; tolerance absolute or relative', () => {
    assert.equal(parseNumber('The total is $1,234.50 today'), 1234.5);
    assert.equal(parseNumber('-3/4'), -0.75);
    assert.equal(parseNumber('first 3 then 7'), 7);
    assert.equal(parseNumber('none'), undefined);
    const exact = numericScorer();
    assert.equal(sync(exact, '0.30000000000000004', item({ answer: '0.3' })), 1);
    assert.equal(sync(exact, '54', item({ answer: '53' })), 0);
    assert.equal(sync(numericScorer('0.5'), '53.4', item({ answer: '53' })), 1);
    assert.equal(sync(numericScorer('0.5'), '53.6', item({ answer: '53' })), 0);
    assert.equal(sync(numericScorer('1%'), '101', item({ answer: '100' })), 1);
    assert.equal(sync(numericScorer('1%'), '102', item({ answer: '100' })), 0);
    assert.throws(
      () => numericScorer('-1'),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'SCORER_FAILED',
    );
  });
  it('regex: per-item patterns (whole answer, case-insensitive) or one pattern with {answer}', () => {
    assert.equal(sync(regexScorer(), 'Colour', item({ answer: 'colou?r' })), 1);
    assert.equal(sync(regexScorer(), 'colours', item({ answer: 'colou?r' })), 0);
    const contains = regexScorer('\\b{answer}\\b');
    assert.equal(sync(contains, 'it costs 3.5 dollars', item({ answer: '3.5' })), 1);
    assert.equal(sync(contains, 'it costs 345 dollars', item({ answer: '3.5' })), 0, 'the answer is escaped: "." is no wildcard');
    assert.throws(() => regexScorer('('), /SCORER_FAILED|invalid pattern/);
  });
  it('mc: letters in their usual spellings, or the option’s text', () => {
    const question = item({ answer: 'B', choices: ['Berlin', 'Paris', 'Madrid'], prompt: 'Capital?\nA) Berlin\nB) Paris\nC) Madrid' });
    for (const answer of ['B', '(b)', 'B) Paris', 'B.', 'Paris']) assert.equal(sync(mcScorer, answer, question), 1, answer);
    for (const answer of ['A', 'Madrid', 'C) Madrid']) assert.equal(sync(mcScorer, answer, question), 0, answer);
  });
  it('f1: SQuAD token F1 (best alias)', () => {
    // "the cat sat" vs "a cat sat down": tokens [cat, sat] vs [cat, sat, down] → P 1, R 2/3, F1 0.8.
    assert.equal(tokenF1('the cat sat', 'a cat sat down'), 0.8);
    assert.equal(tokenF1('dog', 'cat'), 0);
    assert.equal(sync(f1Scorer, 'cat sat', item({ answer: 'x', aliases: ['x', 'cat sat down'] })), 0.8);
  });
  it('json: schema-valid JSON, share of the expected fields that match', async () => {
    const scorer = await resolveScorer(`json:${fixture('person.schema.json')}`);
    const expected = { name: 'Ada Lovelace', city: 'London', year: 1815 };
    const ada = item({ answer: JSON.stringify(expected), expected });
    assert.equal(sync(scorer, 'Here: {"name": "ada lovelace", "city": "London", "year": 1815}', ada), 1);
    assert.equal(sync(scorer, '```json\n{"name": "Ada Lovelace", "city": "Paris", "year": 1815}\n```', ada), 2 / 3);
    assert.equal(sync(scorer, '{"name": "Ada Lovelace", "city": "London"}', ada), 0, 'missing a required field: invalid');
    assert.equal(sync(scorer, 'no json', ada), 0);
    // The short answer extracted from a fenced reply is its last number; the object is read from the raw reply.
    const reply = 'Here you go:\n```json\n{\n  "name": "Ada Lovelace",\n  "city": "Paris",\n  "year": 1815\n}\n```';
    assert.equal(scorer.score('1815', ada, reply), 2 / 3);
    assert.equal(scorer.score(undefined, ada, reply), 2 / 3);
    assert.equal(scorer.score('1815', ada), 0, 'without the reply: no object to score');
    // An object on the answer line wins over the reply's.
    assert.equal(scorer.score(JSON.stringify(expected), ada, reply), 1);
  });
  it('unknown scorers and bad schemas are SCORER_FAILED', async () => {
    await assert.rejects(resolveScorer('bleu'), (error: unknown) => ThicketError.isInstance(error) && error.code === 'SCORER_FAILED');
    await assert.rejects(resolveScorer('json:/nonexistent.json'), /SCORER_FAILED|file not found/);
  });
});

describe('custom scorer modules', () => {
  it('a JS module exporting a default function: scores as it returns', async () => {
    const scorer = await resolveScorer(fixture('scorers/contains-answer.mjs'));
    const boulevard = item({ answer: 'Sunset Boulevard' });
    assert.equal(await scorer.score('It was Sunset Boulevard.', boulevard), 1);
    assert.equal(await scorer.score('sunset strip', boulevard), 0.5);
    assert.equal(await scorer.score('Cats', boulevard), 0);
    assert.equal(scorer.binary, false);
  });
  it('a TypeScript module exporting score (boolean → 1/0) and binary', async () => {
    const scorer = await resolveScorer(join(import.meta.dirname, 'testing/length-parity.ts'));
    assert.equal(await scorer.score('abcd', item({ answer: 'xy' })), 1);
    assert.equal(await scorer.score('abc', item({ answer: 'xy' })), 0);
    assert.equal(scorer.binary, true);
  });
  it('a module without a function, or a missing file, is refused (SCORER_FAILED)', async () => {
    await assert.rejects(resolveScorer(fixture('scorers/broken.mjs')), /must export a function/);
    await assert.rejects(resolveScorer('./nope.mjs'), (error: unknown) => ThicketError.isInstance(error) && error.code === 'SCORER_FAILED');
  });
});

describe('LLM judge', () => {
  it('parseVerdict: the last CORRECT/INCORRECT word', () => {
    assert.equal(parseVerdict('CORRECT'), true);
    assert.equal(parseVerdict('The answer is incorrect.'), false);
    assert.equal(parseVerdict('Not incorrect at first glance... final: Correct'), true);
    assert.equal(parseVerdict('maybe'), undefined);
  });

  const judgeOn = (limits: { totalTokens: number }, journal?: { journal: Journal; runId: string }) => {
    const oracle = new TaskOracleRegistry();
    const clock = new VirtualClock();
    const { fleet } = openFleet({ config: { version: 1, models: {} }, seed: 1, models: ['sim:large'], clock, tasks: oracle });
    let calls = 0;
    let replayed = 0;
    fleet.onEvent((event) => {
      if (event.type === 'call-end') {
        if (event.replayed) replayed++;
        else calls++;
      }
    });
    const judge = judgeScorer({ model: 'sim:large', fleet, clock, limits, oracle, ...(journal ? { journal } : {}) });
    return { judge, counts: () => ({ calls, replayed }) };
  };
  const paris = item({ id: 'paris', answer: 'Paris', prompt: 'Capital of France?' });

  it('judges through the fleet within its slice, once per (item, answer), spend kept apart', async () => {
    const { judge, counts } = judgeOn({ totalTokens: 5_000 });
    assert.equal(await judge.score('Paris', paris), 1);
    assert.equal(await judge.score('paris', paris), 1);
    assert.equal(await judge.score('Lyon', paris), 0);
    assert.equal(await judge.score('Paris', paris), 1);
    assert.equal(await judge.score(undefined, paris), 0, 'no answer: not sent to the judge');
    assert.deepEqual(counts(), { calls: 3, replayed: 0 });
    assert.deepEqual(judge.verdicts, { judged: 3, cached: 1 });
    const spent = judge.spent();
    assert.equal(spent.calls, 3);
    assert.ok(spent.totalTokens > 0 && spent.totalTokens <= 5_000, `spent ${spent.totalTokens}`);
  });

  it('never spends beyond its slice: a verdict the slice cannot cover is refused (BUDGET_EXHAUSTED), not scored 0', async () => {
    const { judge } = judgeOn({ totalTokens: 1_500 });
    const outcomes: Array<number | string> = [];
    for (const answer of ['Paris', 'Lyon', 'Nice', 'Lille', 'Metz', 'Caen'])
      outcomes.push(await Promise.resolve(judge.score(answer, paris)).catch((error: unknown) => (error as ThicketError).code));
    assert.ok(outcomes.includes('BUDGET_EXHAUSTED'), JSON.stringify(outcomes));
    assert.equal(outcomes.indexOf('BUDGET_EXHAUSTED') > 0, true, 'the first verdicts fit');
    assert.ok(judge.spent().totalTokens <= 1_500, `spent ${judge.spent().totalTokens} of 1,500`);
  });

  it('is journaled: a second judge on the same run replays its verdicts (no new calls)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thicket-judge-'));
    try {
      const journal = Journal.open(join(dir, 'journal.db'));
      journal.beginOrResumeRun({ id: 'eval-judge', command: 'eval', query: 'judge', args: {}, seed: 1, simulated: true, budget: {} });
      const first = judgeOn({ totalTokens: 5_000 }, { journal, runId: 'eval-judge' });
      assert.equal(await first.judge.score('Paris', paris), 1);
      assert.equal(await first.judge.score('Lyon', paris), 0);
      journal.flush();
      const second = judgeOn({ totalTokens: 5_000 }, { journal, runId: 'eval-judge' });
      assert.equal(await second.judge.score('Paris', paris), 1);
      assert.equal(await second.judge.score('Lyon', paris), 0);
      assert.deepEqual(second.counts(), { calls: 0, replayed: 2 });
      assert.deepEqual(second.judge.spent(), first.judge.spent(), 'a replayed verdict charges what it was billed');
      journal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
