/**
 * The one reader for files a user hands Thicket (fleet config, workflow spec, study file, governor policy,
 * capability cards). Every such file goes through here so every one gets the same guards, and a hostile file
 * is refused as bad input (exit 2) before any work starts rather than crashing the process later:
 *
 * - size: the file is stat-ed before it is read; past `maxBytes` it is refused unread;
 * - a UTF-8 byte order mark (as Windows editors write) is dropped, not a syntax error;
 * - YAML aliases are capped (`maxAliases`): an alias bomb ("billion laughs") cannot expand;
 * - nesting depth and value count are checked by an iterative walk, so a document nested 50,000 deep is refused
 *   here instead of overflowing the stack of whatever recursive code reads it next.
 *
 * The YAML parser is loaded on first use (synchronously, via require): most commands never read YAML, and
 * importing it costs ~40 ms of start-up.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { InvalidInputError, type InputIssue } from './errors.ts';

export interface UserFileLimits {
  /** Largest file read, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays/objects (the top-level value is depth 1). */
  maxDepth: number;
  /** Most values (scalars, arrays and objects, counted together) in one document. */
  maxValues: number;
  /** Most YAML alias expansions (the `yaml` package's `maxAliasCount`). */
  maxAliases: number;
}

/** Generous for hand-written files (a 10,000-node workflow is ~2 MB and nests 5 deep), fatal to bombs. */
export const USER_FILE_LIMITS: Readonly<UserFileLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxValues: 2_000_000,
  maxAliases: 100,
});

export interface UserFileOptions extends Partial<UserFileLimits> {
  /** What the file is, for the message: "Cannot read <what>" (e.g. "workflow", "fleet config"). */
  what: string;
  /** INVALID_INPUT (default) or INVALID_CONFIG. */
  code?: 'INVALID_INPUT' | 'INVALID_CONFIG';
  /** `auto` (default): `.yaml`/`.yml` are YAML, anything else JSON. */
  format?: 'json' | 'yaml' | 'auto';
  /** The issue path for "file not found" (e.g. the flag that named it); default: the path. */
  notFoundPath?: string;
}

const BOM = '\uFEFF';

function refuse(options: UserFileOptions, issues: InputIssue[]): never {
  throw new InvalidInputError(`Cannot read ${options.what}`, issues, options.code ?? 'INVALID_INPUT');
}

/** Drops a leading UTF-8 byte order mark. */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** Reads a user file as UTF-8 text (size-checked, BOM dropped); every failure names the file. */
export function readUserText(path: string, options: UserFileOptions): string {
  const maxBytes = options.maxBytes ?? USER_FILE_LIMITS.maxBytes;
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) refuse(options, [{ path, message: 'is a folder, not a file' }]);
    size = stats.size;
  } catch (error) {
    if (InvalidInputError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const named = options.notFoundPath ?? path;
      refuse(options, [{ path: named, message: named === path ? 'file not found' : `file not found: ${path}` }]);
    }
    refuse(options, [{ path, message: (error as Error).message }]);
  }
  if (size > maxBytes) refuse(options, [{ path, message: `${formatBytes(size)} is larger than the limit of ${formatBytes(maxBytes)}` }]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    refuse(options, [{ path, message: (error as Error).message }]);
  }
  // A file that grew between stat and read (or a /proc-like file that reports size 0) is checked again.
  if (text.length > maxBytes) refuse(options, [{ path, message: `larger than the limit of ${formatBytes(maxBytes)}` }]);
  return stripBom(text);
}

/** Reads and parses a user's JSON or YAML file, with every limit of `USER_FILE_LIMITS` (or the given ones). */
export function readUserFile(path: string, options: UserFileOptions): unknown {
  const text = readUserText(path, options);
  const format = options.format ?? 'auto';
  const yaml = format === 'yaml' || (format === 'auto' && ['.yaml', '.yml'].includes(extname(path).toLowerCase()));
  return yaml ? parseUserYaml(text, path, options) : parseUserJson(text, path, options);
}

/** JSON.parse with a line:column for syntax errors and the nesting/size limits. */
export function parseUserJson(text: string, path: string, options: UserFileOptions): unknown {
  const source = stripBom(text);
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof RangeError) refuse(options, [{ path, message: nestingMessage(options) }]);
    const position = Number(/position (\d+)/.exec(message)?.[1]);
    const where = Number.isFinite(position) ? lineColumn(source, position) : undefined;
    refuse(options, [{ path: where ? `${path}:${where.line}:${where.column}` : path, message: `not valid JSON (${message})` }]);
  }
  checkLimits(value, path, options);
  return value;
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
function loadYaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/** YAML with aliases capped, syntax errors at line:column, and the nesting/size limits. */
export function parseUserYaml(text: string, path: string, options: UserFileOptions): unknown {
  const maxAliases = options.maxAliases ?? USER_FILE_LIMITS.maxAliases;
  let value: unknown;
  try {
    const document = loadYaml().parseDocument(stripBom(text));
    if (document.errors.length > 0) {
      refuse(
        options,
        document.errors.map((error) => {
          const where = error.linePos?.[0];
          // The parser reports its own stack overflow as a syntax error: it is a nesting limit.
          const message = /call stack/i.test(error.message) ? nestingMessage(options) : `not valid YAML (${error.message.split('\n')[0]})`;
          return { path: where ? `${path}:${where.line}:${where.col}` : path, message };
        }),
      );
    }
    value = document.toJS({ maxAliasCount: maxAliases });
  } catch (error) {
    if (InvalidInputError.isInstance(error)) throw error;
    if (error instanceof RangeError) refuse(options, [{ path, message: nestingMessage(options) }]);
    // The yaml package throws a ReferenceError when aliases expand past maxAliasCount.
    if (/alias/i.test((error as Error).message))
      refuse(options, [{ path, message: `YAML aliases expand past the limit of ${maxAliases} (an alias bomb?)` }]);
    refuse(options, [{ path, message: `not valid YAML (${(error as Error).message})` }]);
  }
  checkLimits(value, path, options);
  return value;
}

/**
 * Checks nesting depth and value count without recursion (a recursive walk would itself overflow on the
 * inputs it is meant to refuse). Returns the first limit broken, or undefined. Also for values a library
 * caller passes as objects (e.g. a workflow spec).
 */
export function structureProblem(value: unknown, limits: Partial<Pick<UserFileLimits, 'maxDepth' | 'maxValues'>> = {}): string | undefined {
  const maxDepth = limits.maxDepth ?? USER_FILE_LIMITS.maxDepth;
  const maxValues = limits.maxValues ?? USER_FILE_LIMITS.maxValues;
  const stack: Array<[unknown, number]> = [[value, 1]];
  let count = 0;
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (++count > maxValues) return `has more than ${maxValues.toLocaleString('en-US')} values (the limit)`;
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return `nests deeper than the limit of ${maxDepth} levels`;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return undefined;
}

function checkLimits(value: unknown, path: string, options: UserFileOptions): void {
  const problem = structureProblem(value, {
    ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
    ...(options.maxValues !== undefined ? { maxValues: options.maxValues } : {}),
  });
  if (problem) refuse(options, [{ path, message: problem }]);
}

function nestingMessage(options: UserFileOptions): string {
  return `nests deeper than the limit of ${options.maxDepth ?? USER_FILE_LIMITS.maxDepth} levels`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KB`;
  return `${bytes} bytes`;
}
