/**
 * Matched-budget strategy table (SIMULATED): every named strategy on the same generated arithmetic-chain
 * suite, each query under the same hard token budget, at three budgets. Accuracy comes from the simulated
 * fleet's oracle-with-noise model — it shows how the *mechanics* (width, depth, threads, debate, cascades)
 * trade tokens for accuracy under a cap, not how any real model performs.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { VirtualClock, normalizeAnswer } from '../src/core/index.ts';
import { Ledger } from '../src/budget/index.ts';
import { Fleet, FleetResolver, TaskOracleRegistry } from '../src/models/index.ts';
import { defaultOperators, runWorkflow, simCascadeLadder, strategySpec, type Strategy } from '../src/workflow/index.ts';
import { arithmeticTaskSet } from '../src/ops/testing/harness.ts';

const STRATEGIES_UNDER_TEST: Strategy[] = ['single', 'vote', 'refine', 'thread', 'debate', 'solo', 'cascade'];
const BUDGETS = [1_500, 4_000, 12_000];

export interface StrategyRow {
  strategy: Strategy;
  budget: number;
  accuracy: number;
  meanTokens: number;
  meanCostUsd: number;
  exhausted: number;
}

export async function benchStrategies(options: { items?: number; model?: string; seed?: number } = {}): Promise<StrategyRow[]> {
  const items = options.items ?? Number(process.env['THICKET_BENCH_ITEMS'] ?? 60);
  const model = options.model ?? 'sim:small';
  const seed = options.seed ?? 11;
  const tasks = arithmeticTaskSet({ count: items, seed, operations: [2, 5] });
  const registry = new TaskOracleRegistry();
  registry.registerTasks(tasks);
  const rows: StrategyRow[] = [];
  for (const budget of BUDGETS) {
    for (const strategy of STRATEGIES_UNDER_TEST) {
      let correct = 0;
      let tokens = 0;
      let cost = 0;
      let exhausted = 0;
      for (const task of tasks) {
        const clock = new VirtualClock();
        const fleet = new Fleet({
          resolver: new FleetResolver({ config: { version: 1, models: {} }, clock, seed, tasks: registry }),
          clock,
          seed,
        });
        const ledger = new Ledger({ clock, limits: { totalTokens: budget } });
        // Width scales with the budget the way a user would set it: as many samples as the cap plausibly allows.
        const samples = Math.max(3, Math.min(15, Math.floor(budget / 450)));
        const spec = strategySpec(strategy, {
          model,
          samples,
          maxOutputTokens: 384,
          cascadeModels: simCascadeLadder(model),
          rounds: 2,
          agents: 3,
          steps: 12,
        });
        const result = await runWorkflow({
          spec,
          query: task.prompt,
          fleet,
          budget: ledger.root,
          operators: defaultOperators(),
          model,
          taskId: task.id,
        });
        if (result.answer !== undefined && normalizeAnswer(result.answer) === normalizeAnswer(task.answer)) correct++;
        const spent = ledger.report().total;
        tokens += spent.totalTokens;
        cost += spent.usd;
        if (result.status === 'budget_exhausted') exhausted++;
      }
      rows.push({
        strategy,
        budget,
        accuracy: correct / tasks.length,
        meanTokens: tokens / tasks.length,
        meanCostUsd: cost / tasks.length,
        exhausted,
      });
    }
  }
  return rows;
}

export function strategyTable(rows: StrategyRow[], items: number): string {
  const table = new Table({
    head: ['strategy', ...BUDGETS.map((budget) => `≤ ${budget.toLocaleString('en-US')} tok/query`)].map((cell) => pc.bold(cell)),
    style: { head: [], border: [] },
  });
  for (const strategy of STRATEGIES_UNDER_TEST) {
    table.push([
      strategy,
      ...BUDGETS.map((budget) => {
        const row = rows.find((candidate) => candidate.strategy === strategy && candidate.budget === budget)!;
        return `${(row.accuracy * 100).toFixed(1)}%  ${Math.round(row.meanTokens)} tok${row.exhausted > 0 ? pc.dim(` (${row.exhausted} capped)`) : ''}`;
      }),
    ]);
  }
  return (
    `${pc.yellow('[SIMULATED]')} Matched-budget strategies on ${items} generated arithmetic chains (sim:small, escalating to sim:medium/large ` +
    `in cascade).\nAccuracy and mean tokens spent per query; "capped" = runs that hit the budget. Simulated fleet — not a real ` +
    `model's accuracy.\n${table.toString()}`
  );
}
