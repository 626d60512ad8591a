/**
 * What a request's `model` selects: `thicket/auto` (the governor on the default model), `thicket/<strategy>`,
 * `<strategy>@<model-ref>` (`vote@sim:small`, `thread@gguf:default`, `auto@local-small`), or a model the fleet
 * knows by itself (a config alias, `sim:<profile>`, `gguf:default`) for one plain call.
 */
import { FleetResolver, fleetReferences, type FleetConfig } from '../models/index.ts';
import { systemClock, toThicketError } from '../core/index.ts';
import { STRATEGIES } from '../workflow/index.ts';
import type { SolveStrategy } from '../runtime/index.ts';
import { GatewayError } from './errors.ts';

export interface ModelSelection {
  strategy: SolveStrategy;
  model: string;
}

const STRATEGY_NAMES: readonly string[] = ['auto', ...STRATEGIES];

export function parseModelName(name: string, defaultModel: string): ModelSelection {
  const notFound = (why: string): GatewayError =>
    new GatewayError(404, 'not_found_error', 'model_not_found', `The model "${name}" does not exist: ${why} (GET /v1/models lists them).`, {
      param: 'model',
    });
  if (name.startsWith('thicket/')) {
    const strategy = name.slice('thicket/'.length);
    if (!STRATEGY_NAMES.includes(strategy)) throw notFound(`"${strategy}" is not a strategy (${STRATEGY_NAMES.join(', ')})`);
    return { strategy: strategy as SolveStrategy, model: defaultModel };
  }
  const at = name.indexOf('@');
  if (at > 0) {
    const strategy = name.slice(0, at);
    const model = name.slice(at + 1);
    if (!STRATEGY_NAMES.includes(strategy)) throw notFound(`"${strategy}" is not a strategy (${STRATEGY_NAMES.join(', ')})`);
    if (model === '') throw notFound('no model reference after "@"');
    return { strategy: strategy as SolveStrategy, model };
  }
  return { strategy: 'single', model: name };
}

/** Every model reference the fleet offers: the simulated profiles and the config's aliases (resolvable ones only). */
export function fleetModels(config: FleetConfig): Array<{ reference: string; simulated: boolean }> {
  const resolver = new FleetResolver({ config, clock: systemClock, seed: 0 });
  const references = fleetReferences(config);
  const models: Array<{ reference: string; simulated: boolean }> = [];
  for (const reference of references) {
    try {
      models.push({ reference, simulated: resolver.resolve(reference).profile.simulated });
    } catch (error) {
      // Listed apart by `thicket fleet`; a model that cannot resolve here cannot be served either.
      void toThicketError(error);
    }
  }
  return models;
}

/** Strategies a request can run: `search` needs a corpus on the server's disk, which a request cannot name. */
const SERVED_STRATEGIES = STRATEGY_NAMES.filter((strategy) => strategy !== 'search');

/** The model ids `GET /v1/models` lists: each model alone, and each strategy on it. */
export function servedModelIds(models: ReadonlyArray<{ reference: string }>): string[] {
  const ids = SERVED_STRATEGIES.map((strategy) => `thicket/${strategy}`);
  for (const { reference } of models) {
    ids.push(reference);
    for (const strategy of SERVED_STRATEGIES) ids.push(`${strategy}@${reference}`);
  }
  return ids;
}

/** Throws a typed error (UNKNOWN_MODEL, …) when the gateway's default model cannot be resolved. */
export function assertServable(config: FleetConfig, reference: string): void {
  new FleetResolver({ config, clock: systemClock, seed: 0 }).resolve(reference);
}
