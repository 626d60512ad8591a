/**
 * models — the provider interface (spec v1), the providers (OpenAI-compatible endpoints, the simulated
 * fleet), fleet configuration, and the fleet: the budgeted, journaled, retrying call path.
 */
export * from './spec.ts';
export * from './call-recorder.ts';
export * from './config.ts';
export * from './retry.ts';
export * from './fleet.ts';
export * from './resolver.ts';
export * from './sim/index.ts';
export * from './openai-compatible/index.ts';
export * from './llama/index.ts';
export * from './embeddings/index.ts';
export * from './prices.ts';
