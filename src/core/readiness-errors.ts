/**
 * Errors that refuse a run before anything is sent, because a model it would call is not ready: its API key
 * is missing, or a dollar limit could not be enforced on it. Both are bad input (exit 2): fix the environment
 * or the config and run again; nothing was sent, journaled or paid.
 */
import { ThicketError } from './errors.ts';

const CONFIG_KEY_HINT = 'or, for a server that needs no key, mark the model "apiKeyOptional": true in thicket.config.json';

/** A model's API key variable is unset or empty. Stable code MISSING_API_KEY. */
export class MissingApiKeyError extends ThicketError {
  constructor(
    readonly model: string,
    readonly variable: string,
    options: { empty?: boolean; hint?: string } = {},
  ) {
    super(
      'MISSING_API_KEY',
      `Model "${model}" needs an API key from the environment variable ${variable}, which is ` +
        `${options.empty === true ? 'empty' : 'not set'}. Set ${variable} ${options.hint ?? CONFIG_KEY_HINT}. Nothing was sent.`,
      'bad_input',
    );
    this.name = 'MissingApiKeyError';
  }
}

/** A dollar limit on a run that calls models with no known price (their calls would count as $0). Stable code UNPRICED_MODEL. */
export class UnpricedModelError extends ThicketError {
  constructor(readonly models: readonly string[]) {
    const one = models.length === 1;
    super(
      'UNPRICED_MODEL',
      `A dollar budget cannot be enforced on ${models.map((model) => `"${model}"`).join(', ')}: no price is known ` +
        `(${one ? 'it is' : 'they are'} priced neither in thicket.config.json nor in the price table of well-known hosted ` +
        `models), so every call would count as $0. Set "priceInputPerMillion" and "priceOutputPerMillion" for ` +
        `${one ? 'it' : 'them'} in thicket.config.json (0 for a free local server), or accept a dollar limit that is not ` +
        'enforced with --allow-unpriced. Nothing was sent.',
      'bad_input',
    );
    this.name = 'UnpricedModelError';
  }
}
