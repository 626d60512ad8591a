/**
 * Redis connections for the queue. BullMQ wants `maxRetriesPerRequest: null` on the connections it blocks on
 * (workers, queue events); the first contact is checked with a bounded ping so an unreachable Redis is a clear
 * QUEUE_UNREACHABLE at once, not a process that waits forever while ioredis reconnects in the background.
 */
import { Redis } from 'ioredis';
import { ThicketError, type InputIssue } from '../../core/index.ts';

export class QueueUnreachableError extends ThicketError {
  constructor(url: string, reason: string, options: { cause?: unknown } = {}) {
    super('QUEUE_UNREACHABLE', `Cannot reach the job queue's Redis at ${redactUrl(url)}: ${reason}`, 'other', {
      ...options,
      isRetryable: true,
    });
    this.name = 'QueueUnreachableError';
  }
}

/** The URL with its password (if any) replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A connection BullMQ can share; `lazyConnect` so `checkRedis` decides when the first attempt happens. */
export function redisConnection(url: string, options: { connectTimeout?: number } = {}): Redis {
  const connection = new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    // Reconnect forever with a capped backoff: a restarted Redis is picked up again (the coordinator decides
    // how long it waits, see coordinator.ts).
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectTimeout: options.connectTimeout ?? 3_000,
  });
  // Connection errors surface where they matter (checkRedis, a command that fails, the coordinator's watch on
  // 'close'/'ready'); without a listener ioredis would print each reconnect attempt as an unhandled error.
  connection.on('error', () => undefined);
  return connection;
}

/** Connects and pings within `timeoutMs`, or throws QueueUnreachableError. */
export async function checkRedis(connection: Redis, url: string, timeoutMs = 5_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // ioredis rejects with "Connection is closed." after the socket error that says why (ECONNREFUSED, ENOTFOUND…).
  let cause: Error | undefined;
  const onError = (error: Error): void => void (cause ??= error);
  connection.on('error', onError);
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new QueueUnreachableError(url, `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ping = (async () => {
      if (connection.status === 'wait') await connection.connect();
      return connection.ping();
    })();
    ping.catch(() => undefined);
    await Promise.race([ping, timeout]);
  } catch (error) {
    connection.disconnect();
    if (ThicketError.isInstance(error)) throw error;
    const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
    throw new QueueUnreachableError(url, reason, { cause: cause ?? error });
  } finally {
    clearTimeout(timer);
    connection.off('error', onError);
  }
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis URL a flag names: its value, else THICKET_REDIS_URL, else the local default. A value that is not a
 * redis:// or rediss:// URL is added to `issues` (path = the flag) and the default returned.
 */
export function resolveRedisUrl(value: string | boolean | undefined, flag: string, issues: InputIssue[]): string {
  const url = typeof value === 'string' ? value : (process.env['THICKET_REDIS_URL'] ?? DEFAULT_REDIS_URL);
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    issues.push({ path: typeof value === 'string' ? flag : 'THICKET_REDIS_URL', message: `not a redis:// URL: "${redactUrl(url)}"` });
    return DEFAULT_REDIS_URL;
  }
  return url;
}

/** A problem with a queue key prefix (`--prefix`, `--queue-prefix`), or undefined when it is usable. */
export function queuePrefixIssue(prefix: string | undefined, flag: string): InputIssue | undefined {
  return prefix === undefined || /^[A-Za-z0-9_.-]+$/.test(prefix) ? undefined : { path: flag, message: 'letters, digits, _ . - only' };
}
