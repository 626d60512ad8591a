/**
 * `npm run bench`: prints one table of measured figures next to their targets. Simulated workloads are
 * labelled; speed figures come from this machine and vary with load (they are never asserted in tests).
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { benchCallPath, benchLedger, type BenchRow } from './foundation.ts';

const rows: BenchRow[] = [];
rows.push(benchLedger());
rows.push(...(await benchCallPath()));

const table = new Table({ head: ['benchmark', 'measured', 'target', 'met', 'note'].map((cell) => pc.bold(cell)), style: { head: [], border: [] }, wordWrap: true, colWidths: [48, 22, 18, 6, 40] });
for (const row of rows) table.push([row.name, row.value, row.target, row.met === undefined ? '—' : row.met ? pc.green('yes') : pc.red('no'), row.note ?? '']);
console.log(`Thicket benchmarks — node ${process.version}, ${new Date().toISOString()}`);
console.log(table.toString());
console.log(pc.dim('Workloads on sim: models are simulated (no real model is called); timings are real measurements of Thicket code.'));
