/**
 * `thicket worker`: a long-running process that takes study and eval cells from the Redis queue (lab/queue).
 * It runs until SIGINT/SIGTERM (then finishes the cells it holds and exits 0) or until `--max-jobs` cells.
 */
import { InvalidInputError, type InputIssue } from '../../core/index.ts';
import { queuePrefixIssue, resolveRedisUrl, startWorker, WORKER_QUEUES, type WorkerQueueName } from '../../lab/index.ts';

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  queues?: string;
  lockMs?: string;
  prefix?: string;
  maxJobs?: string;
}

function positiveInteger(value: string | undefined, path: string, issues: InputIssue[], min = 1): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    issues.push({ path, message: `must be an integer ≥ ${min}, got "${value}"` });
    return undefined;
  }
  return parsed;
}

export async function runWorkerCommand(flags: WorkerFlags): Promise<number> {
  const issues: InputIssue[] = [];
  const concurrency = positiveInteger(flags.concurrency, '--concurrency', issues);
  const lockMs = positiveInteger(flags.lockMs, '--lock-ms', issues, 1_000);
  const maxJobs = positiveInteger(flags.maxJobs, '--max-jobs', issues);
  const queues = (flags.queues ?? 'cells').split(',').map((name) => name.trim());
  for (const name of queues)
    if (!(name in WORKER_QUEUES))
      issues.push({ path: '--queues', message: `unknown queue "${name}" (known: ${Object.keys(WORKER_QUEUES).join(', ')})` });
  const prefixIssue = queuePrefixIssue(flags.prefix, '--prefix');
  if (prefixIssue) issues.push(prefixIssue);
  const redisUrl = resolveRedisUrl(flags.redis, '--redis', issues);
  if (issues.length > 0) throw new InvalidInputError('Cannot start the worker', issues);

  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const worker = await startWorker({
    redisUrl,
    queues: queues as WorkerQueueName[],
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(lockMs !== undefined ? { lockMs } : {}),
    ...(flags.prefix !== undefined ? { prefix: flags.prefix } : {}),
    log,
  });
  log(`worker ${worker.name} consuming ${queues.join(', ')} (concurrency ${concurrency ?? 4})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (maxJobs !== undefined) {
      const timer = setInterval(() => {
        if (worker.processed >= maxJobs) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    }
  });
  log(`worker ${worker.name} stopping after ${worker.processed} cells`);
  await worker.close();
  return 0;
}
