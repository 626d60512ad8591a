/**
 * `thicket serve` and `thicket keys create|ls|revoke`: the OpenAI-compatible gateway and its API keys. Flags
 * and help only; ../commands/serve.ts does the work.
 */
import { Option, type Command } from 'commander';
import { CONFIG_HELP, JOURNAL_HELP, lazyModule, wrap } from './common.ts';

const { serveCommand, keysCreateCommand, keysListCommand, keysRevokeCommand } = lazyModule(() => import('../commands/serve.ts'));

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve an OpenAI-compatible gateway: strategies as models, hard per-key budgets, REST for runs, studies and the registry')
    .option('--host <address>', 'address to bind (anything but loopback needs an API key first)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one)', '8787')
    .option('-m, --model <ref>', 'model of thicket/<strategy> (default: the config default, the pulled embedded model, else sim:small)')
    .option('--config <path>', CONFIG_HELP)
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--registry <path>', 'capability registry database (default: registry.db beside the journal)')
    .option('--cors <origin...>', 'allow these origins (CORS is off by default)')
    .option('--otlp <url>', 'export OpenTelemetry traces over OTLP/HTTP (default: $OTEL_EXPORTER_OTLP_ENDPOINT; off when unset)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info')
    .option('--drain-seconds <s>', 'on SIGTERM, how long runs in flight may finish before they are cancelled', '30')
    .option('--seed <n>', 'default seed of runs (simulated fleet)')
    .option(
      '--redis <url>',
      "share each key's budget with other gateway processes through Redis (default: $THICKET_REDIS_URL; off when unset)",
    )
    .action(wrap((flags: Parameters<typeof serveCommand>[0]) => serveCommand(flags)));
}

export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description("Manage the gateway's API keys (stored hashed in the journal)");
  keys
    .command('create')
    .description('Create a key; its token is printed once')
    .requiredOption('--name <name>', 'a name for the key (shown in logs and metrics)')
    .option('--admin', 'an admin key: manages keys, sees every run, starts studies')
    .option('--budget-usd <usd>', 'hard dollar budget per period')
    .option('--budget-tokens <n>', 'hard token budget per period (2e6 works)')
    .option('--budget-calls <n>', 'hard model-call budget per period')
    .option('--period <period>', 'day | month | total (UTC periods)', 'total')
    .option('--models <refs>', 'comma-separated model references the key may use (`sim:*` matches a prefix)')
    .option('--rpm <n>', 'requests per minute')
    .option('--concurrency <n>', 'requests in flight at once')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof keysCreateCommand>[0]) => keysCreateCommand(flags)));
  keys
    .command('ls')
    .description('List keys with their spend this period')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((flags: Parameters<typeof keysListCommand>[0]) => keysListCommand(flags)));
  keys
    .command('revoke')
    .description('Revoke a key')
    .argument('<id>', 'key id (thicket keys ls)')
    .option('--journal <path>', JOURNAL_HELP)
    .addOption(new Option('--db <path>').hideHelp())
    .option('--json', 'print JSON')
    .action(wrap((id: string, flags: Parameters<typeof keysRevokeCommand>[1]) => keysRevokeCommand(id, flags)));
}
