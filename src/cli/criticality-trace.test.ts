/**
 * `thicket criticality --help` promises "a trace JSON (runs show --trace --json)": the file that command prints
 * is read as it is (issue 16 §5; it was refused with `nodes: expected array`).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { expectExit, makeTempDir, parseSingleJson, runCli } from './testing/run-cli.ts';

const dir = makeTempDir('thicket-criticality-trace-');
after(() => dir.remove());

describe('criticality on a printed trace', () => {
  it('reads the output of `runs show <id> --trace --json`', { timeout: 120_000 }, async () => {
    const journal = dir.file('journal.db');
    const solved = await runCli([
      'solve',
      'What is 17*23?',
      '-m',
      'sim:small',
      '--samples',
      '3',
      '--run-id',
      'crit-1',
      '--journal',
      journal,
      '--json',
    ]);
    expectExit(solved, 0);
    const shown = await runCli(['runs', 'show', 'crit-1', '--trace', '--json', '--journal', journal]);
    expectExit(shown, 0);
    const printed = parseSingleJson<{ trace: { graph: { nodes: unknown[]; edges: unknown[] } } }>(shown);
    const path = dir.file('trace.json');
    writeFileSync(path, shown.stdout);
    const measured = await runCli(['criticality', path, '--json']);
    expectExit(measured, 0);
    const report = parseSingleJson<{ snapshots: Array<{ nodes: number; edges: number }> }>(measured);
    assert.ok(printed.trace.graph.nodes.length >= 4, 'a vote of 3 leaves a query, 3 samples and an answer');
    assert.equal(report.snapshots.at(-1)?.nodes, printed.trace.graph.nodes.length);
    // Edges between the same two nodes (derived-from and supports) count once in the undirected metrics.
    const pairs = new Set(
      (printed.trace.graph.edges as Array<{ from: string; to: string }>).map((edge) => [edge.from, edge.to].sort().join('\u0000')),
    );
    assert.equal(report.snapshots.at(-1)?.edges, pairs.size);
  });
});
