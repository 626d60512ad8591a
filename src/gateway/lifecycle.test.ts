/**
 * A run's life beyond one request: a client that goes away mid-stream cancels its run (and frees what it
 * reserved on the key); a `thicket serve` process drains on SIGTERM (the stream in flight completes, the
 * process exits 0), and a restarted one resumes a run by its id — replaying what the journal holds instead of
 * paying for it again, after a clean shutdown as after a kill -9.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { chatBody, makeTempDir, openAIError, postJson, startTestGateway, type TestGateway } from './testing/gateway-fixture.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const THICKET = join(REPO_ROOT, 'src', 'cli', 'testing', 'thicket-from-source.ts');

/** Polls until `probe` returns a value (not undefined); fails after `timeoutMs` (a bound on waiting, not a measurement). */
async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 20));
  }
}

/** A streamed response read as it arrives: `waitFor` resolves once the text so far contains `needle`. */
class StreamReader {
  text = '';
  readonly done: Promise<void>;
  private readonly waiters: Array<{ needle: string; resolve: () => void }> = [];
  private ended = false;

  constructor(response: Response) {
    assert.ok(response.body);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.text += value;
          this.wake();
        }
      } finally {
        this.ended = true;
        this.wake();
      }
    })();
  }

  waitFor(needle: string): Promise<void> {
    return new Promise((resolveWait, reject) => {
      this.waiters.push({
        needle,
        resolve: () =>
          this.text.includes(needle) ? resolveWait() : reject(new Error(`the stream ended without "${needle}":\n${this.text}`)),
      });
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters])
      if (this.text.includes(waiter.needle) || this.ended) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
  }
}

function streamRequest(url: string, body: Record<string, unknown>, token: string | undefined, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    ...(signal ? { signal } : {}),
  });
}

describe('a client that disconnects mid-stream', () => {
  let test: TestGateway;

  // Real simulated latency: a run takes about a second, long enough to leave it part-way.
  before(async () => (test = await startTestGateway({ simulatedClock: 'real' })));
  after(() => test.close());

  it('cancels its run, journaled as cancelled, and frees its reservation on the key', async () => {
    const context = test.running.gateway.context;
    const { key, token } = context.keys.create({ name: 'leaver', settings: { budget: { totalTokens: 50_000 } } });
    const controller = new AbortController();
    const response = await streamRequest(
      test.url,
      chatBody('vote@sim:small', { thicket: { samples: 4, runId: 'left-behind' } }),
      token,
      controller.signal,
    );
    assert.equal(response.status, 200);
    const stream = new StreamReader(response);
    await stream.waitFor('"type":"call-started"');
    // Mid-run: the key holds reservations for the calls in flight.
    assert.ok(context.budgets.spend(key).reserved.totalTokens > 0);
    controller.abort();
    await stream.done.catch(() => {});

    const run = await eventually(() => {
      const details = test.thicket.runs.get('left-behind');
      return details && details.run.status !== 'running' ? details : undefined;
    }, 'the run to end');
    assert.equal(run.run.status, 'cancelled');
    await eventually(() => (context.live.size === 0 ? true : undefined), 'the run to leave the live set');
    const spend = context.budgets.spend(key);
    assert.deepEqual(spend.reserved, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
    // The tokens spent are those of the journaled calls; the attempts cut off sent back nothing to pay for (each
    // still counts as a call attempted, so the key's `calls` may exceed the journaled calls).
    const journaled = run.calls.reduce((sum, call) => sum + call.inputTokens + call.outputTokens, 0);
    assert.equal(spend.spent.totalTokens, journaled);
    assert.ok(spend.spent.calls >= run.calls.length && spend.spent.calls <= 4);
    assert.ok(run.calls.length < 4, 'the run stopped before all its samples');
    assert.equal(context.limiter.running(key.id), 0);
  });

  it('while a run is in flight: owner twice 409, another key 403, a key at its concurrency 429', async () => {
    const keys = test.running.gateway.context.keys;
    const { key, token } = keys.create({ name: 'one-at-a-time', settings: { concurrency: 1 } });
    const other = keys.create({ name: 'other' });
    const body = chatBody('single@sim:small', { thicket: { runId: 'busy' } });
    const response = await streamRequest(test.url, body, token);
    const stream = new StreamReader(response);
    await stream.waitFor('"type":"call-started"');

    const taken = await postJson(`${test.url}/v1/chat/completions`, body, { token: other.token });
    assert.equal(taken.status, 403, JSON.stringify(taken.body));
    assert.equal(openAIError(taken.body).code, 'run_not_owned');
    const second = await postJson(`${test.url}/v1/chat/completions`, chatBody('single@sim:small'), { token });
    assert.equal(second.status, 429, JSON.stringify(second.body));
    const error = openAIError(second.body);
    assert.equal(error.code, 'concurrency_limit_exceeded');
    assert.equal(error.type, 'rate_limit_error');
    // The same id by its owner while it runs: refused (two processes of one run could pay twice).
    const ownerTwice = await streamRequest(test.url, chatBody('single@sim:small', { thicket: { runId: 'other-busy' } }), other.token);
    const otherStream = new StreamReader(ownerTwice);
    await otherStream.waitFor('"type":"call-started"');
    const again = await postJson(`${test.url}/v1/chat/completions`, chatBody('single@sim:small', { thicket: { runId: 'other-busy' } }), {
      token: other.token,
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(openAIError(again.body).code, 'run_in_flight');
    await otherStream.done;

    await stream.done;
    assert.match(stream.text, /"content":"391"/);
    assert.equal(test.running.gateway.context.limiter.running(key.id), 0);
    // Finished, the run is its owner's: another key may not resume it, its owner may (for free).
    const stolen = await postJson(`${test.url}/v1/chat/completions`, body, { token: other.token });
    assert.equal(stolen.status, 403, JSON.stringify(stolen.body));
    assert.equal(openAIError(stolen.body).code, 'run_not_owned');
    const resumed = await postJson(`${test.url}/v1/chat/completions`, body, { token });
    assert.equal(resumed.status, 200);
    assert.equal((resumed.body['thicket'] as { new_usage: { calls: number } }).new_usage.calls, 0);
    assert.equal(test.thicket.runs.get('busy')!.run.owner, key.id);
  });
});

/** The environment of a child `thicket`: nothing from this machine's Thicket setup, no colours. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const name of [
    'THICKET_CONFIG',
    'THICKET_DB',
    'THICKET_JOURNAL',
    'THICKET_REGISTRY',
    'NODE_OPTIONS',
    'NODE_TEST_CONTEXT',
    'FORCE_COLOR',
  ])
    delete env[name];
  if (extra['THICKET_SIM_CLOCK'] === undefined) delete env['THICKET_SIM_CLOCK'];
  return env;
}

/** Runs `thicket …args` from the sources to completion; returns its stdout (fails on a non-zero exit). */
function thicketCli(args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', THICKET, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolveRun(stdout) : reject(new Error(`thicket ${args.join(' ')}: exit ${code}\n${stderr}`)),
    );
  });
}

interface Served {
  child: ChildProcess;
  url: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `thicket serve --port 0` on `journal` in its own process (simulated latency real) and reads its URL from stderr. */
async function serve(journal: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', THICKET, 'serve', '--port', '0', '--journal', journal, '--log-level', 'silent', '--drain-seconds', '20'],
    {
      cwd: REPO_ROOT,
      env: childEnv({ THICKET_SIM_CLOCK: 'real' }),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolveExit) =>
    child.once('close', (code, signal) => resolveExit({ code, signal, stderr })),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /Thicket gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) resolveUrl(match[1]!);
    });
    void exit.then(({ code }) => reject(new Error(`thicket serve exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, url, exit };
}

describe('thicket serve across restarts', () => {
  const dir = makeTempDir();
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    dir.remove();
  });

  it('drains on SIGTERM: the stream in flight completes and the process exits 0; a restart resumes the run for free', async () => {
    const journal = join(dir.path, 'drain.db');
    const first = await serve(journal);
    children.push(first.child);
    const body = chatBody('vote@sim:small', { thicket: { samples: 3, runId: 'drained' } });
    const response = await streamRequest(first.url, body, undefined);
    assert.equal(response.status, 200);
    const stream = new StreamReader(response);
    await stream.waitFor('"type":"call-started"');
    first.child.kill('SIGTERM');
    await stream.done;
    assert.match(stream.text, /"content":"391"/);
    assert.ok(stream.text.trimEnd().endsWith('data: [DONE]'));
    const exited = await first.exit;
    assert.equal(exited.code, 0, exited.stderr);
    assert.match(exited.stderr, /SIGTERM: draining 1 run\(s\) in flight/);

    const usageLine = stream.text.split('\n').find((line) => line.startsWith('data: {') && line.includes('"usage"'));
    assert.ok(usageLine);
    const firstUsage = (JSON.parse(usageLine.slice(6)) as { thicket: { status: string; usage: { calls: number } } }).thicket;
    assert.equal(firstUsage.status, 'ok');

    const second = await serve(journal);
    children.push(second.child);
    try {
      const again = await postJson(`${second.url}/v1/chat/completions`, body);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      const extension = again.body['thicket'] as {
        resumed: boolean;
        replayed_calls: number;
        new_usage: { calls: number; totalTokens: number };
        usage: { calls: number };
      };
      assert.equal(extension.resumed, true);
      assert.equal(extension.new_usage.calls, 0);
      assert.equal(extension.new_usage.totalTokens, 0);
      assert.equal(extension.replayed_calls, firstUsage.usage.calls);
      assert.equal(extension.usage.calls, firstUsage.usage.calls);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal((await second.exit).code, 0);
    }
  });

  it('after a kill -9 mid-run, a restart resumes the run by its id and never pays twice for a journaled call', async () => {
    const journal = join(dir.path, 'crash.db');
    // A key with a budget: its spend is read back from the journal by the restarted process.
    const created = await thicketCli(['keys', 'create', '--name', 'crash', '--budget-tokens', '100000', '--journal', journal, '--json']);
    const { key, token } = JSON.parse(created) as { key: { id: string }; token: string };
    const first = await serve(journal);
    children.push(first.child);
    // refine: five calls one after another, about a second each with real simulated latency.
    const body = chatBody('refine@sim:small', { thicket: { rounds: 3, runId: 'crashed' } });
    const response = await streamRequest(first.url, body, token);
    const stream = new StreamReader(response);
    // Killed once the journal file holds a call (simulated calls are group-committed, so the event alone is not
    // enough) and before the run has finished.
    await eventually(() => (committedCalls(journal, 'crashed') > 0 ? true : undefined), 'a committed call');
    first.child.kill('SIGKILL');
    await stream.done.catch(() => {});
    assert.equal((await first.exit).signal, 'SIGKILL');
    assert.doesNotMatch(stream.text, /data: \[DONE\]/);

    const before = readJournal(journal, 'crashed');
    assert.equal(before.status, 'running');
    assert.ok(before.callKeys.length >= 1 && before.callKeys.length < 5, `${before.callKeys.length} calls journaled before the kill`);

    const second = await serve(journal);
    children.push(second.child);
    let extension: { resumed: boolean; replayed_calls: number; new_usage: { calls: number }; status: string };
    let spent: { totalTokens: number; calls: number };
    try {
      const again = await postJson(`${second.url}/v1/chat/completions`, body, { token });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal((again.body['choices'] as Array<{ message: { content: string } }>)[0]!.message.content, '391');
      extension = again.body['thicket'] as typeof extension;
      const me = (await (await fetch(`${second.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        key: { id: string };
        spend: { spent: typeof spent; reserved: { totalTokens: number } };
      };
      assert.equal(me.key.id, key.id);
      assert.equal(me.spend.reserved.totalTokens, 0);
      spent = me.spend.spent;
    } finally {
      second.child.kill('SIGTERM');
      assert.equal((await second.exit).code, 0);
    }
    assert.equal(extension.resumed, true);
    const after = readJournal(journal, 'crashed');
    assert.equal(after.status, 'ok');
    // Every call is journaled once: those from before the kill were replayed, not sent again.
    assert.equal(new Set(after.callKeys).size, after.callKeys.length);
    for (const callKey of before.callKeys) assert.ok(after.callKeys.includes(callKey));
    assert.ok(extension.replayed_calls >= before.callKeys.length);
    assert.equal(extension.new_usage.calls, after.callKeys.length - before.callKeys.length);
    assert.equal(after.integrity, 'ok');
    // The key paid each call once: the calls from before the kill (read back from the journal at start) plus
    // those the resumed run sent — exactly the journal's calls.
    assert.equal(spent.calls, after.callKeys.length);
    assert.equal(spent.totalTokens, after.totalTokens);
  });
});

/** Calls of `runId` committed to the journal file so far (read-only: another process is writing it). */
function committedCalls(path: string, runId: string): number {
  if (!existsSync(path)) return 0;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM calls WHERE run_id = ?').get(runId) as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

/** What the journal file holds for a run, read with a read-only handle (the writer is stopped or dead). */
function readJournal(path: string, runId: string): { status: string; callKeys: string[]; totalTokens: number; integrity: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const run = db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string };
    const calls = db
      .prepare('SELECT call_key AS callKey, input_tokens + output_tokens AS tokens FROM calls WHERE run_id = ?')
      .all(runId) as Array<{ callKey: string; tokens: number }>;
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    return {
      status: run.status,
      callKeys: calls.map((call) => call.callKey),
      totalTokens: calls.reduce((sum, call) => sum + call.tokens, 0),
      integrity,
    };
  } finally {
    db.close();
  }
}
