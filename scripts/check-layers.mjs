// Enforces the layer map of ARCHITECTURE.md: a module in src/<layer>/ may import only from its own layer
// or from layers listed before it. Also refuses imports that reach into another layer's files instead of
// its index.ts surface. A small script rather than dependency-cruiser: the rule is ten lines, and the
// script has no configuration to drift from the layer list below.
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
for (const file of collect(root, [])) {
  const fromLayer = relative(root, file).split(sep)[0];
  const fromRank = LAYERS.indexOf(fromLayer);
  if (fromRank < 0) {
    problems.push(`${relative('.', file)}: folder "${fromLayer}" is not a layer in scripts/check-layers.mjs`);
    continue;
  }
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = match[1] ?? match[2];
    const target = resolve(dirname(file), spec);
    const targetRel = relative(root, target);
    if (targetRel.startsWith('..')) continue;
    const toLayer = targetRel.split(sep)[0];
    const toRank = LAYERS.indexOf(toLayer);
    if (toLayer === fromLayer) continue;
    if (toRank > fromRank) problems.push(`${relative('.', file)}: layer "${fromLayer}" imports higher layer "${toLayer}" (${spec})`);
    else if (targetRel !== `${toLayer}${sep}index.ts` && targetRel !== toLayer)
      problems.push(`${relative('.', file)}: imports ${spec}; import the "${toLayer}" layer through its index.ts`);
  }
}
if (problems.length > 0) {
  console.error(`Layer check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('Layer check passed.');
