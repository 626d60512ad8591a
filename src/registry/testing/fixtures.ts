/** Small builders and paths shared by the registry's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../core/index.ts';
import type { CardInput } from '../card.ts';

export const FIXTURES = dirname(fileURLToPath(import.meta.url));
export const fixture = (name: string): string => join(FIXTURES, name);

/** A valid card for a local agent; override any field. */
export function card(id: string, version = '1.0.0', overrides: Partial<CardInput> = {}): CardInput {
  return {
    id,
    version,
    name: overrides.name ?? id,
    description: overrides.description ?? `The ${id} capability`,
    binding: { kind: 'agent', name: id },
    provider: 'local',
    ...overrides,
  };
}

/** A temporary folder removed by the returned cleanup. */
export function tempFolder(prefix = 'thicket-registry-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The command line that starts the test MCP server over stdio. */
export function mcpServerCommand(version?: string): string[] {
  return [process.execPath, '--import', 'tsx', join(FIXTURES, 'mcp-server.ts'), ...(version ? ['--version', version] : [])];
}

/** Runs `action`, which must throw an InvalidInputError, and returns its issues. */
export async function issuesOf(action: () => unknown): Promise<{ path: string; message: string }[]> {
  try {
    await action();
  } catch (error) {
    if (InvalidInputError.isInstance(error) && 'issues' in error) return [...(error as InvalidInputError).issues];
    throw error;
  }
  throw new Error('expected an InvalidInputError, but nothing was thrown');
}
