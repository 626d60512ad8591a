/**
 * Commands that send many requests (`governor calibrate`, `study`) say on which models, ask before spending on
 * a non-simulated one, and report progress with the spend so far — on stderr, so `--json` stdout stays one
 * object. Consent is `--yes`, or `--max-usd <dollars>` (a cap the command enforces); without either and with
 * no terminal to ask on, the command is refused before anything is sent (exit 2).
 */
import { createInterface } from 'node:readline/promises';
import { CancelledError, InvalidInputError, type UsageTotals } from '../core/index.ts';
import type { Fleet } from '../models/index.ts';
import { formatUsd } from './output.ts';

export interface SpendGuardOptions {
  /** The command, as typed (`governor calibrate`). */
  command: string;
  fleet: Fleet;
  /** Every model the command may call. */
  models: readonly string[];
  /** What it will do, in a few words (`120 items × 3 stages + 9 arms at 3 budget levels`). */
  plan: string;
  yes?: boolean;
  maxUsd?: number | undefined;
  /** Also name the models when all are simulated (default true; nothing is spent then). */
  announceSimulated?: boolean;
  /** Where the question goes and answers come from (tests); default: stderr and stdin when both are terminals. */
  ask?: (question: string) => Promise<string>;
  write?: (line: string) => void;
}

/** Names the models, then returns when spending may start; throws (nothing sent) when it may not. */
export async function confirmSpend(options: SpendGuardOptions): Promise<void> {
  const write = options.write ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const described = [...new Set(options.models)].map((reference) => {
    const { profile, provider } = options.fleet.model(reference);
    if (profile.simulated) return { reference, real: false, text: `${reference} (simulated: simulated prices, nothing billed)` };
    // In-process models at price 0 (tiny:, gguf:) bill nobody: they are named, not asked about.
    if (provider.providerId === 'llama' && profile.priceInputPerMillion === 0 && profile.priceOutputPerMillion === 0)
      return {
        reference,
        real: false,
        text: `${reference} (embedded llama.cpp${profile.tinyTrained ? ', a tiny model trained by Thicket' : ''}: local, nothing billed)`,
      };
    const price = `$${profile.priceInputPerMillion}/$${profile.priceOutputPerMillion} per million input/output tokens`;
    return { reference, real: true, text: `${reference} (${provider.providerId} ${provider.modelId}, ${price})` };
  });
  const real = described.filter((model) => model.real).map((model) => model.reference);
  if (real.length > 0 || options.announceSimulated !== false)
    write(`${options.command}: ${options.plan}, on ${described.map((model) => model.text).join(', ')}`);
  if (real.length === 0) return;
  if (options.maxUsd !== undefined) {
    write(`${options.command}: stops once ${formatUsd(options.maxUsd)} is spent (--max-usd)`);
    return;
  }
  if (options.yes) return;
  const interactive = options.ask !== undefined || (process.stdin.isTTY === true && process.stderr.isTTY === true);
  if (!interactive)
    throw new InvalidInputError(`${options.command} would send requests to ${real.join(', ')} (not simulated) and be billed`, [
      { path: '--yes', message: 'pass --yes to confirm, or --max-usd <dollars> to cap what it may spend' },
    ]);
  const ask =
    options.ask ??
    (async (question: string): Promise<string> => {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    });
  const answer = (await ask(`Send requests to ${real.join(', ')} and pay for them? [y/N] `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CancelledError(`${options.command} was not confirmed; nothing was sent.`);
}

/** One progress line: `governor calibrate: item 3/120 · 41 calls · 12,345 tokens · $0.001234`. */
export function spendLine(command: string, done: number, total: number, unit: string, spent: UsageTotals): string {
  return (
    `${command}: ${unit} ${done}/${total} · ${spent.calls.toLocaleString('en-US')} calls · ` +
    `${spent.totalTokens.toLocaleString('en-US')} tokens · ${formatUsd(spent.usd)}`
  );
}
