/**
 * What the planner sees: an operator catalogue, the models it may use (by tier), the budget and the limits,
 * the objective, and worked examples from the template library (the named strategy templates plus the
 * example specs in `examples/*.json`). Its reply is structured output against the workflow JSON Schema.
 *
 * The schema sent as `responseSchema` is `workflowJsonSchema()` without `$schema`/`$id`/`title` (the fleet's
 * validator has no 2020-12 meta-schema to resolve them against) and without `description` strings — the
 * catalogue in the prompt says what every operator is for, and the descriptions would add ~2,000 tokens
 * to every plan call.
 *
 * Layout: the query is always the LAST thing in the last user message. Feedback (validation errors, budget,
 * execution outcomes) comes before it, marked with stable words ("Rejected:", "too expensive",
 * "Outcome: correct|incorrect") that a planner — and the simulated one — can key on.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BudgetLimits } from '../budget/index.ts';
import type { ChatMessage, JsonSchema } from '../models/index.ts';
import {
  simCascadeLadder,
  strategySpec,
  workflowJsonSchema,
  type Tier,
  type WorkflowLimits,
  type WorkflowSpec,
} from '../workflow/index.ts';
import { formatBudgetLimits, formatTierLine } from '../formats/index.ts';
import { TIERS } from './binder.ts';

export const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

export interface PlanTemplate {
  name: string;
  /** When a planner should reach for it (shown next to the example). */
  use: string;
  spec: WorkflowSpec;
}

const CATALOGUE: Record<string, string> = {
  generate: 'one model call (prompt template with {{query}} and {{input}} placeholders). Cheapest.',
  sample:
    'width: N parallel samples + aggregator majority | confidence-weighted | verifier | usc; "adaptive": true stops once the vote is decided.',
  verify: 'a judge scores a "candidate" input (<node>.answer) against the query; its output is the candidate if accepted.',
  refine: 'depth: answer, then verify → critique → revise for up to "rounds" rounds.',
  thread: 'decomposition: a recursive subtask tree in one context (maxSteps calls, maxDepth levels, tools ["calculator"]).',
  search: 'retrieval steps over a corpus (maxSteps, k passages per step).',
  debate: 'agents × rounds of debate (topology all-to-all | ring | star; mode multi | solo).',
  solo: 'one call role-playing several personas (solo performance prompting).',
  cascade:
    'models cheapest first; a stage is accepted when its signal (agreement | confidence | verifier) ≥ threshold, else escalate; the last stage always answers.',
  aggregate: 'fan-in without a model call: majority | first | best-confidence over node inputs.',
};

let schemaCache: JsonSchema | undefined;

/** The workflow JSON Schema as sent with plan calls (see the module comment). */
export function plannerSchema(): JsonSchema {
  schemaCache ??= strip(workflowJsonSchema()) as JsonSchema;
  return schemaCache;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$schema' || key === '$id' || key === 'title' || key === 'description') continue;
    // Under `properties` the keys are field names (a field may be called "description"): keep them all.
    out[key] =
      key === 'properties' && inner !== null && typeof inner === 'object'
        ? Object.fromEntries(Object.entries(inner).map(([name, schema]) => [name, strip(schema)]))
        : strip(inner);
  }
  return out;
}

export interface LibraryOptions {
  tiers: Partial<Record<Tier, string>>;
  defaultModel: string;
  maxOutputTokens: number;
  /** Operators available at run time: examples using others are left out. */
  operators: readonly string[];
  /** Folder of example specs (default: the repository's examples/); false for none. */
  examples?: string | false;
}

/** The strategy templates, bound to the fleet's tiers, plus the example specs whose operators are available. */
export function templateLibrary(options: LibraryOptions): PlanTemplate[] {
  const model = options.tiers.small ?? options.defaultModel;
  const ladder = TIERS.flatMap((tier) => (options.tiers[tier] === undefined ? [] : [options.tiers[tier]]));
  const common = { model, maxOutputTokens: options.maxOutputTokens };
  const templates: PlanTemplate[] = [
    { name: 'strategy:single', use: 'easy queries: one careful answer', spec: strategySpec('single', { ...common, samples: 1 }) },
    {
      name: 'strategy:vote',
      use: 'medium queries: width on the cheapest model',
      spec: {
        ...strategySpec('vote', { ...common, samples: 7 }),
        nodes: [{ id: 'vote', op: 'sample', inputs: { query: 'query' }, params: { samples: 7, aggregator: 'majority', adaptive: true } }],
      },
    },
    {
      name: 'strategy:cascade',
      use: 'hard queries: escalate to larger tiers only when the cheap answer is unsure',
      spec: strategySpec('cascade', { ...common, samples: 5, cascadeModels: ladder.length > 0 ? ladder : simCascadeLadder(model) }),
    },
    {
      name: 'strategy:thread',
      use: 'multi-step problems: decompose into subtasks',
      spec: strategySpec('thread', { ...common, samples: 1, steps: 12 }),
    },
    {
      name: 'strategy:refine',
      use: 'answers that benefit from checking and revising',
      spec: strategySpec('refine', { ...common, samples: 1, rounds: 2 }),
    },
  ];
  if (options.examples !== false)
    templates.push(...exampleTemplates(options.examples ?? EXAMPLES_DIR, options.tiers, options.defaultModel));
  return templates.filter((template) => template.spec.nodes.every((node) => options.operators.includes(node.op)));
}

/** examples/*.json, with `sim:<tier>` references rebound to the fleet's model for that tier (or the nearest bound one). */
function exampleTemplates(folder: string, tiers: Partial<Record<Tier, string>>, defaultModel: string): PlanTemplate[] {
  if (!existsSync(folder)) return [];
  const rebind = (reference: string): string => {
    const tier = TIERS.find((candidate) => reference === `sim:${candidate}`);
    if (tier === undefined) return reference;
    const nearest = [...TIERS.slice(TIERS.indexOf(tier)), ...TIERS.slice(0, TIERS.indexOf(tier)).reverse()].find(
      (candidate) => tiers[candidate] !== undefined,
    );
    return nearest === undefined ? defaultModel : tiers[nearest]!;
  };
  const templates: PlanTemplate[] = [];
  for (const file of readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    try {
      const { $schema: _ignored, ...spec } = JSON.parse(readFileSync(join(folder, file), 'utf8'), (key, value: unknown) =>
        (key === 'model' || key === 'verifierModel') && typeof value === 'string' ? rebind(value) : value,
      ) as WorkflowSpec & { $schema?: string };
      templates.push({
        name: spec.name ?? file.replace(/\.json$/, ''),
        use: spec.description ?? '',
        spec: { ...spec, description: undefined },
      });
    } catch {
      // A broken example must not stop planning; `thicket workflow validate` is where examples get checked.
    }
  }
  return templates;
}

export interface PromptContext {
  query: string;
  tiers: Partial<Record<Tier, string>>;
  budget: BudgetLimits;
  limits: WorkflowLimits;
  operators: readonly string[];
  templates: readonly PlanTemplate[];
  lambda: number;
  mu: number;
}

export const PLANNER_SYSTEM =
  `You are Thicket's planner. For the query, write ONE workflow spec (Thicket workflow spec v1, JSON) that answers it ` +
  `well within the budget. Prefer the cheapest workflow likely to be right; spend width, depth or larger tiers only where the query needs them. ` +
  `Reply with the JSON spec only.`;

export function plannerMessages(context: PromptContext, feedback?: { previous: string; message: string }): ChatMessage[] {
  const models = formatTierLine(
    TIERS.flatMap((tier) => (context.tiers[tier] === undefined ? [] : [[tier, context.tiers[tier]] as [typeof tier, string]])),
  );
  const budget = formatBudgetLimits(context.budget as Record<string, number | undefined>);
  const limits = context.limits;
  const system = [
    PLANNER_SYSTEM,
    `Operators:\n${context.operators
      .filter((op) => CATALOGUE[op] !== undefined)
      .map((op) => `- ${op}: ${CATALOGUE[op]}`)
      .join('\n')}`,
    `${models}. Put "tier" on a node (it is bound to that model); cascade stages name their models.`,
    `Budget for this query (planning included): ${budget || 'unlimited'}.`,
    `Limits: ≤ ${limits.maxNodes} nodes, longest path ≤ ${limits.maxDepth}, ≤ ${limits.maxSamplesPerNode} samples per node, ≤ ` +
      `${limits.maxTotalSamples} model calls in total, inputs must not form cycles.`,
    `Objective: quality − ${context.lambda} × (share of the budget spent) − ${context.mu} × (number of nodes).`,
    `Examples:\n${context.templates.map((template) => `[${template.name}] ${template.use}\n${JSON.stringify(template.spec)}`).join('\n')}`,
  ].join('\n\n');
  const ask = `Query:\n${context.query}`;
  if (!feedback)
    return [
      { role: 'system', content: system },
      { role: 'user', content: ask },
    ];
  return [
    { role: 'system', content: system },
    { role: 'user', content: ask },
    { role: 'assistant', content: feedback.previous },
    { role: 'user', content: `${feedback.message}\n\n${ask}` },
  ];
}
