/**
 * End-to-end tests of how `thicket` rejects bad input: exit 2, one precise message (stderr and, with --json,
 * the JSON), and nothing written to the journal. Each case spawns the real `node bin/thicket.js …` in its own
 * temp folder (split from cli.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { countRuns, describeResult, expectExit, makeTempDir, parseSingleJson, runCli, type TempDir } from './testing/run-cli.ts';

const QUERY = 'What is 17*23?';
const SIM_PROFILES = ['sim:small', 'sim:medium', 'sim:large', 'sim:reasoner-small', 'sim:reasoner-large'];

/** A `generate` node whose params nest `depth` objects deep (built as text: no recursion needed). */
const deepWorkflow = (depth: number): string =>
  `{"version":1,"nodes":[{"id":"a","op":"generate","params":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}],"output":"a"}`;

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[index]!}`).join(',')}]`),
].join('\n');

interface ErrorJson {
  status: 'error';
  error: { code: string; message: string };
  issues?: Array<{ path: string; message: string }>;
}

describe('thicket CLI end to end: bad input', () => {
  // ------------------------------------------------------------------------------------------------------
  describe('bad input: exit 2, one precise message, nothing written to the journal', () => {
    interface BadCase {
      name: string;
      args: (dir: TempDir) => string[];
      code: string;
      /** Every pattern must appear in the error message (stderr and, with --json, the JSON). */
      mentions: RegExp[];
      /** commander's own rejection: its message line plus a "(run with --help for usage)" hint. */
      commander?: boolean;
      check?: (error: ErrorJson) => void;
    }
    const solve = (dir: TempDir, ...rest: string[]): string[] => ['solve', QUERY, '--db', dir.file('journal.db'), ...rest];
    const cases: BadCase[] = [
      {
        name: 'unknown simulated profile --model sim:nope lists the valid profiles',
        args: (dir) => solve(dir, '--model', 'sim:nope', '--json'),
        code: 'UNKNOWN_MODEL',
        mentions: [/sim:nope/, ...SIM_PROFILES.map((profile) => new RegExp(profile))],
      },
      {
        name: 'unknown alias --model nosuch with no config',
        args: (dir) => solve(dir, '--model', 'nosuch'),
        code: 'UNKNOWN_MODEL',
        mentions: [/"nosuch"/, /sim:small/, /none configured/],
      },
      {
        name: 'config file that is not JSON',
        args: (dir) => solve(dir, '--model', 'sim:small', '--config', dir.write('broken.json', '{"version": 1, "models": {'), '--json'),
        code: 'INVALID_CONFIG',
        mentions: [/broken\.json/, /not valid JSON/],
      },
      {
        name: 'config file failing the schema lists every problem with its path',
        args: (dir) =>
          solve(
            dir,
            '--model',
            'sim:small',
            '--config',
            dir.write('schema.json', { version: 2, models: { x: { provider: 'sim' } } }),
            '--json',
          ),
        code: 'INVALID_CONFIG',
        mentions: [/schema\.json/, /version/, /models\.x\.profile/],
        check: (error) => {
          assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['models.x.profile', 'version']);
        },
      },
      {
        name: 'several bad flags at once (negative tokens, non-numeric dollars, zero samples) are all listed',
        args: (dir) => solve(dir, '--model', 'sim:small', '--budget-tokens', '-5', '--budget-usd', 'abc', '--samples', '0', '--json'),
        code: 'INVALID_INPUT',
        mentions: [
          /--budget-tokens: must be greater than 0, got -5/,
          /--budget-usd: must be a number written in plain decimal digits \(e\.g\. 0\.5\), got "abc"/,
          /--samples: must be at least 1, got 0/,
        ],
        check: (error) =>
          assert.deepEqual(error.issues?.map((issue) => issue.path).sort(), ['--budget-tokens', '--budget-usd', '--samples']),
      },
      {
        name: 'budget flags take plain decimal digits only: 0x10, " 100 ", 1e23 and past-safe integers are refused',
        args: (dir) =>
          solve(
            dir,
            '--model',
            'sim:small',
            '--budget-tokens',
            '0x10',
            '--budget-calls',
            ' 100 ',
            '--budget-usd',
            '1e23',
            '--budget-output-tokens',
            '99999999999999999999',
            '--json',
          ),
        code: 'INVALID_INPUT',
        mentions: [
          /--budget-tokens: must be a number written in plain decimal digits \(e\.g\. 100\), got "0x10"/,
          /--budget-calls: must be a number written in plain decimal digits \(e\.g\. 100\), got " 100 "/,
          /--budget-usd: must be a number written in plain decimal digits \(e\.g\. 0\.5\), got "1e23"/,
          /--budget-output-tokens: must be at most 9007199254740991, got 99999999999999999999/,
        ],
      },
      {
        name: 'study --budgets takes the same parser (0x10 and 1e23 refused)',
        args: (dir) => ['study', '--quick', 'sim', '--budgets', '0x10,1e23', '--journal', dir.file('journal.db')],
        code: 'INVALID_INPUT',
        mentions: [/--budgets: must be a number written in plain decimal digits \(e\.g\. 0\.5\), got "0x10"/, /got "1e23"/],
      },
      {
        name: 'a workflow nested 50,000 deep via solve -w: refused at read (no stack overflow)',
        args: (dir) => solve(dir, '--model', 'sim:small', '--workflow', dir.write('deep.json', deepWorkflow(50_000)), '--json'),
        code: 'INVALID_INPUT',
        mentions: [/Cannot read workflow/, /deep\.json: nests deeper than the limit of 64 levels/],
      },
      {
        name: 'the same file via workflow validate: the same refusal (one reader, one validation path)',
        args: (dir) => ['workflow', 'validate', dir.write('deep.json', deepWorkflow(50_000)), '--json'],
        code: 'INVALID_INPUT',
        mentions: [/Cannot read workflow/, /deep\.json: nests deeper than the limit of 64 levels/],
      },
      {
        name: 'a workflow invalid in itself, without -m, reports the spec (not NO_MODEL)',
        args: (dir) => [
          'solve',
          QUERY,
          '--db',
          dir.file('journal.db'),
          '--workflow',
          dir.write('bad.json', { version: 1, nodes: [{ id: 'a', op: 'generate', params: { x: 1 } }] }),
          '--json',
        ],
        code: 'INVALID_INPUT',
        mentions: [/Invalid workflow spec/, /nodes\[0\]\.params: Unrecognized key: "x"/, /output:/],
      },
      {
        name: 'a YAML alias bomb (billion laughs) as a study file: exit 2, not INTERNAL',
        args: (dir) => ['study', '--study', dir.write('bomb.yaml', BILLION_LAUGHS), '--journal', dir.file('journal.db')],
        code: 'INVALID_INPUT',
        mentions: [/Cannot read study/, /bomb\.yaml: YAML aliases expand past the limit of 100/],
      },
      {
        name: 'sim fit --from-journal <missing path>: refused, and no journal is created there',
        args: (dir) => ['sim', 'fit', '--from-journal', dir.file('journal.db'), '--model', 'local', '--json'],
        code: 'INVALID_INPUT',
        mentions: [/Cannot read journal/, /journal\.db: no journal at this path/],
      },
      {
        name: 'study --out under a regular file: refused before the study runs (no journal created)',
        args: (dir) => [
          'study',
          '--quick',
          'sim',
          '--out',
          `${dir.write('a-file', 'x')}/report`,
          '--journal',
          dir.file('journal.db'),
          '--json',
        ],
        code: 'INVALID_INPUT',
        mentions: [/--out: .*a-file\/report: .*a-file is a file, so no folder can be created under it/],
      },
      {
        name: 'study --out /proc/x: refused before the study runs (it used to hang after it)',
        args: (dir) => ['study', '--quick', 'sim', '--out', '/proc/thicket-x', '--journal', dir.file('journal.db'), '--json'],
        code: 'INVALID_INPUT',
        mentions: [/--out: \/proc\/thicket-x: \/proc is on a kernel pseudo-filesystem/],
      },
      {
        name: 'governor fit --out under a regular file: refused before fitting',
        args: (dir) => ['governor', 'fit', '--out', `${dir.write('a-file', 'x')}/policy.json`, '--db', dir.file('journal.db'), '--json'],
        code: 'INVALID_INPUT',
        mentions: [/--out: .*a-file: is a file, not a folder/],
      },
      {
        name: 'study with an unknown model: refused before the journal is created',
        args: (dir) => [
          'study',
          '--quick',
          'sim',
          '--models',
          'sim:nope',
          '--out',
          dir.file('out'),
          '--journal',
          dir.file('journal.db'),
          '--json',
        ],
        code: 'INVALID_INPUT',
        mentions: [/models\[0\]/, /sim:nope/],
      },
      {
        name: 'unknown flag --frobnicate',
        args: (dir) => solve(dir, '--model', 'sim:small', '--frobnicate', '--json'),
        code: 'INVALID_INPUT',
        mentions: [/unknown option '--frobnicate'/],
        commander: true,
      },
      {
        name: 'empty (whitespace) query',
        args: (dir) => ['solve', '   ', '--db', dir.file('journal.db'), '--model', 'sim:small', '--json'],
        code: 'INVALID_INPUT',
        mentions: [/query: must not be empty/],
      },
    ];

    for (const badCase of cases) {
      it(badCase.name, async () => {
        const dir = makeTempDir();
        try {
          const args = badCase.args(dir);
          const result = await runCli(args, { cwd: dir.path });
          expectExit(result, 2);
          const stderr = result.stderr.trim();
          for (const pattern of badCase.mentions) assert.match(stderr, pattern, `stderr names the problem\n${describeResult(result)}`);
          if (badCase.commander) {
            assert.deepEqual(stderr.split('\n'), ["error: unknown option '--frobnicate'", '(run with --help for usage)']);
          } else {
            assert.equal(stderr.split('\n').length, 1, `one message line on stderr:\n${stderr}`);
            assert.ok(stderr.startsWith(`error ${badCase.code}: `), stderr);
          }
          if (args.includes('--json')) {
            const error = parseSingleJson<ErrorJson>(result);
            assert.equal(error.status, 'error');
            assert.equal(error.error.code, badCase.code);
            for (const pattern of badCase.mentions) assert.match(error.error.message, pattern);
            badCase.check?.(error);
          } else {
            assert.equal(result.stdout, '');
          }
          assert.equal(existsSync(dir.file('journal.db')), false, 'a rejected invocation creates no journal');
          assert.equal(countRuns(dir.file('journal.db')), 0);
        } finally {
          dir.remove();
        }
      });
    }

    it('no --model and no configured default (empty cwd, no THICKET_CONFIG): NO_MODEL, pointing at sim: and real endpoints', async () => {
      const dir = makeTempDir();
      try {
        const result = await runCli(['solve', QUERY, '--db', dir.file('journal.db'), '--json'], {
          cwd: dir.path,
          env: { THICKET_CONFIG: undefined },
        });
        expectExit(result, 2);
        const error = parseSingleJson<ErrorJson>(result);
        assert.equal(error.status, 'error');
        assert.equal(error.error.code, 'NO_MODEL');
        for (const text of [error.error.message, result.stderr]) {
          assert.match(text, /sim:/);
          assert.match(text, /real endpoint/);
          assert.match(text, /thicket\.config\.json/);
        }
        assert.equal(existsSync(dir.file('journal.db')), false);
      } finally {
        dir.remove();
      }
    });

    it('runs ls / runs show on a journal the user cannot write (folder 0555, file 0444): listed, no file created', async () => {
      const dir = makeTempDir();
      const folder = dir.file('store');
      const journal = join(folder, 'journal.db');
      try {
        const solved = await runCli(
          ['solve', QUERY, '--db', journal, '--model', 'sim:small', '--strategy', 'single', '--run-id', 'ro1', '--json'],
          {
            cwd: dir.path,
          },
        );
        expectExit(solved, 0);
        assert.deepEqual(readdirSync(folder), ['journal.db'], 'the writer closed cleanly');
        chmodSync(journal, 0o444);
        chmodSync(folder, 0o555);
        const listed = await runCli(['runs', 'ls', '--db', journal, '--json'], { cwd: dir.path });
        expectExit(listed, 0);
        assert.deepEqual(
          parseSingleJson<{ runs: Array<{ id: string }> }>(listed).runs.map((run) => run.id),
          ['ro1'],
        );
        const shown = await runCli(['runs', 'show', 'ro1', '--db', journal, '--json'], { cwd: dir.path });
        expectExit(shown, 0);
        // Run as root (where chmod denies nothing) this still checks what matters: reading created no -wal/-shm.
        assert.deepEqual(readdirSync(folder), ['journal.db']);
      } finally {
        chmodSync(folder, 0o755);
        dir.remove();
      }
    });

    it('agents add: a file past the size limit and a document past the card-count limit are refused; no registry file is created', async () => {
      const dir = makeTempDir();
      try {
        const registry = dir.file('registry.db');
        const huge = dir.write('huge.json', `[${' '.repeat(6 * 1024 * 1024)}]`);
        const tooBig = await runCli(['agents', 'add', huge, '--registry', registry, '--json'], { cwd: dir.path });
        expectExit(tooBig, 2);
        assert.match(
          tooBig.stderr,
          /^error INVALID_INPUT: Cannot read capability document: \S*huge\.json: 6 MB is larger than the limit of 5 MB/,
        );
        const skills = Array.from({ length: 1001 }, (_, index) => ({
          id: `s${index}`,
          name: `Skill ${index}`,
          description: 'd',
          tags: [],
        }));
        const many = dir.write('many.json', {
          name: 'Many',
          description: 'd',
          url: 'http://localhost:9/a2a',
          version: '1.0.0',
          protocolVersion: '0.3.0',
          capabilities: {},
          defaultInputModes: ['text'],
          defaultOutputModes: ['text'],
          skills,
        });
        const tooMany = await runCli(['agents', 'add', many, '--registry', registry, '--json'], { cwd: dir.path });
        expectExit(tooMany, 2);
        assert.match(tooMany.stderr, /1,001 cards, more than the limit of 1,000 per add/);
        assert.equal(existsSync(registry), false, 'a refused add creates no registry');
      } finally {
        dir.remove();
      }
    });

    it('a config file with a UTF-8 byte order mark is read (its alias resolves)', async () => {
      const dir = makeTempDir();
      try {
        const config = dir.write(
          'bom.json',
          `\uFEFF${JSON.stringify({ version: 1, models: { tiny: { provider: 'sim', profile: 'small' } } })}`,
        );
        const result = await runCli(
          ['solve', QUERY, '--db', dir.file('journal.db'), '--model', 'tiny', '--strategy', 'single', '--config', config, '--json'],
          {
            cwd: dir.path,
          },
        );
        expectExit(result, 0);
        const output = parseSingleJson<{ status: string; spendByModel: Record<string, unknown> }>(result);
        assert.equal(output.status, 'ok');
        assert.deepEqual(Object.keys(output.spendByModel), ['tiny']);
      } finally {
        dir.remove();
      }
    });
  });
});
