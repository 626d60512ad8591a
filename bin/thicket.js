#!/usr/bin/env node
// Entry point for the `thicket` bin: runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci`
// and `npm install` of a clone run through the `prepare` script; the published package ships dist/ built).
import { existsSync, readFileSync } from 'node:fs';

// `thicket --version` alone answers without loading the command tree (which imports every layer).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  process.exit(0);
}
// `thicket runs ls | head`: a closed pipe is the reader being done, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('thicket: dist/ is missing: this is a source checkout that was not built. Run `npm run build` (or `npm ci`) first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
