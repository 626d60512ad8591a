/**
 * `sim fit --write` merges into the user's config (issue 16 §5: it replaced the whole file): other keys,
 * models and — in YAML — comments are kept; the alias is added or replaced; a missing file is created.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../core/index.ts';
import { parseFleetConfig } from '../models/index.ts';
import { mergeFleetConfigModel } from './merge-fleet-config.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-merge-config-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const TWIN = { provider: 'sim', profile: 'medium', overrides: { verbosity: 120 } };

describe('mergeFleetConfigModel', () => {
  it('adds the model to a JSON config, keeping every other key and model; replaces it on a second write', () => {
    const path = join(folder, 'thicket.config.json');
    const user = {
      version: 1,
      defaultModel: 'local-small',
      embedder: 'hash',
      models: { 'local-small': { provider: 'openai-compatible', baseURL: 'http://localhost:11434/v1', model: 'qwen2.5:7b-instruct' } },
    };
    writeFileSync(path, JSON.stringify(user, null, 2));
    assert.deepEqual(mergeFleetConfigModel(path, 'twin', TWIN), { merged: true, replaced: false });
    const merged = JSON.parse(readFileSync(path, 'utf8')) as typeof user & { models: Record<string, unknown> };
    assert.deepEqual(merged, { ...user, models: { ...user.models, twin: TWIN } });
    assert.doesNotThrow(() => parseFleetConfig(merged, 'merged'));
    assert.deepEqual(mergeFleetConfigModel(path, 'twin', { ...TWIN, profile: 'large' }), { merged: true, replaced: true });
    const again = JSON.parse(readFileSync(path, 'utf8')) as { models: Record<string, { profile?: string }> };
    assert.equal(again.models['twin']?.profile, 'large');
    assert.ok(again.models['local-small']);
  });

  it('keeps the comments and other entries of a YAML file', () => {
    const path = join(folder, 'fleet.yaml');
    writeFileSync(
      path,
      '# my fleet\nversion: 1\ndefaultModel: local # the cheap one\nmodels:\n  local:\n    provider: sim\n    profile: small\n',
    );
    mergeFleetConfigModel(path, 'twin', TWIN);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^# my fleet/);
    assert.match(text, /defaultModel: local # the cheap one/);
    assert.match(text, /\n {2}local:\n {4}provider: sim/);
    assert.match(text, /\n {2}twin:\n {4}provider: sim\n {4}profile: medium/);
  });

  it('creates a missing file, and refuses (naming the file) one it cannot merge into, leaving it untouched', () => {
    const fresh = join(folder, 'new.json');
    assert.deepEqual(mergeFleetConfigModel(fresh, 'twin', TWIN), { merged: false, replaced: false });
    assert.deepEqual(JSON.parse(readFileSync(fresh, 'utf8')), { version: 1, models: { twin: TWIN } });
    const broken = join(folder, 'broken.json');
    writeFileSync(broken, '{ "models": [1, 2] }');
    assert.throws(() => mergeFleetConfigModel(broken, 'twin', TWIN), InvalidInputError);
    assert.equal(readFileSync(broken, 'utf8'), '{ "models": [1, 2] }');
  });
});
