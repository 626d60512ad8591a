/** Study files: the shipped studies validate; broken YAML/JSON and schema errors are listed with paths. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidInputError, systemClock } from '../core/index.ts';
import { FleetResolver, parseFleetConfig } from '../models/index.ts';
import { builtinStudyPath, checkStudy, defaultArchitectures, loadStudyFile, parseStudy, resolveStudy } from './index.ts';
import { retitle } from './study-command.ts';

const scratch = mkdtempSync(join(tmpdir(), 'thicket-study-file-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('expected an InvalidInputError');
}

const write = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};

const resolver = new FleetResolver({ config: { version: 1, models: {} }, clock: systemClock, seed: 0 });

describe('shipped studies', () => {
  it('quick, quick-sim, default, real-model are valid; quick runs on the tiny models, the others on the simulated fleet', () => {
    const tiny = loadStudyFile(builtinStudyPath('quick'));
    assert.equal(tiny.id, 'quick');
    assert.deepEqual(tiny.models, ['tiny:direct-small', 'tiny:reasoning-small', 'tiny:reasoning-large']);
    assert.deepEqual(tiny.tim, { model: 'tiny:thread-small', items: 10, bufferSize: 2 });
    checkStudy(tiny, defaultArchitectures(), resolver);
    const quick = loadStudyFile(builtinStudyPath('quick-sim'));
    assert.equal(quick.id, 'quick-sim');
    assert.deepEqual(
      quick.suites.map((suite) => [suite.kind, suite.name]),
      [
        ['arithmetic', 'arithmetic'],
        ['logic', 'logic'],
        ['multihop', 'multihop'],
      ],
    );
    assert.ok(quick.models.every((model) => model.startsWith('sim:')));
    checkStudy(quick, defaultArchitectures(), resolver);
    checkStudy(loadStudyFile(builtinStudyPath('default')), defaultArchitectures(), resolver);
    const real = loadStudyFile(builtinStudyPath('real-model'));
    assert.deepEqual(real.models, ['local-small']);
    assert.deepEqual(real.limits, { usd: 5 });
    // Without a config the alias is unknown, with the README's config it resolves.
    assert.deepEqual(
      issuesOf(() => checkStudy(real, defaultArchitectures(), resolver)).map((issue) => issue.path),
      ['models[0]'],
    );
    const config = parseFleetConfig({
      version: 1,
      models: {
        'local-small': { provider: 'openai-compatible', baseURL: 'http://localhost:11434/v1', model: 'qwen2.5:7b-instruct', tier: 'small' },
      },
    });
    checkStudy(real, defaultArchitectures(), new FleetResolver({ config, clock: systemClock, seed: 0 }));
  });
});

describe('parse errors', () => {
  it('points at line:column in invalid YAML', () => {
    const path = write('broken.yaml', 'version: 1\nid: x\nsuites:\n  - kind: arithmetic\n   items: 3\n');
    const issues = issuesOf(() => loadStudyFile(path));
    assert.ok(issues.length >= 1);
    assert.match(issues[0]!.path, /broken\.yaml:\d+:\d+$/);
    assert.match(issues[0]!.message, /not valid YAML/);
  });

  it('points at line:column in invalid JSON', () => {
    const path = write('broken.json', '{\n  "version": 1,\n  "id": "x",\n}\n');
    const [issue] = issuesOf(() => loadStudyFile(path));
    assert.match(issue!.path, /broken\.json:4:1$/);
    assert.match(issue!.message, /not valid JSON/);
  });

  it('refuses missing files and unknown extensions', () => {
    assert.match(issuesOf(() => loadStudyFile(join(scratch, 'nope.yaml')))[0]!.message, /file not found/);
    assert.match(issuesOf(() => loadStudyFile(write('study.txt', 'x')))[0]!.message, /\.yaml, \.yml or \.json/);
  });
});

describe('optimize', () => {
  it("sets auto's objective; an unknown one is refused with its path", () => {
    const base = {
      version: 1,
      id: 'o',
      suites: [{ kind: 'arithmetic', items: 2 }],
      architectures: ['auto'],
      budgets: [800],
      models: ['sim:small'],
    };
    assert.equal(parseStudy({ ...base, optimize: 'usd' }).optimize, 'usd');
    assert.equal(parseStudy(base).optimize, undefined);
    assert.deepEqual(
      issuesOf(() => parseStudy({ ...base, optimize: 'karma' })).map((issue) => issue.path),
      ['optimize'],
    );
  });
});

describe('schema errors', () => {
  it('lists every structural problem with its path', () => {
    const issues = issuesOf(() =>
      parseStudy({
        version: 2,
        suites: [
          { kind: 'arithmetic', items: 0 },
          { kind: 'chess', items: 3 },
          { kind: 'multihop', items: 5, hops: [3, 1] },
        ],
        architectures: [],
        budgets: [-1],
        models: ['sim:small'],
        concurrency: 0,
        extra: true,
      }),
    );
    const paths = issues.map((issue) => issue.path).sort();
    for (const expected of [
      'version',
      'id',
      'suites[0].items',
      'suites[1].kind',
      'suites[2].hops',
      'architectures',
      'budgets[0]',
      'concurrency',
    ])
      assert.ok(paths.includes(expected), `missing ${expected} in ${paths.join(', ')}`);
    assert.ok(
      issues.some((issue) => /extra/.test(issue.message) || issue.path === ''),
      'unknown top-level key reported',
    );
  });

  it('reports duplicates, clashing suite names and fractional token budgets', () => {
    const issues = issuesOf(() =>
      parseStudy({
        version: 1,
        id: 'dup',
        suites: [
          { kind: 'logic', items: 2 },
          { kind: 'logic', items: 3 },
        ],
        architectures: ['single', 'single'],
        budgets: [100.5, 200],
        models: ['sim:small'],
        tim: { model: 'tiny:reasoning-small' },
      }),
    );
    assert.deepEqual(issues.map((issue) => issue.path).sort(), ['architectures[1]', 'budgets[0]', 'suites[1].name', 'tim.model']);
    assert.match(issues.find((issue) => issue.path === 'tim.model')!.message, /not a tiny thread model \(tiny:thread-small\)/);
  });

  it('fills in defaults and names suites after their kind', () => {
    const study = parseStudy({
      version: 1,
      id: 'd',
      suites: [
        { kind: 'arithmetic', items: 2 },
        { kind: 'multihop', name: 'hops', items: 2 },
      ],
      architectures: ['single'],
      budgets: [1000],
      models: ['sim:small'],
    });
    assert.deepEqual(study.suites[0], { kind: 'arithmetic', name: 'arithmetic', items: 2, operations: [2, 6] });
    assert.equal(study.suites[1]!.name, 'hops');
    assert.deepEqual(
      [study.seeds, study.concurrency, study.maxOutputTokens, study.budgetUnit, study.budgetPolicy],
      [[1], 8, 384, 'tokens', 'degrade'],
    );
  });
});

describe('names that must resolve', () => {
  it('checks architectures against the registry and models against the fleet', () => {
    const study = parseStudy({
      version: 1,
      id: 'n',
      suites: [{ kind: 'logic', items: 1 }],
      architectures: ['vote@5', 'votes', 'agentsnet', 'vote@0', 'single@3', 'search@3', 'auto'],
      budgets: [1000],
      models: ['sim:small', 'sim:huge'],
    });
    const issues = issuesOf(() => checkStudy(study, defaultArchitectures(), resolver));
    // `agentsnet` is a known architecture (it only runs on AgentsNet suites), so it is not an issue here.
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['architectures[1]', 'architectures[3]', 'architectures[4]', 'models[1]'],
    );
    assert.match(issues[0]!.message, /unknown architecture "votes"/);
    assert.match(issues[1]!.message, /samples for "vote" must be in \[1, 64\]/);
    assert.match(issues[2]!.message, /takes no @parameter/);
    assert.match(issues[3]!.message, /sim:huge/);
  });

  it('applies command-line overrides and validates them', () => {
    const study = resolveStudy({
      quick: 'sim',
      items: '3',
      budgets: '900,1800',
      architectures: 'single,vote',
      suites: 'arithmetic,multihop',
      id: 'quick-ci',
    });
    assert.equal(study.id, 'quick-ci');
    assert.deepEqual(study.budgets, [900, 1800]);
    assert.deepEqual(
      study.suites.map((suite) => [suite.name, 'items' in suite ? suite.items : 0]),
      [
        ['arithmetic', 3],
        ['multihop', 3],
      ],
    );
    assert.deepEqual(
      issuesOf(() => resolveStudy({ quick: 'sim', budgets: '900,lots', suites: 'chess' })).map((issue) => issue.path),
      ['--budgets', '--suites'],
    );
    assert.deepEqual(
      issuesOf(() => resolveStudy({ quick: 'sim', study: 'x.yaml' })).map((issue) => issue.path),
      ['--quick'],
    );
  });

  it("--models makes the title name the models that run, not the file's (issue 16 §5)", () => {
    assert.equal(resolveStudy({ quick: 'sim' }).title, 'Quick matched-budget study (simulated fleet)');
    assert.equal(
      resolveStudy({ quick: 'sim', models: 'sim:small,sim:medium,sim:large' }).title,
      'Quick matched-budget study (simulated fleet)',
      "the file's own models: unchanged",
    );
    assert.equal(resolveStudy({ quick: 'sim', models: 'sim:large' }).title, 'Quick matched-budget study (simulated fleet: sim:large)');
    const real = resolveStudy({ study: join(dirname(builtinStudyPath('quick')), 'real-model.yaml'), models: 'sim:medium' });
    assert.equal(real.title, 'Matched-budget study on a real endpoint (simulated fleet: sim:medium)');
    assert.equal(retitle('My study', ['a'], ['b', 'c']), 'My study (b, c)');
    assert.equal(retitle('Runs (2024 edition)', ['a'], ['b']), 'Runs (2024 edition) (b)', 'a parenthetical about something else stays');
  });
});
