/**
 * The symmetric eigen-solver against matrices with known spectra, and the Lanczos quadrature against exact
 * traces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigenvalues } from './eigen.ts';
import { estimateTrace } from './lanczos.ts';
import { assertClose, lcg } from './testing/graphs.ts';

/** A = Q diag(λ) Qᵀ with Q a product of random Householder reflections: spectrum known exactly. */
function withSpectrum(spectrum: readonly number[], seed: number): Float64Array {
  const n = spectrum.length;
  const random = lcg(seed);
  const a = new Float64Array(n * n);
  spectrum.forEach((value, i) => (a[i * n + i] = value));
  for (let reflection = 0; reflection < 3; reflection++) {
    const v = Float64Array.from({ length: n }, () => random() - 0.5);
    const norm2 = v.reduce((sum, x) => sum + x * x, 0);
    // A ← H A H with H = I − 2vvᵀ/‖v‖²: two one-sided applications.
    for (let side = 0; side < 2; side++) {
      for (let col = 0; col < n; col++) {
        let dot = 0;
        for (let row = 0; row < n; row++) dot += v[row]! * a[side === 0 ? row * n + col : col * n + row]!;
        const scale = (2 * dot) / norm2;
        for (let row = 0; row < n; row++) a[side === 0 ? row * n + col : col * n + row]! -= scale * v[row]!;
      }
    }
  }
  return a;
}

describe('symmetricEigenvalues', () => {
  it('handles 0×0, 1×1 and 2×2 matrices', () => {
    assert.deepEqual([...symmetricEigenvalues(new Float64Array(0), 0)], []);
    assert.deepEqual([...symmetricEigenvalues(Float64Array.of(-3.5), 1)], [-3.5]);
    const pair = symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2);
    assertClose(pair[0]!, 1, 1e-14);
    assertClose(pair[1]!, 3, 1e-14);
  });

  it('recovers a prescribed spectrum (with repeated, negative and zero eigenvalues) to 1e-11', () => {
    const spectrum = [-4, -1, 0, 0, 0, 0.5, 1, 1, 1, 2.25, 3, 7, 7, 10, ...Array.from({ length: 46 }, (_, i) => Math.sin(i) * 5)];
    const computed = symmetricEigenvalues(withSpectrum(spectrum, 7), spectrum.length);
    const expected = [...spectrum].sort((a, b) => a - b);
    expected.forEach((value, i) => assertClose(computed[i]!, value, 1e-11, `λ${i}`));
  });

  it('matches the tridiagonal Toeplitz spectrum 2 − 2cos(kπ/(n+1))', () => {
    const n = 120;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const computed = symmetricEigenvalues(a, n);
    for (let k = 1; k <= n; k++) assertClose(computed[k - 1]!, 2 - 2 * Math.cos((k * Math.PI) / (n + 1)), 1e-12, `λ${k}`);
  });

  it('gives the all-ones matrix n once and 0 (n−1 times)', () => {
    const n = 40;
    const computed = symmetricEigenvalues(new Float64Array(n * n).fill(1), n);
    for (let i = 0; i < n - 1; i++) assertClose(computed[i]!, 0, 1e-12);
    assertClose(computed[n - 1]!, n, 1e-12);
  });

  it('reads only the lower triangle', () => {
    const a = Float64Array.of(2, 999, 1, 2);
    const pair = symmetricEigenvalues(a, 2);
    assertClose(pair[0]!, 1, 1e-14);
    assertClose(pair[1]!, 3, 1e-14);
  });

  it('preserves trace and Frobenius norm of a random 300×300 matrix', () => {
    const n = 300;
    const random = lcg(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random() - 0.5;
    let trace = 0;
    let frobenius = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    for (const x of a) frobenius += x * x;
    const computed = symmetricEigenvalues(a, n);
    assertClose(
      computed.reduce((sum, x) => sum + x, 0),
      trace,
      1e-10,
    );
    assertClose(
      computed.reduce((sum, x) => sum + x * x, 0),
      frobenius,
      1e-9,
    );
  });
});

describe('estimateTrace (stochastic Lanczos quadrature)', () => {
  it('estimates tr f(A) within 2% for f = −x ln x on a known spectrum', () => {
    const n = 400;
    const spectrum = Array.from({ length: n }, (_, i) => (i < 5 ? 0 : 0.1 + (1.9 * i) / n));
    const a = withSpectrum(spectrum, 11);
    const multiply = (x: Float64Array, y: Float64Array) => {
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let j = 0; j < n; j++) sum += a[i * n + j]! * x[j]!;
        y[i] = sum;
      }
    };
    const f = (x: number) => (x > 1e-12 ? -x * Math.log(x) : 0);
    const exact = spectrum.reduce((sum, x) => sum + f(x), 0);
    const estimate = estimateTrace(multiply, n, f, { seed: 1 });
    assertClose(estimate, exact, 0.02 * Math.abs(exact));
    assert.equal(estimateTrace(multiply, n, f, { seed: 1 }), estimate, 'deterministic for a seed');
  });

  it('is exact for a diagonal matrix once the Krylov space is the whole space (Gauss–Golub–Welsch weights)', () => {
    // Rademacher probes have z_i² = 1, so Hutchinson is exact for diagonal A; with 4 Lanczos steps on a 4×4
    // matrix the quadrature is exact too, so any error here is in the nodes or weights.
    const spectrum = [0.5, 1, 1.5, 2];
    const multiply = (x: Float64Array, y: Float64Array) => spectrum.forEach((value, i) => (y[i] = value * x[i]!));
    const f = (x: number) => -x * Math.log(x);
    assertClose(
      estimateTrace(multiply, 4, f, { probes: 3 }),
      spectrum.reduce((sum, x) => sum + f(x), 0),
      1e-12,
    );
  });
});
