/**
 * `npm run fit:governor`: fits the governor's built-in frontier tables (policies/governor.json) on TRAINING
 * seeds of the built-in studies — the quick simulated study, the default simulated study and the quick study on
 * the tiny trained models — with every fixed strategy and the governor's own arms as candidates. The studies'
 * own seeds (1, 2) are held out: `npm run bench` (THICKET_BENCH_ONLY=frontier) evaluates `auto` on them.
 *
 *   node --import tsx scripts/fit-governor.ts [--only quick-sim,default,quick] [--out policies/governor.json]
 *     [--records-out records.json]   also write the training observations (to refit without re-running)
 *     [--from-records records.json]  refit from written observations (no study runs)
 *     [--tolerance 0.01]             accuracy within this of the best counts as best (the cheapest such wins)
 *
 * Deterministic: the simulated fleet and the tiny models' sampling are seeded, so the same seeds give the
 * same tables. Takes several minutes (the tiny models run real llama.cpp inference).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Journal } from '../src/journal/index.ts';
import { builtinStudyPath, fitGovernorFromStudies, loadStudyFile, policyFromRecords, type TrainingStudy } from '../src/lab/index.ts';
import { BUILTIN_POLICY_PATH, writePolicy, type Frontier, type FrontierRecord } from '../src/governor/index.ts';

const TRAINING: Record<string, { seeds: number[]; items?: Record<string, number> }> = {
  'quick-sim': { seeds: [1001, 1002, 1003, 1004] },
  default: { seeds: [1001] },
  quick: { seeds: [1001, 1002, 1003] },
};
const HELD_OUT = [1, 2];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    out: { type: 'string' },
    'records-out': { type: 'string' },
    'from-records': { type: 'string' },
    tolerance: { type: 'string' },
  },
});
const out = values.out ?? BUILTIN_POLICY_PATH;
const tolerance = values.tolerance === undefined ? {} : { tolerance: Number(values.tolerance) };
const started = performance.now();

function report(frontier: Frontier, records: number): void {
  const summary = frontier.tables
    .filter((table) => table.objective === 'tokens')
    .map((table) => `${table.family}/${table.model}: ${table.entries.map((entry) => `${entry.level}→${entry.choice}`).join(' ')}`);
  process.stdout.write(
    `Fitted ${frontier.tables.length} tables from ${records} training cells (${frontier.source.items} items, seeds ` +
      `${frontier.source.seeds.join(', ')}) in ${((performance.now() - started) / 1000).toFixed(0)} s → ${out}\n${summary.join('\n')}\n`,
  );
}

if (values['from-records']) {
  const saved = JSON.parse(readFileSync(values['from-records'], 'utf8')) as { source: Frontier['source']; records: FrontierRecord[] };
  const { policy, frontier } = policyFromRecords(saved.records, saved.source, tolerance);
  writePolicy(out, policy);
  report(frontier, saved.records.length);
} else {
  const names = values.only ? values.only.split(',') : Object.keys(TRAINING);
  const studies: TrainingStudy[] = names.map((name) => ({ study: loadStudyFile(builtinStudyPath(name)), seeds: TRAINING[name]!.seeds }));
  const scratch = mkdtempSync(join(tmpdir(), 'thicket-fit-governor-'));
  const journal = Journal.open(join(scratch, 'journal.db'));
  let last = 0;
  try {
    const fitted = await fitGovernorFromStudies({
      journal,
      studies,
      heldOutSeeds: HELD_OUT,
      ...tolerance,
      onProgress: (progress) => {
        const now = performance.now();
        if (now - last < 5000) return;
        last = now;
        process.stderr.write(`  ${progress.done}/${progress.total} cells, ${((now - started) / 1000).toFixed(0)} s\n`);
      },
    });
    writePolicy(out, fitted.policy);
    if (values['records-out'])
      writeFileSync(values['records-out'], JSON.stringify({ source: fitted.frontier.source, records: fitted.observations }));
    report(fitted.frontier, fitted.records);
  } finally {
    journal.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
