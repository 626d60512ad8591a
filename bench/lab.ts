/**
 * The quick study end to end — suites generated, every cell run under its matched budget and journaled (a
 * fresh SQLite file), analysis, charts and the report written — timed on this machine, twice:
 *   - `thicket study --quick sim` on the simulated fleet (target ≤ 120 s on two cores; model behaviour
 *     simulated, the time a real measurement of Thicket's code);
 *   - `thicket study --quick` on the tiny trained models (target ≤ 180 s: issue 18), real llama.cpp inference.
 * The notes give CPU time (the machine may be doing other things).
 *
 *   import { benchQuickStudy } from './lab.ts';  rows.push(await benchQuickStudy('sim'));
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { studyCommand } from '../src/lab/index.ts';
import type { BenchRow } from './foundation.ts';

const QUICK_STUDY_TARGET_SECONDS = { sim: 120, tiny: 180 };

export async function benchQuickStudy(fleet: 'sim' | 'tiny'): Promise<BenchRow> {
  const scratch = mkdtempSync(join(tmpdir(), 'thicket-bench-lab-'));
  try {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await studyCommand(
      { quick: fleet, db: join(scratch, 'journal.db'), out: join(scratch, 'report') },
      { out: () => {}, err: () => {}, isTTY: false, handleSigint: false },
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const runs = result.counts.executed + result.counts.resumed;
    return {
      name:
        fleet === 'sim'
          ? 'thicket study --quick sim (end to end, simulated fleet)'
          : 'thicket study --quick (end to end, tiny real models)',
      value: `${seconds.toFixed(1)} s`,
      target: `≤ ${QUICK_STUDY_TARGET_SECONDS[fleet]} s`,
      met: result.status === 'ok' && seconds <= QUICK_STUDY_TARGET_SECONDS[fleet],
      note:
        `${runs.toLocaleString('en-US')} runs, ${result.calls.new.toLocaleString('en-US')} ${fleet === 'sim' ? 'simulated' : 'llama.cpp'} calls, ` +
        `journal + report; ${cpuSeconds.toFixed(1)} s CPU; status ${result.status}`,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
