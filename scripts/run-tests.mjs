// Runs every `*.test.ts` under src/, training/ and console/e2e/ (after building dist/ when it is stale: see below) with
// node's built-in test runner through tsx, then the console's component tests (Vitest, jsdom), and ends with a plain
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
const files = [...collect('src', []), ...collect('training', []), ...collect('console/e2e', [])]
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
// No node:test file matched (e.g. a filter naming only the console's component tests): node --test without
// files would search the whole tree, so it is not started.
const result =
  files.length === 0
    ? { status: 0 }
    : spawnSync(
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
// The console's component tests (console/src/**/*.test.tsx) run in Vitest with jsdom: with no filter, or one naming them.
const vitest = { passed: 0, failed: 0, skipped: 0, status: 0 };
if (filter.length === 0 || filter.some((f) => 'console/src'.includes(f) || f.startsWith('console/src'))) {
  const report = join(scratch, 'vitest.json');
  const vitestBin = join('node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(
    process.execPath,
    [vitestBin, 'run', '--config', 'console/vite.config.ts', '--reporter=default', '--reporter=json', `--outputFile=${report}`],
    { stdio: 'inherit', env: { ...process.env, THICKET_TEST: '1' } },
  );
  vitest.status = run.status ?? 1;
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    vitest.passed = json.numPassedTests;
    vitest.failed = json.numFailedTests + (json.numFailedTestSuites > 0 && json.numFailedTests === 0 ? 1 : 0);
    vitest.skipped = json.numPendingTests + json.numTodoTests;
  } catch {
    vitest.failed = 1;
  }
}
let summary;
try {
  const tap = files.length === 0 ? '' : readFileSync(tapFile, 'utf8');
  const count = (key) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  const passed = count('pass') + vitest.passed;
  const failed = count('fail') + count('cancelled') + vitest.failed;
  summary = `${passed} passed, ${failed} failed, ${count('skipped') + count('todo') + vitest.skipped} skipped`;
} catch {
  summary = `0 passed, 1 failed`;
}
rmSync(scratch, { recursive: true, force: true });
console.log(summary);
process.exit(result.status === 0 && vitest.status === 0 ? 0 : (result.status ?? 1) || vitest.status);
