/**
 * A synthetic reasoning-like graph for performance tests: preferential attachment (a few hubs, many
 * leaves, ~3 edges per new node) with node texts drawn from a small topical vocabulary, so semantic
 * similarities are neither all zero nor all one.
 */
import type { CriticalityGraph } from '../graph.ts';
import { lcg } from './graphs.ts';

const TOPICS = [
  'silk protein fibre toughness hierarchy beta sheet',
  'graphene lattice strength conductivity carbon sheet',
  'bone collagen mineral hierarchy fracture toughness',
  'neural network gradient training loss optimisation',
  'entropy spectrum laplacian graph eigenvalue network',
  'protein folding energy landscape sequence structure',
  'composite design crack deflection interface strength',
  'language model reasoning agent planning critique',
];

export function syntheticGraph(n: number, seed = 1, edgesPerNode = 3): CriticalityGraph {
  const random = lcg(seed);
  const words = TOPICS.map((topic) => topic.split(' '));
  const nodes = Array.from({ length: n }, (_, i) => {
    const topic = words[Math.floor(random() * words.length)]!;
    const other = words[Math.floor(random() * words.length)]!;
    const pick = (list: string[]) => list[Math.floor(random() * list.length)]!;
    return { id: `c${i}`, text: `${pick(topic)} ${pick(topic)} ${pick(other)} ${pick(topic)}`, step: 2 * i };
  });
  const targets: number[] = [0];
  const edges: CriticalityGraph['edges'] = [];
  for (let i = 1; i < n; i++) {
    for (let k = 0; k < Math.min(i, edgesPerNode); k++) {
      // Endpoint list sampling = degree-proportional choice (Barabási–Albert).
      const j = targets[Math.floor(random() * targets.length)]!;
      edges.push({ from: `c${i}`, to: `c${j}`, step: 2 * i + 1 });
      targets.push(j, i);
    }
  }
  return { nodes, edges };
}
