// Runs every `*.test.ts` under src/ and training/ (after building dist/ when it is stale: see below) with node's built-in test runner
// through tsx, and ends with a plain
// `N passed, N failed` line for CI. Node 20's `--test` does not expand globs, so files are gathered here.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureBuild } from './build.mjs';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = [...collect('src', []), ...collect('training', [])]
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort();
// Tests import the sources through tsx, but the CLI tests spawn bin/thicket.js, which runs the compiled dist/:
// build it first when a source is newer (THICKET_SKIP_BUILD=1 skips this, e.g. for a run of unit tests only).
if (process.env['THICKET_SKIP_BUILD'] !== '1') {
  try {
    ensureBuild();
  } catch (error) {
    console.error(error.message);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
const scratch = mkdtempSync(join(tmpdir(), 'thicket-tests-'));
const tapFile = join(scratch, 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, THICKET_TEST: '1' } },
);
let summary;
try {
  const tap = readFileSync(tapFile, 'utf8');
  const count = (key) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  summary = `${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped') + count('todo')} skipped`;
} catch {
  summary = `0 passed, 1 failed`;
}
rmSync(scratch, { recursive: true, force: true });
console.log(summary);
process.exit(result.status ?? 1);
