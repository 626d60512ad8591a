/**
 * Evals over REST, on a real socket: rows sent in the body run as a background job whose status reports the
 * cells done (progress, as the console shows it) and, once finished, accuracy with CIs per strategy and the
 * paired comparison.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callJson, startKeyedTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-evals-progress-'));
let test: TestGateway;
let admin: string;

interface EvalJobBody {
  id: string;
  status: string;
  progress: { total: number; done: number; failed: number } | null;
  result?: {
    summary: {
      stats: { architecture: string; n: number; accuracy: number; accuracyCi: { low: number; high: number } }[];
      comparisons: { a: { architecture: string }; b: { architecture: string }; pairs: number; withinNoise: boolean }[];
    };
  } | null;
}

const call = <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> =>
  callJson<T>(test.running.url, method, path, admin, body);

before(async () => {
  ({ test, admin } = await startKeyedTestGateway(folder));
});

after(() => test.close());

describe('evals REST', () => {
  it('reports progress in cells while it runs and at its end, with the CIs and the paired comparison', async () => {
    const rows = readFileSync(new URL('../../fixtures/gsm8k-sample.jsonl', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 3)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = await call<EvalJobBody>('POST', '/v1/evals', {
      id: 'ev1',
      rows,
      preset: 'gsm8k',
      strategies: ['single', 'vote'],
      budgets: [4000],
      models: ['sim:small'],
    });
    assert.equal(started.status, 202);
    // The lab plans the cells before the job is accepted: the total is known at once.
    assert.equal(started.json.progress?.total, 6);
    assert.ok(started.json.progress.done <= 6);
    let job: EvalJobBody;
    for (;;) {
      job = (await call<EvalJobBody>('GET', '/v1/evals/ev1')).json;
      if (job.status !== 'running') break;
      await sleep(25);
    }
    assert.equal(job.status, 'ok');
    // 3 items × 2 strategies × 1 budget × 1 model × 1 seed.
    assert.deepEqual(job.progress, { total: 6, done: 6, failed: 0 });
    const listed = await call<{ data: EvalJobBody[] }>('GET', '/v1/evals');
    assert.deepEqual(listed.json.data[0]?.progress, { total: 6, done: 6, failed: 0 });
    const stats = job.result!.summary.stats;
    assert.deepEqual(stats.map((row) => [row.architecture, row.n]).sort(), [
      ['single', 3],
      ['vote', 3],
    ]);
    for (const row of stats) assert.ok(row.accuracyCi.low <= row.accuracy && row.accuracy <= row.accuracyCi.high);
    const comparisons = job.result!.summary.comparisons;
    assert.equal(comparisons.length, 1);
    assert.equal(comparisons[0]!.pairs, 3);
  });
});
