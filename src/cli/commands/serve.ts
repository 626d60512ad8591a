/**
 * `thicket serve` starts the gateway; `thicket keys create|ls|revoke|spend` manage its API keys (stored hashed
 * in the journal the gateway uses).
 */
import pc from 'picocolors';
import pino from 'pino';
import { InvalidInputError } from '../../core/index.ts';
import { connectRedisSharedLedger, type SharedLedger } from '../../budget/index.ts';
import { createThicket } from '../../lab/index.ts';
import { GatewayTelemetry, KEY_PERIODS, KeyBudgets, KeyStore, startGateway, type KeyPeriod } from '../../gateway/index.ts';
import { IssueCollector } from '../options.ts';
import { processOutput, table } from '../output.ts';

export interface ServeFlags {
  config?: string;
  db?: string;
  registry?: string;
  host?: string;
  port?: string;
  model?: string;
  cors?: string[];
  otlp?: string;
  logLevel?: string;
  drainSeconds?: string;
  seed?: string;
  redis?: string;
}

export async function serveCommand(flags: ServeFlags): Promise<number> {
  const issues = new IssueCollector();
  const port = issues.number('--port', flags.port ?? '8787', { integer: true, min: 0, max: 65535 });
  const drainSeconds = issues.number('--drain-seconds', flags.drainSeconds ?? '30', { min: 0, max: 3600 });
  const seed = issues.number('--seed', flags.seed, { integer: true, min: 0, max: 2 ** 31 - 1 });
  const level = flags.logLevel ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level))
    issues.add('--log-level', `must be one of fatal, error, warn, info, debug, trace, silent; got "${level}"`);
  issues.throwIfAny('Invalid serve request');
  const thicket = await createThicket({
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(flags.db !== undefined ? { journal: flags.db } : {}),
    ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
    ...(seed !== undefined ? { seed } : {}),
    // THICKET_SIM_CLOCK=real, as for `thicket solve`: simulated latency really waits (to watch a stream, or to
    // interrupt or drain a run part-way); by default simulated runs answer at once.
    simulatedClock: process.env['THICKET_SIM_CLOCK'] === 'real' ? 'real' : 'virtual',
  });
  // Redis, when configured, holds each key's budget for every gateway process: unreachable is an error at start.
  const redisUrl = flags.redis ?? process.env['THICKET_REDIS_URL'];
  let sharedLedger: SharedLedger | undefined;
  try {
    sharedLedger = redisUrl ? await connectRedisSharedLedger({ url: redisUrl }) : undefined;
  } catch (error) {
    await thicket.close();
    throw error;
  }
  const logger = pino({ level, base: { service: 'thicket-gateway' } });
  const telemetry = await GatewayTelemetry.create(flags.otlp !== undefined ? { otlpEndpoint: flags.otlp } : {});
  let running;
  try {
    running = await startGateway({
      thicket,
      host: flags.host ?? '127.0.0.1',
      port: port!,
      logger,
      telemetry,
      ...(flags.model !== undefined ? { defaultModel: flags.model } : {}),
      ...(flags.cors && flags.cors.length > 0 ? { corsOrigins: flags.cors } : {}),
      ...(sharedLedger ? { sharedLedger } : {}),
    });
  } catch (error) {
    await sharedLedger?.close();
    await thicket.close();
    throw error;
  }
  const { gateway } = running;
  const simulated = gateway.context.defaultModel.startsWith('sim:');
  logger.info(
    {
      url: running.url,
      journal: thicket.journalPath,
      defaultModel: gateway.context.defaultModel,
      simulated,
      open: running.open,
      tracing: telemetry.enabled,
    },
    `Thicket gateway listening on ${running.url}`,
  );
  process.stderr.write(
    `${pc.bold('Thicket gateway')} on ${running.url}  (OpenAI base URL: ${running.url}/v1)\n` +
      `  default model: ${gateway.context.defaultModel}` +
      `${simulated ? pc.yellow(' (simulated fleet: answers are not a real model’s)') : ''}\n` +
      `  journal: ${thicket.journalPath}\n` +
      (redisUrl ? `  key budgets shared through Redis: ${redisUrl.replace(/\/\/[^@/]*@/, '//')}\n` : '') +
      (running.open
        ? pc.yellow('  no API keys: open to local callers only (bound to loopback); create one with `thicket keys create`\n')
        : '  API keys required (Authorization: Bearer …)\n') +
      `  OpenAPI: ${running.url}/openapi.json · metrics: ${running.url}/metrics\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      const inFlight = gateway.context.live.size;
      logger.info({ signal, inFlight }, 'draining');
      process.stderr.write(`${signal}: draining ${inFlight} run(s) in flight (up to ${drainSeconds}s)…\n`);
      void running.close({ drainMs: drainSeconds! * 1000 }).then(resolve, resolve);
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await sharedLedger?.close();
  logger.flush();
  return 0;
}

export interface KeysFlags {
  config?: string;
  db?: string;
  json?: boolean;
  name?: string;
  admin?: boolean;
  budgetUsd?: string;
  budgetTokens?: string;
  budgetCalls?: string;
  period?: string;
  models?: string;
  rpm?: string;
  concurrency?: string;
}

/** A count given as digits or in scientific notation (`2e6`, as key budgets are often written). */
function count(issues: IssueCollector, flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?e\d+$/i.test(raw.trim())) {
    const value = Number(raw);
    if (Number.isSafeInteger(value) && value > 0) return value;
    issues.add(flag, `must be a whole number greater than 0, got ${raw}`);
    return undefined;
  }
  return issues.number(flag, raw, { integer: true, positive: true });
}

async function keyStore(flags: KeysFlags): Promise<{ store: KeyStore; budgets: KeyBudgets; close: () => Promise<void> }> {
  const thicket = await createThicket({
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(flags.db !== undefined ? { journal: flags.db } : {}),
  });
  const journal = () => thicket.openJournal();
  return { store: new KeyStore(journal), budgets: new KeyBudgets(journal), close: () => thicket.close() };
}

export async function keysCreateCommand(flags: KeysFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  if (flags.name === undefined || flags.name.trim() === '') issues.add('--name', 'is required');
  const usd = flags.budgetUsd === undefined ? undefined : issues.number('--budget-usd', flags.budgetUsd, { positive: true });
  const totalTokens = count(issues, '--budget-tokens', flags.budgetTokens);
  const calls = count(issues, '--budget-calls', flags.budgetCalls);
  const rpm = count(issues, '--rpm', flags.rpm);
  const concurrency = count(issues, '--concurrency', flags.concurrency);
  const period = flags.period ?? 'total';
  if (!(KEY_PERIODS as readonly string[]).includes(period))
    issues.add('--period', `must be one of ${KEY_PERIODS.join(', ')}; got "${period}"`);
  const models = flags.models
    ?.split(',')
    .map((model) => model.trim())
    .filter((model) => model !== '');
  if (models !== undefined && models.length === 0) issues.add('--models', 'must list at least one model reference');
  issues.throwIfAny('Invalid keys create request');
  const { store, close } = await keyStore(flags);
  try {
    const { key, token } = store.create({
      name: flags.name!,
      role: flags.admin ? 'admin' : 'client',
      settings: {
        budget: {
          ...(usd !== undefined ? { usd } : {}),
          ...(totalTokens !== undefined ? { totalTokens } : {}),
          ...(calls !== undefined ? { calls } : {}),
        },
        period: period as KeyPeriod,
        ...(models ? { models } : {}),
        ...(rpm !== undefined ? { rpm } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
      },
    });
    if (output.json) output.out(JSON.stringify({ key, token }));
    else {
      output.out(`Created ${key.role} key ${pc.bold(key.name)} (${key.id}).`);
      output.out(`  token: ${pc.bold(token)}`);
      output.out(pc.yellow('  Shown once: only its hash is stored. Send it as "Authorization: Bearer <token>".'));
    }
    return 0;
  } finally {
    await close();
  }
}

export async function keysListCommand(flags: KeysFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const { store, budgets, close } = await keyStore(flags);
  try {
    const keys = store.list().map((key) => ({ ...key, ...(key.revokedAt === null ? { spend: budgets.spend(key) } : {}) }));
    if (output.json) {
      output.out(JSON.stringify({ keys }));
      return 0;
    }
    if (keys.length === 0) {
      output.out(
        'No API keys yet: `thicket serve` is open to local callers only. Create one: thicket keys create --name app --budget-usd 5',
      );
      return 0;
    }
    output.out(
      table(
        ['id', 'name', 'role', 'period', 'budget', 'spent', 'limits', 'status'],
        keys.map((key) => [
          key.id,
          key.name,
          key.role,
          key.settings.period,
          Object.entries(key.settings.budget)
            .map(([dimension, value]) => `${dimension} ${value}`)
            .join(', ') || 'unlimited',
          key.spend ? `${key.spend.spent.totalTokens} tok, $${key.spend.spent.usd.toFixed(6)}, ${key.spend.spent.calls} calls` : '—',
          [
            key.settings.models ? `models ${key.settings.models.join(',')}` : '',
            key.settings.rpm !== undefined ? `${key.settings.rpm} rpm` : '',
            key.settings.concurrency !== undefined ? `${key.settings.concurrency} at once` : '',
          ]
            .filter(Boolean)
            .join('; ') || '—',
          key.revokedAt === null ? 'live' : `revoked ${key.revokedAt}`,
        ]),
      ),
    );
    return 0;
  } finally {
    await close();
  }
}

export async function keysRevokeCommand(id: string, flags: KeysFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const { store, close } = await keyStore(flags);
  try {
    if (!store.revoke(id))
      throw new InvalidInputError('Cannot revoke key', [{ path: 'id', message: `no live key "${id}" (thicket keys ls)` }]);
    output.out(
      output.json ? JSON.stringify({ id, revoked: true }) : `Revoked key ${id}. A running gateway refuses it from its next request.`,
    );
    return 0;
  } finally {
    await close();
  }
}
