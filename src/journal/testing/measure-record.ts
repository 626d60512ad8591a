/**
 * Quick timing of the fleet's per-call journal cost (not a test):
 *   node --import tsx src/journal/testing/measure-record.ts [calls]
 * Records `calls` sample calls into a fresh file journal (one transaction each), then looks each one up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../journal.ts';
import { sampleCall } from './fixtures.ts';

const count = Number(process.argv[2] ?? 20_000);
const folder = mkdtempSync(join(tmpdir(), 'thicket-journal-timing-'));
try {
  const journal = Journal.open(join(folder, 'journal.db'));
  journal.createRun({ id: 'timing', command: 'bench', query: 'timing', simulated: true });
  const recorder = journal.recorder('timing');
  const calls = Array.from({ length: count }, (_, index) => sampleCall(index));
  for (let index = 0; index < 200; index++) recorder.lookup(calls[index]!.callKey); // warm up the statements

  let started = process.hrtime.bigint();
  for (const call of calls) recorder.record(call);
  const recordNs = Number(process.hrtime.bigint() - started) / count;

  started = process.hrtime.bigint();
  for (const call of calls) if (recorder.lookup(call.callKey) === undefined) throw new Error('missing');
  const lookupNs = Number(process.hrtime.bigint() - started) / count;

  started = process.hrtime.bigint();
  for (const call of calls) recorder.lookup(`miss-${call.callKey}`);
  const missNs = Number(process.hrtime.bigint() - started) / count;
  journal.close();

  const us = (ns: number): string => `${(ns / 1000).toFixed(1)} µs`;
  console.log(
    `${count} calls: record ${us(recordNs)}, lookup hit ${us(lookupNs)}, lookup miss ${us(missNs)}, record + miss-lookup ${us(recordNs + missNs)} per call`,
  );
} finally {
  rmSync(folder, { recursive: true, force: true });
}
