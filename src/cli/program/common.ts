/**
 * What every command definition is built from: lazy loading of the command modules, the action wrapper that
 * carries a non-zero exit code out of commander, and the help text of the flags most commands share.
 *
 * The definitions in this folder load with the program (every `thicket` invocation parses the whole tree);
 * what a command does lives in ../commands/, loaded only when that command runs. So nothing here may import
 * ../commands/ (or a layer) except as types or through `lazyModule`.
 */

/**
 * A module's functions, loaded on first call. Each command's module (and through it the layers it needs: the
 * runtime for solve, the lab for study, …) is imported only when that command runs, so start-up pays for
 * commander and the one command instead of every layer (about 0.4 s of module loading on 2 cores).
 */
export function lazyModule<M extends object>(load: () => Promise<M>): M {
  return new Proxy({} as M, {
    get:
      (_target, name) =>
      (...args: unknown[]) =>
        load().then((module) => (module[name as keyof M] as (...parameters: unknown[]) => unknown)(...args)),
  });
}

/** Thrown inside action handlers to carry an exit code out of commander. */
export class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** An action returning an exit code, as commander's action: a non-zero code leaves through `ExitSignal`. */
export const wrap =
  <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    const code = await action(...args);
    if (code !== 0) throw new ExitSignal(code);
  };

export const JOURNAL_HELP = 'journal database (default: $THICKET_JOURNAL, then a per-user data folder); --db is the older spelling';
export const CONFIG_HELP = 'fleet config file (default: $THICKET_CONFIG, then ./thicket.config.json)';
