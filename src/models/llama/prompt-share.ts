/**
 * Prompt prefix sharing across the sequences of one context: when several calls get the same prompt (the
 * `sample` operator's vote@k) or prompts with a common prefix (debate personas after a shared system message),
 * the prefix is evaluated once and copied into the other sequences instead of being evaluated once per call.
 *
 * The mechanism: node-llama-cpp 3.21.1 has no KV sequence copy (`llama_memory_seq_cp` is not bound), and its
 * in-memory checkpoints (`AddonContextSequenceCheckpoint`) are private, store only the partial (SWA/recurrent)
 * state and restore only into the sequence they came from. What it does expose is
 * `LlamaContextSequence.saveStateToFile` / `loadStateFromFile` (llama_state_seq_save_file / load_file): one
 * sequence's KV cells and tokens, loaded into any sequence of a context of the same model. The files go to a
 * scratch folder on /dev/shm when there is one (RAM-backed, so a "file" is a memory copy), removed on dispose.
 *
 * Single flight: a call that needs a prefix which nobody has yet registers a pending snapshot *before* its
 * first await, evaluates the prefix, saves it and resolves the snapshot; a call arriving meanwhile whose prompt
 * shares more with that snapshot than its own sequence holds waits for it and loads it, erasing whatever the
 * snapshot holds past the common prefix. A leader that fails leaves its waiters to start over (one of them
 * then leads). The last prompt token is never in a snapshot: each call evaluates it itself, for its logits.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { raceSignal } from '../abort.ts';

export interface PromptShareOptions {
  /** Snapshots kept for later calls, newest first (default: twice the context's sequences, at least 4). */
  maxSnapshots?: number;
  /** Bytes the finished snapshots may take together; the newest is kept even when it alone is larger (default 256 MiB). */
  maxSnapshotBytes?: number;
  /** A snapshot is made or used only when it saves at least this many prompt tokens (default 8). */
  minSharedTokens?: number;
  /** Where the scratch folder goes (default /dev/shm when it exists, else the OS temp folder). */
  scratchRoot?: string;
}

/** How a sequence came to hold a prompt's prefix. */
export interface PreparedPrompt {
  /** Prompt tokens the sequence already held from its previous call (kept, not evaluated). */
  reused: number;
  /** Prompt tokens copied from another call's evaluation (loaded, not evaluated). */
  shared: number;
  /** Prompt tokens evaluated here before generation (the caller then evaluates the rest, at least one). */
  evaluated: number;
  /** Where the prompt continues: the sequence now holds exactly `tokens.slice(0, start)`. */
  start: number;
}

interface Snapshot {
  tokens: Token[];
  file: string;
  /** Resolves true once the file is written, false if its leader failed (then it is gone). */
  ready: Promise<boolean>;
  resolve: (ok: boolean) => void;
  done: boolean;
  /** The file's size once written. */
  bytes: number;
  /** Loads in progress: an evicted snapshot's file is removed once they end. */
  loading: number;
  evicted: boolean;
}

export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const length = Math.min(a.length, b.length);
  let index = 0;
  while (index < length && a[index] === b[index]) index++;
  return index;
}

export class PromptSharer {
  private readonly snapshots: Snapshot[] = [];
  private readonly maxSnapshots: number;
  private readonly maxSnapshotBytes: number;
  private readonly minSharedTokens: number;
  private readonly scratchRoot: string;
  private folder: string | undefined;
  private nextFile = 0;
  private disposed = false;

  constructor(sequences: number, options: PromptShareOptions = {}) {
    this.maxSnapshots = options.maxSnapshots ?? Math.max(4, sequences * 2);
    this.maxSnapshotBytes = options.maxSnapshotBytes ?? 256 * 1024 * 1024;
    this.minSharedTokens = Math.max(1, options.minSharedTokens ?? 8);
    this.scratchRoot = options.scratchRoot ?? defaultScratchRoot();
  }

  /** Snapshot files on disk or being written (diagnostics and tests). */
  get snapshotCount(): number {
    return this.snapshots.length;
  }

  /**
   * Brings `sequence` to hold the longest prefix of `tokens` (all but the last token) that it holds already,
   * another call has evaluated or is evaluating, or — when that leaves a gap worth sharing — that it evaluates
   * and publishes itself. `reuse: false` ignores what the sequence holds. Rejects with `abortError()` when
   * `signal` aborts while waiting for another call's snapshot.
   */
  async prepare(
    sequence: LlamaContextSequence,
    tokens: readonly Token[],
    options: { reuse: boolean; signal?: AbortSignal | undefined; abortError: () => Error },
  ): Promise<PreparedPrompt> {
    const limit = Math.max(0, tokens.length - 1);
    for (;;) {
      const held = options.reuse ? Math.min(sequence.compareContextTokens([...tokens]).firstDifferentIndex, limit) : 0;
      let source: Snapshot | undefined;
      let sourceShares = held;
      for (const snapshot of this.snapshots) {
        const shares = Math.min(commonPrefixLength(snapshot.tokens, tokens), limit);
        if (shares > sourceShares) {
          source = snapshot;
          sourceShares = shares;
        }
      }
      if (source && sourceShares - held < this.minSharedTokens) {
        source = undefined;
        sourceShares = held;
      }
      // Decided synchronously with the lookup above, so a call arriving a moment later finds this one's pending snapshot.
      const own = !this.disposed && limit - sourceShares >= this.minSharedTokens ? this.register(tokens.slice(0, limit)) : undefined;
      try {
        let start = held;
        let shared = 0;
        if (source) {
          const loaded = await this.load(sequence, source, sourceShares, options);
          if (!loaded) {
            // Its leader failed: forget our own registration too and decide again.
            this.settle(own, false);
            continue;
          }
          start = sourceShares;
          shared = sourceShares;
        } else if (sequence.nextTokenIndex > held) {
          await sequence.eraseContextTokenRanges([{ start: held, end: sequence.nextTokenIndex }]);
        }
        let evaluated = 0;
        if (own) {
          // Evaluated even if the caller aborts meanwhile: the evaluation cannot be interrupted, and waiters want it.
          await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(start, limit));
          evaluated = limit - start;
          start = limit;
          own.bytes = (await sequence.saveStateToFile(own.file)).fileSize;
          this.settle(own, true);
        }
        return { reused: shared > 0 ? 0 : held, shared, evaluated, start };
      } catch (error) {
        this.settle(own, false);
        throw error;
      }
    }
  }

  private register(tokens: Token[]): Snapshot {
    this.folder ??= this.createFolder();
    let resolve: (ok: boolean) => void = () => {};
    const ready = new Promise<boolean>((settle) => (resolve = settle));
    const file = join(this.folder, `prefix-${this.nextFile++}.state`);
    const snapshot: Snapshot = { tokens, file, ready, resolve, done: false, bytes: 0, loading: 0, evicted: false };
    this.snapshots.unshift(snapshot);
    return snapshot;
  }

  private settle(snapshot: Snapshot | undefined, ok: boolean): void {
    if (!snapshot || snapshot.done) return;
    snapshot.done = true;
    snapshot.resolve(ok);
    if (!ok) this.evict(snapshot);
    else this.trim();
  }

  /** Waits for `snapshot` and loads it into `sequence`, keeping its first `keep` tokens. False if its leader failed. */
  private async load(
    sequence: LlamaContextSequence,
    snapshot: Snapshot,
    keep: number,
    options: { signal?: AbortSignal | undefined; abortError: () => Error },
  ): Promise<boolean> {
    if (!(await raceSignal(snapshot.ready, options.signal, options.abortError))) return false;
    if (options.signal?.aborted) throw options.abortError();
    // Trimmed between being written and this continuation (many newer snapshots): start over.
    if (snapshot.evicted) return false;
    // Most recently used first, so trimming drops the snapshots nobody loads.
    const index = this.snapshots.indexOf(snapshot);
    if (index > 0) this.snapshots.unshift(...this.snapshots.splice(index, 1));
    snapshot.loading++;
    try {
      await sequence.loadStateFromFile(snapshot.file, { acceptRisk: true });
    } finally {
      snapshot.loading--;
      if (snapshot.evicted && snapshot.loading === 0) removeFile(snapshot.file);
    }
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    return true;
  }

  /**
   * Drops the least recently used finished snapshots beyond the count or byte limit (pending ones are always kept:
   * someone may be waiting for them; so is the newest finished one).
   */
  private trim(): void {
    let finished = 0;
    let bytes = 0;
    for (const snapshot of [...this.snapshots]) {
      if (!snapshot.done) continue;
      finished++;
      bytes += snapshot.bytes;
      if (finished > 1 && (finished > this.maxSnapshots || bytes > this.maxSnapshotBytes)) this.evict(snapshot);
    }
  }

  private evict(snapshot: Snapshot): void {
    const index = this.snapshots.indexOf(snapshot);
    if (index >= 0) this.snapshots.splice(index, 1);
    snapshot.evicted = true;
    if (snapshot.loading === 0) removeFile(snapshot.file);
  }

  private createFolder(): string {
    const folder = mkdtempSync(join(this.scratchRoot, 'thicket-prompts-'));
    // A process that exits without disposing the engine must not leave RAM-backed files behind.
    if (scratchFolders.size === 0) process.once('exit', removeScratchFolders);
    scratchFolders.add(folder);
    return folder;
  }

  private removeFolder(): void {
    if (this.folder) {
      rmSync(this.folder, { recursive: true, force: true });
      scratchFolders.delete(this.folder);
      if (scratchFolders.size === 0) process.removeListener('exit', removeScratchFolders);
    }
    this.folder = undefined;
  }

  /** Removes the scratch folder; later calls share nothing (they still run). */
  dispose(): void {
    this.disposed = true;
    for (const snapshot of this.snapshots) {
      snapshot.evicted = true;
      if (!snapshot.done) {
        snapshot.done = true;
        snapshot.resolve(false);
      }
    }
    this.snapshots.length = 0;
    this.removeFolder();
  }

  /** The scratch folder, once a snapshot was made (tests check it is removed). */
  get scratchFolder(): string | undefined {
    return this.folder;
  }
}

/** Every sharer's scratch folder, removed by one exit listener. */
const scratchFolders = new Set<string>();

function removeScratchFolders(): void {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
  scratchFolders.clear();
}

function defaultScratchRoot(): string {
  try {
    if (process.platform === 'linux' && statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // No /dev/shm: the OS temp folder.
  }
  return tmpdir();
}

function removeFile(file: string): void {
  rmSync(file, { force: true });
}
