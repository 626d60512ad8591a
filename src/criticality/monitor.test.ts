/**
 * The monitor on a real `Trace`: readings at fixed snapshot steps whatever the observation rhythm, trace
 * events carrying them, flags outside the α band, and the final reading from `finish`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../core/index.ts';
import { Trace } from '../ops/index.ts';
import { createCriticalityMonitor } from './monitor.ts';
import { angle, tableEmbedder } from './testing/embedder.ts';

/** 12 graph additions: steps 0..11. Texts are the angles, so every cosine is known. */
function buildTrace(trace: Trace, after: () => Promise<void> | void = () => {}): Promise<void> {
  const steps: Array<() => void> = [
    () => trace.addNode('q', 'query', '0'),
    () => trace.addNode('s1', 'answer', '10', '4'),
    () => trace.addEdge('s1:answer', 'q:query', 'derived-from'),
    () => trace.addNode('s2', 'answer', '90', '5'),
    () => trace.addEdge('s2:answer', 'q:query', 'derived-from'),
    () => trace.addNode('v', 'verdict', '20'),
    () => trace.addEdge('v:verdict', 's1:answer', 'derived-from'),
    () => trace.addEdge('v:verdict', 's2:answer', 'derived-from'),
    () => trace.addNode('c', 'conclusion', '15', '4'),
    () => trace.addEdge('c:conclusion', 'v:verdict', 'derived-from'),
    () => trace.addEdge('s1:answer', 'c:conclusion', 'supports'),
    () => trace.addEdge('s2:answer', 'c:conclusion', 'contradicts'),
  ];
  return steps.reduce<Promise<void>>(async (previous, step) => {
    await previous;
    step();
    await after();
  }, Promise.resolve());
}

const embedder = () => tableEmbedder(Object.fromEntries(['0', '10', '90', '20', '15'].map((text) => [text, angle(Number(text))])));

describe('criticality monitor', () => {
  it('emits a note event at steps every·k − 1, observed after each addition', async () => {
    const trace = new Trace(new VirtualClock());
    const monitor = createCriticalityMonitor({ embedder: embedder(), every: 4, tau: 0.5 });
    await buildTrace(trace, () => monitor.observe(trace).then(() => {}));
    const notes = trace.events.filter((event) => event.type === 'note');
    assert.deepEqual(
      notes.map((event) => (event.data['criticality'] as { step: number }).step),
      [3, 7, 11],
    );
    assert.ok(notes.every((event) => event.stepId === 'criticality'));
    assert.deepEqual(
      monitor.readings.map((reading) => [reading.metrics.nodes, reading.metrics.edges]),
      [
        [3, 1],
        [4, 4],
        [5, 7],
      ],
    );
    // At step 7: q–s1 (cos 10°), q–s2 (cos 90° = 0), v–s1 (cos 10°), v–s2 (cos 70° = 0.34): two below τ = 0.5.
    assert.equal(monitor.readings[1]!.metrics.surprisingEdges, 2);
    const payload = notes[2]!.data['criticality'] as Record<string, unknown>;
    assert.equal(payload['surprisingShare'], monitor.readings[2]!.metrics.surprisingShare);
    assert.equal(payload['discovery'], monitor.readings[2]!.metrics.discovery);
  });

  it('gives the same readings however rarely it is observed, and embeds each node once', async () => {
    const eager = new Trace(new VirtualClock());
    const eagerMonitor = createCriticalityMonitor({ embedder: embedder(), every: 4, tau: 0.5 });
    await buildTrace(eager, () => eagerMonitor.observe(eager).then(() => {}));
    const lazy = new Trace(new VirtualClock());
    const table = embedder();
    const lazyMonitor = createCriticalityMonitor({ embedder: table, every: 4, tau: 0.5 });
    await buildTrace(lazy);
    const readings = await lazyMonitor.observe(lazy);
    assert.deepEqual(
      readings.map((reading) => reading.metrics),
      eagerMonitor.readings.map((reading) => reading.metrics),
    );
    assert.deepEqual(await lazyMonitor.observe(lazy), [], 'nothing new');
    assert.equal(table.calls.flat().length, 5);
  });

  it('concurrent observe calls do not duplicate or reorder readings', async () => {
    const trace = new Trace(new VirtualClock());
    const monitor = createCriticalityMonitor({ embedder: embedder(), every: 2 });
    await buildTrace(trace);
    await Promise.all([monitor.observe(trace), monitor.observe(trace), monitor.observe(trace)]);
    assert.deepEqual(
      monitor.readings.map((reading) => reading.metrics.step),
      [1, 3, 5, 7, 9, 11],
    );
  });

  it('finish adds a reading of the final graph when it is past the last snapshot', async () => {
    const trace = new Trace(new VirtualClock());
    const monitor = createCriticalityMonitor({ embedder: embedder(), every: 5 });
    await buildTrace(trace);
    const readings = await monitor.finish(trace);
    assert.deepEqual(
      readings.map((reading) => reading.metrics.step),
      [4, 9, 11],
    );
    assert.deepEqual(await monitor.finish(trace), [], 'already covered');
  });

  it('flags α outside its band and D drifting from 0, once there are enough edges', async () => {
    const trace = new Trace(new VirtualClock());
    const flagged = createCriticalityMonitor({
      embedder: embedder(),
      every: 12,
      tau: 0.5,
      minEdges: 0,
      alphaBand: [0.2, 0.3],
      discoveryTolerance: 0.01,
    });
    const quiet = createCriticalityMonitor({ embedder: embedder(), every: 12, tau: 0.5 });
    await buildTrace(trace);
    const [reading] = await flagged.observe(trace);
    // Surprising at step 11: q–s2 (90°), v–s2 (70°), s2–c (75°) → 3 of 7 edges = 43% > 30%.
    assert.equal(reading!.metrics.surprisingEdges, 3);
    assert.ok(reading!.flags.includes('alpha-above-band'));
    assert.equal(reading!.flags.includes('discovery-drift'), Math.abs(reading!.metrics.discovery) > 0.01);
    const [unflagged] = await quiet.observe(trace);
    assert.deepEqual(unflagged!.flags, [], 'below minEdges (20) nothing is flagged');
  });

  it('rejects a non-positive snapshot interval', () => {
    assert.throws(() => createCriticalityMonitor({ every: 0 }), /every/);
  });
});
