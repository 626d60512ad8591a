/**
 * The README's gateway section, run as written: keys are created with the CLI, `thicket serve` is started as a
 * real process (with `--port 0` and a temporary `--journal` added, so parallel tests never share a port or a
 * file), then the README's `curl` command and its `openai` client example run against it with the README's
 * base URL pointed at that port and `THICKET_KEY` set to the key just created.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir, parseSingleJson, pollUntil, runCli, spawnCli, type SpawnedCli, type TempDir } from './testing/run-cli.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const README_URL = 'http://127.0.0.1:8787';
const run = promisify(execFile);

/** The README's section on the gateway, from its heading to the next `## `. */
function gatewaySection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Serve it: an OpenAI-compatible gateway');
  assert.ok(start >= 0, 'README has the gateway section');
  const end = readme.indexOf('\n## ', start + 5);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced block of `language` that contains `marker`. */
function blockWith(section: string, language: string, marker: string): string {
  for (const match of section.matchAll(/```(\w*)\n([\s\S]*?)```/g))
    if (match[1] === language && match[2]!.includes(marker)) return match[2]!;
  throw new Error(`no \`\`\`${language} block with ${marker} in the README's gateway section`);
}

describe('README: the gateway section runs as written', { timeout: 120_000 }, () => {
  let folder: TempDir;
  let server: SpawnedCli;
  let url = '';
  let token = '';
  let stderr = '';

  before(async () => {
    folder = makeTempDir('thicket-readme-gateway-');
    const journal = folder.file('journal.db');
    const created = await runCli(['keys', 'create', '--name', 'readme', '--budget-tokens', '200000', '--json', '--journal', journal]);
    assert.equal(created.code, 0, created.stderr);
    token = parseSingleJson<{ token: string }>(created).token;
    // The README's command is `npx thicket serve`; the test adds an ephemeral port and its own journal.
    const serveLine = blockWith(gatewaySection(), 'console', 'thicket serve');
    assert.match(serveLine, /\$ npx thicket serve\b/);
    server = spawnCli(['serve', '--port', '0', '--journal', journal, '--log-level', 'silent'], { timeoutMs: 110_000 });
    server.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    url = await pollUntil(
      () => /Thicket gateway\S* on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? '',
      (found) => found !== '',
      { timeoutMs: 30_000, what: 'the gateway to listen' },
    );
  });

  after(async () => {
    server?.child.kill('SIGTERM');
    const result = await server?.done;
    folder?.remove();
    assert.equal(result?.code, 0, `thicket serve exits 0 on SIGTERM\n${result?.stderr ?? ''}`);
  });

  it('the curl example answers with the run’s total usage, labelled simulated', async () => {
    const block = blockWith(gatewaySection(), 'console', 'curl');
    const command = block
      .replace(/^\$ /, '')
      .replace(/\\\n\s*/g, ' ')
      .replaceAll(README_URL, url);
    const { stdout } = await run('bash', ['-c', command], { env: { ...process.env, THICKET_KEY: token } });
    const body = JSON.parse(stdout) as {
      choices: Array<{ message: { content: string } }>;
      usage: { total_tokens: number };
      thicket: { simulated: boolean; strategy: string; usage: { totalTokens: number }; vote: { samples: number } };
    };
    assert.equal(body.choices[0]!.message.content, '391');
    assert.equal(body.thicket.simulated, true);
    assert.equal(body.thicket.strategy, 'vote');
    assert.equal(body.thicket.vote.samples, 5);
    assert.equal(body.usage.total_tokens, body.thicket.usage.totalTokens);
    assert.ok(body.usage.total_tokens > 0 && body.usage.total_tokens <= 4000, 'within the request budget');
  });

  it('the openai client example streams an answer and its usage', async () => {
    const source = blockWith(gatewaySection(), 'ts', "from 'openai'").replaceAll(`${README_URL}/v1`, `${url}/v1`);
    assert.ok(source.includes(`${url}/v1`), 'the example names the README base URL');
    const file = folder.write('example.mts', source);
    symlinkSync(join(ROOT, 'node_modules'), folder.file('node_modules'));
    writeFileSync(folder.file('package.json'), '{"type":"module"}');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: folder.path,
      env: { ...process.env, THICKET_KEY: token, NODE_OPTIONS: '' },
    });
    const printed = /^(\S+) (\d+)$/m.exec(stdout.trim());
    assert.ok(printed, `prints "<answer> <total tokens>": ${stdout}`);
    assert.match(printed[1]!, /^-?\d+$/, 'the simulated fleet answers the arithmetic with a number');
    assert.ok(Number(printed[2]) > 0);
  });
});
