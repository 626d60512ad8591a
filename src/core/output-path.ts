/**
 * Checks, before any work, that a folder a command will write into (a report folder, the journal's folder)
 * can be written: without this, `study --out <path under a file>` ran the whole study and then failed with
 * ENOTDIR, and `--out /proc/x` hung after it. Nothing is created here — a refused command leaves nothing
 * behind; the command creates the folder when it writes.
 */
import { accessSync, constants, realpathSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { InputIssue } from './errors.ts';

/** Kernel pseudo-filesystems: files there are not storage (writes hang, fail or change the system). */
const PSEUDO_FILESYSTEM_ROOTS = ['/proc', '/sys', '/dev'];
/** statfs magic numbers of proc, sysfs, devtmpfs-less /dev pieces (devpts), debugfs, cgroup and cgroup2. */
const PSEUDO_FILESYSTEM_TYPES = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x27e0eb, 0x63677270]);

const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}${sep}`);

/**
 * The problem with writing files into folder `path` (created if missing), or undefined when it looks
 * writable. `flag` names the option in the issue (e.g. `--out`).
 */
export function writableFolderIssue(path: string, flag: string): InputIssue | undefined {
  const target = resolve(path);
  const issue = (message: string): InputIssue => ({ path: flag, message: `${target}: ${message}` });
  // The nearest part of the path that exists decides: it must be a folder we may write into.
  let existing = target;
  for (;;) {
    let stats;
    try {
      stats = statSync(existing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: some part above is a file; walking up finds it and names it.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(existing) !== existing) {
        existing = dirname(existing);
        continue;
      }
      return issue((error as Error).message);
    }
    if (!stats.isDirectory())
      return issue(existing === target ? 'is a file, not a folder' : `${existing} is a file, so no folder can be created under it`);
    break;
  }
  const real = realpathSync(existing);
  if (PSEUDO_FILESYSTEM_ROOTS.some((root) => under(real, root)) || PSEUDO_FILESYSTEM_TYPES.has(filesystemType(real)))
    return issue(`${real} is on a kernel pseudo-filesystem (${PSEUDO_FILESYSTEM_ROOTS.join(', ')}), not storage`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    return issue(existing === target ? 'this folder is not writable' : `${existing} is not writable, so the folder cannot be created`);
  }
  return undefined;
}

function filesystemType(path: string): number {
  try {
    return Number(statfsSync(path).type);
  } catch {
    return -1;
  }
}
