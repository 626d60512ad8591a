/**
 * ops — compute operators. Each takes a budget slice (a child budget) and never spends beyond it; each
 * returns an OpResult and writes its calls and reasoning-graph nodes to the trace.
 */
export * from './context.ts';
export * from './trace.ts';
export * from './generate.ts';
export * from './sample.ts';
export * from './corpus.ts';
export * from './retriever.ts';
export * from './search.ts';
