/**
 * The runtime instance — one per configuration: a fleet config, a journal (opened on first use), a
 * capability registry (opened on first use) and a seed. Every surface (library, CLI, gateway, workers) runs
 * through an instance; runs are assembled in solve.ts / agentsnet.ts, nowhere else. The package's
 * `createThicket()` returns this instance with the lab's studies added (src/thicket.ts).
 *
 * @example
 * ```ts
 * import { createThicket } from 'thicket';
 * const thicket = await createThicket({ journal: './runs.db' });
 * const result = await thicket.solve('What is 17*23?', { model: 'sim:small', strategy: 'vote', samples: 5, budget: { totalTokens: 5000 } });
 * console.log(result.answer, result.status, result.usage.totalTokens, result.simulated);
 * await thicket.close();
 * ```
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CancelledError, InvalidInputError } from '../core/index.ts';
import { loadFleetConfig, parseFleetConfig, type FleetConfig } from '../models/index.ts';
import {
  Journal,
  defaultJournalTarget,
  resolveJournalTarget,
  type CallRow,
  type RunFilter,
  type RunRow,
  type RunSummary,
  type StepRow,
} from '../journal/index.ts';
import {
  CapabilityRegistry,
  defaultRegistryPath,
  openRegistry,
  resolveEmbedder,
  type Embedder,
  type DiscoveryQuery,
  type DiscoveryResult,
  type RegisterResult,
  type StoredCard,
} from '../registry/index.ts';
import { agentsNetRun, type AgentsNetOptions, type AgentsNetRun } from './agentsnet.ts';
import { EventQueue, type ThicketEvent } from './events.ts';
import type { SolveResult } from './result.ts';
import { solve, type SolveEnvironment, type SolveOptions } from './solve.ts';

export interface ThicketOptions {
  /** A fleet config object, or the path of a config file. Default: $THICKET_CONFIG, then ./thicket.config.json, else sim models only. */
  config?: FleetConfig | string;
  /** Journal file. Default: $THICKET_DB, then a per-user data folder. */
  journal?: string;
  /** Capability registry file. Default: $THICKET_REGISTRY, then registry.db beside the journal. */
  registry?: string;
  /** Default seed of runs (simulated fleet, embedded sampling). Default 0. */
  seed?: number;
  /** Simulated latency: `virtual` (default, instant) or `real` (simulated runs wait as real ones would). */
  simulatedClock?: 'virtual' | 'real';
}

/** A run as the journal holds it, with its calls and steps. */
export interface RunDetails {
  run: RunRow;
  calls: CallRow[];
  steps: StepRow[];
}

export class ThicketRuntime {
  private journalHandle: Journal | undefined;
  private registryHandle: Promise<CapabilityRegistry> | undefined;
  private closed = false;
  private readonly environment: SolveEnvironment;

  /** Reading runs and the registry. Neither creates a file that does not exist yet. */
  readonly runs = {
    /** Newest first, filtered (status, owner, strategy, model, time window, paging). An absent journal has no runs. */
    list: (filter: RunFilter = {}): RunSummary[] => this.existingJournal()?.listRuns(filter) ?? [],
    /** Undefined when no run has that id. */
    get: (id: string): RunDetails | undefined => {
      const journal = this.existingJournal();
      const run = journal?.getRun(id);
      if (!journal || !run) return undefined;
      return { run, calls: journal.getCalls(id), steps: journal.getSteps(id) };
    },
  };

  readonly registry = {
    /** Registers a capability card (or a list of them): validated, versioned, embedded, indexed. */
    add: async (cards: unknown): Promise<RegisterResult[]> => {
      const registry = await this.openRegistry(true);
      const list = Array.isArray(cards) ? cards : [cards];
      const results: RegisterResult[] = [];
      for (const card of list) results.push(await registry.register(card));
      registry.flush();
      return results;
    },
    /**
     * Capability search under a hard policy filter (labels, providers, cost); see the registry's DiscoveryQuery.
     * Only results above the relevance floor (`minSimilarity`, default the embedder's calibrated floor): a need
     * nothing matches gives `[]`.
     */
    search: async (query: DiscoveryQuery): Promise<DiscoveryResult[]> =>
      (await this.openRegistry(false))
        .discover({ ...query, minSimilarity: query.minSimilarity ?? 'calibrated' })
        .then((found) => found.results),
    /** `id` or `id@version`; throws a typed error when unknown. */
    show: async (reference: string): Promise<StoredCard> => (await this.openRegistry(false)).resolve(reference),
    /** Every stored version of an id (yanked included), in registration order; `[]` when the id is unknown. */
    versions: async (id: string): Promise<StoredCard[]> => (await this.openRegistry(false)).list({ id }),
  };

  constructor(
    readonly config: FleetConfig,
    private readonly options: { journalPath: string; registryPath: string | undefined; seed: number; simulatedClock: 'virtual' | 'real' },
  ) {
    this.environment = {
      config,
      journal: () => this.journal(),
      journalPath: options.journalPath,
      registryPath: options.registryPath,
      registryEmbedder: () => this.registryEmbedder(),
      seed: options.seed,
      simulatedClock: options.simulatedClock,
    };
  }

  /** The journal file this instance records runs in. */
  get journalPath(): string {
    return this.options.journalPath;
  }

  /**
   * Answers a query under a hard budget: the governor's choice (`strategy: 'auto'`, the default), a named
   * strategy, or a workflow spec. Rejected requests throw a typed error and write nothing; a run that started
   * always resolves to a result whose `status` says how it ended.
   */
  async solve(query: string, options: SolveOptions = {}): Promise<SolveResult> {
    this.assertOpen();
    return solve(query, options, this.environment);
  }

  /**
   * The same run as `solve`, as a stream of typed events ending with `run-finished` (which carries the
   * result). Leaving the loop early (`break`) cancels the run.
   */
  stream(query: string, options: Omit<SolveOptions, 'onEvent'> = {}): AsyncIterable<ThicketEvent> {
    this.assertOpen();
    const controller = new AbortController();
    const queue = new EventQueue<ThicketEvent>(() => controller.abort(new CancelledError('The stream was closed by its reader.')));
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    solve(query, { ...options, signal, onEvent: (event) => queue.push(event) }, this.environment).then(
      () => queue.close(),
      (error: unknown) => queue.fail(error),
    );
    return queue;
  }

  /** Runs a workflow spec (an object, see `thicket workflow schema`) on an input query. */
  async runWorkflow(spec: unknown, input: string, options: Omit<SolveOptions, 'workflow' | 'strategy'> = {}): Promise<SolveResult> {
    return this.solve(input, { ...options, workflow: spec });
  }

  /** The AgentsNet benchmark on a fleet model, journaled; see the network layer. */
  async agentsnet(options: AgentsNetOptions = {}): Promise<AgentsNetRun> {
    this.assertOpen();
    return agentsNetRun(options, this.environment);
  }

  /**
   * The instance's journal, opened (and created) if needed — for surfaces that keep their own records in it
   * (the gateway's API keys) or read it directly.
   */
  openJournal(): Journal {
    return this.journal();
  }

  /** Closes the journal and the registry. Runs still in flight should be awaited (or cancelled) first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.journalHandle?.close();
    this.journalHandle = undefined;
    const registry = await this.registryHandle?.catch(() => undefined);
    registry?.close();
  }

  private journal(): Journal {
    this.assertOpen();
    if (!this.journalHandle) {
      if (this.options.journalPath !== ':memory:') mkdirSync(dirname(this.options.journalPath), { recursive: true });
      this.journalHandle = Journal.open(this.options.journalPath);
    }
    return this.journalHandle;
  }

  /** Reading never creates a journal: a missing file means "no runs yet". */
  private existingJournal(): Journal | undefined {
    this.assertOpen();
    if (this.journalHandle) return this.journalHandle;
    return this.options.journalPath !== ':memory:' && existsSync(this.options.journalPath) ? this.journal() : undefined;
  }

  private async openRegistry(create: boolean): Promise<CapabilityRegistry> {
    this.assertOpen();
    const path = this.options.registryPath ?? defaultRegistryPath();
    if (!this.registryHandle) {
      if (!create && !existsSync(path)) {
        const embedder = await this.registryEmbedder();
        return CapabilityRegistry.open(embedder ? { embedder } : {});
      }
      mkdirSync(dirname(path), { recursive: true });
      const embedder = await this.registryEmbedder();
      this.registryHandle = openRegistry({ path, ...(embedder ? { embedder } : {}) });
    }
    return this.registryHandle;
  }

  private embedderHandle: Promise<Embedder | undefined> | undefined;

  /** The config's `embedder` (`hash`, `gguf:<path>`, an alias under `embedders`), resolved once; undefined: the hashing default. */
  private registryEmbedder(): Promise<Embedder | undefined> {
    const reference = this.config.embedder;
    if (reference === undefined) return Promise.resolve(undefined);
    this.embedderHandle ??= resolveEmbedder(reference, this.config, { source: 'embedder' }).then((resolved) => resolved.embedder);
    return this.embedderHandle;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidInputError('Thicket instance', [{ path: 'close', message: 'this instance was closed' }]);
  }
}

/** Creates an instance. Nothing is written until a run starts (the journal and registry open on first use). */
export async function createRuntime(options: ThicketOptions = {}): Promise<ThicketRuntime> {
  return new ThicketRuntime(...(await resolveThicketOptions(options)));
}

/** The config and settings an instance is built from (checked: a bad config or seed throws, listing every problem). */
export async function resolveThicketOptions(options: ThicketOptions): Promise<ConstructorParameters<typeof ThicketRuntime>> {
  const config =
    options.config === undefined || typeof options.config === 'string'
      ? loadFleetConfig(options.config).config
      : parseFleetConfig(options.config, 'config');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1)
    throw new InvalidInputError('Invalid Thicket options', [
      { path: 'seed', message: `must be a whole number from 0 to 2^31-1, got ${seed}` },
    ]);
  return [
    config,
    {
      // `:memory:` is SQLite's private in-memory database, not a file name to resolve against the cwd.
      journalPath: resolveJournalTarget(options.journal ?? defaultJournalTarget()),
      registryPath: options.registry !== undefined ? resolve(options.registry) : undefined,
      seed,
      simulatedClock: options.simulatedClock ?? 'virtual',
    },
  ];
}
