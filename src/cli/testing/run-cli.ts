/**
 * Helpers for the CLI's end-to-end tests: spawn the real `bin/thicket.js` as a child process (with a timeout,
 * capturing stdout, stderr, exit code and signal), make and remove temporary folders, read a journal file
 * read-only while another process may be writing it, and serve a tiny OpenAI-compatible endpoint.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'thicket.js');

export interface CliResult {
  /** Exit code; null when the child was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** True when the helper killed the child because it ran past `timeoutMs`. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Working directory of the child (default: the repo root). */
  cwd?: string;
  /** Extra environment variables; `undefined` values remove a variable. */
  env?: Record<string, string | undefined>;
  /** Kill (SIGKILL) the child after this many ms. Default 30 s. */
  timeoutMs?: number;
}

/** Variables that would make a child depend on the machine it runs on rather than on the test's flags. */
const HERMETIC_UNSET = [
  'THICKET_CONFIG',
  'THICKET_DB',
  'THICKET_SIM_CLOCK',
  'THICKET_DEBUG',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'NODE_TEST_CONTEXT',
  'NODE_OPTIONS',
  'FORCE_COLOR',
];

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of HERMETIC_UNSET) delete env[name];
  env['NO_COLOR'] = '1';
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Resolves when the child has exited and its output streams are closed. */
  done: Promise<CliResult>;
}

/** Starts `node bin/thicket.js ...args` and returns the child at once (for tests that must signal it). */
export function spawnCli(args: readonly string[], options: RunOptions = {}): SpawnedCli {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 30_000);
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, durationMs: performance.now() - started, timedOut });
    });
  });
  return { child, done };
}

/** Runs `node bin/thicket.js ...args` to completion. Never rejects for a non-zero exit; check `code`. */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const result = await spawnCli(args, options).done;
  if (result.timedOut)
    throw new Error(
      `thicket ${args.join(' ')} timed out after ${options.timeoutMs ?? 30_000} ms\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  return result;
}

/** Asserts the exit code, showing the child's output when it differs. */
export function expectExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, `expected exit ${code}\n${describeResult(result)}`);
}

/** A one-line description of a result for assertion messages. */
export function describeResult(result: CliResult): string {
  return `exit ${String(result.code)} signal ${String(result.signal)}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/**
 * Parses the WHOLE of stdout as one JSON value and checks that it is a plain object: a `--json` command must
 * print exactly one object and nothing else (no banners, no progress, no second line).
 */
export function parseSingleJson<T = Record<string, unknown>>(result: CliResult): T {
  let value: unknown;
  try {
    value = JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not exactly one JSON value (${(error as Error).message})\n${describeResult(result)}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`stdout is JSON but not an object\n${describeResult(result)}`);
  const trimmed = result.stdout.trim();
  if (trimmed.split('\n').length !== 1) throw new Error(`stdout holds more than one line\n${describeResult(result)}`);
  return value as T;
}

// -------------------------------------------------------------------------------------------- temp folders

export interface TempDir {
  path: string;
  /** `join(path, ...parts)`. */
  file: (...parts: string[]) => string;
  /** Writes `content` (objects as JSON) to `name` inside the folder and returns its path. */
  write: (name: string, content: string | object) => string;
  remove: () => void;
}

export function makeTempDir(prefix = 'thicket-cli-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (...parts) => join(path, ...parts),
    write: (name, content) => {
      const target = join(path, name);
      writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content));
      return target;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

// ----------------------------------------------------------------------------------------- journal reading

/**
 * Opens a journal file read-only. Works while another process writes it in WAL mode (the -wal/-shm files
 * exist then) and after that process was killed. Never writes, never checkpoints.
 */
function openJournalReadonly(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}

/** Runs `fn` on a read-only handle and closes it. */
export function withJournalReadonly<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = openJournalReadonly(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Calls recorded for `runId`, or undefined when the file or its tables do not exist (yet). */
export function tryCountCalls(path: string, runId: string): number | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return withJournalReadonly(
      path,
      (db) => (db.prepare('SELECT COUNT(*) AS n FROM calls WHERE run_id = ?').get(runId) as { n: number }).n,
    );
  } catch {
    return undefined;
  }
}

/** Number of runs in the journal at `path`: 0 when the file does not exist. */
export function countRuns(path: string): number {
  if (!existsSync(path)) return 0;
  return withJournalReadonly(path, (db) => (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n);
}

/** Polls `probe` every `intervalMs` until it returns a value accepted by `until`, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  probe: () => T,
  until: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = probe();
    if (until(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${options.what ?? 'condition'} (last value: ${JSON.stringify(value)})`);
    await new Promise((resolveWait) => setTimeout(resolveWait, options.intervalMs ?? 15));
  }
}

// --------------------------------------------------------------------------------------- network helpers

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). Not on fetch's bad-port list. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}

export interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type FakeReply = { status: number; headers?: Record<string, string>; body: unknown };

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>/v1` */
  baseURL: string;
  requests: FakeRequest[];
  close: () => Promise<void>;
}

/** The chat-completion body the fake server answers with by default. */
export function chatCompletion(content: string, usage = { prompt_tokens: 30, completion_tokens: 5 }): Record<string, unknown> {
  return {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/**
 * A minimal OpenAI-compatible server on 127.0.0.1 (ephemeral port). `reply` is asked for every request with
 * its 1-based index among the requests received so far; POSTs to other paths get 404.
 */
export async function startFakeOpenAI(reply: (request: FakeRequest, index: number) => FakeReply): Promise<FakeOpenAIServer> {
  const requests: FakeRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        // keep the raw text
      }
      const request: FakeRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      const answer: FakeReply =
        req.method === 'POST' && req.url === '/v1/chat/completions'
          ? reply(request, requests.length)
          : { status: 404, body: { error: { message: 'not found' } } };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolveClose()));
      }),
  };
}
