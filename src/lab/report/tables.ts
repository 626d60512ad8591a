/**
 * The report's tables as plain data (head + rows of strings), built once and rendered by both the HTML and
 * the Markdown writers — so the two formats cannot disagree on a number.
 */
import type { Decomposition, GovernorRow, StudyAnalysis } from '../analysis/index.ts';
import type { TimExperiment } from '../tiny-thread-eval.ts';

export interface Table {
  head: string[];
  rows: string[][];
  /** One-line caption (what the numbers are, and their n). */
  caption?: string;
}

const pct = (value: number, digits = 0): string => `${(value * 100).toFixed(digits)}%`;
const signed = (value: number): string => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} pts`;
const int = (value: number): string => Math.round(value).toLocaleString('en-US');

function budgetLabel(budget: number, unit: 'tokens' | 'usd'): string {
  return unit === 'usd' ? `≤ $${budget}` : `≤ ${int(budget)} tok`;
}

export function decompositionTable(decomposition: Decomposition): Table {
  const rows = decomposition.groups
    .slice()
    .sort((a, b) => b.shapley - a.shapley)
    .map((group) => [group.name, pct(group.shapley, 1), pct(group.shareOfExplained, 0), pct(group.nested, 1), pct(group.alone, 1)]);
  rows.push(['all factors', pct(decomposition.total, 1), '100%', pct(decomposition.total, 1), '—']);
  for (const name of decomposition.constant) rows.push([name, 'n/a (does not vary in this study)', '', '', '']);
  return {
    head: [
      'factor',
      'share of variance (Shapley; headline and chart)',
      'share of the explained part',
      `nested (order: ${decomposition.order.join(' → ')})`,
      'alone',
    ],
    rows,
    caption:
      `${decomposition.rows} ` +
      `${decomposition.level === 'configuration' ? 'configurations (architecture × model × budget × suite × seed, weighted by items)' : 'runs'}; ` +
      `${decomposition.level === 'configuration' ? 'suite × seed' : 'item'} fixed effects absorbed (${pct(decomposition.absorbed)} of the raw variance).`,
  };
}

/** One table per (suite, model): architectures × budgets, accuracy ± SE and mean tokens spent. */
export function matchedBudgetTables(analysis: StudyAnalysis): Array<{ suite: string; model: string; table: Table }> {
  const out: Array<{ suite: string; model: string; table: Table }> = [];
  for (const suite of analysis.suites) {
    for (const model of analysis.models) {
      const configs = analysis.configurations.filter((config) => config.suite === suite && config.model === model);
      if (configs.length === 0) continue;
      // Rows in the study's order of architectures, not alphabetical.
      const architectures = analysis.architectures.filter((architecture) => configs.some((config) => config.architecture === architecture));
      const rows = architectures.map((architecture) => [
        architecture,
        ...analysis.budgets.map((budget) => {
          const config = configs.find((entry) => entry.architecture === architecture && entry.budget === budget);
          if (!config) return '—';
          return (
            `${pct(config.accuracy)} ±${Math.round(config.se * 100)} · ${int(config.meanTokens)} tok` +
            `${config.capped > 0 ? ` · ${pct(config.capped)} capped` : ''}`
          );
        }),
      ]);
      const n = Math.max(...configs.map((config) => config.n));
      out.push({
        suite,
        model,
        table: {
          head: ['architecture', ...analysis.budgets.map((budget) => budgetLabel(budget, analysis.budgetUnit))],
          rows,
          caption:
            `${suite} · ${model}: accuracy ± standard error (points) · mean tokens spent per query; n = ${n} per cell; "capped" = runs where ` +
            `the hard budget refused or cut something.`,
        },
      });
    }
  }
  return out;
}

export function soloVersusDebateTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.soloVsDebate.length === 0) return undefined;
  return {
    head: ['suite', 'model', 'budget', 'solo (one call, personas)', 'debate (agents)', 'solo − debate', 'n (paired items)'],
    rows: analysis.soloVsDebate.map((row) => [
      row.suite,
      row.model,
      budgetLabel(row.budget, analysis.budgetUnit),
      pct(row.a),
      pct(row.b),
      `${signed(row.difference)} ±${(row.se * 100).toFixed(1)}`,
      String(row.n),
    ]),
    caption: 'The same persona workflow run as one prompt (solo) or as separate agents (debate), at the same hard budget, paired by item.',
  };
}

export function familyTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.families.length === 0) return undefined;
  return {
    head: ['suite', 'model', 'budget', 'best single-agent', 'best multi-agent', 'multi − single'],
    rows: analysis.families.map((row) => [
      row.suite,
      row.model,
      budgetLabel(row.budget, analysis.budgetUnit),
      `${row.bestSingle!.architecture} ${pct(row.bestSingle!.accuracy)}`,
      `${row.bestMulti!.architecture} ${pct(row.bestMulti!.accuracy)}`,
      signed(row.bestMulti!.accuracy - row.bestSingle!.accuracy),
    ]),
    caption: 'Single-agent: single, refine, thread, solo, search. Multi-agent: vote (independent agents), debate (interacting agents).',
  };
}

export function searchAxesTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.searchVsTokens.length === 0) return undefined;
  return {
    head: ['compute axis', 'accuracy per doubling', 'R²', 'runs'],
    rows: analysis.searchVsTokens.map((row) => [row.axis, signed(row.perDoubling), row.r2.toFixed(3), String(row.n)]),
    caption: 'Least squares of run score on log₂ of each axis within items (item means removed), over the same runs (those that searched).',
  };
}

export function coordinationTables(analysis: StudyAnalysis): Table[] {
  const { rows, slopes } = analysis.coordination;
  if (rows.length === 0) return [];
  return [
    {
      head: ['architecture', 'model', 'agents', 'score', 'solved', 'n'],
      rows: rows.map((row) => [
        row.architecture,
        row.model,
        String(row.size),
        `${row.score.toFixed(2)} ±${row.se.toFixed(2)}`,
        pct(row.solved),
        String(row.n),
      ]),
    },
    {
      head: ['architecture', 'model', 'score change per doubling of agents', 'n'],
      rows: slopes.map((row) => [row.architecture, row.model, row.perDoubling.toFixed(3), String(row.n)]),
    },
  ];
}

export function criticalityTable(analysis: StudyAnalysis): Table | undefined {
  const rows = analysis.criticality.rows;
  if (rows.length === 0) return undefined;
  const metrics = [...new Set(rows.flatMap((row) => Object.keys(row.metrics)))].sort();
  return {
    head: ['architecture', 'runs', ...metrics],
    rows: rows.map((row) => [
      row.architecture,
      String(row.n),
      ...metrics.map((metric) => (row.metrics[metric] === undefined ? '—' : row.metrics[metric].toFixed(3))),
    ]),
    caption: analysis.criticality.note,
  };
}

export function curvesTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.curves.length === 0) return undefined;
  return {
    head: ['suite', 'model', 'architecture', 'curve', 'parameters', 'R²', 'points'],
    rows: analysis.curves.map((curve) => [
      curve.suite,
      curve.model,
      curve.architecture,
      curve.fit.model === 'saturating'
        ? `a − b·(t/${int(curve.fit.referenceTokens)})^−c`
        : curve.fit.model === 'loglinear'
          ? `α + β·ln(t/${int(curve.fit.referenceTokens)})`
          : 'h·σ(k·(ln t − m))',
      Object.entries(curve.fit.parameters)
        .map(([name, value]) => `${name}=${value.toFixed(3)}`)
        .join(' '),
      curve.fit.r2.toFixed(2),
      String(curve.fit.points),
    ]),
    caption:
      'Fitted on configuration means (one point per budget), weighted by items; Levenberg–Marquardt least squares with bounded parameters ' +
      '(log-linear: weighted OLS), model chosen by AICc — with fewer than five budgets only the log-linear curve qualifies.',
  };
}

export function bySuiteTable(analysis: StudyAnalysis): Table | undefined {
  const rows = analysis.bySuite.filter((entry) => entry.decomposition !== undefined);
  if (rows.length === 0) return undefined;
  const names = ['tokens', 'tools', 'architecture', 'model'];
  return {
    head: ['suite', 'explained', ...names.map((name) => `${name} (Shapley)`)],
    rows: rows.map(({ suite, decomposition }) => [
      suite,
      pct(decomposition!.total, 1),
      ...names.map((name) => {
        const group = decomposition!.groups.find((entry) => entry.name === name);
        return group ? pct(group.shapley, 1) : 'n/a';
      }),
    ]),
  };
}

export function spendTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.spendByAxis.length === 0) return undefined;
  const axes = [...new Set(analysis.spendByAxis.flatMap((row) => Object.keys(row.axes)))].sort();
  return {
    head: ['architecture', ...axes.map((axis) => `${axis} tok`)],
    rows: analysis.spendByAxis.map((row) => [row.architecture, ...axes.map((axis) => int(row.axes[axis] ?? 0))]),
    caption: 'Mean tokens per query by compute axis (as tagged by the operators).',
  };
}

export function notRunnableTable(analysis: StudyAnalysis): Table | undefined {
  if (analysis.notRunnable.length === 0) return undefined;
  return {
    head: ['suite', 'architecture', 'why not run'],
    rows: analysis.notRunnable.map((row) => [row.suite, row.architecture, row.reason]),
  };
}

const withCi = (accuracy: number, ci: { low: number; high: number }): string => `${pct(accuracy)} [${pct(ci.low)}, ${pct(ci.high)}]`;
const signedCi = (value: number, ci: { low: number; high: number }): string => `${signed(value)} [${signed(ci.low)}, ${signed(ci.high)}]`;

/**
 * The seed's claims measured on this study (analysis/seed-claims.ts), one titled table per claim that the
 * study's architectures and models let it measure. Accuracies with 95% bootstrap intervals over items.
 */
export function seedClaimTables(analysis: StudyAnalysis, tim?: TimExperiment): Array<{ title: string; table: Table }> {
  const claims = analysis.seedClaims;
  const unit = analysis.budgetUnit;
  const out: Array<{ title: string; table: Table }> = [];
  if (claims.width.length > 0) {
    const widths = [...new Set(claims.width.flatMap((row) => row.configs.map((config) => config.architecture)))];
    out.push({
      title: 'Width: single vs vote@k at matched budgets',
      table: {
        head: ['suite', 'model', 'budget', ...widths.map((width) => `${width} (accuracy [95% CI] · tokens)`)],
        rows: claims.width.map((row) => [
          row.suite,
          row.model,
          budgetLabel(row.budget, unit),
          ...widths.map((width) => {
            const config = row.configs.find((entry) => entry.architecture === width);
            return config ? `${withCi(config.accuracy, config.ci)} · ${int(config.meanTokens)}` : '—';
          }),
        ]),
        caption: 'Mean score per item with a 95% percentile-bootstrap interval over items; tokens = mean tokens spent per query.',
      },
    });
  }
  if (claims.regime.length > 0)
    out.push({
      title: 'Training regime: a direct model vs a reasoning model (each at its best width configuration)',
      table: {
        head: ['suite', 'budget', 'direct (config · accuracy · tokens)', 'reasoning (config · accuracy · tokens)', 'reasoning − direct'],
        rows: claims.regime.map((row) => [
          row.suite,
          budgetLabel(row.budget, unit),
          `${row.direct.model} ${row.direct.architecture} · ${withCi(row.direct.accuracy, row.direct.ci)} · ${int(row.direct.meanTokens)}`,
          `${row.reasoning.model} ${row.reasoning.architecture} · ${withCi(row.reasoning.accuracy, row.reasoning.ci)} · ` +
            int(row.reasoning.meanTokens),
          signedCi(row.difference, row.differenceCi),
        ]),
        caption: 'Same tier, same items and budget; the difference is paired over items (95% bootstrap interval).',
      },
    });
  if (claims.cascade.length > 0)
    out.push({
      title: 'Cascade small → large vs always-large',
      table: {
        head: ['suite', 'budget', 'cascade', 'always-large (single)', 'accuracy ratio', 'compute saved', 'tokens on the small model'],
        rows: claims.cascade.map((row) => [
          row.suite,
          budgetLabel(row.budget, unit),
          `${row.cascade.model} → … · ${withCi(row.cascade.accuracy, row.cascade.ci)}`,
          `${row.alwaysLarge.model} · ${withCi(row.alwaysLarge.accuracy, row.alwaysLarge.ci)}`,
          Number.isFinite(row.accuracyRatio) ? pct(row.accuracyRatio) : '—',
          `${pct(row.computeSaved)} (${row.computeUnit === 'token-parameters' ? 'tokens × parameters' : 'tokens'})`,
          pct(row.smallShare),
        ]),
        caption: 'The seed’s bar: cost saved at ≥ 98% of always-large accuracy. Compute is tokens × parameters where sizes are known.',
      },
    });
  const governor = governorTable(analysis);
  if (governor) out.push({ title: `${GOVERNOR_SECTION_TITLE}${analysis.simulated ? ' [SIMULATED]' : ''}`, table: governor });
  if (tim)
    out.push({ title: 'Recursion past the context limit (TIM): KV-pruned thread vs unpruned vs chain of thought', table: timTable(tim) });
  return out;
}

/** The governor's section title (Markdown: the backticks mark code; the HTML writer renders them as <code>). */
export const GOVERNOR_SECTION_TITLE = 'Governor (`auto`) vs the best fixed strategy';

/** How far below the best fixed architecture auto may land and still count as matching it (2 points). */
export const GOVERNOR_MARGIN = 0.02;

export type GovernorVerdict = '≥ best − 2 pts' | 'within CI' | 'loses';

/**
 * auto against the best fixed architecture at one (suite, model, budget): at most 2 points below it; else
 * the gap's 95% interval still reaches 0 (not distinguishable from a tie on these items); else it loses.
 */
export function governorVerdict(row: Pick<GovernorRow, 'gap' | 'gapCi'>): GovernorVerdict {
  // The tolerance absorbs floating-point noise in a difference of means (−0.0200000001 is 2 points).
  if (row.gap >= -GOVERNOR_MARGIN - 1e-9) return '≥ best − 2 pts';
  if (row.gapCi.high >= 0) return 'within CI';
  return 'loses';
}

/** One row per (suite, model, budget) where auto ran beside a fixed architecture (`analysis.seedClaims.governor`). */
export function governorTable(analysis: Pick<StudyAnalysis, 'seedClaims' | 'budgetUnit' | 'simulated'>): Table | undefined {
  const rows = analysis.seedClaims.governor;
  if (rows.length === 0) return undefined;
  return {
    head: [
      'suite',
      'model',
      'budget',
      'best fixed',
      'best fixed accuracy [95% CI] · tokens',
      'auto accuracy [95% CI] · tokens',
      'auto − best [95% CI]',
      'verdict',
    ],
    rows: rows.map((row) => [
      row.suite,
      row.model,
      budgetLabel(row.budget, analysis.budgetUnit),
      row.bestFixed.architecture,
      `${withCi(row.bestFixed.accuracy, row.bestFixed.ci)} · ${int(row.bestFixed.meanTokens)}`,
      `${withCi(row.auto.accuracy, row.auto.ci)} · ${int(row.auto.meanTokens)}`,
      signedCi(row.gap, row.gapCi),
      governorVerdict(row),
    ]),
    caption:
      `${analysis.simulated ? 'SIMULATED (simulated fleet, not real accuracy). ' : ''}` +
      'Best fixed = the highest-accuracy other architecture for the same model and budget (chosen after the fact, so the bar is ' +
      'high); the gap is paired over items with a 95% percentile-bootstrap interval. Verdict: "≥ best − 2 pts" when auto is at most 2 ' +
      'points below it; "within CI" when it is further below but the interval of the gap reaches 0; "loses" otherwise.',
  };
}

const TIM_MODES = { pruned: 'thread, KV-pruned', unpruned: 'thread, unpruned', cot: 'chain of thought' } as const;

/** The TIM experiment (tiny-thread-eval.ts): accuracy and peak KV cells per way of reasoning, on one model and context. */
export function timTable(tim: TimExperiment): Table {
  const modes = (Object.keys(TIM_MODES) as Array<keyof typeof TIM_MODES>).flatMap((mode) => {
    const result = tim.modes[mode];
    return result ? [{ mode, result }] : [];
  });
  return {
    head: [
      'reasoning',
      'accuracy [95% CI]',
      'arithmetic steps right',
      'ran out of context',
      'peak KV cells (mean · max)',
      `of the ${int(tim.contextSize)}-cell context`,
      'tokens decoded',
    ],
    rows: modes.map(({ mode, result }) => [
      mode === 'pruned' ? `${TIM_MODES[mode]} (FIFO ${tim.bufferSize})` : TIM_MODES[mode],
      withCi(result.accuracy, result.ci),
      result.steps.checked > 0 ? `${pct(result.steps.accuracy)} of ${int(result.steps.checked)}` : '—',
      `${result.overflows} of ${result.items}`,
      `${int(result.peakKv.mean)} · ${int(result.peakKv.max)}`,
      pct(result.peakKv.max / tim.contextSize),
      int(result.generatedTokens),
    ]),
    caption:
      `${tim.reference} (REAL — a tiny model trained on synthetic tasks), ${tim.items} held-out problems of ` +
      `${tim.groups} groups (seed ${tim.seed}); ` +
      `their whole thread trace (the correct document, nothing erased) takes ${int(tim.referenceTrace.mean)} tokens on average (at least ` +
      `${int(tim.referenceTrace.min)}), more than the ${int(tim.contextSize)}-cell context; the model's own pruned runs wrote ` +
      `${int(tim.unprunedTrace.mean)} on average. Greedy decoding; 95% bootstrap intervals over items. Steps: the operations the ` +
      'model wrote (leaf tasks, CoT lines) that it computed right, counted in the runs that finished.',
  };
}
