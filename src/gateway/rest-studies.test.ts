/**
 * Studies over REST, on a real socket: a tiny simulated study started as a background job, polled to its
 * end (result and report say SIMULATED), a long one cancelled part-way, refusals (422 before any cell runs,
 * 409 for an id already running, 403 for a client key, 503 while draining), and the paths in /openapi.json.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from './server.ts';
import { callJson, startKeyedTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-studies-'));
let test: TestGateway;
let server: RunningGateway;
let admin: string;
let client: string;

/** The smallest study that still exercises the lab end to end: 2 items × 2 architectures × 1 budget × 1 model. */
const tiny = {
  quick: 'sim',
  suites: ['arithmetic'],
  architectures: ['single', 'vote'],
  budgets: [2000],
  models: ['sim:small'],
  items: 2,
};

interface ErrorBody {
  error: { type: string; code: string | null; message: string; issues?: { path: string; message: string }[] };
}
interface StudyResultBody {
  studyId: string;
  status: string;
  simulated: boolean;
  counts: { planned: number; executed: number; resumed: number; failed: number; notStarted: number };
  table: { architecture: string }[];
}
interface JobBody {
  id: string;
  status: string;
  request: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
  simulated: boolean | null;
  result?: StudyResultBody | null;
  error: ErrorBody['error'] | null;
}

/** A request with a key (see callJson). */
const call = <T = ErrorBody>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: T }> =>
  callJson<T>(server.url, method, path, token, body);

/** Polls until the job is no longer running (the test runner's timeout bounds it). */
async function finished(id: string): Promise<JobBody & { result: StudyResultBody | null }> {
  for (;;) {
    const { status, json } = await call<JobBody & { result: StudyResultBody | null }>('GET', `/v1/studies/${id}`, admin);
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

describe('studies REST', () => {
  it('runs a tiny study in the background: 202, polled to ok, the result and its report say simulated', async () => {
    const started = await call<JobBody>('POST', '/v1/studies', admin, { ...tiny, id: 'tiny' });
    assert.equal(started.status, 202);
    assert.equal(started.json.id, 'tiny');
    assert.equal(started.json.status, 'running');

    const job = await finished('tiny');
    assert.equal(job.status, 'ok');
    assert.equal(job.error, null);
    assert.equal(job.simulated, true);
    assert.ok(job.result);
    assert.equal(job.result.simulated, true);
    assert.equal(job.result.studyId, 'tiny');
    assert.equal(job.result.status, 'ok');
    assert.deepEqual(job.result.counts, { planned: 4, executed: 4, resumed: 0, failed: 0, notStarted: 0 });
    assert.deepEqual(job.result.table.map((row) => row.architecture).sort(), ['single', 'vote']);
    assert.deepEqual(job.request, {
      quick: 'sim',
      suites: 'arithmetic',
      architectures: 'single,vote',
      budgets: '2000',
      models: 'sim:small',
      items: 2,
    });
    assert.ok(job.finished_at !== null && job.finished_at >= job.started_at);
    // The report goes beside the journal, in a folder named by the study id.
    assert.ok(existsSync(join(folder, 'studies', 'tiny', 'report.json')));

    const report = await call<{ simulated: boolean; run: { studyId: string } }>('GET', '/v1/studies/tiny/report', admin);
    assert.equal(report.status, 200);
    assert.equal(report.json.simulated, true);
    assert.equal(report.json.run.studyId, 'tiny');

    const listed = await call<{ data: JobBody[] }>('GET', '/v1/studies', admin);
    assert.equal(listed.status, 200);
    const entry = listed.json.data.find((item) => item.id === 'tiny');
    assert.equal(entry?.status, 'ok');
    assert.equal(entry.result, undefined, 'the list leaves the results out');

    // The same id again resumes: every cell is already journaled.
    assert.equal((await call('POST', '/v1/studies', admin, { ...tiny, id: 'tiny' })).status, 202);
    const resumed = await finished('tiny');
    assert.deepEqual(resumed.result?.counts, { planned: 4, executed: 0, resumed: 4, failed: 0, notStarted: 0 });
    // A refused restart leaves the finished job as it was.
    assert.equal((await call('POST', '/v1/studies', admin, { ...tiny, id: 'tiny', suites: ['nonsense'] })).status, 422);
    assert.equal((await finished('tiny')).result?.counts.resumed, 4);
  });

  it('cancels a running study; an id already running is 409, a third study at once 429, a cancel after the end 409', async () => {
    // The whole quick study (thousands of cells) cannot finish between these requests.
    const started = await call<JobBody>('POST', '/v1/studies', admin, { quick: 'sim', id: 'long' });
    assert.equal(started.status, 202);
    const twice = await call('POST', '/v1/studies', admin, { quick: 'sim', id: 'long' });
    assert.equal(twice.status, 409);
    assert.equal(twice.json.error.code, 'study_running');
    assert.equal((await call('GET', '/v1/studies/long/report', admin)).json.error.code, 'report_not_written');
    // Two at once at most: a third is refused until one ends.
    assert.equal((await call('POST', '/v1/studies', admin, { quick: 'sim', id: 'long-2' })).status, 202);
    const third = await call('POST', '/v1/studies', admin, { quick: 'sim', id: 'long-3' });
    assert.equal(third.status, 429);
    assert.equal(third.json.error.code, 'too_many_studies');
    assert.equal((await call('POST', '/v1/studies/long-2/cancel', admin)).status, 202);
    assert.equal((await finished('long-2')).status, 'cancelled');

    const cancel = await call<unknown>('POST', '/v1/studies/long/cancel', admin);
    assert.equal(cancel.status, 202);
    assert.deepEqual(cancel.json, { id: 'long', cancelling: true });
    const job = await finished('long');
    assert.equal(job.status, 'cancelled');
    // Cancelled part-way: the finished cells are reported (and journaled, for a resume), the rest never ran.
    assert.ok(job.result);
    assert.equal(job.result.status, 'cancelled');
    assert.equal(job.result.simulated, true);
    assert.ok(job.result.counts.notStarted > 0);
    assert.equal(job.result.counts.executed + job.result.counts.notStarted, job.result.counts.planned);

    const late = await call('POST', '/v1/studies/long/cancel', admin);
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'study_not_running');
  });

  it('refuses an invalid study before any cell runs (422), unknown ids (404) and path-like ids', async () => {
    const unknownSuite = await call('POST', '/v1/studies', admin, { ...tiny, id: 'bad', suites: ['nonsense'] });
    assert.equal(unknownSuite.status, 422);
    assert.equal(unknownSuite.json.error.type, 'invalid_request_error');
    assert.ok((unknownSuite.json.error.issues ?? []).some((issue) => issue.path === '--suites'));
    assert.equal((await call('GET', '/v1/studies/bad', admin)).status, 404, 'a refused study leaves no job');
    const unknownModel = await call('POST', '/v1/studies', admin, { ...tiny, id: 'bad', models: ['sim:no-such-profile'] });
    assert.equal(unknownModel.status, 422);
    assert.match(unknownModel.json.error.message, /no-such-profile/);

    const invalid = await call('POST', '/v1/studies', admin, { id: '../escape', items: 0, report: '/etc', study: '/etc/passwd' });
    assert.equal(invalid.status, 422);
    const paths = (invalid.json.error.issues ?? []).map((issue) => issue.path);
    for (const path of ['id', 'items']) assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    assert.match(invalid.json.error.message, /report|study/, 'unknown keys (a server path) are refused');

    const missing = await call('GET', '/v1/studies/nope', admin);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.type, 'not_found_error');
    assert.equal((await call('GET', '/v1/studies/nope/report', admin)).status, 404);
    assert.equal((await call('POST', '/v1/studies/nope/cancel', admin)).status, 404);
  });

  it('is admin only, and refuses new studies while draining', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/studies', tiny],
      ['GET', '/v1/studies', undefined],
      ['GET', '/v1/studies/tiny', undefined],
      ['GET', '/v1/studies/tiny/report', undefined],
      ['POST', '/v1/studies/tiny/cancel', undefined],
    ] as const) {
      const answer = await call(method, path, client, body);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.json.error.code, 'admin_required');
    }

    server.gateway.context.draining = true;
    try {
      const refused = await call('POST', '/v1/studies', admin, tiny);
      assert.equal(refused.status, 503);
      assert.equal(refused.json.error.type, 'service_unavailable');
      assert.equal(refused.json.error.code, 'draining');
    } finally {
      server.gateway.context.draining = false;
    }
  });

  it('lists the study routes in /openapi.json', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(document.paths['/v1/studies']?.['post']);
    assert.ok(document.paths['/v1/studies']?.['get']);
    assert.ok(document.paths['/v1/studies/{id}']?.['get']);
    assert.ok(document.paths['/v1/studies/{id}/cancel']?.['post']);
    assert.ok(document.paths['/v1/studies/{id}/report']?.['get']);
  });

  // Last: draining leaves the gateway refusing new work.
  it('cancels running studies when the gateway drains', async () => {
    assert.equal((await call('POST', '/v1/studies', admin, { quick: 'sim', id: 'drained' })).status, 202);
    await server.gateway.drain(1_000);
    const job = server.gateway.context.studies.get('drained');
    assert.equal(job?.status, 'cancelled');
    assert.equal(server.gateway.context.studies.running, 0);
  });
});
