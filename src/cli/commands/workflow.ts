/**
 * `thicket workflow validate|estimate|schema`: check a spec (every problem with its JSON path), price it
 * before running (expected and worst-case tokens and dollars, per node), fit it to a budget, and print the
 * published JSON Schema.
 */
import pc from 'picocolors';
import { systemClock, type UsageTotals } from '../../core/index.ts';
import { loadFleetConfig } from '../../models/index.ts';
import { openFleet, readWorkflowFile } from '../../runtime/index.ts';
import {
  defaultOperators,
  estimateWorkflow,
  fitWorkflow,
  validateWorkflow,
  workflowJsonSchemaText,
  type EstimateBasis,
  type FitMode,
} from '../../workflow/index.ts';
import { IssueCollector, parseBudgetFlags, type BudgetFlags } from '../options.ts';
import { formatUsd, processOutput, table } from '../output.ts';

export interface WorkflowFlags extends BudgetFlags {
  model?: string;
  config?: string;
  query?: string;
  fit?: string;
  fitBasis?: string;
  json?: boolean;
}

/** The same reader (and limits) as `solve --workflow`. */
function readSpec(path: string): unknown {
  return readWorkflowFile(path, path);
}

/** Search is validated as available: `validate` checks the spec, not whether a corpus was given. */
const ALL_OPERATORS = Object.keys({ ...defaultOperators(), search: true });

export async function workflowValidateCommand(path: string, flags: WorkflowFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const workflow = validateWorkflow(readSpec(path), { operators: ALL_OPERATORS });
  const nodes = workflow.nodes.length;
  if (output.json) output.out(JSON.stringify({ valid: true, nodes, output: workflow.spec.output, warnings: workflow.warnings }));
  else {
    output.out(`${pc.green('valid')}: ${path} — ${nodes} node${nodes === 1 ? '' : 's'}, output "${workflow.spec.output}"`);
    for (const warning of workflow.warnings) output.out(pc.yellow(`warning ${warning.path}: ${warning.message}`));
  }
  return 0;
}

export async function workflowEstimateCommand(path: string, flags: WorkflowFlags): Promise<number> {
  const output = processOutput(Boolean(flags.json));
  const issues = new IssueCollector();
  const limits = parseBudgetFlags(flags, issues);
  if (flags.fit !== undefined && !['reject', 'scale'].includes(flags.fit))
    issues.add('--fit', `must be reject or scale, got "${flags.fit}"`);
  if (flags.fitBasis !== undefined && !['worst', 'expected'].includes(flags.fitBasis))
    issues.add('--fit-basis', `must be worst or expected, got "${flags.fitBasis}"`);
  issues.throwIfAny('Invalid estimate request');
  // The worst case by default: the ledger reserves each call's worst case, so that is the figure a run is held to.
  const basis = (flags.fitBasis as EstimateBasis | undefined) ?? 'worst';
  const { config } = loadFleetConfig(flags.config);
  const model = flags.model ?? config.defaultModel;
  // Estimation only (no call is made): the fleet resolves references and prices them.
  const { fleet } = openFleet({ config, seed: 0, models: [], clock: systemClock });
  const query = flags.query ?? '';
  const workflow = validateWorkflow(readSpec(path), {
    operators: ALL_OPERATORS,
    requireModels: true,
    fleet,
    ...(model !== undefined ? { model } : {}),
  });
  const hasBudget = Object.keys(limits).length > 0;
  const fitted = hasBudget
    ? fitWorkflow(workflow, fleet, { query, budget: limits, mode: (flags.fit as FitMode | undefined) ?? 'scale', basis })
    : undefined;
  const original = fitted && fitted.scaled.length > 0 ? estimateWorkflow(workflow, fleet, { query }) : undefined;
  const estimate = fitted?.estimate ?? original ?? estimateWorkflow(workflow, fleet, { query });
  if (output.json) {
    output.out(
      JSON.stringify({
        estimate,
        budget: limits,
        ...(fitted ? { basis } : {}),
        scaled: fitted?.scaled ?? [],
        ...(original ? { unscaled: original.total } : {}),
        fits: fitted !== undefined,
      }),
    );
    return 0;
  }
  const row = (name: string, op: string, model: string, line: { worst: UsageTotals; expected: UsageTotals }): Array<string | number> => [
    name,
    op,
    model,
    Math.round(line.expected.totalTokens),
    line.worst.totalTokens,
    formatUsd(line.expected.usd),
    formatUsd(line.worst.usd),
    line.worst.calls,
  ];
  output.out(
    table(
      ['node', 'op', 'model', 'expected tok', 'worst tok', 'expected $', 'worst $', 'max calls'],
      [
        ...Object.entries(estimate.nodes).map(([id, node]) =>
          row(id, node.op, node.model ?? (node.capability !== undefined ? `capability${node.unpriced ? ' (unpriced)' : ''}` : '—'), node),
        ),
        row(pc.bold('total'), '', '', estimate.total),
      ],
    ),
  );
  if (estimate.unpriced.length > 0)
    output.out(
      pc.yellow(
        `unpriced: ${estimate.unpriced.join(', ')} — capability nodes without maxCostPerCall; their dollars are unknown until bound at run time ` +
          `(counted as $0 above)`,
      ),
    );
  if (fitted) output.out(fitLine(basis, limits, estimate.total, original?.total));
  for (const change of fitted?.scaled ?? []) output.out(pc.yellow(`  ${change.node}.${change.param} ${change.from} → ${change.to}`));
  output.out(pc.dim(`Assumptions: ${estimate.assumptions.join('; ')}.`));
  return 0;
}

/**
 * Which figure was fitted to which limit, before and after: "fitted to the budget on the worst case (what the
 * ledger reserves): 18,843 → 5,960 tokens ≤ 6,000". Tokens and dollars, whichever have limits.
 */
function fitLine(
  basis: EstimateBasis,
  limits: ReturnType<typeof parseBudgetFlags>,
  total: { worst: UsageTotals; expected: UsageTotals },
  before: { worst: UsageTotals; expected: UsageTotals } | undefined,
): string {
  const figures: string[] = [];
  const number = (value: number): string => Math.round(value).toLocaleString('en-US');
  for (const [dimension, label] of [
    ['totalTokens', 'tokens'],
    ['inputTokens', 'input tokens'],
    ['outputTokens', 'output tokens'],
    ['calls', 'calls'],
  ] as const) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    const from = before ? `${number(before[basis][dimension])} → ` : '';
    figures.push(`${from}${number(total[basis][dimension])} ${label} ≤ ${number(limit)}`);
  }
  if (limits.usd !== undefined)
    figures.push(`${before ? `${formatUsd(before[basis].usd)} → ` : ''}${formatUsd(total[basis].usd)} ≤ ${formatUsd(limits.usd)}`);
  const what =
    basis === 'worst'
      ? 'the worst case (what the ledger reserves: no call of the run is refused)'
      : 'the expected cost (the ledger may still cut the run short)';
  const verb = before ? 'scaled so that' : 'fits as it is:';
  return pc.yellow(`${verb} ${what} fits the budget: ${figures.join(', ')}`);
}

export async function workflowSchemaCommand(): Promise<number> {
  process.stdout.write(workflowJsonSchemaText());
  return 0;
}
