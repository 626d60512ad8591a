/**
 * End to end: `thicket agents add|ls|search|sync-fleet` flags, and `solve --workflow` with a capability node
 * bound through the registry (spawning the real `bin/thicket.js`, as cli.test.ts does). Each case has its
 * own temp folder for the registry and the journal.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import {
  countRuns,
  describeResult,
  makeTempDir,
  parseSingleJson,
  runCli,
  withJournalReadonly,
  type CliResult,
  type TempDir,
} from './testing/run-cli.ts';

const QUERY = 'What is 17*23?';

function expectExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, `expected exit ${code}\n${describeResult(result)}`);
}

/** A Thicket card binding the fleet model sim:small. */
const SMALL_CARD = {
  id: 'arith-small',
  version: '1.0.0',
  name: 'Small arithmetic solver',
  description: 'Solves arithmetic word problems quickly and cheaply',
  binding: { kind: 'model', ref: 'sim:small' },
  provider: 'sim',
};

const CAPABILITY_SPEC = {
  version: 1,
  nodes: [
    {
      id: 'solve',
      op: 'sample',
      capability: { need: 'solve arithmetic word problems', require: ['residency:eu'] },
      params: { samples: 3, aggregator: 'majority', maxOutputTokens: 400 },
    },
  ],
  output: 'solve',
};

interface SolveJson {
  status: string;
  answer: string | null;
  simulated: boolean;
  spendByModel: Record<string, { calls: number }>;
  nodes: Record<string, { status: string; capability?: { card: string; model: string } }>;
}

interface ErrorJson {
  status: 'error';
  error: { code: string; message: string };
  issues?: Array<{ path: string; message: string }>;
}

describe('agents flags and capability nodes, end to end', () => {
  let dir: TempDir;
  let registry: string;
  const agents = (args: string[]) => runCli(['agents', ...args, '--registry', registry, '--json'], { cwd: dir.path });

  before(() => {
    dir = makeTempDir('thicket-capabilities-');
    registry = dir.file('registry.db');
  });
  after(() => dir.remove());

  it('agents add --label/--cost-per-call/--quality, ls --id/--status, search --kind, sync-fleet idempotent', async () => {
    const cards = dir.write('cards.json', [SMALL_CARD]);
    const bad = await agents(['add', cards, '--label', 'EU', '--cost-per-call', '-1', '--quality', '2']);
    expectExit(bad, 2);
    assert.deepEqual(
      parseSingleJson<ErrorJson>(bad).issues?.map((issue) => issue.path),
      ['--cost-per-call', '--quality', '--label'],
    );

    const added = await agents(['add', cards, '--label', 'residency:eu', '--cost-per-call', '0.0005', '--quality', '0.6']);
    expectExit(added, 0);
    assert.deepEqual(parseSingleJson<{ added: string[] }>(added).added, ['arith-small@1.0.0']);

    const synced = await agents(['sync-fleet']);
    expectExit(synced, 0);
    assert.deepEqual(parseSingleJson<{ added: string[] }>(synced).added.sort(), [
      'model:sim:large@1.0.0',
      'model:sim:medium@1.0.0',
      'model:sim:reasoner-large@1.0.0',
      'model:sim:reasoner-small@1.0.0',
      'model:sim:small@1.0.0',
    ]);
    const again = parseSingleJson<{ added: string[]; unchanged: string[] }>(await agents(['sync-fleet']));
    assert.deepEqual([again.added, again.unchanged.length], [[], 5]);

    const listed = parseSingleJson<{ total: number; cards: Array<{ ref: string; labels: string[]; costPerCall: number }> }>(
      await agents(['ls', '--id', 'arith-small', '--status', 'active']),
    );
    assert.equal(listed.total, 1);
    assert.deepEqual(
      listed.cards.map((card) => [card.ref, card.labels, card.costPerCall]),
      [['arith-small@1.0.0', ['residency:eu'], 0.0005]],
    );
    assert.equal(parseSingleJson<{ total: number }>(await agents(['ls', '--status', 'deprecated'])).total, 0);
    expectExit(await agents(['ls', '--status', 'retired']), 2);

    const found = parseSingleJson<{ results: Array<{ ref: string; binding: string }> }>(
      await agents(['search', 'solve arithmetic', '--kind', 'model', '--require', 'residency:eu']),
    );
    assert.deepEqual(
      found.results.map((result) => result.ref),
      ['arith-small@1.0.0'],
    );
    assert.deepEqual(parseSingleJson<{ results: unknown[] }>(await agents(['search', 'solve arithmetic', '--kind', 'mcp'])).results, []);
    const badKind = await agents(['search', 'x', '--kind', 'robot']);
    expectExit(badKind, 2);
    assert.match(parseSingleJson<ErrorJson>(badKind).error.message, /"robot" is not a binding kind/);
  });

  it('solve --workflow binds the capability node to sim:small; a policy that excludes it fails cleanly and writes nothing', async () => {
    const cards = dir.write('small.json', [SMALL_CARD]);
    const own = dir.file('own-registry.db');
    expectExit(await runCli(['agents', 'add', cards, '--label', 'residency:eu', '--registry', own], { cwd: dir.path }), 0);
    const spec = dir.write('capability.json', CAPABILITY_SPEC);
    const journal = dir.file('journal.db');

    const ok = await runCli(['solve', QUERY, '--workflow', spec, '--registry', own, '--db', journal, '--json'], { cwd: dir.path });
    expectExit(ok, 0);
    const solved = parseSingleJson<SolveJson>(ok);
    assert.equal(solved.status, 'ok');
    assert.equal(solved.simulated, true);
    assert.deepEqual(solved.nodes['solve']!.capability, {
      ...solved.nodes['solve']!.capability,
      card: 'arith-small@1.0.0',
      model: 'sim:small',
    });
    assert.deepEqual(Object.keys(solved.spendByModel), ['sim:small']);
    assert.equal(solved.spendByModel['sim:small']!.calls, 3);
    // The binding is in the journaled trace.
    const trace = withJournalReadonly(
      journal,
      (db) => db.prepare("SELECT output_json AS output FROM steps WHERE step_id = '__trace__'").get() as { output: string },
    );
    const bound = (JSON.parse(trace.output) as { events: Array<{ type: string; data: Record<string, unknown> }> }).events.filter(
      (event) => event.type === 'capability-bound',
    );
    assert.deepEqual(
      bound.map((event) => [event.data['card'], event.data['model']]),
      [['arith-small@1.0.0', 'sim:small']],
    );
    const human = await runCli(['solve', QUERY, '--workflow', spec, '--registry', own, '--db', journal], { cwd: dir.path });
    expectExit(human, 0);
    assert.match(stripVTControlCharacters(human.stdout), /Capability solve: arith-small@1\.0\.0 → sim:small/);
    assert.equal(countRuns(journal), 2);

    // The run's policy forbids the only matching card: rejected before the journal is touched.
    const fresh = dir.file('fresh-journal.db');
    const forbidden = await runCli(
      ['solve', QUERY, '--workflow', spec, '--registry', own, '--db', fresh, '--forbid', 'residency:eu', '--json'],
      { cwd: dir.path },
    );
    expectExit(forbidden, 2);
    const error = parseSingleJson<ErrorJson>(forbidden);
    assert.equal(error.error.code, 'CAPABILITY_UNRESOLVED');
    assert.deepEqual(
      error.issues?.map((issue) => issue.path),
      ['nodes.solve.capability'],
    );
    assert.equal(countRuns(fresh), 0);

    // A node-level forbid that excludes it, into the journal that already has runs: still nothing written.
    const excluded = dir.write('excluded.json', {
      ...CAPABILITY_SPEC,
      nodes: [{ ...CAPABILITY_SPEC.nodes[0]!, capability: { need: 'solve arithmetic word problems', forbid: ['residency:eu'] } }],
    });
    const refused = await runCli(['solve', QUERY, '--workflow', excluded, '--registry', own, '--db', journal, '--json'], { cwd: dir.path });
    expectExit(refused, 2);
    assert.match(parseSingleJson<ErrorJson>(refused).error.message, /no active capability passes every constraint \(.*forbid:residency:eu/);
    assert.equal(countRuns(journal), 2);

    // No registry at all: a clear error, not a fallback model.
    const missing = await runCli(
      ['solve', QUERY, '--workflow', spec, '--registry', dir.file('none.db'), '--db', fresh, '--model', 'sim:large', '--json'],
      { cwd: dir.path },
    );
    expectExit(missing, 2);
    assert.match(parseSingleJson<ErrorJson>(missing).error.message, /\(no-registry\): no capability registry at .*none\.db/);
    assert.equal(countRuns(fresh), 0);
  });
});
