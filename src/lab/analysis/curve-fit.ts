/**
 * Scaling curves: accuracy as a saturating function of tokens, fitted by nonlinear least squares with a
 * small Levenberg–Marquardt written here.
 *
 * Models (x = ln tokens, x0 = ln of a reference token count, so parameters stay O(1) whatever the scale):
 *   - `saturating`: acc = a − b·exp(−c·(x − x0))  =  a − b·(tokens/t0)^(−c)   — a power-law approach to an
 *     asymptote a; a − b is the accuracy at t0, c the rate.
 *   - `logistic`:   acc = h·σ(k·(x − m))          — an S-curve in log-tokens with ceiling h, midpoint e^m;
 *   - `loglinear`:  acc = α + β·(x − x0)          — the log-linear regime (two parameters, for few points).
 * Parameters are fitted through bounding links (ceilings in (0, 1), rate c in [0.05, 4], slope |k| ≤ 6,
 * midpoint within e^±3 of the data's middle), so a fit through a handful of noisy points cannot wander to an
 * accuracy ceiling of 600% or a rate of 10^170 — a step function is not a scaling law.
 * `fitScalingCurve` fits all three and keeps the lowest small-sample AIC (AICc).
 *
 * Why our own LM rather than a library: three or four parameters, a few hundred points; the solver is
 * ~50 lines (damped Gauss–Newton on JᵀJ with a forward-difference Jacobian, Cholesky for the step), is
 * deterministic, and keeps the lab free of a numerics dependency whose bounds/weights conventions we would
 * have to adapt anyway.
 */
import { choleskySolve, ols } from './ols.ts';

export interface LmOptions {
  maxIterations?: number;
  /** Stop when the relative RSS improvement of an accepted step falls below this. */
  tolerance?: number;
  initialLambda?: number;
}

export interface LmResult {
  parameters: number[];
  rss: number;
  iterations: number;
  converged: boolean;
}

/** Minimises Σ residuals(p)² from `start`. Residuals are already weighted by the caller (√w·(y − f)). */
export function levenbergMarquardt(
  residuals: (parameters: readonly number[]) => number[],
  start: readonly number[],
  options: LmOptions = {},
): LmResult {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-12;
  let lambda = options.initialLambda ?? 1e-3;
  let parameters = [...start];
  let current = residuals(parameters);
  let rss = sumSquares(current);
  const p = parameters.length;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    // Forward-difference Jacobian: p extra residual evaluations, cheap at this size.
    const jacobian: number[][] = current.map(() => new Array<number>(p).fill(0));
    for (let j = 0; j < p; j++) {
      const step = 1e-7 * Math.max(1, Math.abs(parameters[j]!));
      const shifted = [...parameters];
      shifted[j]! += step;
      const moved = residuals(shifted);
      for (let i = 0; i < current.length; i++) jacobian[i]![j] = (moved[i]! - current[i]!) / step;
    }
    const jtj: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    const jtr = new Array<number>(p).fill(0);
    for (let i = 0; i < current.length; i++) {
      const row = jacobian[i]!;
      for (let a = 0; a < p; a++) {
        jtr[a]! += row[a]! * current[i]!;
        for (let b = 0; b < p; b++) jtj[a]![b]! += row[a]! * row[b]!;
      }
    }
    let accepted = false;
    for (let attempt = 0; attempt < 30 && !accepted; attempt++) {
      // Marquardt's scaling: damp each direction by its own curvature, so badly scaled parameters still move.
      const damped = jtj.map((row, a) => row.map((value, b) => (a === b ? value + lambda * Math.max(value, 1e-12) : value)));
      const delta = choleskySolve(
        damped,
        jtr.map((value) => -value),
      );
      if (!delta) {
        lambda *= 10;
        continue;
      }
      const candidate = parameters.map((value, index) => value + delta[index]!);
      const next = residuals(candidate);
      const nextRss = sumSquares(next);
      if (Number.isFinite(nextRss) && nextRss < rss) {
        const improvement = (rss - nextRss) / Math.max(rss, 1e-300);
        parameters = candidate;
        current = next;
        rss = nextRss;
        lambda = Math.max(1e-12, lambda / 3);
        accepted = true;
        if (improvement < tolerance) converged = true;
      } else {
        lambda *= 4;
      }
    }
    // No step improves the fit at any damping: we are at a (local) minimum.
    if (!accepted) converged = true;
  }
  return { parameters, rss, iterations, converged };
}

function sumSquares(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return sum;
}

export interface CurvePoint {
  tokens: number;
  /** Score in [0, 1] (a run's correctness or a configuration's accuracy). */
  score: number;
  weight?: number;
}

export type CurveModelName = 'saturating' | 'logistic' | 'loglinear';

export interface CurveFit {
  model: CurveModelName;
  /** saturating: {a, b, c}; logistic: {h, k, m}; loglinear: {alpha, beta}. */
  parameters: Record<string, number>;
  /** Reference tokens t0 (saturating, loglinear). */
  referenceTokens: number;
  rss: number;
  /** Weighted R² of the curve on the points it was fitted to. */
  r2: number;
  /** Small-sample corrected AIC (Infinity when there are too few points for the correction). */
  aicc: number;
  points: number;
  converged: boolean;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));
const clampUnit = (p: number): number => Math.min(0.98, Math.max(0.02, p));

/** Allowed ranges: beyond them a curve through a handful of points is a step function, not a scaling law. */
const RATE = { min: 0.05, max: 4 };
const SLOPE_LIMIT = 6;
const MIDPOINT_SPREAD = 3;

/** The fitted curve's accuracy at `tokens`. */
export function evaluateCurve(fit: Pick<CurveFit, 'model' | 'parameters' | 'referenceTokens'>, tokens: number): number {
  const x = Math.log(Math.max(1, tokens));
  const p = fit.parameters;
  const x0 = Math.log(fit.referenceTokens);
  if (fit.model === 'saturating') return p['a']! - p['b']! * Math.exp(-p['c']! * (x - x0));
  if (fit.model === 'loglinear') return p['alpha']! + p['beta']! * (x - x0);
  return p['h']! * sigmoid(p['k']! * (x - p['m']!));
}

interface ModelSpec {
  names: string[];
  /** Internal (unbounded) parameter vector → public, bounded parameters. */
  unpack: (q: readonly number[], xmid: number) => Record<string, number>;
  start: (points: readonly CurvePoint[]) => number[][];
}

const MODELS: Record<Exclude<CurveModelName, 'loglinear'>, ModelSpec> = {
  saturating: {
    names: ['a', 'b', 'c'],
    unpack: (q) => ({ a: sigmoid(q[0]!), b: Math.tanh(q[1]!), c: RATE.min + (RATE.max - RATE.min) * sigmoid(q[2]!) }),
    start: (points) => {
      const top = Math.max(...points.map((point) => point.score));
      const bottom = Math.min(...points.map((point) => point.score));
      // A few rates: LM finds the nearest minimum, so try slow, medium and fast approaches.
      return [0.3, 1, 2.5].map((rate) => [
        logit(clampUnit(top + 0.05)),
        Math.atanh(Math.min(0.95, Math.max(0.01, top + 0.05 - bottom))),
        logit((rate - RATE.min) / (RATE.max - RATE.min)),
      ]);
    },
  },
  logistic: {
    names: ['h', 'k', 'm'],
    unpack: (q, xmid) => ({
      h: sigmoid(q[0]!),
      k: SLOPE_LIMIT * Math.tanh(q[1]! / SLOPE_LIMIT),
      m: xmid + MIDPOINT_SPREAD * Math.tanh(q[2]! / MIDPOINT_SPREAD),
    }),
    start: (points) => {
      const top = Math.max(...points.map((point) => point.score));
      return [0.5, 1.5, 4].map((slope) => [logit(clampUnit(top + 0.05)), SLOPE_LIMIT * Math.atanh(slope / SLOPE_LIMIT), 0]);
    },
  },
};

export interface FitOptions {
  /** Reference token count t0 (default: the smallest tokens in the data). */
  referenceTokens?: number;
  models?: readonly CurveModelName[];
}

/** Small-sample corrected AIC; Infinity when n ≤ k + 1 (the correction is undefined: too few points). */
function aicc(rss: number, n: number, k: number): number {
  if (n <= k + 1) return Infinity;
  return n * Math.log(Math.max(rss, 1e-300) / n) + 2 * k + (2 * k * (k + 1)) / (n - k - 1);
}

/**
 * Fits one model (LM from several starts; the log-linear model by weighted least squares). Undefined with
 * fewer distinct token levels than the model has parameters.
 */
export function fitCurve(points: readonly CurvePoint[], model: CurveModelName, options: FitOptions = {}): CurveFit | undefined {
  const usable = points.filter((point) => point.tokens > 0 && Number.isFinite(point.score));
  const levels = new Set(usable.map((point) => Math.round(Math.log(point.tokens) * 1000))).size;
  const k = model === 'loglinear' ? 2 : 3;
  if (levels < k) return undefined;
  const referenceTokens = options.referenceTokens ?? Math.min(...usable.map((point) => point.tokens));
  const x0 = Math.log(referenceTokens);
  const xs = usable.map((point) => Math.log(point.tokens));
  const xmid = (Math.min(...xs) + Math.max(...xs)) / 2;
  const roots = usable.map((point) => Math.sqrt(point.weight ?? 1));
  let parameters: Record<string, number>;
  let rss: number;
  let converged = true;
  if (model === 'loglinear') {
    const fit = ols(
      xs.map((x) => [1, x - x0]),
      usable.map((point) => point.score),
      roots.map((root) => root * root),
    );
    parameters = { alpha: fit.coefficients[0]!, beta: fit.coefficients[1]! };
    rss = fit.rss;
  } else {
    const spec = MODELS[model];
    const predict = (q: readonly number[], x: number): number =>
      evaluateCurve({ model, parameters: spec.unpack(q, xmid), referenceTokens }, Math.exp(x));
    const residuals = (q: readonly number[]): number[] => usable.map((point, i) => roots[i]! * (point.score - predict(q, xs[i]!)));
    let best: LmResult | undefined;
    for (const start of spec.start(usable)) {
      const result = levenbergMarquardt(residuals, start);
      if (!best || result.rss < best.rss) best = result;
    }
    parameters = spec.unpack(best!.parameters, xmid);
    rss = best!.rss;
    converged = best!.converged;
  }
  let weightSum = 0;
  let weightedMean = 0;
  for (let i = 0; i < usable.length; i++) {
    weightSum += roots[i]! ** 2;
    weightedMean += roots[i]! ** 2 * usable[i]!.score;
  }
  weightedMean /= weightSum;
  const tss = usable.reduce((sum, point, i) => sum + roots[i]! ** 2 * (point.score - weightedMean) ** 2, 0);
  return {
    model,
    parameters,
    referenceTokens,
    rss,
    r2: tss > 0 ? Math.max(0, 1 - rss / tss) : 0,
    aicc: aicc(rss, usable.length, k),
    points: usable.length,
    converged,
  };
}

/**
 * Fits the saturating, logistic and log-linear models and keeps the lowest AICc — so with four budgets (four
 * points) only the two-parameter log-linear curve qualifies, and the three-parameter curves need five or
 * more. Undefined when nothing can be fitted.
 */
export function fitScalingCurve(points: readonly CurvePoint[], options: FitOptions = {}): CurveFit | undefined {
  let best: CurveFit | undefined;
  for (const model of options.models ?? (['saturating', 'logistic', 'loglinear'] as const)) {
    const fit = fitCurve(points, model, options);
    if (fit && Number.isFinite(fit.aicc) && (!best || fit.aicc < best.aicc)) best = fit;
  }
  return best;
}
