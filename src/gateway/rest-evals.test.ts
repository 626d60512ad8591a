/**
 * Evals over REST, on a real socket (mirrors rest-studies.test.ts): a small GSM8K-shaped eval sent as rows,
 * run on the simulated fleet as a background job, polled to its end, its result (accuracy with CIs, paired
 * comparisons) equal to the same eval run in process; a restart resumes; a long one cancelled; bad bodies
 * refused with every problem listed; custom scorer modules refused; admin only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createThicket, type EvalResult } from '../lab/index.ts';
import type { RunningGateway } from './server.ts';
import { callJson, startKeyedTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-evals-'));
let test: TestGateway;
let server: RunningGateway;
let admin: string;
let client: string;

/** Four GSM8K-shaped rows (answer after `####`), as a client would send them. */
const rows = [
  { id: 'a', question: 'What is 25+17?', answer: 'Work: 25+17 = 42.\n#### 42' },
  { id: 'b', question: 'What is 8*9?', answer: 'Work: 8*9 = 72.\n#### 72' },
  { id: 'c', question: 'What is 100-37?', answer: 'Work: 100-37 = 63.\n#### 63' },
  { id: 'd', question: 'What is (12+7)*3-4?', answer: 'Work: (12+7)*3-4 = 53.\n#### 53' },
];
const small = { rows, preset: 'gsm8k', id_field: 'id', strategies: ['single', 'vote'], budgets: [2000], models: ['sim:small'] };

interface ErrorBody {
  error: { type: string; code: string | null; message: string; param: string | null; issues?: { path: string; message: string }[] };
}
interface JobBody {
  id: string;
  status: string;
  request: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
  simulated: boolean | null;
  status_url?: string;
  result?: EvalResult | null;
  error: ErrorBody['error'] | null;
}

const call = <T = ErrorBody>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: T }> =>
  callJson<T>(server.url, method, path, token, body);

async function finished(id: string): Promise<JobBody> {
  for (;;) {
    const { status, json } = await call<JobBody>('GET', `/v1/evals/${id}`, admin);
    assert.equal(status, 200);
    if (json.status !== 'running') return json;
    await sleep(25);
  }
}

before(async () => {
  ({ test, admin, client } = await startKeyedTestGateway(folder));
  server = test.running;
});

after(() => test.close());

describe('evals REST', () => {
  it('runs an eval on rows sent in the body: 202, polled to ok, accuracy with CIs and paired comparisons; a restart resumes', async () => {
    const started = await call<JobBody>('POST', '/v1/evals', admin, { ...small, id: 'gsm' });
    assert.equal(started.status, 202);
    assert.equal(started.json.id, 'gsm');
    assert.equal(started.json.status, 'running');
    assert.equal(started.json.status_url, '/v1/evals/gsm');
    assert.equal(started.json.result, undefined);

    const job = await finished('gsm');
    assert.equal(job.status, 'ok', JSON.stringify(job.error));
    assert.equal(job.error, null);
    assert.equal(job.simulated, true);
    // The request as sent, in the lab's terms; the server-side dataset path is not shown.
    assert.deepEqual(job.request, {
      models: 'sim:small',
      preset: 'gsm8k',
      idField: 'id',
      strategies: 'single,vote',
      budgets: '2000',
    });
    const result = job.result!;
    assert.equal(result.evalId, 'gsm');
    assert.equal(result.status, 'ok');
    assert.equal(result.simulated, true);
    assert.deepEqual(result.counts, { planned: 8, executed: 8, resumed: 0, failed: 0, notStarted: 0 });
    assert.equal(result.summary.scorer, 'numeric');
    assert.equal(result.summary.dataset.items, 4);
    assert.deepEqual(result.summary.dataset.skipped, []);
    assert.deepEqual(
      result.summary.stats.map((row) => [row.model, row.architecture, row.budget, row.n]),
      [
        ['sim:small', 'single', 2000, 4],
        ['sim:small', 'vote', 2000, 4],
      ],
    );
    // Four easy items that sim:small gets right both ways: accuracy 1, a degenerate interval [1, 1]; vote spends more.
    for (const row of result.summary.stats) {
      assert.equal(row.accuracy, 1, row.architecture);
      assert.deepEqual(row.accuracyCi, { low: 1, high: 1 });
      assert.ok(row.tokensCi.low <= row.meanTokens && row.meanTokens <= row.tokensCi.high);
    }
    const tokens = (architecture: string): number => result.summary.stats.find((row) => row.architecture === architecture)!.meanTokens;
    assert.ok(tokens('vote') > tokens('single'));
    // The paired comparison on the same 4 items: no discordant pair, so no difference, p = 1, within noise.
    assert.equal(result.summary.comparisons.length, 1);
    const comparison = result.summary.comparisons[0]!;
    assert.deepEqual(
      [comparison.factor, comparison.a.architecture, comparison.b.architecture, comparison.pairs, comparison.difference],
      ['architecture', 'single', 'vote', 4, 0],
    );
    assert.deepEqual(comparison.mcnemar, { aOnly: 0, bOnly: 0, p: 1 });
    assert.equal(comparison.bootstrapP, 1);
    assert.equal(comparison.withinNoise, true);
    // The report is written beside the journal, in the eval's folder, with the dataset sent.
    assert.ok(existsSync(join(folder, 'evals', 'gsm', 'report', 'eval.json')));
    const saved = readFileSync(join(folder, 'evals', 'gsm', 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      saved.map((line) => JSON.parse(line) as unknown),
      rows,
    );

    // The same eval in process (its own journal, the same rows in a file) gives the same numbers.
    const alone = mkdtempSync(join(tmpdir(), 'thicket-eval-alone-'));
    try {
      const dataset = join(alone, 'rows.jsonl');
      writeFileSync(dataset, rows.map((row) => JSON.stringify(row)).join('\n'));
      const thicket = await createThicket({ journal: join(alone, 'j.db'), registry: join(alone, 'r.db') });
      const local = await thicket.eval({
        dataset,
        preset: 'gsm8k',
        id: 'gsm',
        idField: 'id',
        strategies: 'single,vote',
        budgets: '2000',
        models: 'sim:small',
        report: false,
      });
      await thicket.close();
      assert.deepEqual(local.summary.stats, result.summary.stats);
      assert.deepEqual(local.summary.comparisons, result.summary.comparisons);
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }

    const listed = await call<{ data: JobBody[] }>('GET', '/v1/evals', admin);
    assert.equal(listed.status, 200);
    const entry = listed.json.data.find((item) => item.id === 'gsm');
    assert.equal(entry?.status, 'ok');
    assert.equal(entry.result, undefined, 'the list leaves the results out');

    // The same id again resumes every cell from the journal, with the same numbers.
    assert.equal((await call('POST', '/v1/evals', admin, { ...small, id: 'gsm' })).status, 202);
    const resumed = await finished('gsm');
    assert.deepEqual(resumed.result?.counts, { planned: 8, executed: 0, resumed: 8, failed: 0, notStarted: 0 });
    assert.deepEqual(resumed.result.summary.stats, result.summary.stats);
    // Changed rows under the same id are refused (the journaled cells scored other answers); the job stays as it was.
    const changed = [...rows.slice(0, 3), { id: 'd', question: 'What is 2+2?', answer: '#### 4' }];
    const refused = await call('POST', '/v1/evals', admin, { ...small, id: 'gsm', rows: changed });
    assert.equal(refused.status, 422, JSON.stringify(refused.json));
    assert.equal(refused.json.error.type, 'invalid_request_error');
    assert.equal((await finished('gsm')).result?.counts.resumed, 8);
  });

  it('refuses bad bodies (422) listing each problem with its path, before any job exists', async () => {
    const invalid = await call('POST', '/v1/evals', admin, {
      id: '../escape',
      rows: [],
      models: [],
      budgets: [0],
      preset: 'nonsense',
      dataset: '/etc/passwd',
    });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.json.error.type, 'invalid_request_error');
    const paths = (invalid.json.error.issues ?? []).map((issue) => issue.path);
    for (const path of ['id', 'rows', 'models', 'budgets.0', 'preset']) assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    for (const issue of invalid.json.error.issues ?? []) assert.ok(issue.message.length > 0, issue.path);
    assert.match(invalid.json.error.message, /dataset/, 'an unknown key (a server path) is refused');
    assert.equal((await call('GET', '/v1/evals/..%2Fescape', admin)).status, 422, 'not an eval id');

    // Not JSON at all, and a body that is not an object.
    const notJson = await fetch(`${server.url}/v1/evals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{"rows": [',
    });
    assert.ok(notJson.status >= 400 && notJson.status < 500, `status ${notJson.status}`);
    assert.equal(((await notJson.json()) as ErrorBody).error.type, 'invalid_request_error');
    assert.equal((await call('POST', '/v1/evals', admin, [1, 2])).status, 422);

    // Valid JSON, refused by the lab before any cell runs: no job is left behind.
    const unknownModel = await call('POST', '/v1/evals', admin, { ...small, id: 'bad-model', models: ['sim:no-such-profile'] });
    assert.equal(unknownModel.status, 422, JSON.stringify(unknownModel.json));
    assert.match(unknownModel.json.error.message + JSON.stringify(unknownModel.json.error.issues), /no-such-profile/);
    assert.equal((await call('GET', '/v1/evals/bad-model', admin)).status, 404, 'a refused eval leaves no job');

    const unknownStrategy = await call('POST', '/v1/evals', admin, { ...small, id: 'bad-strategy', strategies: ['nonsense'] });
    assert.equal(unknownStrategy.status, 422, JSON.stringify(unknownStrategy.json));
    assert.equal((await call('GET', '/v1/evals/bad-strategy', admin)).status, 404);

    // Rows the preset cannot read, with strict: every bad row named (its line and field), no job.
    const strictRows = [{ question: 'What is 1+1?', answer: '#### 2' }, { question: 'no answer here' }, { answer: '#### 3' }];
    const strict = await call('POST', '/v1/evals', admin, {
      ...small,
      id: 'bad-rows',
      id_field: undefined,
      rows: strictRows,
      strict: true,
    });
    assert.equal(strict.status, 422, JSON.stringify(strict.json));
    const rowIssues = (strict.json.error.issues ?? []).map((issue) => issue.path);
    assert.equal(rowIssues.length, 2, JSON.stringify(strict.json.error));
    assert.equal((await call('GET', '/v1/evals/bad-rows', admin)).status, 404);
    // The id field is honoured: one the rows lack is a bad row in each (refused under strict).
    const noIds = await call('POST', '/v1/evals', admin, { ...small, id: 'bad-ids', id_field: 'nope', strict: true });
    assert.equal(noIds.status, 422, JSON.stringify(noIds.json));
    assert.equal(noIds.json.error.issues?.length, 4, JSON.stringify(noIds.json.error));

    const missing = await call('GET', '/v1/evals/nope', admin);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.type, 'not_found_error');
    assert.equal(missing.json.error.code, 'eval_not_found');
    assert.equal((await call('POST', '/v1/evals/nope/cancel', admin)).status, 404);
  });

  it('refuses custom scorer modules over HTTP (they would run the client’s code in the gateway)', async () => {
    const scorerFile = join(folder, 'evil-scorer.mjs');
    writeFileSync(scorerFile, 'export default () => 1;\n');
    for (const scorer of [scorerFile, './evil-scorer.mjs', 'file:///tmp/x.mjs', 'exact; rm -rf /']) {
      const refused = await call('POST', '/v1/evals', admin, { ...small, id: 'custom', scorer });
      assert.equal(refused.status, 422, scorer);
      assert.deepEqual(
        refused.json.error.issues?.map((issue) => issue.path),
        ['scorer'],
        scorer,
      );
    }
    assert.equal((await call('GET', '/v1/evals/custom', admin)).status, 404);
    // Built-in scorers and the judge are accepted.
    const exact = await call<JobBody>('POST', '/v1/evals', admin, { ...small, id: 'exact', scorer: 'numeric:1%' });
    assert.equal(exact.status, 202);
    assert.equal((await finished('exact')).result?.summary.scorer, 'numeric:1%');
  });

  it('cancels a running eval; an id already running is 409, a third eval at once 429, a cancel after the end 409', async () => {
    // 3,000 items × 2 strategies × 3 budgets cannot finish between these requests.
    const many = Array.from({ length: 3000 }, (_, index) => ({ question: `What is ${index}+1?`, answer: `#### ${index + 1}` }));
    const long = { rows: many, preset: 'gsm8k', strategies: ['single', 'vote'], budgets: [1000, 2000, 4000], models: ['sim:small'] };
    const started = await call<JobBody>('POST', '/v1/evals', admin, { ...long, id: 'long' });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const twice = await call('POST', '/v1/evals', admin, { ...long, id: 'long' });
    assert.equal(twice.status, 409);
    assert.equal(twice.json.error.code, 'eval_running');
    // Two at once at most: a third is refused until one ends.
    assert.equal((await call('POST', '/v1/evals', admin, { ...long, id: 'long-2' })).status, 202);
    const third = await call('POST', '/v1/evals', admin, { ...long, id: 'long-3' });
    assert.equal(third.status, 429);
    assert.equal(third.json.error.code, 'too_many_evals');
    assert.equal((await call('POST', '/v1/evals/long-2/cancel', admin)).status, 202);
    assert.equal((await finished('long-2')).status, 'cancelled');

    const cancel = await call<unknown>('POST', '/v1/evals/long/cancel', admin);
    assert.equal(cancel.status, 202);
    assert.deepEqual(cancel.json, { id: 'long', cancelling: true });
    const job = await finished('long');
    assert.equal(job.status, 'cancelled');
    // Cancelled part-way: the finished cells are reported (and journaled, for a resume), the rest never ran.
    assert.ok(job.result);
    assert.equal(job.error, null);
    assert.equal(job.result.status, 'cancelled');
    assert.equal(job.result.counts.planned, 3000 * 2 * 3);
    assert.ok(job.result.counts.notStarted > 0);
    assert.equal(job.result.counts.executed + job.result.counts.notStarted + job.result.counts.failed, job.result.counts.planned);

    const late = await call('POST', '/v1/evals/long/cancel', admin);
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'eval_not_running');
  });

  it('is admin only, and refuses new evals while draining', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/evals', small],
      ['GET', '/v1/evals', undefined],
      ['GET', '/v1/evals/gsm', undefined],
      ['POST', '/v1/evals/gsm/cancel', undefined],
    ] as const) {
      const answer = await call(method, path, client, body);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.json.error.code, 'admin_required');
    }
    const anonymous = await fetch(`${server.url}/v1/evals`);
    assert.equal(anonymous.status, 401);

    server.gateway.context.draining = true;
    try {
      const refused = await call('POST', '/v1/evals', admin, small);
      assert.equal(refused.status, 503);
      assert.equal(refused.json.error.code, 'draining');
    } finally {
      server.gateway.context.draining = false;
    }
  });

  it('lists the eval routes in /openapi.json', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(document.paths['/v1/evals']?.['post']);
    assert.ok(document.paths['/v1/evals']?.['get']);
    assert.ok(document.paths['/v1/evals/{id}']?.['get']);
    assert.ok(document.paths['/v1/evals/{id}/cancel']?.['post']);
  });
});
