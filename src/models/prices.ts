/**
 * Default prices for well-known hosted models, from the maintained price table of `@pydantic/genai-prices`
 * (its bundled data; nothing is fetched). A price in the fleet config always wins; the table only fills in
 * what the config leaves out, so that a dollar budget on `openai:gpt-4o-mini` is enforced without the user
 * copying prices by hand.
 *
 * The table is ~0.5 MB of JavaScript (~0.2 s to load on a busy machine), so it is loaded on first lookup
 * only — never at start-up, never for simulated, embedded or local-server models.
 */
import { createRequire } from 'node:module';

/** A tiered price: `base` per million tokens, `price` from `start` prompt tokens on. */
interface TieredPrice {
  base: number;
  tiers: Array<{ start: number; price: number }>;
}

/** The part of the package's API used here (typed locally: the lookup degrades to "unknown" if it is absent). */
interface PriceTable {
  calcPrice(
    usage: { input_tokens?: number; output_tokens?: number },
    modelId: string,
    options?: { providerId?: string; providerApiUrl?: string },
  ): { model_price: Record<string, number | TieredPrice | undefined>; provider: { id: string }; model: { id: string } } | null;
}

/** Where a model is hosted: a provider id of the table (`openai`) or the endpoint's base URL. */
export interface PriceLookup {
  modelId: string;
  providerId?: string;
  baseURL?: string;
  /** The model's context window: a tiered price is taken at the tier a prompt of that size could reach. */
  contextWindow: number;
}

export interface TablePrice {
  inputPerMillion: number;
  outputPerMillion: number;
  /** The table's names for what matched, e.g. `openai` / `gpt-4o-mini`. */
  provider: string;
  model: string;
}

let table: PriceTable | null | undefined;

/** Loads the table once; null when the package cannot be loaded (then no price is known: the safe side). */
function priceTable(): PriceTable | null {
  if (table === undefined) {
    try {
      table = createRequire(import.meta.url)('@pydantic/genai-prices') as PriceTable;
    } catch {
      table = null;
    }
  }
  return table;
}

/** Whether the price table has been loaded in this process (start-up must not load it). */
export function priceTableLoaded(): boolean {
  return table !== undefined;
}

/**
 * The table's price for a hosted model, or undefined when it has none — always undefined for a server on
 * this machine or a private network (a local vLLM serving "gpt-4o" is not billed at OpenAI's rates).
 */
export function hostedModelPrice(lookup: PriceLookup): TablePrice | undefined {
  if (lookup.providerId === undefined && (lookup.baseURL === undefined || isLocalEndpoint(lookup.baseURL))) return undefined;
  const prices = priceTable();
  if (!prices) return undefined;
  let found: ReturnType<PriceTable['calcPrice']>;
  try {
    found = prices.calcPrice({ input_tokens: 0, output_tokens: 0 }, lookup.modelId, {
      ...(lookup.providerId !== undefined ? { providerId: lookup.providerId } : {}),
      ...(lookup.baseURL !== undefined ? { providerApiUrl: lookup.baseURL } : {}),
    });
  } catch {
    return undefined;
  }
  if (!found) return undefined;
  const input = perMillion(found.model_price['input_mtok'], lookup.contextWindow);
  const output = perMillion(found.model_price['output_mtok'], lookup.contextWindow);
  if (input === undefined || output === undefined) return undefined;
  return { inputPerMillion: input, outputPerMillion: output, provider: found.provider.id, model: found.model.id };
}

/** A price per million tokens; for a tiered one, the highest tier a prompt within the context window can reach. */
function perMillion(price: number | TieredPrice | undefined, contextWindow: number): number | undefined {
  if (typeof price === 'number') return Number.isFinite(price) && price >= 0 ? price : undefined;
  if (price === undefined || typeof price.base !== 'number') return undefined;
  let highest = price.base;
  for (const tier of price.tiers ?? []) if (tier.start < contextWindow && tier.price > highest) highest = tier.price;
  return highest;
}

/** Loopback, link-local, private-network and `.local`/`localhost` hosts (and URLs that do not parse). */
export function isLocalEndpoint(baseURL: string): boolean {
  let host: string;
  try {
    host = new URL(baseURL).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return true;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  if (host.includes(':')) return host === '::1' || host === '::' || /^(fc|fd|fe8|fe9|fea|feb)/.test(host) || host.startsWith('::ffff:127.');
  const ipv4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!ipv4) return false;
  const [a, b] = [Number(ipv4[1]), Number(ipv4[2])];
  return a === 127 || a === 10 || a === 0 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || (a === 169 && b === 254);
}
