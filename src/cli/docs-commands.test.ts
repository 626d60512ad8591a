/**
 * What the documentation shows must run (issue 16 §5): every `thicket` command in a ```bash block of README.md
 * and examples/README.md is run here, as written, against the built CLI — each block in its own temporary
 * folder with its own journal (`THICKET_JOURNAL`), its commands in order, two blocks at a time.
 *
 * Every command found in the docs needs an entry in EXPECTED (exit code and what its output must show) and
 * every entry must still be in the docs, so a new or changed command cannot slip past untested. What is not
 * run verbatim is said here:
 * - `<run-id>` stands for the run of the previous `solve` in the same block;
 * - `/tmp/` paths point into the block's temporary folder (parallel test runs must not share a file);
 * - "Connect a real model" runs against a local fake OpenAI-compatible server: the README's own
 *   `thicket.config.json` example is written to the folder with both `baseURL`s pointed at it, and
 *   `OPENAI_API_KEY` set to a dummy key.
 * The library example of the README is run by src/package.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docBlocksOf, type DocBlock, type DocCommand } from './testing/doc-commands.ts';
import {
  chatCompletion,
  describeResult,
  makeTempDir,
  runCli,
  startFakeOpenAI,
  type CliResult,
  type FakeOpenAIServer,
  type TempDir,
} from './testing/run-cli.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOCS = ['README.md', 'examples/README.md'];

interface Expectation {
  exit: number;
  /** Checks on the result (and the block's folder) beyond the exit code. */
  check?: (result: CliResult, folder: TempDir) => void;
}

const shows =
  (...patterns: RegExp[]) =>
  (result: CliResult): void => {
    for (const pattern of patterns) assert.match(`${result.stdout}\n${result.stderr}`, pattern, describeResult(result));
  };

const json = (result: CliResult): Record<string, unknown> => JSON.parse(result.stdout) as Record<string, unknown>;

/** Keyed by the command as written (see DocCommand.text). */
const EXPECTED: Record<string, Expectation> = {
  'thicket study --quick': {
    exit: 0,
    check: (result, folder) => {
      shows(/Report: .*report\.html/)(result);
      assert.ok(existsSync(folder.file('thicket-lab', 'quick', 'report.html')), 'the quick study writes its report');
    },
  },
  'thicket fleet': { exit: 0, check: shows(/local-small/, /\bgpt\b/, /sim:small/) },
  'thicket eval fixtures/gsm8k-sample.jsonl --preset gsm8k --strategies single,vote --budgets 2k,8k --models sim:small --export csv': {
    exit: 0,
    check: shows(
      /\[SIMULATED\] Eval gsm8k-sample-\w+ — 12 items × 4 configurations: 48 cells run/,
      /vote − single \(8,000\): [+−-][\d.]+ pts, p [\d.]+/,
      /Report: .*thicket-eval\/gsm8k-sample-\w+\/report\.html/,
      /Per-item results: .*items\.csv/,
    ),
  },
  'thicket keys create --name admin --admin': {
    exit: 0,
    check: shows(/Created admin key admin/, /token: thk_[a-z0-9]{12}_/, /Shown once/),
  },
  'thicket keys create --name app --budget-usd 5 --budget-tokens 2e6 --period day --rpm 60 --concurrency 8': {
    exit: 0,
    check: shows(/Created client key app/, /token: thk_/),
  },
  'thicket keys ls': { exit: 0, check: shows(/admin/, /app/, /usd 5, totalTokens 2000000/, /60 rpm; 8 at once/) },
  'thicket fleet check': { exit: 0, check: shows(/local-small/, /\bgpt\b/) },
  'thicket solve "What is 17*23?" --model gpt --samples 5 --budget-usd 0.01': { exit: 0, check: shows(/Answer: 391\b/) },
  'thicket solve "What is 17*23+48*2?" --model sim:small --budget-tokens 5000 --json': {
    exit: 0,
    check: (result) => {
      const governor = json(result)['governor'] as { frontier?: { family: string; familySource: string; choice: string; why: string } };
      assert.equal(governor.frontier?.family, 'arithmetic', describeResult(result));
      assert.equal(governor.frontier?.familySource, 'inferred');
      assert.match(
        governor.frontier?.why ?? '',
        new RegExp(`^${governor.frontier?.choice}: on \\d+ training arithmetic items for sim:small`),
      );
    },
  },
  'thicket solve "What is 17*23+48*2?" --model sim:small --budget-tokens 5000 --optimize usd': {
    exit: 0,
    check: shows(/Why: arithmetic \(inferred\), usd-optimal table of sim:small, level \d+/),
  },
  'thicket governor frontier --study quick-sim --seeds 1001 --out my-policy.json': {
    exit: 0,
    check: (result, folder) => {
      shows(
        /wrote my-policy\.json: \d+ tables from \d+ training cells \(seeds 1001; held out: 1, 2\)/,
        /arithmetic on sim:small: /,
      )(result);
      assert.ok(existsSync(folder.file('my-policy.json')));
    },
  },
  'thicket governor calibrate --items 120 --levels 1500,4000,12000': { exit: 0, check: shows(/calibrated 120 items .*\[SIMULATED\]/) },
  'thicket governor fit --out policy.json': {
    exit: 0,
    check: (result, folder) => {
      shows(/wrote policy\.json/)(result);
      assert.ok(existsSync(folder.file('policy.json')));
    },
  },
  'thicket solve "What is 17*23+48*2?" --model sim:small --policy policy.json': {
    exit: 0,
    check: shows(/Answer: 487\b/, /Strategy: auto/),
  },
  'thicket export trajectories --out plans.jsonl': {
    exit: 0,
    check: (result, folder) => {
      shows(/wrote [1-9]\d* trajectories to plans\.jsonl/)(result);
      assert.ok(readFileSync(folder.file('plans.jsonl'), 'utf8').trim().length > 0);
    },
  },
  'thicket models fixture /tmp/fixture.gguf': { exit: 0, check: shows(/Wrote the fixture model/) },
  'thicket solve "What is 2+2?" --model gguf:/tmp/fixture.gguf --strategy thread --json': {
    exit: 0,
    check: (result) => {
      const out = json(result);
      assert.equal(out['status'], 'ok', describeResult(result));
      assert.equal(out['simulated'], false);
      assert.ok((out['nodes'] as { thread?: { kv?: unknown } }).thread?.kv, 'the KV figures are reported');
    },
  },
  'thicket agentsnet --task all --sizes 4,8,16 --model sim:large': { exit: 0, check: shows(/AgentsNet score/, /coloring/, /consensus/) },
  'thicket agentsnet --task coloring --sizes 16,50 --protocol verified --json': {
    exit: 0,
    check: (result) => {
      const out = json(result);
      assert.equal(out['protocol'], 'verified');
      assert.deepEqual(
        (out['cells'] as Array<{ size: number }>).map((cell) => cell.size),
        [16, 50],
      );
    },
  },
  'thicket workflow validate examples/fan-out-fan-in.json': { exit: 0, check: shows(/fan-out-fan-in/) },
  'thicket workflow estimate examples/fan-out-fan-in.json --query "What is (17*23)+(12*4)?" --budget-tokens 6000': {
    exit: 0,
    // Says which figure was fitted (the worst case, what the ledger reserves) and that it now fits.
    check: shows(/scaled so that the worst case .*fits the budget: [\d,]+ → [\d,]+ tokens ≤ 6,000/),
  },
  'thicket solve "What is (17*23)+(12*4)?" --workflow examples/fan-out-fan-in.json --budget-tokens 20000': {
    exit: 0,
    check: shows(/Answer: 439\b/),
  },
  'thicket solve "Which river flows through the capital of Veloria?" --workflow examples/search-then-check.json --corpus src/ops/testing/corpus/northreach':
    { exit: 0, check: shows(/Answer: Oska\b/, /Status: ok/) },
  'thicket runs show <run-id> --trace': { exit: 0, check: shows(/wf\/search/, /wf\/check/, /evidence/) },
};

/** The README's `thicket.config.json` example, with every `baseURL` pointed at `baseURL`. */
function readmeConfig(baseURL: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  const config = blocks.find((block) => block.includes('"defaultModel"') && block.includes('"models"'));
  assert.ok(config, 'the README shows a thicket.config.json');
  const parsed = JSON.parse(config) as { models: Record<string, { baseURL?: string }> };
  for (const model of Object.values(parsed.models)) if (model.baseURL !== undefined) model.baseURL = baseURL;
  return JSON.stringify(parsed, null, 2);
}

async function runPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: size }, worker));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, failures.map((failure) => String((failure as Error).message ?? failure)).join('\n\n'));
}

const blocks: DocBlock[] = DOCS.flatMap((file) => docBlocksOf(join(ROOT, file), file));
const commands: DocCommand[] = blocks.flatMap((block) => block.commands);

describe('the commands the documentation shows', () => {
  let server: FakeOpenAIServer;
  const folders: TempDir[] = [];
  before(async () => {
    server = await startFakeOpenAI(() => ({ status: 200, body: chatCompletion('17*23 = 391.\nAnswer: 391') }));
  });
  after(async () => {
    await server.close();
    for (const folder of folders) folder.remove();
  });

  it('every documented command has an expectation here, and every expectation is still documented', () => {
    assert.ok(commands.length >= 15, `found ${commands.length} commands`);
    const documented = new Set(commands.map((command) => command.text));
    assert.deepEqual(
      commands.filter((command) => !(command.text in EXPECTED)).map((command) => command.text),
      [],
      'documented but not tested',
    );
    assert.deepEqual(
      Object.keys(EXPECTED).filter((text) => !documented.has(text)),
      [],
      'tested but no longer documented',
    );
  });

  it('each one runs as documented: exit code and output', { timeout: 1_200_000 }, async () => {
    const ran: string[] = [];
    await runPool(blocks, 2, async (block) => {
      const folder = makeTempDir('thicket-docs-');
      folders.push(folder);
      // The examples' paths are relative to the repository root.
      symlinkSync(join(ROOT, 'examples'), folder.file('examples'));
      symlinkSync(join(ROOT, 'src'), folder.file('src'));
      symlinkSync(join(ROOT, 'fixtures'), folder.file('fixtures'));
      if (block.commands.some((command) => command.args.includes('gpt')))
        writeFileSync(folder.file('thicket.config.json'), readmeConfig(server.baseURL));
      let lastRun: string | undefined;
      for (const command of block.commands) {
        const expected = EXPECTED[command.text];
        if (!expected) continue; // reported by the test above
        const args = command.args.map((arg) => {
          if (arg === '<run-id>') {
            assert.ok(lastRun, `${block.file}:${command.line}: no earlier run for <run-id>`);
            return lastRun;
          }
          return arg.replaceAll('/tmp/', `${folder.path}/`);
        });
        const result = await runCli(args, {
          cwd: folder.path,
          env: { THICKET_JOURNAL: folder.file('journal.db'), THICKET_REGISTRY: folder.file('registry.db'), OPENAI_API_KEY: 'sk-test' },
          timeoutMs: 600_000,
        });
        assert.equal(result.code, expected.exit, `${block.file}:${command.line}: ${command.text}\n${describeResult(result)}`);
        expected.check?.(result, folder);
        lastRun = /Run: (\S+)/.exec(result.stdout)?.[1] ?? lastRun;
        ran.push(command.text);
      }
    });
    assert.equal(ran.length, commands.length);
    // The fake endpoint was really used by the "Connect a real model" block.
    assert.ok(server.requests.length >= 5, `the fake endpoint got ${server.requests.length} requests`);
  });
});
