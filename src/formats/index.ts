/**
 * formats — the machine-readable parts of Thicket's prompts and messages, defined once for the code that
 * writes them (ops, network, governor) and the code that reads them (the simulated fleet in src/models/sim,
 * which reads prompts as a model would). Pure string functions; depends on core only, so every layer above
 * may import it and a change of format is one edit here.
 */
export * from './purposes.ts';
export * from './agentsnet.ts';
export * from './planner.ts';
export * from './thread.ts';
export * from './search.ts';
export * from './solo.ts';
