// Enforces the layer map of ARCHITECTURE.md: a module in src/<layer>/ may import only from its own layer
// or from layers listed before it. Also refuses imports that reach into another layer's files instead of
// its index.ts surface. A small script rather than dependency-cruiser: the rule is ten lines, and the
// script has no configuration to drift from the layer list below.
//
// It also refuses any import cycle among src modules, within a layer too. `import type` edges count: they
// are erased at run time, but a type-only cycle is still two modules that cannot be read or moved apart,
// and keeping the graph acyclic for every edge keeps the rule simple (one graph, no exceptions). A DFS
// over the edges this script already parses is twenty lines; madge or dpdm would be a dependency with
// its own resolver (and tsconfig handling) to configure for the same answer.
// Files directly in src/ (index.ts, the package's public entry, and top-level tests such as package.test.ts)
// are the package surface, above every layer: they may import any layer, but only through its index.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

export const LAYERS = [
  'core',
  'formats',
  'budget',
  'models',
  'journal',
  'ops',
  'workflow',
  'registry',
  'governor',
  'network',
  'criticality',
  'runtime',
  'lab',
  'gateway',
  'cli',
];

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const root = resolve('src');
const problems = [];
/** module (path relative to src) → the src modules it imports, in source order. */
const graph = new Map();
for (const file of collect(root, [])) {
  const parts = relative(root, file).split(sep);
  const surface = parts.length === 1;
  const fromLayer = surface ? '(package surface)' : parts[0];
  const fromRank = surface ? LAYERS.length : LAYERS.indexOf(fromLayer);
  if (fromRank < 0) {
    problems.push(`${relative('.', file)}: folder "${fromLayer}" is not a layer in scripts/check-layers.mjs`);
    continue;
  }
  // Comment lines (`//`, `/*`, ` * `) are dropped first: doc comments quote imports as examples.
  const source = readFileSync(file, 'utf8').replace(/^\s*(?:\/\/|\/\*|\*).*$/gm, '');
  for (const match of source.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = match[1] ?? match[2];
    const target = resolve(dirname(file), spec);
    const targetRel = relative(root, target);
    if (targetRel.startsWith('..')) continue;
    const fromRel = relative(root, file);
    if (!graph.has(fromRel)) graph.set(fromRel, []);
    graph.get(fromRel).push(targetRel);
    const toLayer = targetRel.split(sep)[0];
    const toRank = LAYERS.indexOf(toLayer);
    if (toLayer === fromLayer) continue;
    if (toRank < 0) {
      // Another top-level file, or a folder that is not a layer (e.g. src/runtime/ before it is listed above).
      if (!targetRel.includes(sep)) continue;
      problems.push(`${relative('.', file)}: imports ${spec} from folder "${toLayer}", which is not a layer in scripts/check-layers.mjs`);
      continue;
    }
    if (toRank > fromRank) problems.push(`${relative('.', file)}: layer "${fromLayer}" imports higher layer "${toLayer}" (${spec})`);
    else if (targetRel !== `${toLayer}${sep}index.ts` && targetRel !== toLayer)
      problems.push(`${relative('.', file)}: imports ${spec}; import the "${toLayer}" layer through its index.ts`);
  }
}
// Depth-first search for back edges; each cycle is reported once, rotated to start at its smallest module.
const state = new Map(); // module → 'open' while on the DFS stack, 'done' after
const stack = [];
const cycles = new Set();
function visit(module) {
  state.set(module, 'open');
  stack.push(module);
  for (const next of graph.get(module) ?? []) {
    if (state.get(next) === 'open') {
      const loop = stack.slice(stack.indexOf(next));
      const start = loop.indexOf([...loop].sort()[0]);
      const rotated = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.add([...rotated, rotated[0]].join(' -> ').split(sep).join('/'));
    } else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(module, 'done');
}
for (const module of [...graph.keys()].sort()) if (!state.has(module)) visit(module);
for (const cycle of cycles) problems.push(`import cycle: ${cycle}`);

if (problems.length > 0) {
  console.error(`Layer check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('Layer check passed.');
