/**
 * Test graphs with known normalised-Laplacian spectra (complete, path, star, cycle), plus small helpers
 * shared by the criticality tests.
 */
import { undirectedGraph, type UndirectedGraph } from '../graph.ts';

export function complete(n: number): UndirectedGraph {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  return undirectedGraph(n, pairs);
}

export function path(n: number): UndirectedGraph {
  return undirectedGraph(
    n,
    Array.from({ length: Math.max(0, n - 1) }, (_, i) => [i, i + 1] as [number, number]),
  );
}

/** Star on n nodes: centre 0, leaves 1..n−1. */
export function star(n: number): UndirectedGraph {
  return undirectedGraph(
    n,
    Array.from({ length: Math.max(0, n - 1) }, (_, i) => [0, i + 1] as [number, number]),
  );
}

export function cycle(n: number): UndirectedGraph {
  return undirectedGraph(
    n,
    Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as [number, number]),
  );
}

/** −Σ p ln p with p = λ/Σλ over λ > 0, straight from a closed-form spectrum. */
export function entropyOf(spectrum: readonly number[]): number {
  const total = spectrum.reduce((sum, value) => sum + (value > 1e-12 ? value : 0), 0);
  return spectrum.filter((value) => value > 1e-12).reduce((sum, value) => sum - (value / total) * Math.log(value / total), 0);
}

export function assertClose(actual: number, expected: number, tolerance: number, label = ''): void {
  if (!(Math.abs(actual - expected) <= tolerance)) throw new Error(`${label} expected ${expected} ± ${tolerance}, got ${actual}`);
}

/** Deterministic pseudo-random numbers in [0, 1) for building test matrices. */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
