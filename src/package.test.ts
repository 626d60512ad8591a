/**
 * The npm package as a user gets it: `npm pack` (which runs `prepare`, the build), the tarball's content, an
 * install of the tarball into an empty project (dependencies from the npm cache the repo's `npm ci` filled;
 * no optional peer dependency installed), then that project imports it from plain ESM JavaScript (and from
 * CommonJS), type-checks a strict TypeScript file against the shipped declarations, runs the installed bin,
 * and runs a budgeted solve through the library API on the simulated fleet.
 *
 * Slow by nature (the install builds better-sqlite3's native addon from source when no prebuilt binary can be
 * downloaded): one pack and one install, shared by every case. The install time is printed as a diagnostic.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { importOptional, isModuleNotFound, OPTIONAL_DEPENDENCIES, ThicketError } from './core/index.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const OPTIONAL_PEERS = Object.keys(OPTIONAL_DEPENDENCIES);

/** The environment of every child: none of the test runner's or the developer's Thicket settings. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env))
    if (name.startsWith('THICKET_') || name === 'NODE_OPTIONS' || name === 'NODE_TEST_CONTEXT') delete env[name];
  return env;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: childEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  if (result.error) throw result.error;
  return result;
}

function expectOk(result: SpawnSyncReturns<string>, what: string): void {
  assert.equal(
    result.status,
    0,
    `${what}: exit ${String(result.status)} ${String(result.signal)}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
  );
}

describe('engines', () => {
  it('the declared Node range takes every 20.x from 20.19 and the Node running the tests (npm warns EBADENGINE otherwise)', () => {
    // `20.19.0 || >=22.12.0` (no caret) once slipped in: it admits 20.19.0 alone, so every later 20.x warned on each npx.
    const range = PACKAGE.engines.node;
    assert.ok(semver.satisfies(process.version, range), `${process.version} is outside ${range}`);
    for (const version of ['20.19.0', '20.20.2', '22.12.0', '24.1.0']) assert.ok(semver.satisfies(version, range), `${version} ∉ ${range}`);
    for (const version of ['20.18.1', '22.11.0']) assert.ok(!semver.satisfies(version, range), `${version} ∈ ${range}`);
  });
});

describe('optional peer dependencies', () => {
  it('OPTIONAL_DEPENDENCIES (the versions in the install hint) agree with package.json: optional peers, and dev dependencies at that version', () => {
    assert.deepEqual(Object.keys(PACKAGE.peerDependencies).sort(), [...OPTIONAL_PEERS].sort());
    for (const [name, version] of Object.entries(OPTIONAL_DEPENDENCIES)) {
      assert.equal(PACKAGE.peerDependencies[name], `^${version}`, name);
      assert.equal(PACKAGE.peerDependenciesMeta[name]?.optional, true, name);
      assert.equal(PACKAGE.devDependencies[name], version, `${name} stays a dev dependency (the repo's own tests and CLI use it)`);
      assert.equal(PACKAGE.dependencies[name], undefined, `${name} is not a hard dependency`);
    }
  });

  it('importOptional turns "that package is not installed" into OPTIONAL_DEPENDENCY_MISSING with the install command, and rethrows anything else', async () => {
    const missing = Object.assign(
      new Error("Cannot find package 'vega-lite' imported from /app/node_modules/thicket/dist/lab/report/charts.js"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    );
    const error = await importOptional('vega-lite', 'Report charts', () => Promise.reject(missing)).then(
      () => assert.fail('resolved'),
      (thrown: unknown) => thrown,
    );
    assert.ok(ThicketError.isInstance(error));
    assert.equal(error.code, 'OPTIONAL_DEPENDENCY_MISSING');
    assert.equal(error.category, 'bad_input');
    assert.match(error.message, /Report charts needs the optional package "vega-lite".*npm i vega-lite@6\.2\.0/);
    assert.equal(error.cause, missing);

    // A dependency of the optional package missing, or any other failure, is not "the package is missing".
    const other = Object.assign(new Error("Cannot find package 'vega-util' imported from /x/node_modules/vega/build/vega.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await assert.rejects(
      importOptional('vega', 'Report charts', () => Promise.reject(other)),
      (thrown) => thrown === other,
    );
    assert.equal(isModuleNotFound(Object.assign(new Error("Cannot find module 'usearch'"), { code: 'MODULE_NOT_FOUND' }), 'usearch'), true);
    assert.equal(isModuleNotFound(new Error("Cannot find package 'usearch'"), 'usearch'), false, 'no code: not a resolution failure');
    // A real failed import of a package that is not installed.
    // A variable specifier: TypeScript does not try to resolve it (a literal would not type-check).
    const absent: string = 'thicket-no-such-package';
    const real = await import(absent).then(
      () => assert.fail('resolved'),
      (thrown: unknown) => thrown,
    );
    assert.equal(isModuleNotFound(real, 'thicket-no-such-package'), true);
  });
});

describe('the npm package: pack, install into an empty project, use', { timeout: 40 * 60_000 }, () => {
  let work = '';
  let app = '';
  let files: string[] = [];
  let installOutput = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'thicket-package-'));
    // `npm pack` runs `prepare` (scripts/build.mjs), so the tarball is built from the current sources.
    const pack = run(NPM, ['pack', '--json', '--pack-destination', work], REPO, 10 * 60_000);
    expectOk(pack, 'npm pack');
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as {
      filename: string;
      size: number;
      unpackedSize: number;
      entryCount: number;
      files: { path: string }[];
    }[];
    assert.ok(packed);
    files = packed.files.map((file) => file.path);
    const tarball = join(work, packed.filename);
    console.log(
      `# tarball ${packed.filename}: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
        `${packed.entryCount} files`,
    );

    app = join(work, 'app');
    mkdirSync(app);
    // What the README asks of a consumer on npm 11: allow better-sqlite3's install script (its native build).
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        { name: 'consumer', version: '1.0.0', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } },
        null,
        2,
      ),
    );
    const started = performance.now();
    const install = run(NPM, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], app, 25 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    expectOk(install, 'npm install <tarball>');
    installOutput = `${install.stdout}\n${install.stderr}`;
    console.log(`# npm install of the tarball into an empty project: ${seconds.toFixed(1)} s wall`);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships dist/ (JS, declarations, source maps) and the run-time data, and no tests, bench/ or TypeScript sources', () => {
    for (const path of files) {
      assert.doesNotMatch(path, /\.test\./, path);
      assert.doesNotMatch(path, /(^|\/)testing(\/|\.)/, path);
      assert.doesNotMatch(path, /^(src|bench|scripts|docs|\.ci)\//, path);
      assert.ok(!path.endsWith('.ts') || path.endsWith('.d.ts'), `${path}: TypeScript source in the tarball`);
      assert.ok(path !== 'dist/.tsbuildinfo', path);
    }
    for (const required of [
      'package.json',
      'README.md',
      'bin/thicket.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/cli/main.js',
      'dist/console/index.html',
      'studies/quick.yaml',
      'studies/quick-sim.yaml',
      'models/tiny/tiny-reasoning-small.gguf',
      'models/tiny/tiny-reasoning-small.gguf.card.json',
      'examples/vote-then-verify.json',
      'schemas/workflow.schema.json',
    ])
      assert.ok(files.includes(required), `${required} missing from the tarball`);
  });

  it('installs with no install script other than better-sqlite3 (allowed), and without any optional peer', () => {
    // npm 11 lists every install script it did not run for want of an allowScripts entry. A tarball (file:)
    // source also lists the package's own `prepare`; npm does not run it for an installed tarball, nor list it
    // for a registry install.
    const unapproved = [...installOutput.matchAll(/^npm warn install-scripts\s+(\S+)@\S+ \((\w+):/gm)].map(
      ([, name, script]) => `${name} ${script}`,
    );
    // msgpackr-extract (BullMQ → msgpackr's optional native accelerator) is left unbuilt on purpose: msgpackr
    // falls back to its JavaScript codec without it, so a consumer need not allow any script but better-sqlite3's.
    const optionalBuilds = new Set([`${PACKAGE.name} prepare`, 'msgpackr-extract install']);
    assert.deepEqual(
      unapproved.filter((entry) => !optionalBuilds.has(entry)),
      [],
      installOutput,
    );
    assert.ok(
      existsSync(join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')),
      'better-sqlite3 was built',
    );
    for (const name of OPTIONAL_PEERS) assert.ok(!existsSync(join(app, 'node_modules', name)), `${name} was installed`);
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx (a dev dependency) was installed');
  });

  it('imports from plain ESM and from CommonJS, loading no optional peer', () => {
    // A resolve hook (module.register, in the loader thread) posts every module URL the import resolves.
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const loaded = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => loaded.push(url));
port1.unref();
register('./hooks-port.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
const thicket = await import('thicket');
await new Promise((done) => setTimeout(done, 50));
const ledger = new thicket.Ledger({ clock: thicket.systemClock, limits: { totalTokens: 100 } });
console.log(JSON.stringify({
  exports: Object.keys(thicket).length,
  ledger: typeof ledger.root.reserve,
  errorCode: new thicket.OptionalDependencyMissingError('usearch', 'X').code,
  thicketModules: loaded.filter((url) => url.includes('/node_modules/thicket/')).length,
  loaded: loaded.filter((url) => url.includes('/node_modules/')).map((url) => url.replace(/^.*\\/node_modules\\//, '')),
}));
`,
    );
    writeFileSync(
      join(app, 'hooks-port.mjs'),
      `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  port.postMessage(resolved.url);
  return resolved;
}
`,
    );
    const esm = run(process.execPath, ['esm.mjs'], app);
    expectOk(esm, 'node esm.mjs');
    const report = JSON.parse(esm.stdout) as {
      exports: number;
      ledger: string;
      errorCode: string;
      thicketModules: number;
      loaded: string[];
    };
    assert.ok(report.exports > 50, `${report.exports} exports`);
    assert.equal(report.ledger, 'function');
    assert.equal(report.errorCode, 'OPTIONAL_DEPENDENCY_MISSING');
    assert.ok(report.thicketModules > 10, 'the hook saw the package load');
    const heavy = report.loaded.filter((path) => OPTIONAL_PEERS.some((name) => path.startsWith(`${name}/`)) || path.startsWith('tsx/'));
    assert.deepEqual(heavy, []);

    // Node ^20.19 / >=22.12 load an ES module graph without top-level await through require().
    writeFileSync(join(app, 'cjs.cjs'), `const thicket = require('thicket');\nconsole.log(typeof thicket.Journal);\n`);
    const cjs = run(process.execPath, ['cjs.cjs'], app);
    expectOk(cjs, 'node cjs.cjs');
    assert.equal(cjs.stdout.trim(), 'function');
  });

  it('type-checks a strict TypeScript consumer against the shipped declarations (skipLibCheck off)', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          noImplicitOverride: true,
          noPropertyAccessFromIndexSignature: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(app, 'consumer.ts'),
      `import {
  Fleet,
  FleetResolver,
  Journal,
  Ledger,
  OptionalDependencyMissingError,
  ThicketError,
  parseFleetConfig,
  systemClock,
  type ErrorCode,
  type GenerateRequest,
  type ModelProvider,
} from 'thicket';

const code: ErrorCode = 'OPTIONAL_DEPENDENCY_MISSING';
const request: GenerateRequest | undefined = undefined;
const provider: ModelProvider | undefined = undefined;
const ledger = new Ledger({ clock: systemClock, limits: { totalTokens: 5000 } });
const missing = new OptionalDependencyMissingError('node-llama-cpp', 'The embedded engine');
export const checks: readonly unknown[] = [code, request, provider, ledger.root, Fleet, FleetResolver, Journal, parseFleetConfig, missing.dependency];
export function codeOf(error: unknown): ErrorCode | undefined {
  return ThicketError.isInstance(error) ? error.code : undefined;
}
`,
    );
    const tsc = run(process.execPath, [TSC, '-p', 'tsconfig.json'], app, 5 * 60_000);
    expectOk(tsc, 'tsc (strict consumer)');
  });

  it('the installed bin answers --version, solves on the simulated fleet, and names the missing optional peer', () => {
    const bin = join(app, 'node_modules', '.bin', 'thicket');
    const version = run(bin, ['--version'], app);
    expectOk(version, 'thicket --version');
    assert.equal(version.stdout.trim(), PACKAGE.version);

    const solve = run(
      bin,
      ['solve', 'What is 17*23?', '--model', 'sim:small', '--samples', '5', '--json', '--db', join(app, 'cli.db')],
      app,
    );
    expectOk(solve, 'thicket solve');
    const answer = JSON.parse(solve.stdout) as { answer: string; status: string; simulated: boolean };
    assert.equal(answer.status, 'ok');
    assert.equal(answer.answer, '391');
    assert.equal(answer.simulated, true);

    // gguf: needs node-llama-cpp, which the consumer did not install.
    const model = join(app, 'fixture.gguf');
    expectOk(run(bin, ['models', 'fixture', model], app), 'thicket models fixture');
    const gguf = run(
      bin,
      ['solve', 'What is 2+2?', '--model', `gguf:${model}`, '--strategy', 'single', '--json', '--db', join(app, 'cli.db')],
      app,
    );
    assert.notEqual(gguf.status, 0, gguf.stdout + gguf.stderr); // the run failed (exit 1); its error says why
    const failed = JSON.parse(gguf.stdout) as { error: { code: string; message: string } };
    assert.equal(failed.error.code, 'OPTIONAL_DEPENDENCY_MISSING');
    assert.match(failed.error.message, /npm i node-llama-cpp@3\.21\.1/);
  });

  it('runs a budgeted solve through the library API on the simulated fleet', () => {
    writeFileSync(
      join(app, 'solve.mjs'),
      `import { createThicket } from 'thicket';
const thicket = await createThicket({ journal: ${JSON.stringify(join(app, 'j.db'))} });
try {
  const result = await thicket.solve('What is 17*23?', { model: 'sim:small', strategy: 'vote', samples: 5, budget: { totalTokens: 5000 }, seed: 1 });
  console.log(JSON.stringify({ status: result.status, answer: result.answer, simulated: result.simulated, totalTokens: result.usage.totalTokens }));
} finally {
  await thicket.close();
}
`,
    );
    const solve = run(process.execPath, ['solve.mjs'], app);
    expectOk(solve, 'node solve.mjs');
    const result = JSON.parse(solve.stdout) as { status: string; answer: string; simulated: boolean; totalTokens: number };
    assert.equal(result.status, 'ok');
    assert.equal(result.answer, '391');
    assert.equal(result.simulated, true);
    assert.ok(result.totalTokens > 0 && result.totalTokens <= 5000, `${result.totalTokens} tokens`);

    // The same program, typed: the runtime's declarations under the strict consumer settings.
    writeFileSync(join(app, 'solve.ts'), readFileSync(join(app, 'solve.mjs'), 'utf8'));
    writeFileSync(
      join(app, 'tsconfig.solve.json'),
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { module: 'NodeNext', target: 'ES2022' }, files: ['solve.ts'] }),
    );
    expectOk(run(process.execPath, [TSC, '-p', 'tsconfig.solve.json'], app, 5 * 60_000), 'tsc (strict consumer of createThicket)');
  });

  it('serves the gateway from the package (startGateway): a chat completion, typed under strict settings', () => {
    writeFileSync(
      join(app, 'gateway.mjs'),
      `import { createThicket, startGateway } from 'thicket';
const thicket = await createThicket({ journal: ${JSON.stringify(join(app, 'gateway.db'))} });
const gateway = await startGateway({ thicket, port: 0, logLevel: 'silent', processMetrics: false });
try {
  const response = await fetch(gateway.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'vote@sim:small', messages: [{ role: 'user', content: 'What is 17*23?' }], thicket: { budget: { tokens: 4000 } } }),
  });
  const body = await response.json();
  console.log(JSON.stringify({ status: response.status, answer: body.choices[0].message.content, usage: body.usage, thicket: body.thicket }));
} finally {
  await gateway.close();
}
`,
    );
    const served = run(process.execPath, ['gateway.mjs'], app);
    expectOk(served, 'node gateway.mjs');
    const result = JSON.parse(served.stdout) as {
      status: number;
      answer: string;
      usage: { total_tokens: number };
      thicket: { simulated: boolean; usage: { totalTokens: number } };
    };
    assert.equal(result.status, 200);
    assert.equal(result.answer, '391');
    assert.equal(result.thicket.simulated, true);
    assert.equal(result.usage.total_tokens, result.thicket.usage.totalTokens);
    writeFileSync(join(app, 'gateway.ts'), readFileSync(join(app, 'gateway.mjs'), 'utf8'));
    writeFileSync(
      join(app, 'tsconfig.gateway.json'),
      JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { module: 'NodeNext', target: 'ES2022', lib: ['ES2023', 'DOM'] },
        files: ['gateway.ts'],
      }),
    );
    expectOk(run(process.execPath, [TSC, '-p', 'tsconfig.gateway.json'], app, 5 * 60_000), 'tsc (strict consumer of startGateway)');
  });

  it("runs the README's library example verbatim, and type-checks it", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use Thicket as a library'));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    assert.ok(example?.includes("from 'thicket'"), 'the README has a js example under "Use Thicket as a library"');
    writeFileSync(join(app, 'readme.mjs'), example);
    const ran = run(process.execPath, ['readme.mjs'], app);
    expectOk(ran, 'node readme.mjs (the README example)');
    const lines = ran.stdout.trim().split('\n');
    const first = /^391 ok (\d+) true$/.exec(lines[0] ?? '');
    assert.ok(first && Number(first[1]) > 0 && Number(first[1]) <= 5000, ran.stdout);
    assert.equal(lines.filter((line) => line.startsWith('call sim:small')).length, 3, ran.stdout);
    assert.ok(lines.includes('answer 42'), ran.stdout);
    assert.ok(existsSync(join(app, 'thicket-runs.db')), 'the example journals into ./thicket-runs.db');
    writeFileSync(join(app, 'readme.ts'), example);
    writeFileSync(
      join(app, 'tsconfig.readme.json'),
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { module: 'NodeNext', target: 'ES2022' }, files: ['readme.ts'] }),
    );
    expectOk(run(process.execPath, [TSC, '-p', 'tsconfig.readme.json'], app, 5 * 60_000), 'tsc (the README example, strict)');
  });
});
