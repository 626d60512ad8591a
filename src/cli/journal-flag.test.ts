/**
 * One flag per concept (issue 15e): the journal is `--journal` on every command, with `--db` (and sim fit's
 * `--from-journal`) kept as older spellings, and `THICKET_JOURNAL` beside the older `THICKET_DB`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

const dir = makeTempDir();
after(() => dir.remove());

interface RunsList {
  runs: Array<{ id: string; status: string }>;
}

describe('the journal flag', () => {
  it('--journal, --db and THICKET_JOURNAL / THICKET_DB name the same journal', { timeout: 120_000 }, async () => {
    const journal = dir.file('one.db');
    const solved = await runCli([
      'solve',
      'What is 17*23?',
      '--model',
      'sim:small',
      '--samples',
      '3',
      '--run-id',
      'flag-run',
      '--journal',
      journal,
      '--json',
    ]);
    expectExit(solved, 0);
    for (const [args, env] of [
      [['runs', 'ls', '--journal', journal, '--json'], {}],
      [['runs', 'ls', '--db', journal, '--json'], {}],
      [['runs', 'ls', '--json'], { THICKET_JOURNAL: journal, THICKET_DB: undefined }],
      [['runs', 'ls', '--json'], { THICKET_DB: journal, THICKET_JOURNAL: undefined }],
    ] as const) {
      const listed = await runCli(args, { env });
      expectExit(listed, 0);
      assert.deepEqual(
        parseSingleJson<RunsList>(listed).runs.map((run) => `${run.id}:${run.status}`),
        ['flag-run:ok'],
        `${args.join(' ')} ${JSON.stringify(env)}`,
      );
    }
    const help = await runCli(['runs', 'ls', '--help']);
    assert.match(help.stdout, /--journal <path>/);
    assert.doesNotMatch(help.stdout, /--db </, 'the older spelling works but is not an option of its own in the help');
  });
});
