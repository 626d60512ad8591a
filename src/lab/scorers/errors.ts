/** Scorer errors (stable code SCORER_FAILED): a scorer that cannot be built, or a custom scorer that fails on an item. */
import { ThicketError } from '../../core/index.ts';

export class ScorerError extends ThicketError {
  constructor(
    readonly scorer: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('SCORER_FAILED', `Scorer ${scorer}: ${message}`, 'bad_input', options);
    this.name = 'ScorerError';
  }
}
