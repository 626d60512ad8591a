/**
 * Delaunay triangulation edges of points in the plane, by Bowyer–Watson (insert points one by one, remove
 * the triangles whose circumcircle contains the new point, re-triangulate the hole).
 *
 * Why hand-written: no Delaunay package is installed (checked node_modules; adding dependencies is not
 * allowed here), and AgentsNet needs only the edge set of up to ~1,000 uniform random points. The O(n²)
 * form does ~2·10⁶ circumcircle tests at 1,000 points (milliseconds). Uniform random points are in general
 * position with probability 1; the super-triangle is far enough away (10⁴ × the point spread) that hull
 * edges survive its removal, and the generator checks connectivity anyway.
 */

interface Triangle {
  a: number;
  b: number;
  c: number;
  /** Circumcentre and squared circumradius, cached: every insertion tests every live triangle. */
  x: number;
  y: number;
  r2: number;
}

function triangle(xs: Float64Array, ys: Float64Array, a: number, b: number, c: number): Triangle {
  const ax = xs[a]!;
  const ay = ys[a]!;
  const bx = xs[b]! - ax;
  const by = ys[b]! - ay;
  const cx = xs[c]! - ax;
  const cy = ys[c]! - ay;
  const d = 2 * (bx * cy - by * cx);
  // Degenerate (collinear) triangles get an infinite circle: they are removed by the next insertion.
  if (d === 0) return { a, b, c, x: ax, y: ay, r2: Infinity };
  const b2 = bx * bx + by * by;
  const c2 = cx * cx + cy * cy;
  const ux = (cy * b2 - by * c2) / d;
  const uy = (bx * c2 - cx * b2) / d;
  return { a, b, c, x: ax + ux, y: ay + uy, r2: ux * ux + uy * uy };
}

/** Undirected edges [u, v] (u < v) of the Delaunay triangulation of `points`. */
export function delaunayEdges(points: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const n = points.length;
  if (n < 2) return [];
  if (n === 2) return [[0, 1]];
  const xs = new Float64Array(n + 3);
  const ys = new Float64Array(n + 3);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  points.forEach(([x, y], index) => {
    xs[index] = x;
    ys[index] = y;
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  });
  const span = Math.max(maxX - minX, maxY - minY, 1e-9) * 1e4;
  const midX = (minX + maxX) / 2;
  const midY = (minY + maxY) / 2;
  xs[n] = midX - 2 * span;
  ys[n] = midY - span;
  xs[n + 1] = midX + 2 * span;
  ys[n + 1] = midY - span;
  xs[n + 2] = midX;
  ys[n + 2] = midY + 2 * span;
  let triangles: Triangle[] = [triangle(xs, ys, n, n + 1, n + 2)];

  for (let point = 0; point < n; point++) {
    const px = xs[point]!;
    const py = ys[point]!;
    const kept: Triangle[] = [];
    // Boundary of the hole: edges of removed triangles that only one removed triangle has.
    const edgeUses = new Map<number, [number, number, number]>();
    const addEdge = (u: number, v: number): void => {
      const key = u < v ? u * (n + 3) + v : v * (n + 3) + u;
      const entry = edgeUses.get(key);
      if (entry) entry[2]++;
      else edgeUses.set(key, [u, v, 1]);
    };
    for (const current of triangles) {
      const dx = px - current.x;
      const dy = py - current.y;
      if (dx * dx + dy * dy < current.r2) {
        addEdge(current.a, current.b);
        addEdge(current.b, current.c);
        addEdge(current.c, current.a);
      } else kept.push(current);
    }
    for (const [u, v, uses] of edgeUses.values()) if (uses === 1) kept.push(triangle(xs, ys, u, v, point));
    triangles = kept;
  }

  const edges = new Map<number, [number, number]>();
  for (const { a, b, c } of triangles) {
    if (a >= n || b >= n || c >= n) continue;
    for (const [u, v] of [
      [a, b],
      [b, c],
      [c, a],
    ] as const) {
      const low = Math.min(u, v);
      const high = Math.max(u, v);
      edges.set(low * n + high, [low, high]);
    }
  }
  return [...edges.values()].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}
