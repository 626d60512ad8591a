import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { WORKFLOW_SCHEMA_PATH, workflowJsonSchemaText } from './index.ts';

describe('workflow JSON Schema', () => {
  it('the committed schemas/workflow.schema.json equals a fresh export (run src/workflow/export-schema.ts to update)', () => {
    assert.equal(readFileSync(WORKFLOW_SCHEMA_PATH, 'utf8'), workflowJsonSchemaText());
  });

  it('accepts what the zod spec accepts and rejects what it rejects', () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(
      JSON.parse(readFileSync(WORKFLOW_SCHEMA_PATH, 'utf8')) as object,
    );
    const spec = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [
        { id: 'a', op: 'sample', params: { samples: 5, aggregator: 'majority' } },
        { id: 'b', op: 'debate', inputs: { draft: 'a.answer' }, params: { agents: 3, rounds: 2, topology: 'star', mode: 'solo' } },
        { id: 'c', op: 'cascade', params: { stages: [{ model: 'sim:small', threshold: 0.8, signal: 'confidence' }] } },
        { id: 'd', op: 'aggregate', inputs: { b: 'b', c: 'c.answer' }, params: { method: 'best-confidence' } },
      ],
      output: 'd',
    };
    assert.equal(validate(spec), true, JSON.stringify(validate.errors));
    assert.equal(validate({ ...spec, nodes: [{ id: 'a', op: 'sample', params: { samples: 0, aggregator: 'majority' } }] }), false);
    assert.equal(validate({ ...spec, nodes: [{ id: 'x.y', op: 'generate', params: { prompt: 'p' } }] }), false);
    assert.equal(validate({ ...spec, nodes: [{ id: 'a', op: 'generate', params: { prompt: 'p', extra: 1 } }] }), false);
  });
});
