/**
 * `criticalityCommand`: both accepted graph shapes (ReasoningGraph / trace JSON and plain or networkx
 * node-link graphs), snapshots, JSON and text output, and rejection of bad files and flags with every
 * problem's path.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, VirtualClock } from '../core/index.ts';
import { Trace } from '../ops/index.ts';
import { criticalityCommand, type CriticalityReport } from './command.ts';
import { parseGraph } from './schema.ts';
import { assertClose } from './testing/graphs.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-criticality-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;
function file(content: unknown): string {
  const path = join(folder, `graph-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function issuesOf(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return [...error.issues];
    throw error;
  }
  throw new Error('expected InvalidInputError');
}

async function rejectionOf(promise: Promise<unknown>): Promise<Array<{ path: string; message: string }>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InvalidInputError) return [...error.issues];
    throw error;
  }
  throw new Error('expected InvalidInputError');
}

const quiet = { out: () => {} };

describe('criticalityCommand', () => {
  it('reads a plain {nodes, edges: [{source, target}]} graph: K_4 gives S_struct = ln 3', async () => {
    const nodes = ['alpha', 'beta', 'gamma', 'delta'].map((id) => ({ id }));
    const edges = [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ].map(([a, b]) => ({ source: nodes[a!]!.id, target: nodes[b!]!.id }));
    const report = await criticalityCommand(file({ nodes, edges }), quiet);
    assert.equal(report.snapshots.length, 1);
    assert.equal(report.snapshots[0]!.step, null);
    assertClose(report.snapshots[0]!.structuralEntropy, Math.log(3), 1e-12);
    assert.equal(report.embedder, 'hash-v1-384');
  });

  it('reads a trace (TraceJson) and networkx node-link JSON (links, numeric ids)', async () => {
    const trace = new Trace(new VirtualClock());
    const query = trace.addNode('q', 'query', 'What is 6 × 7?');
    const answer = trace.addNode('s', 'answer', 'It is 42', '42');
    trace.derive(answer, [query]);
    const fromTrace = await criticalityCommand(file(trace.toJSON()), quiet);
    assert.equal(fromTrace.snapshots[0]!.nodes, 2);
    assert.equal(fromTrace.snapshots[0]!.edges, 1);
    const nodeLink = {
      directed: false,
      multigraph: false,
      graph: {},
      nodes: [{ id: 0 }, { id: 1 }, { id: 2 }],
      links: [
        { source: 0, target: 1 },
        { source: 1, target: 2 },
      ],
    };
    const fromNetworkx = await criticalityCommand(file(nodeLink), quiet);
    assertClose(fromNetworkx.snapshots[0]!.structuralEntropy, Math.log(3) - (2 / 3) * Math.log(2), 1e-12);
  });

  it('reads what `runs show --trace --json` prints ({ runId, steps, trace: TraceJson }), paths under "trace.graph"', async () => {
    const trace = new Trace(new VirtualClock());
    const query = trace.addNode('q', 'query', 'What is 6 × 7?');
    const sample = trace.addNode('s', 'claim', 'Six sevens are 42', '42');
    const answer = trace.addNode('s', 'answer', 'It is 42', '42');
    trace.derive(sample, [query]);
    trace.derive(answer, [sample]);
    const printed = { runId: 'run-1', steps: [{ stepId: 'wf/s', status: 'ok' }], trace: trace.toJSON() };
    const report = await criticalityCommand(file(printed), quiet);
    assert.equal(report.snapshots[0]!.nodes, 3);
    assert.equal(report.snapshots[0]!.edges, 2);
    assert.deepEqual(
      issuesOf(() =>
        parseGraph({ runId: 'r', steps: [], trace: { events: [], graph: { nodes: [{ id: 7 }], edges: [{ from: 7, to: 8 }] } } }),
      ).map((issue) => issue.path),
      ['trace.graph.edges[0].to'],
    );
  });

  it('computes evenly spaced or explicit snapshots', async () => {
    const graph = {
      nodes: [0, 1, 2, 3].map((i) => ({ id: `n${i}`, text: `node ${i}`, step: i })),
      edges: [1, 2, 3].map((i) => ({ from: `n${i - 1}`, to: `n${i}`, step: 3 + i })),
    };
    const path = file(graph);
    assert.deepEqual(
      (await criticalityCommand(path, { ...quiet, snapshots: '2' })).snapshots.map((m) => [m.step, m.edges]),
      [
        [3, 0],
        [6, 3],
      ],
    );
    assert.deepEqual(
      (await criticalityCommand(path, { ...quiet, snapshots: '4, 5' })).snapshots.map((m) => [m.step, m.edges]),
      [
        [4, 1],
        [5, 2],
      ],
    );
    assert.deepEqual(
      (await criticalityCommand(path, { ...quiet, snapshots: [6] })).snapshots.map((m) => m.edges),
      [3],
    );
  });

  it('prints one JSON object with --json, and a readable summary otherwise', async () => {
    const path = file({
      nodes: [
        { id: 'a', text: 'silk protein' },
        { id: 'b', text: 'silk fibre' },
      ],
      edges: [{ from: 'a', to: 'b' }],
    });
    const printed: string[] = [];
    const report = await criticalityCommand(path, { json: true, tau: '0.3', out: (text) => printed.push(text) });
    assert.equal(printed.length, 1);
    const parsed = JSON.parse(printed[0]!) as CriticalityReport;
    assert.equal(parsed.tau, 0.3);
    assert.deepEqual(parsed.snapshots, report.snapshots);
    const text: string[] = [];
    await criticalityCommand(path, { out: (line) => text.push(line) });
    assert.match(text[0]!, /S_struct\s+S_sem\s+D\s+α/);
    assert.match(text[0]!, /hubs \(degree\): a \(1\), b \(1\)/);
  });

  it('rejects a missing file, invalid JSON, and bad flags (all flags reported at once)', async () => {
    assert.deepEqual((await rejectionOf(criticalityCommand(join(folder, 'absent.json'), quiet)))[0]!.message, 'file not found');
    assert.match((await rejectionOf(criticalityCommand(file('{ nodes: '), quiet)))[0]!.message, /not valid JSON/);
    const issues = await rejectionOf(
      criticalityCommand(file({ nodes: [], edges: [] }), { ...quiet, tau: 'high', snapshots: '0', merge: 2 }),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['--tau', '--merge', '--snapshots'],
    );
    assert.deepEqual((await rejectionOf(criticalityCommand(file({ nodes: [] }), { ...quiet, snapshots: '3,x' })))[0]!.path, '--snapshots');
  });
});

describe('parseGraph', () => {
  it('reports every problem with its JSON path', () => {
    const issues = issuesOf(() =>
      parseGraph({
        nodes: [{ id: 'a' }, { text: 'no id' }, { id: 'a' }, { id: 'b', step: -1 }, { id: '' }],
        edges: [{ from: 'a' }],
      }),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['nodes[1].id', 'nodes[3].step', 'nodes[4].id'],
      'schema problems first (zod), all of them',
    );
    const semantic = issuesOf(() =>
      parseGraph({
        nodes: [{ id: 'a' }, { id: 'a' }, { id: 'b' }],
        edges: [{ from: 'a' }, { source: 'a', target: 'zzz' }, { from: 'a', source: 'b', to: 'b' }, { from: 'a', to: 'b', step: 2 }],
      }),
    );
    assert.deepEqual(
      semantic.map((issue) => `${issue.path}: ${issue.message}`),
      [
        'nodes[1].id: duplicate id "a" (first at nodes[0])',
        'edges[0]: missing "to" (or "target")',
        'edges[1].target: unknown node "zzz"',
        'edges[2].source: give either "from" or "source", not both',
      ],
    );
  });

  it('prefixes paths inside a trace with "graph"', () => {
    assert.deepEqual(
      issuesOf(() => parseGraph({ events: [], graph: { nodes: [{ id: 7, step: 1.5 }], edges: [{ from: 7, to: 8 }] } })).map(
        (issue) => issue.path,
      ),
      ['graph.nodes[0].step'],
    );
    assert.deepEqual(
      issuesOf(() => parseGraph({ events: [], graph: { nodes: [{ id: 7 }], edges: [{ from: 7, to: 8 }] } })).map((issue) => issue.path),
      ['graph.edges[0].to'],
    );
  });

  it('rejects non-graphs at the root', () => {
    assert.deepEqual(
      issuesOf(() => parseGraph([1, 2])).map((issue) => issue.path),
      [''],
      'the root itself',
    );
    assert.ok(issuesOf(() => parseGraph({ nodes: {} })).some((issue) => issue.path === 'nodes'));
  });

  it('normalises ids to strings, text from text or label or nothing, steps default 0', () => {
    assert.deepEqual(
      parseGraph({
        nodes: [{ id: 1, label: 'one' }, { id: 'two', text: 'deux', step: 4 }, { id: 'three' }],
        links: [{ source: 1, target: 'two' }],
      }),
      {
        nodes: [
          { id: '1', text: 'one', step: 0 },
          { id: 'two', text: 'deux', step: 4 },
          { id: 'three', text: '', step: 0 },
        ],
        edges: [{ from: '1', to: 'two', step: 0 }],
      },
    );
  });
});
