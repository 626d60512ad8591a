/**
 * A child process for the cross-process ledger test (redis-ledger-processes.test.ts): it spends from shared
 * scopes on Redis with many concurrent reservations and seeded faults, journaling each call (one JSON line,
 * written before the call is settled — as the fleet journals before it settles) so the parent can check that
 * the ledger's spent equals the journal's sum.
 *
 * argv: url prefix seed worker ops leaseMs dieAt (-1: never) dieHow (exit|kill) journalFile scopesJson
 */
import { appendFileSync } from 'node:fs';
import { rngFor } from '../../core/index.ts';
import { RedisSharedLedger } from '../redis-ledger.ts';
import type { SharedScope } from '../shared-ledger.ts';

const [url, prefix, seedText, workerText, opsText, leaseText, dieAtText, dieHow, journalFile, scopesJson] = process.argv.slice(2);
const seed = Number(seedText);
const worker = Number(workerText);
const operations = Number(opsText);
const leaseMs = Number(leaseText);
const dieAt = Number(dieAtText);
const scopes = JSON.parse(scopesJson!) as SharedScope[];
const random = rngFor(seed, `worker-${worker}`);
const pick = (below: number): number => random.int(below);
const ledger = await RedisSharedLedger.connect({ url: url!, prefix: prefix! });

let next = 0;
const counts = { granted: 0, denied: 0, settled: 0, released: 0, abandoned: 0 };

async function one(index: number): Promise<void> {
  const chosen = scopes.filter(() => random.next() < 0.6);
  if (chosen.length === 0) chosen.push(scopes[pick(scopes.length)]!);
  const reserved = { inputTokens: 1 + pick(50), outputTokens: 1 + pick(50), usd: 0, calls: 1 };
  reserved.usd = (reserved.inputTokens + reserved.outputTokens) * 1e-7;
  const holdId = `w${worker}:${index}`;
  const result = await ledger.reserve(holdId, chosen, reserved, leaseMs);
  if (!result.granted) {
    counts.denied++;
    return;
  }
  counts.granted++;
  // The "provider call" holds the reservation for a moment: other processes interleave here.
  await new Promise((resolve) => setTimeout(resolve, pick(4)));
  if (dieAt >= 0 && index >= dieAt) {
    // Dies mid-hold, at the first granted reservation from `dieAt` on (before anything is journaled): its hold must lapse within the lease.
    if (dieHow === 'kill') process.kill(process.pid, 'SIGKILL');
    process.exit(1);
  }
  const fault = random.next();
  if (fault < 0.1) {
    // Failed before settling, nothing billed: released.
    await ledger.release(holdId);
    counts.released++;
    return;
  }
  if (fault < 0.15) {
    // Failed and forgot the hold: only its lease frees it.
    counts.abandoned++;
    return;
  }
  const billedOutput = pick(reserved.outputTokens + 1);
  const billed = {
    inputTokens: reserved.inputTokens,
    outputTokens: billedOutput,
    usd: (reserved.inputTokens + billedOutput) * 1e-7,
    calls: 1,
  };
  const callId = `w${worker}:call:${index}`;
  appendFileSync(journalFile!, `${JSON.stringify({ callId, scopes: chosen.map((scope) => scope.key), billed })}\n`);
  await ledger.settle(callId, holdId, chosen, billed);
  counts.settled++;
}

await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < operations) await one(next++);
  }),
);
process.stdout.write(`${JSON.stringify(counts)}\n`);
await ledger.close();
