/**
 * Terminal output: tables (cli-table3), a live progress bar on stderr while calls are in flight
 * (cli-progress, only on a TTY so pipes and CI logs stay clean), and JSON printing.
 */
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { Fleet } from '../models/index.ts';

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

/** Shows calls finished / planned while a command runs. Returns a function that stops the display. */
export function attachProgress(fleet: Fleet, output: Output, planned: number, label: string): () => void {
  if (output.json || !output.isTTY) return () => {};
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} calls | {tokens} tokens | {retries} retries`,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let tokens = 0;
  let retries = 0;
  bar.start(planned, 0, { tokens: 0, retries: 0 });
  const stop = fleet.onEvent((event) => {
    if (event.type === 'call-end') {
      tokens += event.usage.inputTokens + event.usage.outputTokens;
      bar.increment(1, { tokens, retries });
    } else if (event.type === 'call-retry') {
      retries += 1;
      bar.update({ tokens, retries });
    }
  });
  return () => {
    stop();
    bar.stop();
  };
}
