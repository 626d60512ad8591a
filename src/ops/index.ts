/**
 * ops — compute operators. Each takes a budget slice and never spends beyond it.
 */
export * from './sample.ts';
