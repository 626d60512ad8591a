/**
 * `thicket eval`: a thin wrapper over the lab's eval command (src/lab/eval). Before an eval on non-simulated
 * models spends anything, it prints the expected and worst-case dollars and asks (or takes `--yes`, or
 * `--max-usd`, which the eval then enforces as a cap on its whole spend).
 */
import { loadFleetConfig } from '../../models/index.ts';
import { openFleet } from '../../runtime/index.ts';
import {
  evalCommand,
  loadDataset,
  parseScorerSpec,
  plannedCells,
  resolveEval,
  type EvalCommandOptions,
  type EvalDefinition,
} from '../../lab/index.ts';
import { formatUsd } from '../output.ts';
import { confirmSpend } from '../spend-guard.ts';

const io = () => ({
  out: (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stderr.isTTY),
});

export type EvalFlags = Omit<EvalCommandOptions, 'target'> & { yes?: boolean };

export async function runEvalCommand(target: string, flags: EvalFlags): Promise<number> {
  const { yes, ...options } = flags;
  await confirmEvalSpend({ ...options, target }, Boolean(yes));
  return (await evalCommand({ ...options, target }, io())).exitCode;
}

/**
 * Dollars an eval may cost: every cell spending its whole budget, at the mean of the model's input and output
 * prices (expected) and at the higher of the two (worst case), plus the judge's slice at its higher price.
 */
export function evalSpendEstimate(
  definition: EvalDefinition,
  items: number,
  price: (model: string) => { input: number; output: number },
): { expected: number; worst: number } {
  let expected = 0;
  let worst = 0;
  const cellsPerModel = plannedCells(definition, items) / definition.models.length;
  for (const model of definition.models) {
    const { input, output } = price(model);
    for (const budget of definition.budgets) {
      const cells = cellsPerModel / definition.budgets.length;
      if (definition.budgetUnit === 'usd') {
        expected += cells * budget;
        worst += cells * budget;
      } else {
        expected += (cells * budget * (input + output)) / 2 / 1e6;
        worst += (cells * budget * Math.max(input, output)) / 1e6;
      }
    }
  }
  const { kind, option } = parseScorerSpec(definition.scorer ?? '');
  if (kind === 'judge' && option !== undefined) {
    const { input, output } = price(option);
    const slice = definition.judgeBudget ?? 1_500 * plannedCells(definition, items);
    expected += (slice * (input + output)) / 2 / 1e6;
    worst += (slice * Math.max(input, output)) / 1e6;
  }
  return { expected, worst };
}

/** Consent for an eval on models that are not all simulated; an eval the lab would reject is left to it (it reports why). */
async function confirmEvalSpend(options: EvalCommandOptions, yes: boolean): Promise<void> {
  let definition: EvalDefinition;
  let fleet: ReturnType<typeof openFleet>['fleet'];
  let items: number;
  const models: string[] = [];
  try {
    definition = resolveEval(options);
    const config = options.fleetConfig ?? loadFleetConfig(definition.config).config;
    const { kind, option } = parseScorerSpec(definition.scorer ?? '');
    models.push(...definition.models, ...(kind === 'judge' && option !== undefined ? [option] : []));
    fleet = openFleet({ config, seed: 0, models, simulatedClock: 'virtual' }).fleet;
    for (const model of models) fleet.model(model);
    items = (
      await loadDataset(definition.dataset, {
        ...(definition.preset !== undefined ? { preset: definition.preset } : {}),
        ...(definition.format !== undefined ? { format: definition.format } : {}),
        ...(definition.input !== undefined ? { input: definition.input } : {}),
        ...(definition.answer !== undefined ? { answer: definition.answer } : {}),
        ...(definition.choices !== undefined ? { choices: definition.choices } : {}),
        ...(definition.context !== undefined ? { context: definition.context } : {}),
        ...(definition.limit !== undefined ? { limit: definition.limit } : {}),
        ...(definition.sample !== undefined ? { sample: definition.sample } : {}),
        ...(definition.split !== undefined ? { split: definition.split } : {}),
      })
    ).items.length;
  } catch {
    return;
  }
  const estimate = evalSpendEstimate(definition, items, (model) => {
    const { profile } = fleet.model(model);
    return { input: profile.priceInputPerMillion, output: profile.priceOutputPerMillion };
  });
  await confirmSpend({
    command: 'eval',
    fleet,
    models,
    plan:
      `${plannedCells(definition, items)} cells (${items} items × strategies × budgets × models × seeds); ` +
      `expected ≈ ${formatUsd(estimate.expected)}, worst case ${formatUsd(estimate.worst)} (every cell spending its whole budget)`,
    yes,
    maxUsd: definition.maxUsd,
    announceSimulated: false,
  });
}
