/** What a study's analysis knows of each model it ran: tier, reasoning, simulated or tiny-trained, and size where a card gives it. */
import { TINY_PREFIX, readTinyModelCard, type ModelProfile } from '../models/index.ts';
import type { ModelFacts } from './types.ts';

export function modelFacts(reference: string, profile: ModelProfile): ModelFacts {
  const card = profile.tinyTrained ? readTinyModelCard(reference.slice(TINY_PREFIX.length)) : undefined;
  return {
    tier: profile.tier,
    reasoning: profile.reasoning,
    simulated: profile.simulated,
    tinyTrained: profile.tinyTrained === true,
    ...(card ? { parameters: card.parameters } : {}),
  };
}
