/**
 * Ordinary (optionally weighted) least squares via the normal equations and a Cholesky factorisation, plus
 * the design-matrix helpers the variance decomposition needs (standardised numeric columns, one-hot
 * categorical columns with a dropped reference level).
 *
 * Why normal equations + Cholesky rather than QR or a library: the designs here are small (tens of columns,
 * hundreds to thousands of rows), numeric columns are standardised so XᵀX is well conditioned, and one-hot
 * columns drop a reference level so the system is full rank. Cholesky of a p×p matrix is ~30 lines, exact
 * enough (we compare R² to two decimals), and keeps the lab free of a numerics dependency. Rank deficiency
 * that slips through (an empty category, a constant column) is handled by a tiny ridge on the diagonal.
 *
 *   const fit = ols([[1, 0.5], [1, 1.5], [1, 2.5]], [1, 2, 3]);   // intercept column included by the caller
 *   fit.coefficients; fit.r2;
 */

/** Solves A·x = b for a symmetric positive-definite A (in place on copies). Undefined when A is not SPD. */
export function choleskySolve(matrix: readonly (readonly number[])[], rhs: readonly number[]): number[] | undefined {
  const n = rhs.length;
  const lower: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i]![j]!;
      for (let k = 0; k < j; k++) sum -= lower[i]![k]! * lower[j]![k]!;
      if (i === j) {
        // A pivot this small relative to its diagonal means (numerical) rank deficiency, not a usable factor.
        if (!(sum > 1e-12 * Math.abs(matrix[i]![i]!))) return undefined;
        lower[i]![i] = Math.sqrt(sum);
      } else {
        lower[i]![j] = sum / lower[j]![j]!;
      }
    }
  }
  // Forward substitution L·z = b, then back substitution Lᵀ·x = z.
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = rhs[i]!;
    for (let k = 0; k < i; k++) sum -= lower[i]![k]! * z[k]!;
    z[i] = sum / lower[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i]!;
    for (let k = i + 1; k < n; k++) sum -= lower[k]![i]! * x[k]!;
    x[i] = sum / lower[i]![i]!;
  }
  return x;
}

export interface OlsFit {
  coefficients: number[];
  fitted: number[];
  /** Weighted residual sum of squares. */
  rss: number;
  /** Weighted total sum of squares around the weighted mean. */
  tss: number;
  /** 1 − rss/tss (0 when y is constant). */
  r2: number;
}

/**
 * Least squares of `y` on the columns of `design` (rows × p; include an intercept column yourself).
 * `weights` (default 1) make it weighted least squares — used to weight configuration means by item counts.
 */
export function ols(design: readonly (readonly number[])[], y: readonly number[], weights?: readonly number[]): OlsFit {
  const rows = y.length;
  if (design.length !== rows) throw new RangeError(`design has ${design.length} rows, y has ${rows}`);
  const p = rows === 0 ? 0 : design[0]!.length;
  const xtx: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  let weightSum = 0;
  let weightedY = 0;
  for (let r = 0; r < rows; r++) {
    const w = weights?.[r] ?? 1;
    const row = design[r]!;
    weightSum += w;
    weightedY += w * y[r]!;
    for (let i = 0; i < p; i++) {
      const wi = w * row[i]!;
      xty[i]! += wi * y[r]!;
      for (let j = 0; j <= i; j++) xtx[i]![j]! += wi * row[j]!;
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) xtx[j]![i] = xtx[i]![j]!;
  let coefficients: number[] | undefined;
  // Exactly collinear designs are not positive definite: retry with a ridge of 1e-10·trace/p (invisible in
  // R², it picks the minimum-norm-like solution), growing it only if needed.
  const scale = Math.max(1e-300, xtx.reduce((sum, row, i) => sum + row[i]!, 0) / Math.max(1, p));
  coefficients = choleskySolve(xtx, xty);
  for (let ridge = 1e-10; coefficients === undefined && ridge < 1; ridge *= 100) {
    const damped = xtx.map((row, i) => row.map((value, j) => (i === j ? value + ridge * scale : value)));
    coefficients = choleskySolve(damped, xty);
  }
  coefficients ??= new Array<number>(p).fill(0);
  const mean = weightSum > 0 ? weightedY / weightSum : 0;
  const fitted = new Array<number>(rows);
  let rss = 0;
  let tss = 0;
  for (let r = 0; r < rows; r++) {
    const w = weights?.[r] ?? 1;
    let value = 0;
    for (let i = 0; i < p; i++) value += design[r]![i]! * coefficients[i]!;
    fitted[r] = value;
    rss += w * (y[r]! - value) ** 2;
    tss += w * (y[r]! - mean) ** 2;
  }
  return { coefficients, fitted, rss, tss, r2: tss > 0 ? Math.max(0, 1 - rss / tss) : 0 };
}

/** A feature group: one or more numeric columns, or a categorical variable (one-hot, reference level dropped). */
export type FeatureGroup =
  | { name: string; kind: 'numeric'; columns: ReadonlyArray<readonly number[]> }
  | { name: string; kind: 'categorical'; values: readonly string[] };

/** The columns a group contributes to a design matrix (numeric columns standardised; constant ones dropped). */
export function groupColumns(group: FeatureGroup): number[][] {
  if (group.kind === 'numeric') {
    const out: number[][] = [];
    for (const column of group.columns) {
      const mean = column.reduce((sum, value) => sum + value, 0) / Math.max(1, column.length);
      const sd = Math.sqrt(column.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, column.length));
      if (!(sd > 1e-12)) continue;
      out.push(column.map((value) => (value - mean) / sd));
    }
    return out;
  }
  const levels = [...new Set(group.values)].sort();
  // The first level is the reference (absorbed by the intercept), so the design stays full rank.
  return levels.slice(1).map((level) => group.values.map((value) => (value === level ? 1 : 0)));
}

/** Rows of [1, columns of each group…]. */
export function designMatrix(rows: number, groups: readonly FeatureGroup[]): number[][] {
  const columns = groups.flatMap((group) => groupColumns(group));
  return Array.from({ length: rows }, (_, r) => [1, ...columns.map((column) => column[r]!)]);
}
