/**
 * The workflow spec's JSON Schema, generated from the zod definition (spec.ts) so the two cannot disagree.
 * Run `node --import tsx src/workflow/export-schema.ts` to rewrite `schemas/workflow.schema.json`; a test
 * fails when the committed file differs from a fresh generation.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { workflowSpecSchema } from './spec.ts';

const WORKFLOW_SCHEMA_ID = 'https://thicket.dev/schemas/workflow.schema.json';
export const WORKFLOW_SCHEMA_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'workflow.schema.json');

export function workflowJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(workflowSpecSchema, { target: 'draft-2020-12' }), $id: WORKFLOW_SCHEMA_ID, title: 'Thicket workflow spec' };
}

/** The file's exact text: 2-space JSON and a final newline. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(WORKFLOW_SCHEMA_PATH, workflowJsonSchemaText());
  console.log(`Wrote ${join('schemas', 'workflow.schema.json')}`);
}
