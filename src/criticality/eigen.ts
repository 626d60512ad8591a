/**
 * Eigenvalues of a real symmetric matrix: Householder reduction to tridiagonal form, then the implicit QL
 * algorithm with Wilkinson-style shifts (the classic tred2/tqli pair, eigenvalues only).
 *
 * Why hand-written: no linear-algebra package is installed and the project adds none; the matrices here are
 * symmetric and at most a few thousand rows, where this O(n³) dense path is exact and fast enough. Why this
 * algorithm rather than Jacobi: Jacobi needs several O(n³) sweeps, Householder needs one (4n³/3 flops), and
 * entropies need the spectrum only, so no eigenvectors are accumulated.
 *
 * Why the reduction reads and writes only the lower triangle, row by row: the matrix is stored row-major in a
 * Float64Array, so the inner loops walk contiguous memory; the symmetric matrix-vector product scatters each
 * lower-triangle entry to both p_i and p_j in the same pass, halving the memory traffic of a full product.
 */

/** Largest number of implicit QL iterations per eigenvalue before giving up (typical need: 1–3). */
const MAX_QL_ITERATIONS = 60;

/**
 * Eigenvalues (ascending) of the symmetric n×n matrix stored row-major in `matrix`. Only the lower triangle
 * is read. The array is overwritten (it is scratch space): pass a copy if you need it afterwards.
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  if (matrix.length < n * n) throw new RangeError(`matrix has ${matrix.length} entries, need ${n * n}`);
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  tridiagonalize(matrix, n, diagonal, offDiagonal);
  tridiagonalEigenvalues(diagonal, offDiagonal);
  return diagonal.sort();
}

/**
 * Householder reduction A → QᵀAQ = T in place. On return `diagonal[i]` = T_ii and `offDiagonal[i]` =
 * T_{i+1,i} (offDiagonal[n−1] = 0). The matrix's lower triangle is destroyed.
 *
 * Why the update is deferred: step k needs p = A′v with A′ = A − v_prev w_prevᵀ − w_prev v_prevᵀ, the
 * trailing block after step k−1's rank-2 update. Applying that update to the first column only, then
 * applying it to every other entry in the same pass that accumulates p, reads and writes the trailing block
 * once per step instead of twice. Past ~1,000 rows the block no longer fits in cache and this halves the time.
 */
export function tridiagonalize(a: Float64Array, n: number, diagonal: Float64Array, offDiagonal: Float64Array): void {
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  let pendingV = new Float64Array(n);
  let pendingW = new Float64Array(n);
  let pending = false;
  for (let k = 0; k < n - 2; k++) {
    if (pending) {
      const pvk = pendingV[k]!;
      const pwk = pendingW[k]!;
      for (let i = k; i < n; i++) a[i * n + k]! -= pendingV[i]! * pwk + pendingW[i]! * pvk;
    }
    diagonal[k] = a[k * n + k]!;
    const start = k + 1;
    let sigma = 0;
    for (let i = start; i < n; i++) {
      const x = a[i * n + k]!;
      sigma += x * x;
    }
    const x0 = a[start * n + k]!;
    // Nothing to annihilate below the subdiagonal. A pending update of the block from `k` on is still
    // exactly the pending update of the smaller block from `start` on, so it simply stays pending.
    if (sigma === x0 * x0) {
      offDiagonal[k] = x0;
      continue;
    }
    // alpha takes the sign opposite to x0 so that v0 = x0 − alpha never cancels.
    const alpha = x0 >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    offDiagonal[k] = alpha;
    for (let i = start; i < n; i++) v[i] = a[i * n + k]!;
    v[start] = x0 - alpha;
    const beta = 1 / (sigma - x0 * alpha); // = 2 / vᵀv
    // p = A22 · v over the lower triangle of the trailing block (p kept in w), applying the pending update.
    w.fill(0, start, n);
    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      let sum = 0;
      if (pending) {
        const qi = pendingV[i]!;
        const ri = pendingW[i]!;
        for (let j = start; j < i; j++) {
          const aij = a[row + j]! - (qi * pendingW[j]! + ri * pendingV[j]!);
          a[row + j] = aij;
          sum += aij * v[j]!;
          w[j]! += aij * vi;
        }
        a[row + i]! -= 2 * qi * ri;
      } else {
        for (let j = start; j < i; j++) {
          const aij = a[row + j]!;
          sum += aij * v[j]!;
          w[j]! += aij * vi;
        }
      }
      w[i]! += sum + a[row + i]! * vi;
    }
    // w = βp − (β² pᵀv / 2) v: the update A22 −= v wᵀ + w vᵀ is what the next step applies.
    let pv = 0;
    for (let i = start; i < n; i++) {
      w[i]! *= beta;
      pv += w[i]! * v[i]!;
    }
    const half = 0.5 * beta * pv;
    for (let i = start; i < n; i++) w[i]! -= half * v[i]!;
    [pendingV, v] = [v, pendingV];
    [pendingW, w] = [w, pendingW];
    pending = true;
  }
  if (pending) {
    for (let i = Math.max(0, n - 2); i < n; i++) {
      for (let j = Math.max(0, n - 2); j <= i; j++) a[i * n + j]! -= pendingV[i]! * pendingW[j]! + pendingW[i]! * pendingV[j]!;
    }
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + (n - 2)]!;
    offDiagonal[n - 2] = a[(n - 1) * n + (n - 2)]!;
  }
  if (n >= 1) {
    diagonal[n - 1] = a[(n - 1) * n + (n - 1)]!;
    offDiagonal[n - 1] = 0;
  }
}

/**
 * Implicit QL with shifts on a symmetric tridiagonal matrix (diagonal d, subdiagonal e with e[i] joining rows
 * i and i+1). Overwrites d with the eigenvalues (unsorted) and e with zeros.
 *
 * `firstRow`, when given, must start as e₁ = (1, 0, …, 0); it ends as the first component of each eigenvector
 * (firstRow[k] belongs to d[k]). That is all Gauss quadrature needs (Golub–Welsch), so the rotations are
 * applied to one row instead of accumulating the whole eigenvector matrix.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, firstRow?: Float64Array): void {
  const n = d.length;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    let m: number;
    do {
      // Find a negligible subdiagonal element: the matrix splits there and the block above is done.
      for (m = l; m < n - 1; m++) {
        const scale = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * scale) break;
      }
      if (m === l) break;
      if (++iterations > MAX_QL_ITERATIONS) throw new Error('symmetric eigenvalues: QL iteration did not converge');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i: number;
      let underflow = false;
      for (i = m - 1; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Recover from underflow: deflate and restart the sweep.
          d[i + 1]! -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (firstRow !== undefined) {
          const next = firstRow[i + 1]!;
          firstRow[i + 1] = s * firstRow[i]! + c * next;
          firstRow[i] = c * firstRow[i]! - s * next;
        }
      }
      if (underflow) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    } while (m !== l);
  }
}
