/**
 * Providers that are not ready are refused before any call (issue 16 §4), against a real local HTTP server
 * (openai-compatible/testing.ts): a named key variable that is unset or empty, `openai:` without
 * OPENAI_API_KEY, refused credentials (401/403) that must not be retried, and prices — the config's, else
 * the maintained price table's for well-known hosted models, else none (`unpriced`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { MissingApiKeyError, ProviderError, ThicketError, exitCodeFor, rngFor, systemClock } from '../core/index.ts';
import { Ledger } from '../budget/index.ts';
import { parseFleetConfig, type FleetConfig } from './config.ts';
import { Fleet } from './fleet.ts';
import { hostedModelPrice, isLocalEndpoint } from './prices.ts';
import { FleetResolver } from './resolver.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry.ts';
import { baseRequest, completion, json, rejection, useFakeOpenAIServer } from './openai-compatible/testing.ts';

const fake = useFakeOpenAIServer();
const KEY_VARIABLE = 'THICKET_TEST_PROVIDER_KEY';
/** Whether the price table package is installed here (it is a dependency; absent only before `npm ci`). */
const tableInstalled = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('@pydantic/genai-prices');
    return true;
  } catch {
    return false;
  }
})();
const NO_TABLE = tableInstalled ? false : '@pydantic/genai-prices is not installed (run npm ci)';

function localConfig(entry: Record<string, unknown> = {}): FleetConfig {
  return parseFleetConfig({
    version: 1,
    models: { local: { provider: 'openai-compatible', baseURL: fake.baseURL, model: 'test-model', ...entry } },
  });
}

/** A fleet on `config` that retries fast (no back-off), with a ledger counting what it spent. */
function fleetOn(config: FleetConfig, environment: NodeJS.ProcessEnv): { fleet: Fleet; ledger: Ledger } {
  // The system clock: a virtual one fires the call's timeout at once while the real server is answering.
  const clock = systemClock;
  const fleet = new Fleet({
    resolver: new FleetResolver({ config, clock: systemClock, seed: 0, environment }),
    clock,
    retry: { maxRetries: 3, initialDelayMs: 0, maxDelayMs: 0 },
  });
  return { fleet, ledger: new Ledger({ clock, limits: {} }) };
}

const answer = (): void => {
  fake.handler = (_request, res) => json(res, 200, completion('4', { usage: { prompt_tokens: 20, completion_tokens: 1 } }));
};

describe('config: apiKeyOptional', () => {
  it('is a boolean that only applies with apiKeyEnv (INVALID_CONFIG with its path otherwise)', () => {
    const entry = { provider: 'openai-compatible', baseURL: 'http://127.0.0.1:8080/v1', model: 'm' };
    assert.equal(
      parseFleetConfig({ version: 1, models: { a: { ...entry, apiKeyEnv: 'K', apiKeyOptional: true } } }).models['a']?.provider,
      'openai-compatible',
    );
    for (const [extra, message] of [
      [{ apiKeyOptional: true }, /models\.a\.apiKeyOptional: only applies with "apiKeyEnv"/],
      [{ apiKeyEnv: 'K', apiKeyOptional: 'yes' }, /models\.a\.apiKeyOptional/],
    ] as const) {
      assert.throws(
        () => parseFleetConfig({ version: 1, models: { a: { ...entry, ...extra } } }),
        (error: unknown) => ThicketError.isInstance(error) && error.code === 'INVALID_CONFIG' && message.test(error.message),
      );
    }
  });
});

describe('a missing API key is refused before anything is sent', () => {
  it('apiKeyEnv names an unset or empty variable: MISSING_API_KEY (exit 2) naming variable and model, no request, nothing spent', async () => {
    answer();
    for (const environment of [{}, { [KEY_VARIABLE]: '' }]) {
      const { fleet, ledger } = fleetOn(localConfig({ apiKeyEnv: KEY_VARIABLE }), environment);
      // Listing and pricing the model still work; only calls are refused.
      assert.equal(fleet.model('local').profile.reference, 'local');
      const error = await rejection(fleet.call('local', baseRequest, { budget: ledger.root }));
      assert.ok(error instanceof MissingApiKeyError);
      assert.equal(error.code, 'MISSING_API_KEY');
      assert.equal(exitCodeFor(error), 2);
      assert.equal(error.isRetryable, false);
      assert.match(error.message, new RegExp(`Model "local" needs an API key from the environment variable ${KEY_VARIABLE}`));
      assert.match(error.message, KEY_VARIABLE in environment ? /which is empty/ : /which is not set/);
      assert.equal(ledger.report().total.calls, 0, 'nothing reserved or spent');
    }
    assert.equal(fake.seen.length, 0, 'no request reached the server');
  });

  it('the key, when set, goes out as a Bearer header', async () => {
    answer();
    const { fleet, ledger } = fleetOn(localConfig({ apiKeyEnv: KEY_VARIABLE }), { [KEY_VARIABLE]: 'sk-local-123456' });
    const result = await fleet.call('local', baseRequest, { budget: ledger.root });
    assert.equal(result.text, '4');
    assert.equal(fake.seen.length, 1);
    assert.equal(fake.seen[0]!.headers['authorization'], 'Bearer sk-local-123456');
  });

  it('apiKeyOptional: true sends the key when set and no Authorization header when not', async () => {
    answer();
    const optional = localConfig({ apiKeyEnv: KEY_VARIABLE, apiKeyOptional: true });
    const unset = fleetOn(optional, {});
    assert.equal(unset.fleet.model('local').notReady, undefined);
    assert.equal((await unset.fleet.call('local', baseRequest, { budget: unset.ledger.root })).text, '4');
    const set = fleetOn(optional, { [KEY_VARIABLE]: 'sk-optional-123' });
    await set.fleet.call('local', baseRequest, { budget: set.ledger.root });
    assert.equal(fake.seen.length, 2);
    assert.equal(fake.seen[0]!.headers['authorization'], undefined);
    assert.equal(fake.seen[1]!.headers['authorization'], 'Bearer sk-optional-123');
  });

  it('a model without apiKeyEnv (a local server) sends no key and is ready, as before', async () => {
    answer();
    const { fleet, ledger } = fleetOn(localConfig(), {});
    assert.equal(fleet.model('local').notReady, undefined);
    await fleet.call('local', baseRequest, { budget: ledger.root });
    assert.equal(fake.seen[0]!.headers['authorization'], undefined);
  });

  it('openai:<model> without OPENAI_API_KEY is refused at once: 0 requests (it made 4 attempts before)', async () => {
    answer();
    const { fleet, ledger } = fleetOn({ version: 1, models: {} }, { OPENAI_BASE_URL: fake.baseURL });
    const error = await rejection(fleet.call('openai:test-model', baseRequest, { budget: ledger.root }));
    assert.equal(error.code, 'MISSING_API_KEY');
    assert.match(error.message, /OPENAI_API_KEY/);
    assert.equal(fake.seen.length, 0);
    assert.equal(ledger.report().total.calls, 0);

    const keyed = fleetOn({ version: 1, models: {} }, { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'sk-openai-abcdef' });
    assert.equal((await keyed.fleet.call('openai:test-model', baseRequest, { budget: keyed.ledger.root })).text, '4');
    assert.equal(fake.seen.length, 1);
    assert.equal(fake.seen[0]!.headers['authorization'], 'Bearer sk-openai-abcdef');
  });
});

describe('refused credentials are not retried', () => {
  for (const status of [401, 403]) {
    it(`HTTP ${status} (even with x-should-retry: true): one attempt, not retryable, the message says why`, async () => {
      fake.handler = (_request, res) =>
        json(res, status, { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } }, { 'x-should-retry': 'true' });
      const { fleet, ledger } = fleetOn(localConfig({ apiKeyEnv: KEY_VARIABLE }), { [KEY_VARIABLE]: 'sk-wrong-key-000' });
      const error = await rejection(fleet.call('local', baseRequest, { budget: ledger.root }));
      assert.ok(error instanceof ProviderError);
      assert.equal(error.status, status);
      assert.equal(error.isRetryable, false);
      assert.match(error.message, /refused the credentials/);
      assert.equal(fake.seen.length, 1, 'exactly one attempt (a retryable error would make 4)');
      assert.equal(ledger.report().total.calls, 1);
    });
  }

  it('a gateway that reports refused credentials as HTTP 200 with an error object: one attempt', async () => {
    fake.handler = (_request, res) => json(res, 200, { error: { message: 'Invalid API key', code: 'invalid_api_key' } });
    const { fleet, ledger } = fleetOn(localConfig({ apiKeyEnv: KEY_VARIABLE }), { [KEY_VARIABLE]: 'sk-wrong-key-000' });
    const error = await rejection(fleet.call('local', baseRequest, { budget: ledger.root }));
    assert.equal(error.isRetryable, false);
    assert.equal(fake.seen.length, 1);
    // Any other upstream error in that shape is still retried (4 attempts in all).
    fake.handler = (_request, res) => json(res, 200, { error: { message: 'upstream overloaded', code: 'overloaded' } });
    await rejection(fleet.call('local', { ...baseRequest, seed: 1 }, { budget: ledger.root }));
    assert.equal(fake.seen.length, 5);
  });

  it('retryDelayMs never retries a 401/403, whatever the error claims', () => {
    const rng = rngFor(0, 'k', 0);
    for (const status of [401, 403])
      assert.equal(retryDelayMs(new ProviderError('denied', { status, isRetryable: true }), 1, DEFAULT_RETRY_POLICY, rng), undefined);
    assert.notEqual(retryDelayMs(new ProviderError('busy', { status: 503 }), 1, DEFAULT_RETRY_POLICY, rng), undefined);
  });
});

describe('prices: config, else the price table for hosted models, else unpriced', () => {
  const resolve = (config: FleetConfig, reference: string, environment: NodeJS.ProcessEnv = {}) =>
    new FleetResolver({ config, clock: systemClock, seed: 0, environment }).resolve(reference).profile;

  it('a local endpoint without a configured price is unpriced (0 $/M); a configured price (even 0) is a price', () => {
    const unpriced = resolve(localConfig(), 'local');
    assert.equal(unpriced.unpriced, true);
    assert.equal(unpriced.priceInputPerMillion, 0);
    const free = resolve(localConfig({ priceInputPerMillion: 0, priceOutputPerMillion: 0 }), 'local');
    assert.equal(free.unpriced, undefined);
    const priced = resolve(localConfig({ priceInputPerMillion: 1, priceOutputPerMillion: 2 }), 'local');
    assert.deepEqual([priced.priceInputPerMillion, priced.priceOutputPerMillion, priced.unpriced], [1, 2, undefined]);
    // Simulated models carry their profile's price.
    assert.equal(resolve({ version: 1, models: {} }, 'sim:small').unpriced, undefined);
  });

  it('local and private hosts are never looked up in the table', () => {
    for (const url of [
      'http://127.0.0.1:8000/v1',
      'http://localhost:11434/v1',
      'http://[::1]:8080/v1',
      'http://10.1.2.3/v1',
      'http://192.168.0.5/v1',
      'http://172.20.0.1/v1',
      'http://gpu-box.local/v1',
    ])
      assert.equal(isLocalEndpoint(url), true, url);
    for (const url of ['https://api.openai.com/v1', 'https://openrouter.ai/api/v1', 'https://fcdn.example.com/v1', 'http://172.32.0.1/v1'])
      assert.equal(isLocalEndpoint(url), false, url);
    assert.equal(hostedModelPrice({ modelId: 'gpt-4o-mini', baseURL: 'http://127.0.0.1:8000/v1', contextWindow: 32_768 }), undefined);
  });

  it('openai:<model> and hosted aliases take the table price; a config price overrides it field by field', { skip: NO_TABLE }, () => {
    const openai = resolve({ version: 1, models: {} }, 'openai:gpt-4o-mini', { OPENAI_API_KEY: 'sk-x' });
    assert.deepEqual([openai.priceInputPerMillion, openai.priceOutputPerMillion, openai.unpriced], [0.15, 0.6, undefined]);
    const hosted = parseFleetConfig({
      version: 1,
      models: {
        router: { provider: 'openai-compatible', baseURL: 'https://openrouter.ai/api/v1', model: 'anthropic/claude-sonnet-4' },
        overridden: {
          provider: 'openai-compatible',
          baseURL: 'https://api.openai.com/v1',
          model: 'gpt-4o-mini',
          priceOutputPerMillion: 9,
        },
        unknown: { provider: 'openai-compatible', baseURL: 'https://api.openai.com/v1', model: 'no-such-model-xyz' },
      },
    });
    const router = resolve(hosted, 'router');
    assert.deepEqual([router.priceInputPerMillion, router.priceOutputPerMillion], [3, 15]);
    const overridden = resolve(hosted, 'overridden');
    assert.deepEqual([overridden.priceInputPerMillion, overridden.priceOutputPerMillion], [0.15, 9]);
    assert.equal(resolve(hosted, 'unknown').unpriced, true);
  });

  it('a tiered price is taken at the highest tier a prompt within the context window can reach', { skip: NO_TABLE }, () => {
    const google = 'https://generativelanguage.googleapis.com/v1beta/openai/';
    const short = hostedModelPrice({ modelId: 'gemini-2.5-pro', baseURL: google, contextWindow: 32_768 });
    const long = hostedModelPrice({ modelId: 'gemini-2.5-pro', baseURL: google, contextWindow: 1_000_000 });
    assert.ok(short && long);
    assert.deepEqual([short.inputPerMillion, short.outputPerMillion], [1.25, 10]);
    assert.deepEqual([long.inputPerMillion, long.outputPerMillion], [2.5, 15]);
  });
});
