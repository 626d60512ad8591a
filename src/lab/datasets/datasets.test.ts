import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThicketError } from '../../core/index.ts';
import { exactScorer } from '../scorers/index.ts';
import {
  DatasetError,
  boxedAnswer,
  choiceLetter,
  datasetSuite,
  gsm8kAnswer,
  loadDataset,
  parseDelimited,
  readChoices,
  seededSample,
} from './index.ts';

const fixture = (name: string): string => join(import.meta.dirname, '../../../fixtures', name);

function withFile<T>(name: string, content: string | Uint8Array, run: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'thicket-dataset-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return run(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('CSV/TSV (RFC 4180)', () => {
  it('parses quoted commas, doubled quotes, embedded line breaks and CRLF, keeping each record’s first line', () => {
    const parsed = parseDelimited('a,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n\n', ',');
    assert.deepEqual(parsed.records, [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
    ]);
    assert.equal(parsed.unterminatedQuoteLine, undefined);
  });
  it('reports an unterminated quote with the line it opened on', () => {
    assert.equal(parseDelimited('a\n"open\nstill open', ',').unterminatedQuoteLine, 2);
  });
  it('a last record without a newline and empty fields', () => {
    assert.deepEqual(parseDelimited('a\tb\n1\t', '\t').records[1], { line: 2, fields: ['1', ''] });
  });
});

describe('presets: answer reading', () => {
  it('gsm8k: the text after the last ####, thousands separators dropped', () => {
    assert.deepEqual(gsm8kAnswer('3 + 4 = 7\n#### 7'), { value: '7' });
    assert.deepEqual(gsm8kAnswer('#### 1,234,567'), { value: '1234567' });
    assert.deepEqual(gsm8kAnswer('no marker'), { problem: 'no "####" marker before the final answer' });
  });
  it('math: the last \\boxed{}, nested and escaped braces balanced', () => {
    assert.deepEqual(boxedAnswer('so $\\boxed{\\frac{3}{4}}$.'), { value: '\\frac{3}{4}' });
    assert.deepEqual(boxedAnswer('$\\boxed{12}$ no, $\\boxed{81}$'), { value: '81' });
    assert.deepEqual(boxedAnswer('$\\boxed{\\{-2, 2\\}}$'), { value: '\\{-2, 2\\}' });
    assert.deepEqual(boxedAnswer('\\boxed 5'), { value: '5' });
    assert.ok('problem' in boxedAnswer('\\boxed{\\frac{1}{2}'));
  });
  it('mc: letters, ARC labels and 0-based indexes become the letter', () => {
    const choices = { texts: ['x', 'y', 'z'] };
    assert.deepEqual(choiceLetter('b', choices), { value: 'B' });
    assert.deepEqual(choiceLetter(2, choices), { value: 'C' });
    assert.deepEqual(choiceLetter('0', choices), { value: 'A' });
    assert.deepEqual(choiceLetter('1', { texts: ['x', 'y'], labels: ['1', '2'] }), { value: 'A' });
    assert.deepEqual(choiceLetter('D', choices), { problem: 'letter D but only 3 choices' });
    assert.deepEqual(readChoices('a | b'), { value: { texts: ['a', 'b'] } });
  });
  it('a seeded sample is reproducible, in file order, and differs by seed', () => {
    const items = Array.from({ length: 10 }, (_, index) => index);
    const first = seededSample(items, 4, 7);
    assert.deepEqual(first, seededSample(items, 4, 7));
    assert.equal(first.length, 4);
    assert.deepEqual(
      first,
      [...first].sort((a, b) => a - b),
    );
    assert.notDeepEqual(first, seededSample(items, 4, 8));
  });
});

describe('loadDataset: formats and presets', () => {
  it('gsm8k JSONL: 12 items, answers after ####, ids from the id field', async () => {
    const dataset = await loadDataset(fixture('gsm8k-sample.jsonl'), { preset: 'gsm8k', id: 'id' });
    assert.equal(dataset.format, 'jsonl');
    assert.equal(dataset.items.length, 12);
    assert.deepEqual(
      dataset.items.map((item) => item.answer),
      ['53', '42', '72', '33', '56', '16', '53', '36', '27', '34', '45', '47'],
    );
    assert.equal(dataset.items[0]!.id, 'g1');
    assert.equal(dataset.items[0]!.prompt, 'What is (12+7)*3-4?');
    assert.deepEqual(dataset.issues, []);
  });
  it('math JSONL: boxed answers; the row without one is reported by line and field and skipped', async () => {
    const dataset = await loadDataset(fixture('math-sample.jsonl'), { preset: 'math' });
    assert.deepEqual(
      dataset.items.map((item) => item.answer),
      ['\\frac{3}{4}', '5\\sqrt{2}', '81', '\\{-2, 2\\}'],
    );
    assert.deepEqual(dataset.issues, [{ line: 5, field: 'solution', message: 'no \\boxed{…} answer in the solution' }]);
  });
  it('MMLU-style CSV with one column per choice: quoted commas and quotes, a record over two lines, a bad letter', async () => {
    const dataset = await loadDataset(fixture('mc-sample.csv'), { preset: 'mc', choices: 'A,B,C,D' });
    assert.deepEqual(
      dataset.items.map((item) => [item.line, item.answer]),
      [
        [2, 'B'],
        [3, 'C'],
        [4, 'B'],
        [5, 'C'],
      ],
    );
    assert.equal(dataset.items[1]!.input, 'Which is a prime number, of these?');
    assert.equal(dataset.items[2]!.input, 'He said "hello" — which word did he say?');
    assert.equal(dataset.items[3]!.input, 'Which planet\nis known as the red planet?');
    assert.equal(
      dataset.items[0]!.prompt,
      'What is the capital of France?\nA) Berlin\nB) Paris\nC) Madrid\nD) Rome\nAnswer with the letter of the correct option.',
    );
    assert.deepEqual(dataset.issues, [{ line: 7, field: 'answer', message: 'letter F but only 4 choices' }]);
  });
  it('ARC/MMLU-style JSON array: labelled choices with answerKey, and a 0-based index', async () => {
    const dataset = await loadDataset(fixture('arc-sample.json'), { preset: 'mc', id: 'id' });
    assert.deepEqual(
      dataset.items.map((item) => [item.id, item.answer, item.choices?.length]),
      [
        ['Mercury_7175875', 'C', 4],
        ['ARC_num_1', 'B', 3],
        ['MMLU_index_1', 'B', 4],
      ],
    );
  });
  it('hotpot JSON: both context shapes become paragraphs; a row without context is reported', async () => {
    const dataset = await loadDataset(fixture('hotpot-sample.json'), { preset: 'hotpot', id: '_id' });
    assert.equal(dataset.items.length, 2);
    assert.deepEqual(
      dataset.items[1]!.context?.map((paragraph) => paragraph.title),
      ['Sagrada Família', 'Antoni Gaudí'],
    );
    assert.equal(
      dataset.items[0]!.context?.[1]?.text,
      'Giacomo Puccini was an Italian composer born in Lucca, Italy. He is known for La bohème and Tosca.',
    );
    assert.deepEqual(dataset.issues, [{ line: 3, field: 'context', message: 'missing' }]);
    const suite = datasetSuite(dataset, { name: 'hotpot', seed: 1, scorer: exactScorer });
    assert.ok(suite.retriever, 'context paragraphs become a search corpus');
    const hits = await suite.retriever.search('architect born in Reus', 1);
    assert.equal(hits[0]?.title, 'Antoni Gaudí');
  });
  it('trivia JSONL: alias lists (value first), plain lists; an item with none is reported', async () => {
    const dataset = await loadDataset(fixture('trivia-sample.jsonl'), { preset: 'trivia' });
    assert.deepEqual(
      dataset.items.map((item) => item.aliases),
      [
        ['Sunset Boulevard', 'Sunset Blvd', 'West Sunset Boulevard'],
        ['David Seville', 'Ross Bagdasarian'],
        ['Au', 'AU'],
      ],
    );
    assert.deepEqual(dataset.issues, [{ line: 4, field: 'answer', message: 'no answer or alias' }]);
  });
  it('TSV with --split on the split column, renamed fields, limit', async () => {
    const dataset = await loadDataset(fixture('qa-sample.tsv'), { input: 'prompt', answer: 'target', id: 'id', split: 'test', limit: 2 });
    assert.deepEqual(
      dataset.items.map((item) => [item.id, item.answer]),
      [
        ['q1', 'Pacific Ocean'],
        ['q2', 'blue'],
      ],
    );
    assert.equal(dataset.rows, 3, 'the train row is not part of the split');
  });
  it('--strict refuses a dataset with bad rows: typed error DATASET_INVALID naming line and field', async () => {
    await assert.rejects(loadDataset(fixture('math-sample.jsonl'), { preset: 'math', strict: true }), (error: unknown) => {
      assert.ok(error instanceof DatasetError);
      assert.ok(ThicketError.isInstance(error));
      assert.equal(error.code, 'DATASET_INVALID');
      assert.deepEqual(error.issues, [{ path: 'line 5', message: 'solution: no \\boxed{…} answer in the solution' }]);
      return true;
    });
  });
  it('unparsable JSONL lines, duplicate ids and missing fields are issues with their line', async () => {
    const content =
      '{"question":"a","answer":"1","id":"x"}\nnot json\n{"question":"b","answer":"2","id":"x"}\n{"answer":"3","id":"y"}\n[1]\n';
    await withFile('bad.jsonl', content, async (path) => {
      const dataset = await loadDataset(path, { id: 'id' });
      assert.equal(dataset.items.length, 1);
      assert.deepEqual(
        dataset.issues.map((issue) => [issue.line, issue.field]),
        [
          [2, '(row)'],
          [3, 'id'],
          [4, 'input'],
          [5, '(row)'],
        ],
      );
      assert.match(dataset.issues[1]!.message, /duplicate id "x" \(first at line 1\)/);
    });
  });
  it('JSON object of splits needs --split; a missing file and an unknown extension are DATASET_INVALID', async () => {
    await withFile(
      'splits.json',
      JSON.stringify({ train: [{ question: 'a', answer: '1' }], test: [{ question: 'b', answer: '2' }] }),
      async (path) => {
        await assert.rejects(loadDataset(path), /choose one with --split/);
        assert.equal((await loadDataset(path, { split: 'test' })).items[0]!.answer, '2');
      },
    );
    await assert.rejects(
      loadDataset('/nonexistent/data.jsonl'),
      (error: unknown) => ThicketError.isInstance(error) && error.code === 'DATASET_INVALID',
    );
    await assert.rejects(loadDataset('data.xlsx'), /cannot tell the format/);
  });
  it('seeded --sample picks the same items for the same seed', async () => {
    const a = await loadDataset(fixture('gsm8k-sample.jsonl'), { preset: 'gsm8k', sample: 5, seed: 3 });
    const b = await loadDataset(fixture('gsm8k-sample.jsonl'), { preset: 'gsm8k', sample: 5, seed: 3 });
    assert.deepEqual(
      a.items.map((item) => item.id),
      b.items.map((item) => item.id),
    );
    assert.equal(a.items.length, 5);
  });
});

describe('datasetSuite: tasks the simulated fleet can grade', () => {
  it('arithmetic questions get the sim’s arithmetic difficulty; mc items the other letters as distractors', async () => {
    const gsm = await loadDataset(fixture('gsm8k-sample.jsonl'), { preset: 'gsm8k', id: 'id' });
    const suite = datasetSuite(gsm, { name: 'gsm8k', seed: 1, scorer: exactScorer });
    assert.equal(suite.tasks[0]!.id, 'gsm8k/s1/g1');
    assert.equal(suite.tasks[0]!.meta['expression'], '(12+7)*3-4');
    assert.equal(suite.check(suite.tasks[0]!, '53'), 1);
    assert.equal(suite.check(suite.tasks[0]!, '54'), 0);
    const mc = await loadDataset(fixture('arc-sample.json'), { preset: 'mc' });
    const mcSuite = datasetSuite(mc, { name: 'arc', seed: 1, scorer: exactScorer });
    assert.deepEqual(
      mcSuite.tasks[0]!.distractors?.map((distractor) => distractor.answer),
      ['A', 'B', 'D'],
    );
    assert.equal(mcSuite.tasks[0]!.difficulty, 1);
  });
});

describe('Parquet', () => {
  // No Parquet file is checked in: the test writes the GSM8K fixture's rows with hyparquet-writer, then reads
  // them back through the loader.
  it('reads rows through hyparquet', async () => {
    const rows = readFileSync(fixture('gsm8k-sample.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; question: string; answer: string });
    const buffer = parquetWriteBuffer({
      columnData: (['id', 'question', 'answer'] as const).map((name) => ({ name, data: rows.map((row) => row[name]), type: 'STRING' })),
    });
    await withFile('gsm8k.parquet', new Uint8Array(buffer), async (path) => {
      const dataset = await loadDataset(path, { preset: 'gsm8k', id: 'id' });
      assert.equal(dataset.format, 'parquet');
      assert.equal(dataset.unit, 'row');
      assert.deepEqual(
        dataset.items.slice(0, 3).map((item) => [item.id, item.line, item.answer]),
        [
          ['g1', 1, '53'],
          ['g2', 2, '42'],
          ['g3', 3, '72'],
        ],
      );
    });
  });
});
