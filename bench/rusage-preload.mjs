// Preloaded (`node --import`) into a spawned `bin/thicket.js` by bench/cli-paths.ts: on exit, writes the
// process's own CPU time and peak RSS to $THICKET_BENCH_RUSAGE as JSON. Nothing else changes in the run.
import { writeFileSync } from 'node:fs';

const file = process.env.THICKET_BENCH_RUSAGE;
if (file) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS }));
  });
}
