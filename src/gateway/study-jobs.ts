/**
 * Studies the gateway runs in the background (POST /v1/studies answers 202 at once): one record per job with
 * its status, timestamps, the StudyResult or the error, and the controller that cancels it. In memory only —
 * the study's cells are journaled by the lab, so a study cut short (cancel, shutdown, crash) resumes when it
 * is started again with the same id.
 */
import { CancelledError, ThicketError } from '../core/index.ts';
import type { EvalRequest, EvalResult, StudyRequest, StudyResult } from '../lab/index.ts';
import { toGatewayError, type OpenAIErrorBody } from './errors.ts';

export type StudyJobStatus = 'running' | 'ok' | 'error' | 'cancelled';

/** What a background job's request and result must carry (studies, and evals: `thicket.eval`). */
export interface JobRequest {
  id?: string;
  report?: string | false;
  signal?: AbortSignal;
}
export interface JobResult {
  status: string;
  simulated: boolean;
}

export interface StudyJob<Request extends JobRequest = StudyRequest, Result extends JobResult = StudyResult> {
  /** The study id (also the report folder's name): starting it again resumes its finished cells. */
  id: string;
  status: StudyJobStatus;
  /** What was asked, as given (without the server-chosen report folder). */
  request: Omit<Request, 'signal' | 'report' | 'study' | 'onProgress'>;
  startedAt: string;
  finishedAt: string | null;
  /** Set when the study ran to its end or was cancelled part-way (a cancelled study reports its finished cells). */
  result: Result | null;
  /** Cells done of the total so far (null until the lab has planned the study). */
  progress: { total: number; done: number; failed: number } | null;
  /** Set when the study failed before producing a result. */
  error: OpenAIErrorBody['error'] | null;
  /** Settles (never rejects) when the job has finished. */
  finished: Promise<void>;
}

export interface StudyJobsOptions<Request extends JobRequest = StudyRequest, Result extends JobResult = StudyResult> {
  /** Runs one study: `thicket.study` of the gateway's instance (or one eval: `thicket.eval`). */
  run: (request: Request) => Promise<Result>;
  /** Studies running at once; more are refused (each keeps the CPU busy). Default 2. */
  maxRunning?: number;
  /** Finished jobs remembered (oldest forgotten first; their reports stay on disk). Default 100. */
  keepFinished?: number;
  now?: () => Date;
}

export class StudyJobs<Request extends JobRequest = StudyRequest, Result extends JobResult = StudyResult> {
  private readonly jobs = new Map<string, StudyJob<Request, Result> & { controller: AbortController }>();
  private readonly run: StudyJobsOptions<Request, Result>['run'];
  readonly maxRunning: number;
  private readonly keepFinished: number;
  private readonly now: () => Date;

  constructor(options: StudyJobsOptions<Request, Result>) {
    this.run = options.run;
    this.maxRunning = options.maxRunning ?? 2;
    this.keepFinished = options.keepFinished ?? 100;
    this.now = options.now ?? (() => new Date());
  }

  /** Jobs running now. */
  get running(): number {
    let count = 0;
    for (const job of this.jobs.values()) if (job.status === 'running') count += 1;
    return count;
  }

  /**
   * Starts a study in the background; resolves with its job once the lab has accepted the request. The lab
   * checks the whole request (suites, architectures, models, folders) synchronously before any cell runs, so
   * a refusal has settled by the next turn of the event loop: it is thrown (a typed InvalidInputError, 422
   * over HTTP) and leaves no job — a finished job of the same id stays as it was. The caller checks first that
   * no job with this id is running and that fewer than `maxRunning` are (the route answers 409 / 429).
   */
  async start(id: string, request: StudyJob<Request, Result>['request'], report: string | false): Promise<StudyJob<Request, Result>> {
    const controller = new AbortController();
    const job: StudyJob<Request, Result> & { controller: AbortController } = {
      id,
      status: 'running',
      request,
      startedAt: this.now().toISOString(),
      finishedAt: null,
      result: null,
      progress: null,
      error: null,
      finished: Promise.resolve(),
      controller,
    };
    let failure: unknown;
    const onProgress = (progress: { total: number; done: number; failed: number }): void => {
      job.progress = { total: progress.total, done: progress.done, failed: progress.failed };
    };
    // The request as given, with the server's id, report folder, signal and progress callback (a Request by construction).
    job.finished = this.run({ ...request, id, report, signal: controller.signal, onProgress } as unknown as Request).then(
      (result) => {
        job.result = result;
        job.status = result.status === 'cancelled' ? 'cancelled' : result.status === 'error' ? 'error' : 'ok';
        job.finishedAt = this.now().toISOString();
      },
      (error: unknown) => {
        failure = error;
        job.status = error instanceof CancelledError || controller.signal.aborted ? 'cancelled' : 'error';
        job.error = toGatewayError(error).body().error;
        job.finishedAt = this.now().toISOString();
      },
    );
    // In the map at once, so that a second request for this id meanwhile sees it running.
    const previous = this.jobs.get(id);
    this.jobs.delete(id); // a restart of a finished id moves it to the end (newest)
    this.jobs.set(id, job);
    await new Promise((resolve) => setImmediate(resolve));
    // Any bad-input refusal (an eval's DATASET_INVALID too, not only INVALID_INPUT) is the request's fault: 422, no job.
    if (failure instanceof ThicketError && (failure.category === 'bad_input' || failure.code === 'INVALID_CONFIG')) {
      this.jobs.delete(id);
      if (previous) this.jobs.set(id, previous);
      throw failure;
    }
    this.forgetOldest();
    return job;
  }

  get(id: string): StudyJob<Request, Result> | undefined {
    return this.jobs.get(id);
  }

  /** Oldest first. */
  list(): Array<StudyJob<Request, Result>> {
    return [...this.jobs.values()];
  }

  /** Requests cancellation; false when no job with this id is running. */
  cancel(id: string, reason = 'Cancelled through the gateway.'): boolean {
    const job = this.jobs.get(id);
    if (!job || job.status !== 'running') return false;
    job.controller.abort(new CancelledError(reason));
    return true;
  }

  /** Cancels every running job (shutdown: they resume when started again with the same id). */
  cancelAll(reason: string): void {
    for (const job of this.jobs.values()) if (job.status === 'running') job.controller.abort(new CancelledError(reason));
  }

  /** Waits up to `timeoutMs` for every running job to finish; true when they all did. */
  async settled(timeoutMs: number): Promise<boolean> {
    const running = [...this.jobs.values()].filter((job) => job.status === 'running').map((job) => job.finished);
    if (running.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([Promise.all(running).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private forgetOldest(): void {
    let finished = [...this.jobs.values()].filter((job) => job.status !== 'running').length;
    for (const job of this.jobs.values()) {
      if (finished <= this.keepFinished) return;
      if (job.status === 'running') continue;
      this.jobs.delete(job.id);
      finished -= 1;
    }
  }
}

/** Evaluations (`thicket.eval`) run as the same kind of background job (POST /v1/evals). */
export type EvalJobs = StudyJobs<EvalRequest, EvalResult>;
