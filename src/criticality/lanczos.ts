/**
 * Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017): estimates tr f(M) for a symmetric M from
 * matrix-vector products only. Used for the von Neumann entropies of graphs past the dense limit, where an
 * O(n³) eigendecomposition is too slow; results computed this way are marked `lanczos` in the output.
 *
 * For each of `probes` Rademacher vectors z, m Lanczos steps from q₁ = z/‖z‖ give a tridiagonal T_m whose
 * eigenvalues θ_k and first eigenvector components τ_k are the nodes and weights of a Gauss quadrature for
 * zᵀf(M)z/‖z‖²; tr f(M) ≈ n · mean over probes of Σ_k τ_k² f(θ_k). Why full re-orthogonalisation: it costs
 * O(m²n) per probe, negligible next to m matrix-vector products, and it keeps ghost copies of converged
 * eigenvalues from double-counting their weight.
 *
 * Why 30 steps × 16 probes: on the synthetic 300–1,000-node graphs of the tests the error is dominated by the
 * probes (Hutchinson variance), about 0.1–0.3% of the entropy at 12–24 probes, while 20 and 60 steps agree to
 * 1e-5 — more steps buy nothing, more probes buy little, and the cost is steps × probes products.
 */
import { rngFor } from '../core/index.ts';
import { tridiagonalEigenvalues } from './eigen.ts';

export interface QuadratureOptions {
  /** Lanczos steps per probe (default 30). */
  steps?: number;
  /** Number of random probe vectors (default 16). */
  probes?: number;
  /** Seed of the probe vectors: the estimate is deterministic for a given seed. */
  seed?: number;
}

/** y ← M x for a symmetric n×n M. */
export type MatrixVectorProduct = (x: Float64Array, y: Float64Array) => void;

export const QUADRATURE_DEFAULTS = { steps: 30, probes: 16, seed: 0 } as const;

export function estimateTrace(
  multiply: MatrixVectorProduct,
  n: number,
  f: (eigenvalue: number) => number,
  options: QuadratureOptions = {},
): number {
  if (n === 0) return 0;
  const steps = Math.min(options.steps ?? QUADRATURE_DEFAULTS.steps, n);
  const probes = options.probes ?? QUADRATURE_DEFAULTS.probes;
  const rng = rngFor(options.seed ?? QUADRATURE_DEFAULTS.seed, 'lanczos', n);
  const basis = Array.from({ length: steps }, () => new Float64Array(n));
  const next = new Float64Array(n);
  const alpha = new Float64Array(steps);
  const beta = new Float64Array(steps);
  let total = 0;
  for (let probe = 0; probe < probes; probe++) {
    const first = basis[0]!;
    const scale = 1 / Math.sqrt(n);
    for (let i = 0; i < n; i++) first[i] = rng.next() < 0.5 ? -scale : scale;
    let size = steps;
    for (let j = 0; j < steps; j++) {
      const q = basis[j]!;
      multiply(q, next);
      // Full re-orthogonalisation against every earlier basis vector (twice is enough, Kahan–Parlett).
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k <= j; k++) {
          const other = basis[k]!;
          let dot = 0;
          for (let i = 0; i < n; i++) dot += other[i]! * next[i]!;
          if (pass === 0 && k === j) alpha[j] = dot;
          for (let i = 0; i < n; i++) next[i]! -= dot * other[i]!;
        }
      }
      if (j === steps - 1) break;
      let norm = 0;
      for (let i = 0; i < n; i++) norm += next[i]! * next[i]!;
      norm = Math.sqrt(norm);
      // An invariant subspace was found: T_j is exact for this probe and the quadrature is too.
      if (norm <= 1e-10) {
        size = j + 1;
        break;
      }
      beta[j] = norm;
      const q2 = basis[j + 1]!;
      for (let i = 0; i < n; i++) q2[i] = next[i]! / norm;
    }
    const nodes = alpha.slice(0, size);
    const offDiagonal = new Float64Array(size);
    offDiagonal.set(beta.subarray(0, size - 1));
    const weights = new Float64Array(size);
    weights[0] = 1;
    tridiagonalEigenvalues(nodes, offDiagonal, weights);
    for (let k = 0; k < size; k++) total += weights[k]! * weights[k]! * f(nodes[k]!);
  }
  return (n * total) / probes;
}
