/**
 * `thicket worker`: consumes study and eval cells from BullMQ and runs each exactly as the in-process runner
 * would (study-cells.ts), journaling it in the study's journal before acknowledging the job.
 *
 * Crashes: a worker killed mid-job loses its BullMQ lock; after `lockMs` the job is stalled and handed to
 * another worker (up to `maxStalls` times). The retried cell replays, from the shared journal, every model call
 * the dead worker had journaled — nothing journaled is paid twice — and writes the same result, because a cell
 * is a pure function of the study's specification and seed. A call the dead worker had sent but not yet
 * journaled is left as an orphaned intent (journaled before sending), which `thicket runs show` reports.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import { DelayedError, Worker, UnrecoverableError, type Job } from 'bullmq';
import { toThicketError, type ThicketError } from '../../core/index.ts';
import { connectRedisSharedLedger, Ledger, type SharedLedger, type SharedScope } from '../../budget/index.ts';
import { Journal } from '../../journal/index.ts';
import type { FleetConfig } from '../../models/index.ts';
import { defaultArchitectures, type ArchitectureRegistry } from '../architectures.ts';
import {
  budgetLimits,
  CELL_STEP_KIND,
  cellWorstCase,
  executeCell,
  prepareStudy,
  type PlannedCell,
  type PreparedStudy,
} from '../study-cells.ts';
import type { CriticalityHook, SuiteInstance } from '../types.ts';
import { datasetSuite } from '../datasets/index.ts';
import { resolveScorer } from '../scorers/index.ts';
import {
  WORKER_QUEUES,
  cellJobSchema,
  studyScope,
  studySpecKey,
  type CellReport,
  type StudySpec,
  type WorkerQueueName,
} from './contract.ts';
import { checkRedis, redisConnection } from './redis.ts';

export interface StartWorkerOptions {
  redisUrl: string;
  /** Cells run at once in this process (default 4). */
  concurrency?: number;
  /** Queues to consume (default: all, today `cells`). */
  queues?: readonly WorkerQueueName[];
  /** Key prefix of the queues in Redis (default `thicket`; the coordinator must use the same). */
  prefix?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried elsewhere after it (default 30 s). */
  lockMs?: number;
  /** How many times a job may be stalled by dead workers before it fails (default 50). */
  maxStalls?: number;
  architectures?: ArchitectureRegistry;
  criticality?: CriticalityHook;
  /** A name in reports and logs (default host:pid). */
  name?: string;
  /** One line per event worth a log line (cell done, job failed, Redis lost). */
  log?: (line: string) => void;
}

export interface RunningWorker {
  readonly name: string;
  /** Cells this process finished (ok or error). */
  readonly processed: number;
  /** Stops taking jobs, waits for the running ones, closes connections and journals. */
  close(): Promise<void>;
}

interface LoadedSpec {
  spec: StudySpec;
  prepared: PreparedStudy;
  byStep: Map<string, PlannedCell>;
}

/** An eval's suites, rebuilt from the spec: the items it carries, its scorer, a corpus folder of this worker's own. */
async function datasetSuites(
  dataset: NonNullable<StudySpec['dataset']>,
  specId: string,
): Promise<{ build(seed: number): SuiteInstance[]; identity: unknown }> {
  const scorer = await resolveScorer(dataset.scorer, dataset.scorerBase);
  // Per process: workers on one machine would otherwise rewrite one corpus file under each other's reads.
  const corpusDir = join(tmpdir(), 'thicket-worker', `${specId}-${process.pid}`);
  return {
    build: (seed) => [datasetSuite(dataset.loaded, { name: 'data', seed, scorer, corpusPath: join(corpusDir, `data-s${seed}.jsonl`) })],
    identity: dataset.identity,
  };
}

export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const prefix = options.prefix ?? 'thicket';
  const log = options.log ?? (() => undefined);
  const architectures = options.architectures ?? defaultArchitectures();
  const connection = redisConnection(options.redisUrl);
  await checkRedis(connection, options.redisUrl);
  const specs = new Map<string, Promise<LoadedSpec>>();
  const journals = new Map<string, Journal>();
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  let processed = 0;
  let duplicatesLogged = 0;

  const loadSpec = (specId: string): Promise<LoadedSpec> => {
    let loaded = specs.get(specId);
    if (!loaded) {
      loaded = (async () => {
        const text = await connection.get(studySpecKey(prefix, specId));
        // Retryable: a coordinator that outlived a Redis restart writes the spec again before re-enqueuing.
        if (text === null) throw new Error(`study spec ${specId} is not in Redis (expired, or Redis restarted)`);
        const spec = JSON.parse(text) as StudySpec;
        const prepared = prepareStudy(spec.study, {
          config: spec.config as FleetConfig,
          architectures,
          ...(spec.corpusDir !== undefined ? { corpusDir: spec.corpusDir } : {}),
          ...(spec.allowUnpriced === true ? { allowUnpriced: true } : {}),
          ...(spec.dataset ? { suites: await datasetSuites(spec.dataset, specId) } : {}),
        });
        return { spec, prepared, byStep: new Map(prepared.plan.map((cell) => [cell.stepId, cell])) };
      })();
      loaded.catch(() => specs.delete(specId));
      specs.set(specId, loaded);
    }
    return loaded;
  };
  // The study-wide caps of studies that have them, shared by every worker: on the same Redis as the queue.
  let sharedLedger: Promise<SharedLedger> | undefined;
  const shared = (): Promise<SharedLedger> => {
    sharedLedger ??= connectRedisSharedLedger({ url: options.redisUrl, prefix: `${prefix}:ledger:` });
    sharedLedger.catch(() => (sharedLedger = undefined));
    return sharedLedger;
  };
  const leaseMs = options.lockMs ?? 30_000;
  const journalFor = (target: string): Journal => {
    let journal = journals.get(target);
    if (!journal || !journal.isOpen) {
      journals.set(target, (journal = Journal.open(target)));
      // A job can run twice at once here (a lost lock): the second copy's calls are duplicates, not conflicts.
      journal.acceptDuplicateCalls = true;
    }
    return journal;
  };

  const runJob = async (job: Job, token?: string, jobSignal?: AbortSignal): Promise<CellReport> => {
    const parsed = cellJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`not a Thicket cell job (protocol ${String((job.data as { version?: unknown }).version)})`);
    const { runId, specId, stepId } = parsed.data;
    const { spec, prepared, byStep } = await loadSpec(specId);
    const cell = byStep.get(stepId);
    if (!cell) throw new UnrecoverableError(`cell ${stepId} is not in study ${spec.study.id}'s plan`);
    const journal = journalFor(spec.journal);
    const ledger = new Ledger({ clock: prepared.clock, rootName: 'study' });
    const budget = ledger.root.child(`c${cell.index}`, { limits: budgetLimits(prepared.study, cell.budget) });
    const counts = { newCalls: 0, replayedCalls: 0, newTokens: 0, newUsd: 0 };
    ledger.onEvent((event) => {
      if (event.kind === 'settle') {
        counts.newCalls += event.amount.calls;
        counts.newTokens += event.amount.inputTokens + event.amount.outputTokens;
        counts.newUsd += event.amount.usd;
      } else if (event.kind === 'charge') counts.replayedCalls += event.amount.calls;
    });
    const report = (outcome: CellReport['outcome']): CellReport => ({ runId, stepId, outcome, ...counts, worker: name });
    // A study-wide cap: the cell holds its whole matched budget on the shared scope before it starts (as the
    // in-process runner keeps room for running cells), under a lease renewed while it runs — a worker killed
    // mid-cell gives the room back within the lease — and settles what it spent, idempotently per cell.
    const limits = prepared.study.limits;
    const scopes: SharedScope[] =
      limits === undefined
        ? []
        : [
            {
              key: studyScope(runId),
              limits: {
                ...(limits.usd !== undefined ? { usd: limits.usd } : {}),
                ...(limits.tokens !== undefined ? { totalTokens: limits.tokens } : {}),
              },
            },
          ];
    const holdId = `cell|${String(job.id)}|${job.attemptsStarted}|${process.pid}`;
    let renewal: ReturnType<typeof setInterval> | undefined;
    if (scopes.length > 0) {
      const ledgerOnRedis = await shared();
      const worst = cellWorstCase(prepared, cell);
      const granted = await ledgerOnRedis.reserve(
        holdId,
        scopes,
        { inputTokens: worst.tokens, outputTokens: 0, usd: worst.usd, calls: 0 },
        leaseMs,
      );
      if (!granted.granted) {
        // Room may come back when running cells settle below their worst case: wait while any hold is live.
        if ((await ledgerOnRedis.usage(scopes[0]!.key)).holds > 0 && token !== undefined) {
          await job.moveToDelayed(Date.now() + 250, token);
          throw new DelayedError();
        }
        return report('no-room');
      }
      renewal = setInterval(() => void ledgerOnRedis.renew([holdId], leaseMs).catch(() => undefined), Math.max(100, leaseMs / 3));
      renewal.unref();
    }
    const settleShared = async (): Promise<void> => {
      if (renewal === undefined) return;
      clearInterval(renewal);
      const spent = budget.spent();
      await (await shared()).settle(`cell|${runId}|${stepId}`, holdId, scopes, spent);
    };
    let failure: ThicketError | undefined;
    try {
      const outcome = await executeCell(prepared, cell, {
        journal,
        runId,
        budget,
        signal: jobSignal ? AbortSignal.any([controller.signal, jobSignal]) : controller.signal,
        ...(options.criticality ? { criticality: options.criticality } : {}),
      });
      // Shut down mid-cell, or the lock lost: the job goes back to the queue (its journaled calls replay wherever it
      // runs next).
      if (!outcome) throw new Error(jobSignal?.aborted ? 'lock lost' : 'worker shutting down');
      journal.upsertStep(runId, outcome.step);
    } catch (caught) {
      if (controller.signal.aborted || jobSignal?.aborted) {
        await settleShared().catch(() => undefined);
        throw caught;
      }
      failure = toThicketError(caught);
      // The journal itself failing is the worker's trouble, not the cell's: let BullMQ retry the job elsewhere.
      if (failure.code === 'JOURNAL_ERROR' || failure.code === 'JOURNAL_FULL') {
        await settleShared().catch(() => undefined);
        throw failure;
      }
      journal.upsertStep(runId, { stepId, kind: CELL_STEP_KIND, status: 'error', output: { error: failure.toJSON() } });
    }
    // Durable before the job is acknowledged: an acknowledged cell is never run again.
    journal.flush();
    await settleShared();
    if (journal.duplicateCalls > duplicatesLogged) {
      duplicatesLogged = journal.duplicateCalls;
      log(`duplicate calls so far: ${duplicatesLogged} (made again by a second copy of a job; kept once in the journal)`);
    }
    processed++;
    log(`${failure ? 'failed' : 'done'} ${stepId} (${counts.newCalls} new calls, ${counts.replayedCalls} replayed)`);
    return report(failure ? 'error' : 'ok');
  };

  const queues = options.queues ?? ['cells'];
  // BullMQ leaves connections it was given open on close: they are kept here and closed by `close`.
  const connections = queues.map(() => redisConnection(options.redisUrl));
  const workers = queues.map(
    (queueName, index) =>
      new Worker(WORKER_QUEUES[queueName], runJob, {
        connection: connections[index]!,
        prefix,
        concurrency: options.concurrency ?? 4,
        lockDuration: options.lockMs ?? 30_000,
        // Look for dead workers' jobs as often as a lock can expire (BullMQ's default is 30 s whatever the lock).
        stalledInterval: options.lockMs ?? 30_000,
        maxStalledCount: options.maxStalls ?? 50,
        name,
      }),
  );
  for (const worker of workers) {
    // Lost a job's lock (this process was starved or cut off from Redis past lockMs): the job may already run
    // elsewhere, so stop this copy — it would only pay for calls the other copy pays for too.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        log(`lost the lock of job ${jobId}: cancelling it here`);
        worker.cancelJob(jobId, 'lock lost');
      }
    });
    worker.on('failed', (job, error) => log(`job ${job?.id ?? '?'} failed: ${error.message}`));
    worker.on('error', (error) => log(`queue error: ${error.message}`));
  }
  return {
    name,
    get processed() {
      return processed;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      controller.abort();
      connection.disconnect();
      for (const each of connections) each.disconnect();
      for (const journal of journals.values()) if (journal.isOpen) journal.close();
      if (sharedLedger) await (await sharedLedger).close();
    },
  };
}
