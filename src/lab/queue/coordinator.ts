/**
 * The coordinator side of `thicket study --queue redis://…`: it writes the study's specification to Redis once,
 * enqueues one BullMQ job per pending cell and waits until every cell is journaled (ok or error) by some worker.
 *
 * The journal is the source of truth, BullMQ the delivery: job ids are stable per (run, cell), so enqueuing
 * again adds nothing twice, and completion is read from the journal as well as from BullMQ's events — an event
 * lost (Redis restarted, a connection dropped) delays a progress line, never the result. When Redis comes back
 * after losing its data (these machines run it without persistence), the coordinator writes the spec again and
 * re-enqueues every cell not yet in the journal; a cell whose worker was still running when Redis went away
 * runs again and replays its journaled calls. If Redis stays away longer than `redisDownTimeoutMs`, the study
 * stops with QUEUE_UNREACHABLE and resumes, by id, from what the journal holds.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Journal } from '../../journal/index.ts';
import type { FleetConfig } from '../../models/index.ts';
import { CELL_STEP_KIND } from '../study-cells.ts';
import {
  CELL_QUEUE,
  cellJobId,
  cellReportSchema,
  QUEUE_PROTOCOL_VERSION,
  specIdOf,
  studySpecKey,
  type CellJob,
  type DispatchCells,
  type StudySpec,
} from './contract.ts';
import { checkRedis, QueueUnreachableError, redisConnection } from './redis.ts';

export interface QueueDispatcherOptions {
  redisUrl: string;
  /** The coordinator's handle on the study's journal (completion is read from it). */
  journal: Journal;
  /** How workers open that journal: an absolute SQLite path on a shared disk, or a postgres:// URL. */
  journalTarget: string;
  config: FleetConfig;
  corpusDir?: string;
  allowUnpriced?: boolean;
  /** The dataset and scorer of a `thicket eval` (see StudySpec.dataset). */
  dataset?: StudySpec['dataset'];
  /** Key prefix in Redis (default `thicket`; workers must use the same). */
  prefix?: string;
  /** How often the journal is read for cells whose event was missed (default 1 s). */
  pollMs?: number;
  /** How long Redis may stay unreachable before the study stops (default THICKET_QUEUE_DOWN_TIMEOUT_MS, else 30 s). */
  redisDownTimeoutMs?: number;
  /** Attempts per job when a worker fails it (a journal or infrastructure error; default 3). */
  attempts?: number;
  /** Lines for the user: no worker connected, Redis lost and back, cells re-enqueued. */
  notice?: (line: string) => void;
}

const SPEC_TTL_SECONDS = 7 * 24 * 3600;
/** How long a cell found in the journal waits for its job's completion event before it is counted without it. */
const EVENT_GRACE_MS = 3_000;

/** THICKET_QUEUE_DOWN_TIMEOUT_MS, when set to a positive number: the default of `redisDownTimeoutMs`. */
function downTimeoutFromEnv(): number | undefined {
  const value = Number(process.env['THICKET_QUEUE_DOWN_TIMEOUT_MS']);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

export function queueDispatcher(options: QueueDispatcherOptions): DispatchCells {
  const prefix = options.prefix ?? 'thicket';
  const downTimeoutMs = options.redisDownTimeoutMs ?? downTimeoutFromEnv() ?? 30_000;
  const notice = options.notice ?? (() => undefined);
  return async (request) => {
    const { runId, signal } = request;
    const spec: StudySpec = {
      version: QUEUE_PROTOCOL_VERSION,
      runId,
      study: request.study,
      config: options.config,
      journal: options.journalTarget,
      ...(options.corpusDir !== undefined ? { corpusDir: options.corpusDir } : {}),
      ...(options.allowUnpriced === true ? { allowUnpriced: true } : {}),
      ...(options.dataset ? { dataset: options.dataset } : {}),
    };
    const specId = specIdOf(spec);
    const connection = redisConnection(options.redisUrl);
    await checkRedis(connection, options.redisUrl);
    const eventsConnection = redisConnection(options.redisUrl);
    const queue = new Queue(CELL_QUEUE, { connection, prefix });
    const events = new QueueEvents(CELL_QUEUE, { connection: eventsConnection, prefix });
    // Their connection errors are the coordinator's to judge (the ping below), not lines for the user's terminal.
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    const dispatchedAt = new Date().toISOString();
    const remaining = new Set(request.cells);
    const byJob = new Map(request.cells.map((stepId) => [cellJobId(runId, stepId), stepId]));
    let budgetExhausted = false;
    const journaledAt = new Map<string, number>();
    let wake: (() => void) | undefined;
    const nudge = (): void => wake?.();

    const enqueue = async (): Promise<void> => {
      await connection.set(studySpecKey(prefix, specId), JSON.stringify(spec), 'EX', SPEC_TTL_SECONDS);
      const jobs = [...remaining].map((stepId) => {
        const data: CellJob = { version: QUEUE_PROTOCOL_VERSION, runId, specId, stepId };
        return {
          name: 'cell',
          data,
          opts: {
            jobId: cellJobId(runId, stepId),
            attempts: options.attempts ?? 3,
            backoff: { type: 'exponential' as const, delay: 1_000 },
            removeOnComplete: true,
            removeOnFail: true,
          },
        };
      });
      for (let start = 0; start < jobs.length; start += 500) await queue.addBulk(jobs.slice(start, start + 500));
    };
    /** Cells that finished: once per cell, from whichever source saw it first. */
    const finish = (stepId: string): boolean => remaining.delete(stepId);

    events.on('completed', ({ jobId, returnvalue }) => {
      const stepId = byJob.get(jobId);
      if (stepId === undefined) return;
      const parsed = cellReportSchema.safeParse(typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue);
      if (!parsed.success || parsed.data.runId !== runId) return;
      if (parsed.data.outcome === 'no-room') budgetExhausted = true;
      if (finish(stepId)) request.onCell(parsed.data);
      nudge();
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const stepId = byJob.get(jobId);
      if (stepId === undefined || !remaining.has(stepId)) return;
      // Every attempt failed on the workers' side (not the cell's: that is journaled as an error step by them).
      options.journal.upsertStep(runId, {
        stepId,
        kind: CELL_STEP_KIND,
        status: 'error',
        output: { error: { code: 'INTERNAL', message: `queue job failed on every attempt: ${failedReason}` } },
      });
      finish(stepId);
      request.onCell({ runId, stepId, outcome: 'error', newCalls: 0, replayedCalls: 0, newTokens: 0, newUsd: 0, worker: 'coordinator' });
      nudge();
    });

    // Redis lost and back: re-enqueue whatever is not journaled yet (jobs that survived are not duplicated).
    let downSince: number | undefined;
    let requeue = false;
    connection.on('close', () => {
      downSince ??= Date.now();
    });
    connection.on('ready', () => {
      if (downSince === undefined) return;
      downSince = undefined;
      requeue = true;
      nudge();
    });
    const onAbort = (): void => nudge();
    signal.addEventListener('abort', onAbort);
    try {
      await events.waitUntilReady();
      await enqueue();
      if ((await queue.getWorkersCount()) === 0)
        notice(`No worker is connected to this queue yet: start some with \`thicket worker --redis <url>\`.`);
      const pollMs = options.pollMs ?? 1_000;
      let lastJournalRead = 0;
      while (remaining.size > 0) {
        if (signal.aborted) {
          // As in-process: the study ends 'cancelled' with what is journaled; running cells finish on their workers.
          await removeQueued(queue, runId, remaining);
          break;
        }
        if (budgetExhausted) {
          // The shared cap cannot cover another cell: start nothing more, let the running ones finish.
          await removeQueued(queue, runId, remaining);
          for (const stepId of [...remaining]) if (!(await isActive(queue, runId, stepId))) remaining.delete(stepId);
        }
        // A ping with a deadline as well as the connection's events: a dead server is not always a closed socket.
        if (!(await answers(connection, 1_000))) downSince ??= Date.now();
        else if (downSince !== undefined && connection.status === 'ready') {
          downSince = undefined;
          requeue = true;
        }
        if (downSince !== undefined && Date.now() - downSince > downTimeoutMs)
          throw new QueueUnreachableError(
            options.redisUrl,
            `down for more than ${Math.round(downTimeoutMs / 1000)} s; ` +
              'the finished cells are journaled — run the same command again to resume',
          );
        if (requeue && downSince === undefined) {
          requeue = false;
          notice(`Redis is back: re-enqueuing the ${remaining.size} cells not yet journaled.`);
          await enqueue().catch(() => (requeue = true));
        }
        // Cells journaled whose event was missed (a dropped connection, a restart). A worker journals a cell just
        // before acknowledging its job, so the event (which carries the cell's counts) gets a grace period first.
        // On the poll timer only, not at every event: reading the run's steps is O(cells) (bench/queue.ts measured
        // it as the coordinator's main cost when it ran per completion).
        const now = Date.now();
        const rows = now - lastJournalRead >= pollMs ? options.journal.getSteps(runId) : [];
        if (rows.length > 0) lastJournalRead = now;
        for (const row of rows) {
          if (row.kind !== CELL_STEP_KIND || !remaining.has(row.stepId)) continue;
          if (row.status === 'ok' || (row.status === 'error' && (row.endedAt ?? '') >= dispatchedAt)) {
            const seen = journaledAt.get(row.stepId);
            if (seen === undefined) journaledAt.set(row.stepId, now);
            if (seen === undefined || now - seen < EVENT_GRACE_MS) continue;
            finish(row.stepId);
            request.onCell({
              runId,
              stepId: row.stepId,
              outcome: row.status === 'ok' ? 'ok' : 'error',
              newCalls: 0,
              replayedCalls: 0,
              newTokens: 0,
              newUsd: 0,
              worker: 'journal',
            });
          }
        }
        if (remaining.size === 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      return { budgetExhausted };
    } finally {
      signal.removeEventListener('abort', onAbort);
      // Closing waits on Redis: bounded, so a study stopped because Redis is gone still ends.
      await withDeadline(Promise.all([events.close(), queue.close()]), 2_000);
      connection.disconnect();
      eventsConnection.disconnect();
    }
  };
}

/** Whether Redis answers a PING within `ms` (false on an error or no answer). */
async function answers(connection: Redis, ms: number): Promise<boolean> {
  return (await withDeadline(connection.ping(), ms)) === 'PONG';
}

/** The promise's value, or undefined once `ms` pass or it rejects. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Removes the run's jobs still waiting (a running job cannot be removed: it finishes and is journaled). */
async function removeQueued(queue: Queue, runId: string, stepIds: Iterable<string>): Promise<void> {
  for (const stepId of stepIds) await queue.remove(cellJobId(runId, stepId)).catch(() => 0);
}

async function isActive(queue: Queue, runId: string, stepId: string): Promise<boolean> {
  const job = await queue.getJob(cellJobId(runId, stepId));
  return job !== undefined && (await job.getState()) === 'active';
}
