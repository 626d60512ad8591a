/**
 * core — the bottom layer: typed errors, seeded randomness, clocks, hashing, token counting and the usage
 * types every other layer speaks. It imports nothing from Thicket.
 */
export * from './errors.ts';
export * from './readiness-errors.ts';
export * from './hash.ts';
export * from './rng.ts';
export * from './clock.ts';
export * from './usage.ts';
export * from './tokenizer.ts';
export * from './answer.ts';
export * from './run-status.ts';
export * from './user-file.ts';
export * from './numbers.ts';
export * from './output-path.ts';
