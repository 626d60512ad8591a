import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { contentHash, parseCards } from './card.ts';
import { HashingEmbedder } from './embedder.ts';
import { EmbedderMismatchError } from './errors.ts';
import { CapabilityRegistry } from './registry.ts';
import { vectorToBlob } from './storage.ts';
import { card, FIXTURES, tempFolder } from './testing/fixtures.ts';

const CARDS = [
  card('summarizer', '1.0.0', { description: 'Summarizes long reports into a short abstract' }),
  card('translator', '1.0.0', { description: 'Translates documents between French and German' }),
  card('coder', '1.0.0', { description: 'Writes and reviews Python code' }),
];

async function topFor(registry: CapabilityRegistry, need: string): Promise<string | undefined> {
  return (await registry.discover({ need, k: 1 })).results[0]?.card.id;
}

describe('persistence and index repair', () => {
  let folder: ReturnType<typeof tempFolder>;
  let path: string;
  beforeEach(async () => {
    folder = tempFolder();
    path = join(folder.path, 'registry.db');
    const registry = await CapabilityRegistry.open({ path });
    await registry.register(CARDS);
    registry.close();
  });
  afterEach(() => folder.cleanup());

  it('loads the saved index on reopen when the sidecar agrees with SQLite', async () => {
    const registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, undefined);
    assert.equal(registry.openReport.indexed, 3);
    assert.equal(await topFor(registry, 'translate a French document'), 'translator');
    registry.close();
  });

  it('rebuilds a deleted, garbage or truncated index file (usearch never sees a damaged file)', async () => {
    for (const [damage, expected] of [
      [() => rmSync(`${path}.usearch`), 'missing'],
      [() => writeFileSync(`${path}.usearch`, Buffer.alloc(statSync(`${path}.usearch`).size, 0x5a)), 'unreadable'],
      [() => truncateSync(`${path}.usearch`, 40), 'unreadable'],
      [() => writeFileSync(`${path}.usearch.json`, '{ nope'), 'unreadable'],
    ] as const) {
      damage();
      const registry = await CapabilityRegistry.open({ path });
      assert.equal(registry.openReport.rebuilt, expected);
      assert.equal(await topFor(registry, 'summarize this report'), 'summarizer');
      registry.close();
      const again = await CapabilityRegistry.open({ path });
      assert.equal(again.openReport.rebuilt, undefined, 'the repaired index was saved');
      again.close();
    }
  });

  it('detects a crash between the SQLite commit and the index flush (generation)', async () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(FIXTURES, 'crash-writer.ts'), path], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, 'generation');
    assert.equal(await topFor(registry, 'transcribe podcast audio'), 'written-before-crash');
    registry.close();
  });

  it('detects writes that bypassed the registry (count, checksum) and cards without vectors', async () => {
    const embedder = new HashingEmbedder();
    const raw = new Database(path);
    const [sneaky] = parseCards(card('sneaky', '1.0.0', { description: 'Forecasts electricity demand for the grid' }));
    const insert = raw.prepare(
      `INSERT INTO registry_cards (id, version, status, provider, binding_kind, labels, cost_per_call, latency_ms, quality, ` +
        `content_hash, card_json, registered_at, updated_at)
      VALUES (?, '1.0.0', 'active', 'local', 'agent', '', NULL, NULL, 0.5, ?, ?, 'now', 'now')`,
    );
    const key = Number(insert.run('sneaky', contentHash(sneaky!), JSON.stringify(sneaky)).lastInsertRowid);
    const [vector] = await embedder.embed(['sneaky. Forecasts electricity demand for the grid']);
    raw
      .prepare('INSERT INTO registry_vectors (key, embedder, dimension, vector) VALUES (?, ?, ?, ?)')
      .run(key, embedder.id, embedder.dimension, vectorToBlob(vector!));
    raw.close();
    let registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, 'count');
    assert.equal(await topFor(registry, 'forecast electricity demand'), 'sneaky');
    registry.close();

    // Same count, different content: only the checksum can tell.
    const rawAgain = new Database(path);
    rawAgain.prepare("UPDATE registry_cards SET content_hash = 'ffffffff' || substr(content_hash, 9) WHERE id = 'coder'").run();
    rawAgain.close();
    registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, 'checksum');
    registry.close();

    // A card row with no vector row is embedded on open (and the index rebuilt).
    const rawThird = new Database(path);
    const [orphan] = parseCards(card('orphan', '1.0.0', { description: 'Detects phishing emails' }));
    rawThird
      .prepare(
        `INSERT INTO registry_cards (id, version, status, provider, binding_kind, labels, cost_per_call, latency_ms, quality, content_hash, ` +
          `card_json, registered_at, updated_at)
      VALUES ('orphan', '1.0.0', 'active', 'local', 'agent', '', NULL, NULL, 0.5, ?, ?, 'now', 'now')`,
      )
      .run(contentHash(orphan!), JSON.stringify(orphan));
    rawThird.close();
    registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, 'generation');
    assert.equal(await topFor(registry, 'detect phishing emails'), 'orphan');
    assert.equal(registry.resolve('orphan').embedding.embedder, 'hash-v1-384');
    registry.close();
  });

  it('a status change is persisted and survives reopen (deprecated cards leave the index)', async () => {
    let registry = await CapabilityRegistry.open({ path });
    registry.setStatus('translator', '1.0.0', 'deprecated');
    assert.notEqual(await topFor(registry, 'translate a French document'), 'translator');
    registry.close();
    registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.openReport.rebuilt, undefined);
    assert.equal(registry.openReport.indexed, 2);
    assert.notEqual(await topFor(registry, 'translate a French document'), 'translator');
    registry.close();
  });

  it('refuses to mix embedders, and reembed migrates every card and rebuilds the index', async () => {
    await assert.rejects(CapabilityRegistry.open({ path, embedder: new HashingEmbedder({ dimension: 128 }) }), EmbedderMismatchError);
    let registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.stats().embedder, 'hash-v1-384');
    const result = await registry.reembed(new HashingEmbedder({ dimension: 128 }));
    assert.deepEqual(result, { cards: 3, from: 'hash-v1-384', to: 'hash-v1-128' });
    assert.equal(registry.stats().dimension, 128);
    assert.deepEqual(registry.resolve('coder').embedding, { embedder: 'hash-v1-128', dimension: 128 });
    assert.equal(await topFor(registry, 'write python code'), 'coder');
    registry.close();
    registry = await CapabilityRegistry.open({ path });
    assert.equal(registry.stats().embedder, 'hash-v1-128', 'the stored embedder is rebuilt from its id');
    assert.equal(registry.openReport.rebuilt, undefined);
    registry.close();
  });

  it('lives in a shared database beside other tables, with its index next to that file', async () => {
    const sharedPath = join(folder.path, 'journal.db');
    const database = new Database(sharedPath);
    database.exec('CREATE TABLE other (x INTEGER)');
    const registry = await CapabilityRegistry.open({ database });
    await registry.register(CARDS[0]);
    registry.close();
    assert.ok(database.open, 'a shared database is not closed by the registry');
    const tables = database
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    assert.deepEqual(
      tables.map((table) => table.name),
      ['other', 'registry_cards', 'registry_meta', 'registry_vectors', 'schema_version'],
    );
    assert.equal(registry.indexPath, `${sharedPath}.usearch`);
    assert.ok(statSync(`${sharedPath}.usearch`).size > 0);
    database.close();
  });

  it('refuses a registry written by a newer Thicket, naming the file and versions, and changes nothing', async () => {
    const database = new Database(path);
    database
      .prepare("INSERT INTO schema_version (component, version, name, applied_at) VALUES ('registry', 99, 'from the future', '2030-01-01')")
      .run();
    const before = database.prepare('SELECT COUNT(*) AS n FROM registry_cards').get() as { n: number };
    database.close();
    await assert.rejects(CapabilityRegistry.open({ path }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'JOURNAL_ERROR');
      assert.match(error.message, /schema version 99 for "registry", newer than this Thicket understands \(\d+\)/);
      assert.ok(error.message.includes(path));
      return true;
    });
    const after = new Database(path, { readonly: true });
    assert.deepEqual(after.prepare('SELECT COUNT(*) AS n FROM registry_cards').get(), before);
    after.close();
  });
});
