/**
 * End to end in a real browser: Debian's chromium driven by playwright-core against a real `thicket serve`
 * (simulated fleet, its own journal, API keys on). Starts a run from the playground and follows it to the
 * end, checks the spend shown against the journal's, runs a small study and opens its charts, searches the
 * registry, checks each page with axe-core, and writes a screenshot of every page to artifacts/console/.
 *
 * Needs dist/ built (`npm run build`; scripts/run-tests.mjs builds it when stale) and /usr/bin/chromium
 * (`.ci/run` installs it); CHROMIUM_PATH overrides the browser.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'thicket.js');
const SHOTS = join(ROOT, 'artifacts', 'console');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

function cli(args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env,
    cwd: env['THICKET_JOURNAL'] ? dirname(env['THICKET_JOURNAL']) : ROOT,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `thicket ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

async function axe(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const run = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe
      .run;
    return (await run(document, { resultTypes: ['violations'] })).violations;
  });
  assert.deepEqual(
    violations.map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    ),
    [],
    `axe found problems on ${name}`,
  );
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const hasBrowser = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist', 'console', 'index.html'));

describe(
  'console in a real browser',
  { skip: hasBrowser ? false : `needs ${CHROMIUM} and dist/console (npm run build)`, timeout: 150_000 },
  () => {
    let folder: string;
    let env: NodeJS.ProcessEnv;
    let server: ChildProcess;
    let url: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let adminToken: string;
    let runId: string;
    const pageErrors: string[] = [];

    before(async () => {
      folder = mkdtempSync(join(tmpdir(), 'thicket-console-e2e-'));
      mkdirSync(SHOTS, { recursive: true });
      // NO_COLOR: CI sets CI=true, which turns picocolors on; the banners and key lines are read as plain text.
      env = {
        ...process.env,
        NO_COLOR: '1',
        THICKET_JOURNAL: join(folder, 'journal.db'),
        THICKET_REGISTRY: join(folder, 'registry.db'),
      };
      delete env['THICKET_SIM_CLOCK'];
      delete env['THICKET_CONFIG'];
      adminToken = /token: (\S+)/.exec(cli(['keys', 'create', '--name', 'admin', '--admin'], env))![1]!;
      cli(['keys', 'create', '--name', 'app', '--budget-tokens', '200000', '--budget-usd', '5', '--period', 'day'], env);
      server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--model', 'sim:small', '--log-level', 'warn'], {
        env,
        cwd: folder,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      url = await new Promise<string>((resolveUrl, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 30_000);
        // The banner goes to stderr (stdout is the JSON log).
        const read = (chunk: Buffer): void => {
          // eslint-disable-next-line no-control-regex -- ANSI colour codes, should a terminal setting bring them back
          output += chunk.toString().replace(/\u001b\[[0-9;]*m/g, '');
          const match = /Thicket gateway on (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolveUrl(match[1]!);
          }
        };
        server.stdout!.on('data', read);
        server.stderr!.on('data', read);
      });
      // Cards to search: a versioned one (two versions) and one that a policy filter excludes.
      const cards = [
        {
          id: 'contracts',
          version: '1.0.0',
          name: 'Contract summarizer',
          description: 'Summarize legal contracts: clauses, parties and obligations.',
          binding: { kind: 'agent', name: 'contracts' },
          provider: 'local',
          labels: ['residency:eu'],
        },
        {
          id: 'contracts',
          version: '1.1.0',
          name: 'Contract summarizer',
          description: 'Summarize legal contracts: clauses, parties, obligations and dates.',
          binding: { kind: 'agent', name: 'contracts' },
          provider: 'local',
          labels: ['residency:eu'],
        },
        {
          id: 'contracts-us',
          version: '1.0.0',
          name: 'US contract summarizer',
          description: 'Summarize legal contracts under US law.',
          binding: { kind: 'agent', name: 'contracts-us' },
          provider: 'acme',
          labels: ['residency:us'],
        },
      ];
      const registered = await fetch(`${url}/v1/registry/cards`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(cards),
      });
      assert.equal(registered.status, 201, await registered.text());

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      // A fresh profile per run (a new context is one); axe is injected as an inline script, which the console's CSP forbids.
      context = await browser.newContext({ viewport: { width: 1280, height: 860 }, bypassCSP: true, colorScheme: 'light' });
      page = await context.newPage();
      page.setDefaultTimeout(20_000);
      // A script error in the page fails the test that caused it (with the message, not a timeout later).
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        // A failed request is logged by the browser too; the tests that expect one (401 before the key) check it themselves.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
      });
    });

    afterEach(async (t) => {
      const errors = pageErrors.splice(0);
      if (errors.length > 0) await shot(page, `failed-${t.name.slice(0, 20).replace(/\W+/g, '-')}`);
      assert.deepEqual(errors, [], 'errors in the page');
    });

    after(async () => {
      await browser?.close();
      server?.kill('SIGTERM');
      if (server) await new Promise((done) => server.once('exit', done));
      rmSync(folder, { recursive: true, force: true });
    });

    it('asks for a key, then lists runs (empty state)', async () => {
      await page.goto(`${url}/`);
      await page.getByRole('alert').filter({ hasText: 'missing_api_key' }).waitFor();
      await page.getByRole('button', { name: 'Key', exact: true }).click();
      await page.getByLabel(/API key/).fill(adminToken);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('No runs yet').waitFor();
      await axe(page, 'runs (empty)');
    });

    it('starts a run from the playground, follows it to the end, and shows the journal’s spend', async () => {
      await nav(page, 'Playground').click();
      await page.getByLabel('Query').fill('What is (17*23)+(12*4)?');
      await page.getByLabel('Model').selectOption('sim:small');
      await page.getByLabel('Budget: tokens').fill('20000');
      await axe(page, 'playground');
      await shot(page, 'playground');
      await page.getByRole('button', { name: 'Run' }).click();
      await page.waitForURL(/#\/runs\/[^/?]+$/);
      runId = decodeURIComponent(/#\/runs\/([^/?]+)/.exec(page.url())![1]!);
      await page.locator('h1 .badge.status-ok').waitFor({ timeout: 30_000 });
      const journal = JSON.parse(cli(['runs', 'show', runId, '--json'], env)) as {
        run: { usage: { totalTokens: number; usd: number; calls: number } };
      };
      const usage = journal.run.usage;
      assert.ok(usage.calls > 0);
      assert.equal(Number(await page.getByTestId('run-spend-usd').getAttribute('data-usd')), usage.usd);
      assert.equal(await page.getByTestId('run-spend-tokens').textContent(), usage.totalTokens.toLocaleString('en-US'));
      assert.equal(await page.getByTestId('run-spend-calls').textContent(), String(usage.calls));
      // The graph's root node carries the whole run's spend.
      await page.locator('.react-flow__node').first().waitFor();
      const root = await page
        .getByRole('table', { name: 'Workflow nodes and their spend' })
        .locator('tbody tr')
        .first()
        .locator('td')
        .allTextContents();
      assert.equal(root[0], 'run');
      assert.equal(root[3], String(usage.calls));
      assert.equal(root[4], usage.totalTokens.toLocaleString('en-US'));
      await page.getByText(/Budget burn-down: tokens left of 20,000/).waitFor();
      await axe(page, 'run detail');
      await shot(page, 'run-detail');
    });

    it('shows the run’s calls in order and the governor’s decision', async () => {
      await page.getByRole('tab', { name: /Calls/ }).click();
      const calls = page.locator('ol.calls > li');
      // The tab is URL state: the list renders after the navigation, not on the click itself.
      await calls.first().waitFor();
      assert.ok((await calls.count()) > 0);
      await calls.first().locator('summary').click();
      await page.getByRole('heading', { name: 'Prompt' }).first().waitFor();
      await axe(page, 'run calls');
      await shot(page, 'run-calls');
      await page.getByRole('tab', { name: 'Governor' }).click();
      await page.getByRole('table', { name: 'Governor features' }).waitFor();
      // The frontier's one-sentence why is the journal's, word for word.
      const details = (await (
        await fetch(`${url}/v1/runs/${encodeURIComponent(runId)}`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).json()) as { steps: { kind: string; output: { decision?: { frontier?: { why: string } } } | null }[] };
      const why = details.steps.find((step) => step.kind === 'governor')?.output?.decision?.frontier?.why;
      assert.ok(why, 'an arithmetic query on sim:small is decided by the frontier table');
      assert.equal(await page.getByTestId('frontier-why').textContent(), why);
      await axe(page, 'run governor');
      await shot(page, 'run-governor');
    });

    it('lists the run, filters by status, and keeps the filter in the URL', async () => {
      await nav(page, 'Runs').click();
      await page.getByRole('link', { name: runId }).waitFor();
      await page.getByLabel('Status').selectOption('error');
      await page.getByText('No run matches these filters.').waitFor();
      assert.match(page.url(), /status=error/);
      await page.getByLabel('Status').selectOption('ok');
      await page.getByRole('link', { name: runId }).waitFor();
      // The cost range goes to the API (min_usd): a bound above the run's cost leaves nothing.
      await page.getByLabel('Min cost ($)').fill('1000');
      await page.getByText('No run matches these filters.').waitFor();
      assert.match(page.url(), /minUsd=1000/);
      await page.getByLabel('Min cost ($)').fill('0');
      await page.getByRole('link', { name: runId }).waitFor();
      await axe(page, 'runs');
      await shot(page, 'runs');
      await page.setViewportSize({ width: 420, height: 860 });
      await shot(page, 'runs-narrow');
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    it('compares two runs side by side', async () => {
      const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
      const started = (await (
        await fetch(`${url}/v1/runs`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ query: 'What is 2+3?', strategy: 'single', model: 'sim:small' }),
        })
      ).json()) as { run_id: string };
      const other = started.run_id;
      let details: { live: boolean; run: { status: string; answer: string; usage: { totalTokens: number; calls: number } | null } };
      do {
        await new Promise((done) => setTimeout(done, 100));
        details = (await (await fetch(`${url}/v1/runs/${encodeURIComponent(other)}`, { headers: auth })).json()) as typeof details;
      } while (details.live || details.run.usage === null);
      await page.goto(`${url}/#/runs/${encodeURIComponent(runId)}`);
      await page.getByRole('link', { name: 'Compare with another run' }).click();
      await page.getByLabel('Run B').fill(other);
      const table = page.getByRole('table', { name: 'Two runs side by side' });
      await table.waitFor();
      const row = async (label: string): Promise<string[]> =>
        table
          .locator('tbody tr')
          .filter({ has: page.getByRole('rowheader', { name: label, exact: true }) })
          .locator('td')
          .allTextContents();
      assert.deepEqual((await row('Strategy')).slice(0, 2), ['auto', 'single']);
      assert.equal((await row('Answer'))[1], details.run.answer);
      assert.equal((await row('Tokens'))[1], details.run.usage.totalTokens.toLocaleString('en-US'));
      assert.equal((await row('Calls'))[1], String(details.run.usage.calls));
      assert.match(page.url(), /#\/compare\?a=.+&b=/);
      await axe(page, 'compare');
      await shot(page, 'compare');
    });

    it('runs a small study and draws its charts', async () => {
      await nav(page, 'Studies & evals').click();
      await page.getByText('No study has run').waitFor();
      await page.getByLabel('Id (optional; the same id resumes)', { exact: true }).fill('e2e-quick');
      await page.getByLabel('Items per suite').fill('2');
      await page.getByRole('checkbox', { name: 'arithmetic' }).check();
      await page.getByRole('button', { name: 'Launch study' }).click();
      await page.waitForURL(/#\/studies\/e2e-quick$/);
      await page.getByRole('heading', { name: 'Variance decomposition' }).waitFor({ timeout: 60_000 });
      await page.getByText('arithmetic: accuracy vs mean tokens per query').waitFor();
      const report = (await (
        await fetch(`${url}/v1/studies/e2e-quick/report`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).json()) as {
        analysis: { configurations: unknown[] };
      };
      // One dot per configuration on the frontier chart (plus the Pareto points).
      const dots = await page.locator('figure.chart').first().locator('svg[role=img] [data-shape]').count();
      assert.ok(dots >= report.analysis.configurations.length, `${dots} dots for ${report.analysis.configurations.length} configurations`);
      await axe(page, 'study');
      await shot(page, 'study');
    });

    it('uploads a dataset, runs an evaluation on it and shows accuracy with intervals and the paired comparison', async () => {
      await nav(page, 'Studies & evals').click();
      await page.getByText('No evaluation has run').waitFor();
      await page.getByLabel('Dataset file (JSONL, JSON or CSV)').setInputFiles(join(ROOT, 'fixtures', 'gsm8k-sample.jsonl'));
      await page.getByTestId('dataset-summary').filter({ hasText: 'gsm8k-sample.jsonl: 12 rows (jsonl)' }).waitFor();
      await page.getByLabel('Preset', { exact: true }).selectOption('gsm8k');
      await page.getByLabel('Budgets (tokens per query, comma-separated)').fill('4k');
      await page.getByLabel('Models to evaluate (comma-separated)').fill('sim:small');
      await page.getByLabel('Evaluation id (optional; the same id resumes)').fill('e2e-eval');
      await axe(page, 'studies & evals (form)');
      await page.getByRole('button', { name: 'Launch evaluation' }).click();
      await page.waitForURL(/#\/evals\/e2e-eval$/);
      await page.getByRole('heading', { name: 'Paired comparisons' }).waitFor({ timeout: 60_000 });
      const job = (await (await fetch(`${url}/v1/evals/e2e-eval`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as {
        progress: { total: number; done: number };
        result: { summary: { stats: { architecture: string; accuracyCi: { low: number; high: number } }[] } };
      };
      // 12 items × 2 strategies, all done; the intervals shown are the API's.
      assert.deepEqual([job.progress.total, job.progress.done], [24, 24]);
      const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
      const expected = [...job.result.summary.stats]
        .sort((a, b) => a.architecture.localeCompare(b.architecture))
        .map((row) => `[${pct(row.accuracyCi.low)}, ${pct(row.accuracyCi.high)}]`);
      assert.deepEqual(await page.getByTestId('accuracy-ci').allTextContents(), expected);
      assert.equal(await page.getByRole('table', { name: 'Paired comparisons' }).locator('tbody tr').count(), 1);
      await axe(page, 'evaluation');
      await shot(page, 'evaluation');
      await nav(page, 'Studies & evals').click();
      await page.getByRole('link', { name: 'e2e-eval' }).waitFor();
      await shot(page, 'studies');
    });

    it('searches the registry with a policy filter and opens a card with its versions', async () => {
      await nav(page, 'Registry').click();
      await page.getByLabel('What should the capability do?').fill('summarize legal contracts');
      await page.getByLabel('Require labels (all, comma-separated)').fill('residency:eu');
      await page.getByRole('button', { name: 'Search' }).click();
      const results = page.getByRole('list', { name: 'Search results' }).locator('> li');
      await results.first().waitFor();
      assert.equal(await results.count(), 1, 'the residency:us card is filtered out');
      await results.first().getByRole('link').click();
      await page.getByRole('heading', { name: /^Contract summarizer contracts@1\.[01]\.0$/ }).waitFor();
      const versions = await page.locator('.card-detail table tbody tr td:first-child').allTextContents();
      assert.deepEqual(versions.sort(), ['1.0.0', '1.1.0']);
      await axe(page, 'registry');
      await shot(page, 'registry');
    });

    it('shows keys with spend against their limits, in the dark theme too', async () => {
      await nav(page, 'Keys & budgets').click();
      await page.getByRole('heading', { name: /^app / }).waitFor();
      assert.ok(await page.getByLabel(/tokens: 0 of 200,000/).isVisible());
      await axe(page, 'keys');
      await shot(page, 'keys');
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await page.goto(`${url}/#/runs/${encodeURIComponent(runId)}`);
      await page.locator('h1 .badge.status-ok').waitFor();
      await axe(page, 'run detail (dark)');
      await shot(page, 'run-detail-dark');
    });
  },
);
