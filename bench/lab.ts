/**
 * `thicket study --quick` end to end — suites generated, every cell run under its matched budget on the
 * simulated fleet and journaled (a fresh SQLite file), analysis, charts and the report written — timed on
 * this machine. The target is the issue's: ≤ 120 s on two cores. Model behaviour is simulated; the time is a
 * real measurement of Thicket's code (and of whatever else the machine is doing: the note gives CPU time).
 *
 *   import { benchQuickStudy } from './lab.ts';  rows.push(await benchQuickStudy());
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { studyCommand } from '../src/lab/index.ts';
import type { BenchRow } from './foundation.ts';

const QUICK_STUDY_TARGET_SECONDS = 120;

export async function benchQuickStudy(): Promise<BenchRow> {
  const scratch = mkdtempSync(join(tmpdir(), 'thicket-bench-lab-'));
  try {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await studyCommand(
      { quick: true, db: join(scratch, 'journal.db'), out: join(scratch, 'report') },
      { out: () => {}, err: () => {}, isTTY: false, handleSigint: false },
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const runs = result.counts.executed + result.counts.resumed;
    return {
      name: 'thicket study --quick (end to end, simulated fleet)',
      value: `${seconds.toFixed(1)} s`,
      target: `≤ ${QUICK_STUDY_TARGET_SECONDS} s`,
      met: result.status === 'ok' && seconds <= QUICK_STUDY_TARGET_SECONDS,
      note:
        `${runs.toLocaleString('en-US')} runs, ${result.calls.new.toLocaleString('en-US')} simulated calls, ` +
        `journal + report; ${cpuSeconds.toFixed(1)} s CPU; status ${result.status}`,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
