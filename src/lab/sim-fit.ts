/**
 * Fitting a simulated profile to a real model's study runs, so the sim becomes a digital twin of it for
 * what-if planning (`thicket sim fit --from-journal`).
 *
 * Data: the model's plain answer calls — those of `single` and `vote` cells, which carry no other agent's
 * claims in their prompt — each with the item's difficulty, correctness (the answer extracted from the text
 * and checked against the item), output tokens, latency and cost.
 *
 * Accuracy (maximum likelihood, the sim's own formula, `probabilityCorrect` from src/models/sim):
 *   P(correct) = σ(a·(θ + γ·ln(1 + t/τ) − d − ε_i)),   ε_i ~ N(0, INSTANCE_NOISE_SD²) shared by an item's calls.
 * The item effect is integrated out on a fixed quadrature grid (a marginal likelihood, as in IRT), so
 * repeated samples of an item are not treated as independent evidence. θ, ln a and γ are estimated by a
 * damped Newton method on numeric derivatives (three parameters); τ is kept from the base profile, and γ
 * too when the observed token spread is too narrow to tell it apart from θ. Standard errors come from the
 * inverse Hessian.
 *
 * Verbosity: nonlinear least squares of ln(output tokens) on ln(v·(1 + g·max(0, d))) (untruncated calls).
 * Latency: OLS of latency on output tokens (ttft + per-token). Prices: OLS of cost on input and output tokens.
 */
import {
  effortMultiplier,
  extractAnswer,
  DEFAULT_SIM_PROFILES,
  INSTANCE_NOISE_SD,
  mergeSimProfile,
  parseFleetConfig,
  probabilityCorrect,
  type SimProfile,
} from '../models/index.ts';
import type { Journal } from '../journal/index.ts';
import { choleskySolve, levenbergMarquardt, ols } from './analysis/index.ts';
import { CELL_STEP_KIND } from './runner.ts';
import { multihopCheck } from './suites/index.ts';
import type { LabTask } from './types.ts';

export interface SimFitObservation {
  /** Item identity: calls of one item share its instance offset. */
  item: string;
  difficulty: number;
  outputTokens: number;
  inputTokens: number;
  correct: boolean;
  /** Cut at maxOutputTokens: excluded from the accuracy and verbosity fits. */
  truncated: boolean;
  latencyMs: number;
  costUsd: number;
  /** Requested effort multiplier (1 unless the call asked for more or less reasoning). */
  effort: number;
}

export interface SimFitOptions {
  model: string;
  /** Study runs to read (default: every `study` run in the journal). */
  runIds?: string[];
  /** Profile the fit starts from and keeps unfitted fields of (default: the nearest default by skill). */
  baseProfile?: string;
  /** Alias for the fitted model in the fleet-config snippet (default `twin-<model>`). */
  alias?: string;
}

export interface SimProfileFit {
  model: string;
  observations: number;
  items: number;
  baseProfile: string;
  parameters: Pick<
    SimProfile,
    | 'skill'
    | 'discrimination'
    | 'tokenGain'
    | 'tokenScale'
    | 'verbosity'
    | 'verbosityGrowth'
    | 'priceInputPerMillion'
    | 'priceOutputPerMillion'
    | 'latency'
  >;
  standardErrors: { skill: number; discrimination: number; tokenGain?: number };
  /** Parameters kept from the base profile, with the reason. */
  kept: Record<string, string>;
  logLikelihood: number;
  /** `{ provider: 'sim', profile, overrides }` — a fleet-config model entry. */
  snippet: { provider: 'sim'; profile: string; overrides: Record<string, unknown> };
  fleetConfig: { version: 1; models: Record<string, unknown> };
  /** True when the journal's calls were themselves simulated (a twin of a twin). */
  simulatedSource: boolean;
  notes: string[];
}

/** The sim adds its `Answer:`/`Confidence:` closing lines (12 tokens) on top of the verbosity model. */
const SIM_CLOSING_TOKENS = 12;

/** Plain answer calls of `model` in the journal's study runs, with what the fit needs. */
export function observationsFromJournal(
  journal: Journal,
  options: Pick<SimFitOptions, 'model' | 'runIds'>,
): { observations: SimFitObservation[]; simulated: boolean } {
  const runIds =
    options.runIds ??
    journal
      .listRuns({ limit: 10_000 })
      .filter((run) => run.command === 'study')
      .map((run) => run.id);
  const observations: SimFitObservation[] = [];
  let simulated = true;
  for (const runId of runIds) {
    const cells = new Map<string, { taskId: string; answer: string; difficulty: number }>();
    for (const step of journal.getSteps(runId)) {
      if (step.kind !== CELL_STEP_KIND || step.status !== 'ok') continue;
      const input = step.input as { architecture?: string; model?: string; taskId?: string; answer?: string; difficulty?: number } | null;
      const base = input?.architecture?.split('@')[0];
      if (
        input?.model !== options.model ||
        (base !== 'single' && base !== 'vote') ||
        typeof input.taskId !== 'string' ||
        typeof input.answer !== 'string' ||
        typeof input.difficulty !== 'number'
      )
        continue;
      cells.set(step.stepId, { taskId: input.taskId, answer: input.answer, difficulty: input.difficulty });
    }
    if (cells.size === 0) continue;
    const seenGreedy = new Set<string>();
    for (const call of journal.getCalls(runId)) {
      if (call.model !== options.model || call.stepId === null) continue;
      const request = call.request as { temperature?: number; metadata?: { tags?: Record<string, string> } };
      const purpose = request.metadata?.tags?.['purpose'];
      if (purpose !== undefined && purpose !== 'answer') continue;
      // The cell is the longest registered prefix of the call's step id (ids may contain '/').
      let cell: { taskId: string; answer: string; difficulty: number } | undefined;
      for (let cut = call.stepId.indexOf('/'); cut >= 0 && !cell; cut = call.stepId.indexOf('/', cut + 1))
        cell = cells.get(call.stepId.slice(0, cut));
      if (!cell) continue;
      // Greedy (temperature 0) calls repeat across budgets with the same output: count each once.
      if (request.temperature === 0) {
        const key = `${cell.taskId}\u0000${call.text}`;
        if (seenGreedy.has(key)) continue;
        seenGreedy.add(key);
      }
      simulated &&= call.simulated;
      const answer = extractAnswer(call.text);
      observations.push({
        item: `${runId}\u0000${cell.taskId}`,
        difficulty: cell.difficulty,
        outputTokens: call.outputTokens,
        inputTokens: call.inputTokens,
        correct: multihopCheck({ answer: cell.answer } as LabTask, answer) === 1,
        truncated: call.finishReason === 'length',
        latencyMs: call.latencyMs,
        costUsd: call.costUsd,
        effort: effortMultiplier(request.metadata?.tags?.['reasoningEffort']),
      });
    }
  }
  return { observations, simulated: observations.length > 0 && simulated };
}

/** Quadrature over the shared item offset ε ~ N(0, sd²): a fixed grid of ±5 sd, normalised weights. */
const GRID = (() => {
  const points = 41;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let k = 0; k < points; k++) {
    const z = -5 + (10 * k) / (points - 1);
    nodes.push(z * INSTANCE_NOISE_SD);
    weights.push(Math.exp(-0.5 * z * z));
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return { nodes, weights: weights.map((w) => w / total) };
})();

interface ItemGroup {
  difficulty: number;
  gains: number[];
  correct: boolean[];
}

/** −log marginal likelihood of (θ, ln a, γ) over the items. */
function negativeLogLikelihood(items: readonly ItemGroup[], theta: number, logA: number, gamma: number): number {
  const a = Math.exp(logA);
  let total = 0;
  for (const item of items) {
    let marginal = 0;
    for (let k = 0; k < GRID.nodes.length; k++) {
      let logProduct = 0;
      for (let j = 0; j < item.gains.length; j++) {
        // The sim's own formula; the token gain γ·ln(1 + t/τ) enters as a logit shift (τ is fixed, so the
        // ln(1 + t/τ) terms are precomputed once instead of on every likelihood evaluation).
        const p = probabilityCorrect({
          profile: { skill: theta, discrimination: a, tokenGain: 0, tokenScale: 1 },
          difficulty: item.difficulty,
          instanceNoise: GRID.nodes[k]!,
          reasoningTokens: 0,
          contextBonus: gamma * item.gains[j]!,
        });
        logProduct += Math.log(item.correct[j] ? Math.max(p, 1e-300) : Math.max(1 - p, 1e-300));
      }
      marginal += GRID.weights[k]! * Math.exp(logProduct);
    }
    total -= Math.log(Math.max(marginal, 1e-300));
  }
  return total;
}

/** Damped Newton on numeric gradient and Hessian; returns the optimum and the Hessian there (for SEs). */
function maximise(f: (q: readonly number[]) => number, start: number[]): { q: number[]; value: number; hessian: number[][] } {
  let q = [...start];
  let value = f(q);
  let lambda = 1e-3;
  const derivatives = (point: readonly number[]): { gradient: number[]; hessian: number[][] } => {
    const h = 1e-4;
    const n = point.length;
    const at = (delta: Array<[number, number]>): number =>
      f(point.map((v, i) => v + delta.filter(([index]) => index === i).reduce((s, [, d]) => s + d, 0)));
    const f0 = f(point);
    const gradient = point.map((_, i) => (at([[i, h]]) - at([[i, -h]])) / (2 * h));
    const hessian = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) {
      hessian[i]![i] = (at([[i, h]]) - 2 * f0 + at([[i, -h]])) / (h * h);
      for (let j = 0; j < i; j++) {
        const value =
          (at([
            [i, h],
            [j, h],
          ]) -
            at([
              [i, h],
              [j, -h],
            ]) -
            at([
              [i, -h],
              [j, h],
            ]) +
            at([
              [i, -h],
              [j, -h],
            ])) /
          (4 * h * h);
        hessian[i]![j] = value;
        hessian[j]![i] = value;
      }
    }
    return { gradient, hessian };
  };
  for (let iteration = 0; iteration < 100; iteration++) {
    const { gradient, hessian } = derivatives(q);
    let moved = false;
    for (let attempt = 0; attempt < 20 && !moved; attempt++) {
      const damped = hessian.map((row, i) => row.map((v, j) => (i === j ? v + lambda * Math.max(Math.abs(v), 1e-6) : v)));
      const step = choleskySolve(
        damped,
        gradient.map((g) => -g),
      );
      const candidate = step ? q.map((v, i) => v + Math.max(-1, Math.min(1, step[i]!))) : undefined;
      const next = candidate ? f(candidate) : Infinity;
      if (candidate && next < value) {
        const gain = value - next;
        q = candidate;
        value = next;
        lambda = Math.max(1e-9, lambda / 4);
        moved = true;
        if (gain < 1e-9) return { q, value, hessian: derivatives(q).hessian };
      } else lambda *= 8;
    }
    if (!moved) break;
  }
  return { q, value, hessian: derivatives(q).hessian };
}

function inverseDiagonal(matrix: number[][]): number[] {
  return matrix.map((_, i) => {
    const unit = matrix.map((__, j) => (i === j ? 1 : 0));
    const column = choleskySolve(matrix, unit);
    return column ? column[i]! : NaN;
  });
}

/** Fits profile parameters by maximum likelihood and least squares (see the module comment). */
export function fitSimProfileFromObservations(
  observations: readonly SimFitObservation[],
  options: SimFitOptions & { simulatedSource?: boolean },
): SimProfileFit {
  const usable = observations.filter((observation) => !observation.truncated);
  if (usable.length < 20)
    throw new RangeError(`need at least 20 untruncated answer calls of ${options.model} to fit a profile, found ${usable.length}`);
  const notes: string[] = [];
  const kept: Record<string, string> = {};
  const accuracy = usable.filter((o) => o.correct).length / usable.length;
  const baseName = options.baseProfile ?? nearestProfile(accuracy, usable);
  const base = DEFAULT_SIM_PROFILES[baseName];
  if (!base) throw new RangeError(`unknown base profile "${baseName}" (known: ${Object.keys(DEFAULT_SIM_PROFILES).join(', ')})`);
  const tau = base.tokenScale;
  kept['tokenScale'] = 'τ is weakly identified next to γ; kept from the base profile';

  const byItem = new Map<string, ItemGroup>();
  for (const o of usable) {
    const group = byItem.get(o.item) ?? { difficulty: o.difficulty, gains: [], correct: [] };
    group.gains.push(Math.log1p(o.outputTokens / tau));
    group.correct.push(o.correct);
    byItem.set(o.item, group);
  }
  const items = [...byItem.values()];
  const gains = usable.map((o) => Math.log1p(o.outputTokens / tau));
  const gainMean = gains.reduce((a, b) => a + b, 0) / gains.length;
  const gainSpread = Math.sqrt(gains.reduce((a, b) => a + (b - gainMean) ** 2, 0) / gains.length);
  const fitGamma = gainSpread >= 0.15;
  if (!fitGamma) {
    kept['tokenGain'] =
      `output tokens vary too little (sd of ln(1 + t/τ) = ${gainSpread.toFixed(3)} < 0.15) to separate the token gain from ` +
      `skill; kept γ = ${base.tokenGain} from the base profile`;
  }
  const objective = (q: readonly number[]): number => negativeLogLikelihood(items, q[0]!, q[1]!, fitGamma ? q[2]! : base.tokenGain);
  const start = fitGamma ? [base.skill, Math.log(base.discrimination), base.tokenGain] : [base.skill, Math.log(base.discrimination)];
  const optimum = maximise(objective, start);
  const variances = inverseDiagonal(optimum.hessian);
  const skill = optimum.q[0]!;
  const discrimination = Math.exp(optimum.q[1]!);
  const tokenGain = fitGamma ? Math.max(0, optimum.q[2]!) : base.tokenGain;
  if (fitGamma && optimum.q[2]! < 0) notes.push('the fitted token gain was negative (more tokens on harder items?); clamped to 0');

  // Verbosity: ln t ≈ ln v + ln(1 + g·d⁺) (+ ln effort), sim closing lines removed.
  const lengths = usable.map((o) => ({
    y: Math.log(Math.max(1, o.outputTokens - SIM_CLOSING_TOKENS) / o.effort),
    d: Math.max(0, o.difficulty),
  }));
  const verbosityFit = levenbergMarquardt(
    (q) => lengths.map((row) => row.y - (q[0]! + Math.log1p(Math.exp(q[1]!) * row.d))),
    [Math.log(base.verbosity), Math.log(Math.max(0.01, base.verbosityGrowth))],
  );
  const verbosity = Math.exp(verbosityFit.parameters[0]!);
  const verbosityGrowth = Math.exp(verbosityFit.parameters[1]!);

  const latencyFit = ols(
    observations.map((o) => [1, o.outputTokens]),
    observations.map((o) => o.latencyMs),
  );
  const priceFit = ols(
    observations.map((o) => [o.inputTokens / 1e6, o.outputTokens / 1e6]),
    observations.map((o) => o.costUsd),
  );
  const parameters = {
    skill: round(skill),
    discrimination: round(discrimination),
    tokenGain: round(tokenGain),
    tokenScale: tau,
    verbosity: round(verbosity),
    verbosityGrowth: round(verbosityGrowth),
    priceInputPerMillion: round(Math.max(0, priceFit.coefficients[0] ?? 0)),
    priceOutputPerMillion: round(Math.max(0, priceFit.coefficients[1] ?? 0)),
    latency: {
      ttftMs: round(Math.max(0, latencyFit.coefficients[0] ?? 0)),
      perTokenMs: round(Math.max(0, latencyFit.coefficients[1] ?? 0)),
    },
  };
  const overrides: Record<string, unknown> = { ...parameters, reasoning: tokenGain >= 0.5 || base.reasoning };
  // The snippet must load: merge it like the resolver will, and validate it as a fleet config.
  mergeSimProfile(base, overrides);
  const alias = options.alias ?? `twin-${options.model.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  const snippet = { provider: 'sim' as const, profile: baseName, overrides };
  const fleetConfig = { version: 1 as const, models: { [alias]: snippet } };
  parseFleetConfig(fleetConfig, 'fitted fleet config');
  if (observations.length - usable.length > 0)
    notes.push(
      `${observations.length - usable.length} truncated calls (finishReason length) were left out of the accuracy and verbosity fits`,
    );
  return {
    model: options.model,
    observations: usable.length,
    items: items.length,
    baseProfile: baseName,
    parameters,
    standardErrors: {
      skill: round(Math.sqrt(Math.max(0, variances[0]!))),
      // Delta method: se(a) = a·se(ln a).
      discrimination: round(discrimination * Math.sqrt(Math.max(0, variances[1]!))),
      ...(fitGamma ? { tokenGain: round(Math.sqrt(Math.max(0, variances[2]!))) } : {}),
    },
    kept,
    logLikelihood: round(-optimum.value),
    snippet,
    fleetConfig,
    simulatedSource: options.simulatedSource ?? false,
    notes,
  };
}

/** Reads the journal and fits (see `fitSimProfileFromObservations`). */
export function fitSimProfile(journal: Journal, options: SimFitOptions): SimProfileFit {
  const { observations, simulated } = observationsFromJournal(journal, options);
  return fitSimProfileFromObservations(observations, { ...options, simulatedSource: simulated });
}

/**
 * The default profile closest to the observations: output length first (it separates reasoners, which write
 * 2–5× more, from the rest — and γ, the reasoner's gain, is often not identifiable from the data), then the
 * accuracy it would predict on these items.
 */
function nearestProfile(observed: number, observations: readonly SimFitObservation[]): string {
  let best = 'medium';
  let bestScore = Infinity;
  const logLengths = observations.map((o) => Math.log(Math.max(1, o.outputTokens - SIM_CLOSING_TOKENS) / o.effort));
  for (const [name, profile] of Object.entries(DEFAULT_SIM_PROFILES)) {
    const lengthGap = Math.abs(
      observations.reduce(
        (sum, o, index) =>
          sum + logLengths[index]! - Math.log(profile.verbosity * (1 + profile.verbosityGrowth * Math.max(0, o.difficulty))),
        0,
      ) / observations.length,
    );
    const predicted =
      observations.reduce(
        (sum, o) =>
          sum +
          probabilityCorrect({ profile, difficulty: o.difficulty, instanceNoise: 0, reasoningTokens: o.outputTokens, contextBonus: 0 }),
        0,
      ) / observations.length;
    const score = lengthGap + 2 * Math.abs(predicted - observed);
    if (score < bestScore) {
      bestScore = score;
      best = name;
    }
  }
  return best;
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
