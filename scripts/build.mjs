// Builds dist/ from src/: `tsc -p tsconfig.build.json` (incremental: JS, .d.ts, source maps), then marks
// the declarations' type imports of optional peer dependencies (see below); then the web console (console/,
// Vite + React) into dist/console, which `thicket serve` serves at `/`.
//
//   node scripts/build.mjs             build (what `npm run build` and `prepare` run)
//   node scripts/build.mjs --if-stale  build only when a source is newer than dist/ (scripts/run-tests.mjs, bench)
//
// The staleness check is by modification time: a directory walk instead of the ~5 s CPU of tsc's own
// up-to-date check.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.tsbuildinfo');
/** peerDependencies marked optional in package.json. */
const OPTIONAL_PEERS = Object.entries(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).peerDependenciesMeta ?? {})
  .filter(([, meta]) => meta.optional)
  .map(([name]) => name);

function walk(dir, visit) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, visit);
    else visit(path, entry.name);
  }
}

const CONSOLE = join(ROOT, 'console');
const CONSOLE_INDEX = join(DIST, 'console', 'index.html');

/** True when a console source is newer than its build (or it was never built). */
export function isConsoleStale() {
  if (!existsSync(CONSOLE)) return false;
  if (!existsSync(CONSOLE_INDEX)) return true;
  let newest = 0;
  walk(join(CONSOLE, 'src'), (path, name) => {
    if (!name.includes('.test.')) newest = Math.max(newest, statSync(path).mtimeMs);
  });
  for (const file of ['index.html', 'vite.config.ts']) newest = Math.max(newest, statSync(join(CONSOLE, file)).mtimeMs);
  return newest > statSync(CONSOLE_INDEX).mtimeMs;
}

/** Builds the console with Vite (a dev dependency: an install without it keeps the shipped dist/console). */
export function buildConsole({ quiet = false } = {}) {
  if (!existsSync(CONSOLE)) return;
  let vite;
  try {
    // vite's exports hide its bin: find the package, then the bin it declares.
    const manifest = createRequire(join(ROOT, 'package.json')).resolve('vite/package.json');
    vite = join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.vite);
  } catch {
    if (!quiet) console.error('vite is not installed: the console is not rebuilt.');
    return;
  }
  if (!quiet) console.error('Building dist/console (vite build console/) …');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', join(CONSOLE, 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status ?? result.signal})`);
}

export function isBuildStale() {
  if (!existsSync(STAMP) || !existsSync(join(DIST, 'index.js'))) return true;
  let newest = 0;
  walk(join(ROOT, 'src'), (path, name) => {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  });
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'])
    newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest > statSync(STAMP).mtimeMs;
}

const IGNORE = '// @ts-ignore -- optional peer dependency: its types are `any` where it is not installed';

/**
 * A declaration that imports types from an optional peer dependency (node-llama-cpp's `Llama`, usearch's
 * `Index`) would be an error (TS2307) in a consumer's type-check when that peer is not installed and
 * `skipLibCheck` is off. Each such import gets a `@ts-ignore`: with the peer installed the types are exact,
 * without it they are `any` — and the feature itself throws OptionalDependencyMissingError at run time.
 */
export function markOptionalPeerImports() {
  const pattern = new RegExp(
    `^(import type [^\\n]* from '(?:${OPTIONAL_PEERS.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})(?:/[^']*)?';)$`,
    'gm',
  );
  let marked = 0;
  walk(DIST, (path, name) => {
    if (!name.endsWith('.d.ts')) return;
    const text = readFileSync(path, 'utf8');
    const patched = text.replace(pattern, (line, _import, offset) => {
      if (text.slice(Math.max(0, offset - IGNORE.length - 1), offset).startsWith(IGNORE)) return line;
      marked++;
      return `${IGNORE}\n${line}`;
    });
    if (patched !== text) writeFileSync(path, patched);
  });
  return marked;
}

/** Builds dist/; throws when tsc fails. */
export function build({ quiet = false } = {}) {
  if (!quiet) console.error('Building dist/ (tsc -p tsconfig.build.json) …');
  // tsc's incremental state says nothing about deleted outputs: without the entry point, build from scratch.
  if (!existsSync(join(DIST, 'index.js'))) rmSync(STAMP, { force: true });
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status ?? result.signal})`);
  markOptionalPeerImports();
  // tsc leaves the build info untouched when nothing changed: mark dist/ as current for the next check.
  const now = new Date();
  utimesSync(STAMP, now, now);
  buildConsole({ quiet });
}

/** Builds when stale; returns whether it built. */
export function ensureBuild(options = {}) {
  if (!isBuildStale()) {
    if (!isConsoleStale()) return false;
    buildConsole(options);
    return true;
  }
  build(options);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) console.error(ensureBuild() ? 'dist/ rebuilt.' : 'dist/ is up to date.');
    else build();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
