import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StudyResult } from '../lab/index.ts';
import { StudyJobs } from './study-jobs.ts';

describe('study job progress', () => {
  it('records the cells done as the lab reports them', async () => {
    let report: ((progress: { total: number; done: number; failed: number }) => void) | undefined;
    let finish!: () => void;
    const jobs = new StudyJobs({
      run: (request) => {
        report = request.onProgress as typeof report;
        return new Promise<StudyResult>((resolve) => (finish = () => resolve({ status: 'ok', simulated: true } as StudyResult)));
      },
    });
    const job = await jobs.start('p1', { quick: 'sim' }, false);
    assert.equal(job.progress, null);
    report!({ total: 16, done: 5, failed: 1 });
    assert.deepEqual(jobs.get('p1')!.progress, { total: 16, done: 5, failed: 1 });
    report!({ total: 16, done: 16, failed: 1 });
    finish();
    await job.finished;
    assert.equal(job.status, 'ok');
    assert.deepEqual(job.progress, { total: 16, done: 16, failed: 1 });
  });
});
