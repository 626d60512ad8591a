/**
 * One hard budget across processes: five child processes (testing/ledger-worker.ts) each make 300 randomized
 * concurrent reservations on shared Redis scopes, with faults (released and abandoned holds, two processes
 * dying mid-hold by exit and SIGKILL). Checked: committed (spent + live holds) never exceeds a limit while
 * they run; nothing is spent that was not journaled; replaying every journaled call settles only what a dying
 * process journaled but had not settled, after which spent equals the journal's sum and a second replay adds
 * nothing; the dead processes' holds lapse within their lease.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { toNanoUsd } from '../core/index.ts';
import { RedisSharedLedger } from './redis-ledger.ts';
import type { SharedScope } from './shared-ledger.ts';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'ledger-worker.ts');
const URL = process.env['THICKET_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const LEASE_MS = 1500;
const OPERATIONS = 300;
const scopes: SharedScope[] = [
  { key: 'global', limits: { totalTokens: 20_000, calls: 500, usd: 0.0019 } },
  { key: 'team-a', limits: { totalTokens: 9_000, inputTokens: 6_000 } },
  { key: 'team-b', limits: { calls: 200 } },
];
// Which workers die, where (an operation index at which they hold a reservation) and how.
const deaths: Record<number, { at: number; how: 'exit' | 'kill' }> = { 1: { at: 260, how: 'exit' }, 3: { at: 275, how: 'kill' } };

interface JournalLine {
  callId: string;
  scopes: string[];
  billed: { inputTokens: number; outputTokens: number; usd: number; calls: number };
}

function runWorker(
  prefix: string,
  worker: number,
  journal: string,
): Promise<{ code: number | null; signal: string | null; output: string }> {
  const death = deaths[worker];
  const args = [
    WORKER,
    URL,
    prefix,
    '21',
    String(worker),
    String(OPERATIONS),
    String(LEASE_MS),
    String(death?.at ?? -1),
    death?.how ?? 'exit',
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args, journal, JSON.stringify(scopes)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output })));
}

describe('RedisSharedLedger across processes', () => {
  it('5 processes × 300 concurrent reservations with faults never exceed a limit; spent = journaled; dead holds lapse', async () => {
    const prefix = `test:ledger-procs:${randomBytes(6).toString('hex')}:`;
    const folder = mkdtempSync(join(tmpdir(), 'thicket-ledger-'));
    const ledger = await RedisSharedLedger.connect({ url: URL, prefix });
    try {
      const journals = Array.from({ length: 5 }, (_, worker) => join(folder, `worker-${worker}.jsonl`));
      const violations: string[] = [];
      let polls = 0;
      let running = true;
      // Watches committed = spent + live holds on every scope while the processes run.
      const monitor = (async () => {
        while (running) {
          for (const scope of scopes) {
            const usage = await ledger.usage(scope.key);
            for (const dimension of ['inputTokens', 'totalTokens', 'calls', 'usd'] as const) {
              const limit = scope.limits[dimension];
              if (limit === undefined) continue;
              const committed =
                dimension === 'usd'
                  ? toNanoUsd(usage.spent.usd) + toNanoUsd(usage.reserved.usd)
                  : usage.spent[dimension] + usage.reserved[dimension];
              if (committed > (dimension === 'usd' ? toNanoUsd(limit) : limit))
                violations.push(`${scope.key}.${dimension}: ${committed} > ${limit}`);
            }
          }
          polls++;
        }
      })();
      const exits = await Promise.all(journals.map((journal, worker) => runWorker(prefix, worker, journal)));
      running = false;
      await monitor;

      // The survivors finished; the two dying ones died as planned.
      for (const [worker, exit] of exits.entries()) {
        if (worker === 1) assert.equal(exit.code, 1, exit.output);
        else if (worker === 3) assert.equal(exit.signal, 'SIGKILL', exit.output);
        else assert.equal(exit.code, 0, exit.output);
      }
      const counts = exits.filter((exit) => exit.code === 0).map((exit) => JSON.parse(exit.output.trim()) as Record<string, number>);
      const denied = counts.reduce((sum, count) => sum + count['denied']!, 0);
      const abandoned = counts.reduce((sum, count) => sum + count['abandoned']!, 0);
      assert.ok(denied > 0, 'the limits were reached (some reservations refused)');
      assert.ok(abandoned > 0, 'some holds were abandoned to their lease');
      assert.ok(polls > 0);
      assert.deepEqual(violations, []);

      // Spent = the sum of every journaled (settled) call, per scope and dimension.
      const lines = journals
        .filter((journal) => existsSync(journal))
        .flatMap((journal) =>
          readFileSync(journal, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as JournalLine),
        );
      assert.ok(lines.length > 300, `${lines.length} calls settled`);
      // Sums of the journaled calls on one scope.
      const journaled = (key: string): { inputTokens: number; outputTokens: number; calls: number; nanoUsd: number } => {
        const mine = lines.filter((line) => line.scopes.includes(key));
        return {
          inputTokens: mine.reduce((sum, line) => sum + line.billed.inputTokens, 0),
          outputTokens: mine.reduce((sum, line) => sum + line.billed.outputTokens, 0),
          calls: mine.length,
          nanoUsd: mine.reduce((sum, line) => sum + toNanoUsd(line.billed.usd), 0),
        };
      };
      // Before the replay: every limit held, and nothing was spent that is not journaled. A process that died could
      // leave calls journaled but not yet settled (journal first, then settle — as the fleet does): those are what a
      // replay settles.
      for (const scope of scopes) {
        const usage = await ledger.usage(scope.key);
        const sums = journaled(scope.key);
        assert.ok(usage.spent.inputTokens <= sums.inputTokens, `${scope.key}: spent ≤ journaled`);
        assert.ok(usage.spent.outputTokens <= sums.outputTokens, `${scope.key}: spent ≤ journaled`);
        assert.ok(usage.spent.calls <= sums.calls, `${scope.key}: spent ≤ journaled`);
        for (const dimension of ['inputTokens', 'totalTokens', 'calls'] as const) {
          const limit = scope.limits[dimension];
          if (limit !== undefined) assert.ok(usage.spent[dimension] <= limit, `${scope.key}.${dimension}`);
        }
      }
      // A replay of every journaled call (a retried job) settles again: it adds nothing for the survivors' calls,
      // and settles only what a dying process journaled without settling.
      const dying = new Set(Object.keys(deaths).map((worker) => `w${worker}:`));
      for (const line of lines) {
        const delta = await ledger.settle(
          line.callId,
          undefined,
          scopes.filter((scope) => line.scopes.includes(scope.key)),
          line.billed,
        );
        const fromDyingProcess = [...dying].some((tag) => line.callId.startsWith(tag));
        if (!fromDyingProcess) assert.deepEqual(delta, { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 }, line.callId);
      }
      // After it: spent = the sum of every journaled call, per scope and dimension.
      const expected = async (): Promise<void> => {
        for (const scope of scopes) {
          const usage = await ledger.usage(scope.key);
          const sums = journaled(scope.key);
          assert.equal(usage.spent.inputTokens, sums.inputTokens, scope.key);
          assert.equal(usage.spent.outputTokens, sums.outputTokens, scope.key);
          assert.equal(usage.spent.calls, sums.calls, scope.key);
          assert.equal(toNanoUsd(usage.spent.usd), sums.nanoUsd, scope.key);
        }
      };
      await expected();
      // A second replay adds nothing at all.
      for (const line of lines) {
        const delta = await ledger.settle(
          line.callId,
          undefined,
          scopes.filter((scope) => line.scopes.includes(scope.key)),
          line.billed,
        );
        assert.deepEqual(delta, { inputTokens: 0, outputTokens: 0, usd: 0, calls: 0 }, line.callId);
      }
      await expected();

      // The dead processes' (and abandoned) holds lapse within their lease.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
      for (const scope of scopes) {
        const usage = await ledger.usage(scope.key);
        assert.equal(usage.holds, 0, scope.key);
        assert.deepEqual(usage.reserved, { inputTokens: 0, outputTokens: 0, totalTokens: 0, usd: 0, calls: 0 });
      }
    } finally {
      await ledger.deleteAll();
      await ledger.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
