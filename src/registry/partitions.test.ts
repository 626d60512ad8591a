import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rngFor } from '../core/index.ts';
import { ColumnStore, type ColumnRow } from './columns.ts';
import { HashingEmbedder } from './embedder.ts';
import { LabelPartitions } from './partitions.ts';
import { CapabilityRegistry } from './registry.ts';
import { tempFolder } from './testing/fixtures.ts';
import { syntheticCards, syntheticNeeds } from './testing/synthetic.ts';

const DIMENSION = 48;

function unit(seed: number, ...identity: (string | number)[]): Float32Array {
  const rng = rngFor(seed, ...identity);
  const vector = Float32Array.from({ length: DIMENSION }, () => rng.normal());
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

function row(index: number): ColumnRow {
  return {
    id: `cap-${index}`,
    status: 'active',
    provider: 'p',
    kind: 'agent',
    labels: ['eu'],
    cost: undefined,
    latency: undefined,
    quality: 0.5,
    tag: index,
  };
}

function exactDot(query: Float32Array, vector: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < query.length; index++) sum += query[index]! * vector[index]!;
  return sum;
}

describe('label partitions (int8 scan, exact re-rank)', () => {
  it('keeps every approximate similarity within the per-query error bound', () => {
    const store = new ColumnStore(DIMENSION);
    for (let slot = 1; slot <= 2_000; slot++) store.put(slot, row(slot), unit(7, 'card', slot));
    const partitions = new LabelPartitions(store);
    const partition = partitions.get(store.labels.ids.get('eu')!);
    assert.equal(partition.rows, 2_000);
    let worst = 0;
    for (let query = 0; query < 25; query++) {
      const vector = unit(7, 'query', query);
      const prepared = LabelPartitions.prepare(vector);
      const bound = LabelPartitions.errorBound(partition, prepared);
      const { slots, similarities } = LabelPartitions.search(partition, prepared, partition.rows);
      assert.equal(slots.length, partition.rows);
      for (let position = 0; position < slots.length; position++) {
        const error = Math.abs(similarities[position]! - exactDot(vector, store.vector(slots[position]!)));
        worst = Math.max(worst, error / bound);
        assert.ok(error <= bound, `error ${error} > bound ${bound}`);
      }
      // Ordered by approximate similarity, highest first.
      for (let position = 1; position < similarities.length; position++) assert.ok(similarities[position - 1]! >= similarities[position]!);
    }
    // The bound is rigorous, not loose by orders of magnitude (else the stop rule would rarely hold).
    assert.ok(worst > 0.05, `worst error / bound ${worst}`);
  });

  it('appends new slots instead of rebuilding, and rebuilds when a vector exceeds the scale', () => {
    const store = new ColumnStore(DIMENSION);
    for (let slot = 1; slot <= 100; slot++) store.put(slot, row(slot), unit(3, 'card', slot));
    const partitions = new LabelPartitions(store);
    const label = store.labels.ids.get('eu')!;
    const first = partitions.get(label);
    const scale = first.scale;
    for (let slot = 101; slot <= 150; slot++)
      store.put(
        slot,
        row(slot),
        unit(3, 'card', slot).map((value) => value * 0.5),
      );
    const appended = partitions.get(label);
    assert.equal(appended, first, 'same partition object, appended in place');
    assert.equal(appended.rows, 150);
    assert.equal(appended.scale, scale);
    // One component larger than anything seen: its code would not fit in int8 at the old scale.
    const spike = new Float32Array(DIMENSION);
    spike[0] = 1;
    store.put(151, row(151), spike);
    const rebuilt = partitions.get(label);
    assert.notEqual(rebuilt, first);
    assert.equal(rebuilt.rows, 151);
    assert.ok(rebuilt.scale < scale);
    const { slots } = LabelPartitions.search(rebuilt, LabelPartitions.prepare(spike), 1);
    assert.equal(slots[0], 151);
  });

  it('stays exact across registrations and status changes after it was built', async () => {
    const embedder = new HashingEmbedder({ dimension: 64 });
    const registry = await CapabilityRegistry.open({ embedder, plan: { exactBudget: 1 } });
    const batches = [...syntheticCards(2_400, 11, 800)];
    await registry.register(batches[0]!);
    const needs = syntheticNeeds(12, 4);
    const constraints = { require: ['residency:eu'] };
    const check = async () => {
      for (const need of needs) {
        const [vector] = await embedder.embed([need]);
        const auto = registry.discoverVector(vector!, constraints, 10, { exactBudget: 1, force: 'partition' });
        const exact = registry.discoverVector(vector!, constraints, 10, { force: 'exact' });
        assert.equal(auto.plan.method, 'partition');
        assert.deepEqual(
          auto.results.map((result) => result.score.toFixed(6)),
          exact.results.map((result) => result.score.toFixed(6)),
        );
      }
    };
    await check();
    await registry.register(batches[1]!);
    await registry.register(batches[2]!);
    await check();
    const { results } = await registry.discover({ need: needs[0]!, k: 3, ...constraints });
    const [top] = results;
    registry.setStatus(top!.card.id, top!.card.version, 'deprecated');
    const after = await registry.discover({ need: needs[0]!, k: 3, ...constraints });
    assert.ok(!after.results.some((result) => result.ref === top!.ref), 'a deprecated card left the partition plan');
    await check();
    registry.close();
  });
});

describe('label graphs (HNSW per big label partition)', () => {
  it('searches a big label through its own graph, persists it, reloads it, and extends it after registrations', async () => {
    const folder = tempFolder();
    try {
      const embedder = new HashingEmbedder({ dimension: 64 });
      const options = { path: join(folder.path, 'registry.db'), embedder, plan: { exactBudget: 1, labelGraphRows: 150 } };
      const batches = [...syntheticCards(6_000, 5, 2_000)];
      let registry = await CapabilityRegistry.open(options);
      await registry.register(batches[0]!);
      await registry.register(batches[1]!);
      registry.close();
      // Opening warms the label partitions and builds graphs for the big ones (≥ 150 rows here), then saves them.
      registry = await CapabilityRegistry.open(options);
      const graphs = readdirSync(folder.path).filter((name) => /\.label-[0-9a-f]{16}\.usearch$/.test(name));
      assert.ok(graphs.length >= 2, `graph files: ${graphs.join(', ')}`);
      const written = graphs.map((name) => statSync(join(folder.path, name)).mtimeMs);
      const needs = syntheticNeeds(15, 8);
      const constraints = { require: ['residency:eu'] };
      const recall = async () => {
        let agree = 0;
        let total = 0;
        for (const need of needs) {
          const [vector] = await embedder.embed([need]);
          const auto = registry.discoverVector(vector!, constraints, 10);
          assert.equal(auto.plan.method, 'hnsw');
          assert.match(auto.plan.source, /label:residency:eu \(label graph\)/);
          const exact = new Set(registry.discoverVector(vector!, constraints, 10, { force: 'exact' }).results.map((result) => result.ref));
          total += exact.size;
          agree += auto.results.filter((result) => exact.has(result.ref)).length;
        }
        return agree / total;
      };
      assert.ok((await recall()) >= 0.95);
      registry.close();
      // Reopened: the graph files are trusted (same embedder, same slots) and not rewritten.
      registry = await CapabilityRegistry.open(options);
      assert.deepEqual(
        graphs.map((name) => statSync(join(folder.path, name)).mtimeMs),
        written,
      );
      assert.ok((await recall()) >= 0.95);
      // Registrations extend the graph incrementally; the next flush rewrites it.
      await registry.register(batches[2]!);
      assert.ok((await recall()) >= 0.95);
      registry.close();
      assert.ok(graphs.some((name, position) => statSync(join(folder.path, name)).mtimeMs !== written[position]));
    } finally {
      folder.cleanup();
    }
  });
});
