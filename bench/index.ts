/**
 * `npm run bench`: prints measured figures next to their targets, then the simulated matched-budget strategy
 * table. Speed figures come from this machine and vary with load (they are never asserted in tests); model
 * behaviour in every workload here is simulated and labelled so.
 *
 * THICKET_BENCH_ONLY=startup,foundation,runtime,criticality,lab,workflow,strategies,registry,llama,embedded,tim,governor,frontier,
 * network,cli,gateway,queue,ledger limits the sections (`cli`: what a user runs, spawned with a journal — AgentsNet at
 * 1,000 agents and a 10,000-node workflow; also run by `network` and `workflow`; `gateway`: `thicket serve` under
 * autocannon, about two minutes with its 60 s soak; `queue`: study cells on 1, 2 and 4 spawned `thicket worker`
 * processes through Redis, CPU- and I/O-bound, about three minutes; `ledger`: the shared ledger in-process vs Redis
 * from 1 and 4 processes; `frontier`: `auto` against the best fixed strategy on the held-out items of the built-in
 * studies — quick-sim (also quick-sim-usd: auto on its dollar tables), default (SIMULATED), quick (tiny real models) — per suite × budget × model, with token,
 * dollar and cascade efficiency, about 6 minutes for all three (most of it the full default study);
 * THICKET_BENCH_FRONTIER=quick-sim,quick-sim-usd,default,quick picks the studies and THICKET_BENCH_FRONTIER_ITEMS caps the items
 * per suite, see bench/frontier.ts); THICKET_BENCH_ITEMS sizes the suite.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { benchCallPath, benchLedger, type BenchRow } from './foundation.ts';
import { benchExecutorOverhead, benchFanOut10k } from './workflow.ts';
import { benchStrategies, strategyTable } from './strategies.ts';
import { benchCriticality } from './criticality.ts';
import { benchQuickStudy } from './lab.ts';
import { benchRegistry } from './registry.ts';
import { benchLlama } from './llama.ts';
import { benchEmbedded } from './embedded.ts';
import { benchTim } from './tim.ts';
import { benchGovernor } from './governor.ts';
import { benchFrontier } from './frontier.ts';
import { benchNetwork, benchProtocols, protocolTable } from './network.ts';
import { benchRuntimeSolve } from './runtime.ts';
import { benchStartup } from './startup.ts';
import { benchAgentsnetCli, benchWorkflowCli } from './cli-paths.ts';
import { benchGateway } from './gateway.ts';
import { benchSharedLedger } from './ledger-shared.ts';
import { benchQueue } from './queue.ts';

const only = process.env['THICKET_BENCH_ONLY']?.split(',');
const wants = (section: string): boolean => !only || only.includes(section);

const rows: BenchRow[] = [];
// First, while nothing else has warmed or loaded the machine: spawned `node bin/thicket.js` (the compiled dist/).
if (wants('startup')) rows.push(...benchStartup());
if (wants('foundation')) {
  rows.push(benchLedger());
  rows.push(...(await benchCallPath()));
}
if (wants('runtime')) rows.push(...(await benchRuntimeSolve()));
if (wants('criticality')) rows.push(...(await benchCriticality()));
if (wants('lab')) rows.push(await benchQuickStudy('sim'));
if (wants('lab') || wants('tiny')) rows.push(await benchQuickStudy('tiny'));
if (wants('registry')) rows.push(...(await benchRegistry()));
if (wants('llama')) rows.push(...(await benchLlama()));
if (wants('embedded')) rows.push(...(await benchEmbedded()));
if (wants('embedded') || wants('tim')) rows.push(...(await benchTim()));
if (wants('network')) rows.push(...(await benchNetwork()));
if (wants('network') || wants('cli')) rows.push(...benchAgentsnetCli());
const tables: string[] = [];
if (wants('governor')) {
  const governor = await benchGovernor();
  rows.push(...governor.rows);
  tables.push(governor.table);
}
if (wants('frontier')) {
  const frontier = await benchFrontier();
  rows.push(...frontier.rows);
  tables.push(...frontier.tables);
}
if (wants('network')) tables.push(protocolTable(await benchProtocols()));
if (wants('workflow')) {
  rows.push(...(await benchExecutorOverhead()));
  rows.push(...benchFanOut10k());
}
if (wants('workflow') || wants('cli')) rows.push(...benchWorkflowCli());
if (wants('gateway')) rows.push(...(await benchGateway()));
if (wants('ledger')) rows.push(...(await benchSharedLedger()));
if (wants('queue')) rows.push(...(await benchQueue()));

console.log(`Thicket benchmarks — node ${process.version}, ${new Date().toISOString()}`);
if (rows.length > 0) {
  const table = new Table({
    head: ['benchmark', 'measured', 'target', 'met', 'note'].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [48, 22, 18, 6, 44],
  });
  for (const row of rows)
    table.push([row.name, row.value, row.target, row.met === undefined ? '—' : row.met ? pc.green('yes') : pc.red('no'), row.note ?? '']);
  console.log(table.toString());
  console.log(pc.dim('Workloads on sim: models are simulated (no real model is called); timings are real measurements of Thicket code.'));
}
for (const text of tables) console.log(text);
if (wants('strategies')) {
  const items = Number(process.env['THICKET_BENCH_ITEMS'] ?? 60);
  const started = performance.now();
  const strategyRows = await benchStrategies({ items });
  console.log(strategyTable(strategyRows, items));
  console.log(pc.dim(`(${((performance.now() - started) / 1000).toFixed(1)} s)`));
}
