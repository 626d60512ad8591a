/**
 * node-llama-cpp, loaded on first use. Importing it costs ~0.6 s (native bindings, its CLI helpers), and every
 * `thicket` command imports the models layer — so `thicket --help`, `solve --model sim:…` and the tests that
 * never touch a GGUF model would all pay for it. Only type imports of the package appear elsewhere in this
 * folder; values come from here.
 */
import type * as NodeLlamaCpp from 'node-llama-cpp';
import { importOptional } from '../../core/index.ts';

export type NodeLlamaCppModule = typeof NodeLlamaCpp;

let loaded: NodeLlamaCppModule | undefined;
let loading: Promise<NodeLlamaCppModule> | undefined;

export function loadNodeLlamaCpp(): Promise<NodeLlamaCppModule> {
  if (loaded) return Promise.resolve(loaded);
  // An optional peer dependency: missing, it is an OptionalDependencyMissingError naming the install command.
  loading ??= importOptional('node-llama-cpp', 'The embedded llama.cpp engine (gguf: models)', () => import('node-llama-cpp')).then(
    (module) => (loaded = module),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * The loaded module, for code that runs only once a model exists (the engine loads the package before it
 * loads any model, so reaching here earlier is a bug in this folder, not a user error).
 */
export function nodeLlamaCpp(): NodeLlamaCppModule {
  if (!loaded) throw new Error('internal: node-llama-cpp was used before the engine loaded it (call loadNodeLlamaCpp first)');
  return loaded;
}
