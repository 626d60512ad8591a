/**
 * Terminal output: tables (cli-table3), a live progress bar on stderr while calls are in flight
 * (cli-progress, only on a TTY so pipes and CI logs stay clean), and JSON printing.
 */
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { ThicketEvent } from '../runtime/index.ts';

export interface Output {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

export function processOutput(json: boolean): Output {
  return {
    json,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const rendered = new Table({ head: head.map((cell) => pc.bold(cell)), style: { head: [], border: [] } });
  for (const row of rows) rendered.push(row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)));
  return rendered.toString();
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(value < 0.01 ? 6 : 4);
}

export function formatUsd(value: number): string {
  return `$${value.toFixed(value < 0.01 ? 6 : 4)}`;
}

export const SIMULATED_LABEL = pc.yellow('[SIMULATED]');

/**
 * A live progress display fed by the runtime's event stream: calls finished, tokens, retries. Only on a TTY
 * (pipes and CI logs stay clean). The plan's call count is not known up front (the governor decides), so the
 * total grows with the calls seen.
 */
export function attachProgress(output: Output): { onEvent: (event: ThicketEvent) => void; stop: () => void } {
  if (output.json || !output.isTTY) return { onEvent: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let calls = 0;
  let tokens = 0;
  let retries = 0;
  return {
    onEvent: (event) => {
      if (event.type === 'run-started') {
        bar = new cliProgress.SingleBar(
          {
            format: `${event.strategy}${event.simulated ? ' (simulated)' : ''} [{bar}] {value} calls | {tokens} tokens | {retries} retries`,
            hideCursor: true,
            stream: process.stderr,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(1, 0, { tokens, retries });
      } else if (event.type === 'call-finished') {
        calls += 1;
        tokens += event.usage.inputTokens + event.usage.outputTokens;
        bar?.setTotal(Math.max(calls + 1, bar.getTotal()));
        bar?.update(calls, { tokens, retries });
      } else if (event.type === 'call-retried') {
        retries += 1;
        bar?.update({ tokens, retries });
      }
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
