/**
 * The journal flag on every command (issue 16 §5: `fleet` refused `--db` while the README says every command
 * that touches the journal takes it). Walks the whole command tree: each command either takes `--journal` and
 * the older `--db`, or is listed below as one that never opens the journal, with the reason. A new command
 * has to be put on one side. `fleet check` now journals its probe calls (they may be paid), so it takes both.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from './main.ts';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

/** Commands that never open the journal, and why. */
const NO_JOURNAL: Record<string, string> = {
  fleet: 'lists the configured models; no call, nothing recorded',
  'workflow validate': 'checks a spec file',
  'workflow estimate': 'prices a spec; no call is made',
  'workflow schema': 'prints the JSON Schema',
  'agents add': 'capability registry only (--registry)',
  'agents ls': 'capability registry only (--registry)',
  'agents show': 'capability registry only (--registry)',
  'agents search': 'capability registry only (--registry)',
  'agents sync-fleet': 'capability registry only (--registry)',
  'agents deprecate': 'capability registry only (--registry)',
  'agents yank': 'capability registry only (--registry)',
  'agents reindex': 'capability registry only (--registry)',
  'agents reembed': 'capability registry only (--registry)',
  'models pull': 'downloads a model file',
  'models ls': 'lists model files',
  'models fixture': 'writes a model file',
  criticality: 'reads a graph file',
  worker: "writes each cell to the journal its study names (the coordinator's --journal), never one of its own",
};

/** Every command that runs an action, by its full name ("governor calibrate"). */
function leaves(command: Command, prefix: string[] = []): Array<{ name: string; command: Command }> {
  const out: Array<{ name: string; command: Command }> = [];
  for (const sub of command.commands) {
    const path = [...prefix, sub.name()];
    // A group with its own action (`fleet`) is a command too.
    if ((sub as unknown as { _actionHandler: unknown })._actionHandler) out.push({ name: path.join(' '), command: sub });
    out.push(...leaves(sub, path));
  }
  return out;
}

const dir = makeTempDir('thicket-journal-all-');
after(() => dir.remove());

describe('--journal / --db on every command that touches the journal', () => {
  it('each command takes both, or is listed as never opening the journal', () => {
    const commands = leaves(buildProgram());
    assert.ok(commands.length >= 25, `found ${commands.length} commands`);
    const missing: string[] = [];
    for (const { name, command } of commands) {
      const flags = new Set(command.options.map((option) => option.long));
      if (name in NO_JOURNAL) {
        assert.ok(!flags.has('--journal'), `${name} is listed as not touching the journal but takes --journal`);
        continue;
      }
      if (!flags.has('--journal') || !flags.has('--db')) missing.push(name);
    }
    assert.deepEqual(missing, [], 'commands that touch the journal without --journal and --db');
    const names = new Set(commands.map((entry) => entry.name));
    assert.deepEqual(
      Object.keys(NO_JOURNAL).filter((name) => !names.has(name)),
      [],
      'listed commands that no longer exist',
    );
  });

  it('fleet check journals its probes where --db (or --journal) says', { timeout: 120_000 }, async () => {
    for (const flag of ['--db', '--journal']) {
      const journal = dir.file(`fleet${flag}.db`);
      const checked = await runCli(['fleet', 'check', '-m', 'sim:small', 'sim:large', flag, journal, '--json']);
      expectExit(checked, 0);
      const { runId } = parseSingleJson<{ runId: string }>(checked);
      const shown = await runCli(['runs', 'show', runId, '--journal', journal, '--json']);
      expectExit(shown, 0);
      const run = parseSingleJson<{ run: { command: string; status: string }; calls: unknown[] }>(shown);
      assert.equal(run.run.command, 'fleet check');
      assert.equal(run.run.status, 'ok');
      assert.equal(run.calls.length, 2, 'one probe call per model, journaled');
    }
  });
});
