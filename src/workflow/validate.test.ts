import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../core/index.ts';
import {
  GENERATED_WORKFLOW_LIMITS,
  InvalidWorkflowError,
  checkWorkflow,
  defaultOperators,
  validateWorkflow,
  type WorkflowIssue,
} from './index.ts';
import { fanSpec, simFleet } from './testing.ts';

const gen = (id: string, extra: Record<string, unknown> = {}) => ({ id, op: 'generate', params: { prompt: '{{query}}' }, ...extra });

function rejected(spec: unknown, options: Parameters<typeof validateWorkflow>[1] = {}): WorkflowIssue[] {
  try {
    validateWorkflow(spec, options);
  } catch (error) {
    assert.ok(error instanceof InvalidWorkflowError);
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.code, 'INVALID_INPUT');
    return [...error.issues];
  }
  assert.fail('expected the spec to be rejected');
}

function has(issues: WorkflowIssue[], code: string, path: string, message?: RegExp): void {
  const hit = issues.find((issue) => issue.code === code && issue.path === path && (!message || message.test(issue.message)));
  assert.ok(
    hit,
    `expected ${code} at ${path}${message ? ` matching ${message}` : ''}; got:\n` +
      `${issues.map((issue) => `  ${issue.code} ${issue.path}: ${issue.message}`).join('\n')}`,
  );
}

describe('workflow validation', () => {
  it('accepts a valid DAG and compiles order, depth, models and output caps', () => {
    const workflow = validateWorkflow(
      {
        version: 1,
        defaults: { model: 'sim:small', maxOutputTokens: 300 },
        nodes: [
          gen('a'),
          { id: 'b', op: 'sample', inputs: { hint: 'a.answer' }, params: { samples: 3, aggregator: 'majority' }, tier: 'large' },
          { id: 'c', op: 'aggregate', inputs: { x: 'a', y: 'b' }, params: { method: 'first' } },
        ],
        output: 'c',
      },
      { requireModels: true, tierModels: { large: 'sim:large' } },
    );
    assert.deepEqual(workflow.order, [0, 1, 2]);
    assert.equal(workflow.depth, 3);
    assert.deepEqual(
      workflow.nodes.map((node) => node.model),
      ['sim:small', 'sim:large', undefined],
    );
    assert.deepEqual(
      workflow.nodes.map((node) => node.maxOutputTokens),
      [300, 300, 300],
    );
    assert.equal(workflow.totalCalls, 4);
    assert.deepEqual(workflow.warnings, []);
  });

  it('lists every problem with its JSON path: bad op, missing params, unknown ref, duplicate id, cycle, template, limits, output', () => {
    const issues = rejected({
      version: 1,
      nodes: [
        gen('a'),
        gen('a'),
        { id: 'b', op: 'frobnicate', params: {} },
        { id: 'c', op: 'sample' },
        { id: 'd', op: 'generate', inputs: { x: 'nope' }, params: { prompt: '{{x}}' } },
        { id: 'e', op: 'generate', inputs: { f: 'f' }, params: { prompt: '{{f}}' } },
        { id: 'f', op: 'generate', inputs: { e: 'e.answer' }, params: { prompt: '{{e}}' } },
        { id: 'g', op: 'debate', params: { agents: 500, rounds: 50, topology: 'ring' } },
        { id: 'h', op: 'generate', params: { prompt: 'Use {{missing}}' } },
        { id: 'i', op: 'sample', params: { samples: 3, aggregator: 'majority', extra: true } },
        { id: 'j', op: 'verify', params: {} },
      ],
      output: 'zzz',
    });
    has(issues, 'duplicate-id', 'nodes[1].id', /duplicate id "a" \(also nodes\[0\]\)/);
    has(issues, 'schema', 'nodes[2].op', /Expected/);
    has(issues, 'schema', 'nodes[3].params');
    has(issues, 'unknown-input', 'nodes[4].inputs.x', /"nope" names no node/);
    has(issues, 'cycle', 'nodes[5].inputs', /^cycle: e → f → e$/);
    has(issues, 'limit', 'nodes[7].params.agents', /500 exceeds maxDebateAgents 64/);
    has(issues, 'limit', 'nodes[7].params.rounds', /50 exceeds maxDebateRounds 20/);
    has(issues, 'template', 'nodes[8].params.prompt', /\{\{missing\}\}/);
    has(issues, 'schema', 'nodes[9].params', /Unrecognized key/);
    has(issues, 'wiring', 'nodes[10].inputs', /candidate/);
    has(issues, 'output', 'output', /"zzz" names no node/);
  });

  it('names every cycle, including long ones', () => {
    const issues = rejected({
      version: 1,
      nodes: [
        { id: 'p', op: 'generate', inputs: { r: 'r' }, params: { prompt: '{{query}}' } },
        { id: 'q', op: 'generate', inputs: { p: 'p' }, params: { prompt: '{{query}}' } },
        { id: 'r', op: 'generate', inputs: { q: 'q' }, params: { prompt: '{{query}}' } },
        { id: 's', op: 'generate', inputs: { s: 's' }, params: { prompt: '{{query}}' } },
        { id: 'u', op: 'generate', inputs: { v: 'v' }, params: { prompt: '{{query}}' } },
        { id: 'v', op: 'generate', inputs: { u: 'u' }, params: { prompt: '{{query}}' } },
      ],
      output: 'r',
    });
    has(issues, 'cycle', 'nodes[0].inputs', /^cycle: p → q → r → p$/);
    has(issues, 'cycle', 'nodes[4].inputs', /^cycle: u → v → u$/);
    has(issues, 'self-input', 'nodes[3].inputs.s');
  });

  it('enforces structural hard limits: nodes, depth, fan-out, fan-in, total samples', () => {
    const chain = {
      version: 1,
      nodes: Array.from({ length: 20 }, (_, index) => gen(`n${index}`, index === 0 ? {} : { inputs: { prev: `n${index - 1}` } })),
      output: 'n19',
    };
    has(rejected(chain, { limits: { maxNodes: 10 } }), 'limit', 'nodes', /20 nodes, limit 10/);
    has(rejected(chain, { limits: { maxDepth: 5 } }), 'limit', 'nodes', /longest path has 20 nodes, limit 5/);
    const fan = fanSpec(30);
    const fanIssues = rejected(fan, { limits: GENERATED_WORKFLOW_LIMITS });
    has(fanIssues, 'limit', 'nodes[0]', /30 nodes take its output, limit 16/);
    has(fanIssues, 'limit', 'nodes[31].inputs', /30 upstream nodes, limit 16/);
    const samplers: unknown[] = Array.from({ length: 5 }, (_, index) => ({
      id: `s${index}`,
      op: 'sample',
      params: { samples: 900, aggregator: 'majority' },
    }));
    const sink = {
      id: 'out',
      op: 'aggregate',
      inputs: Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`s${index}`, `s${index}`])),
      params: { method: 'majority' },
    };
    const bomb = { version: 1, defaults: { model: 'sim:small' }, nodes: [...samplers, sink], output: 'out' };
    has(rejected(bomb, { limits: { maxTotalSamples: 1000 } }), 'limit', 'nodes', /4500 model calls.*limit 1000/);
    has(
      rejected({
        version: 1,
        nodes: [
          { id: 'r', op: 'refine', params: { rounds: 30 } },
          { id: 't', op: 'thread', params: { maxSteps: 5000 } },
        ],
        output: 'r',
      }),
      'limit',
      'nodes[0].params.rounds',
      /maxRefineRounds/,
    );
  });

  it('rejects ops the registry lacks at validation time, with a typed error', () => {
    // `search` exists only when the runtime was given a corpus.
    const spec = {
      version: 1,
      defaults: { model: 'sim:small' },
      nodes: [gen('a'), { id: 'd', op: 'search', inputs: { a: 'a' }, params: { maxSteps: 2, k: 3 } }],
      output: 'd',
    };
    assert.throws(
      () => validateWorkflow(spec, { operators: defaultOperators() }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidWorkflowError);
        assert.deepEqual(error.unavailableOperators, ['search']);
        assert.match(
          error.message,
          new RegExp(
            String.raw`nodes\[1\]\.op: operator "search" is not available in this runtime ` +
              String.raw`\(available: generate, aggregate, sample, verify, refine, thread, debate, solo, cascade\)`,
          ),
        );
        return true;
      },
    );
  });

  it('checks model binding and that references resolve in the fleet', () => {
    const { fleet } = simFleet();
    const issues = rejected(
      {
        version: 1,
        nodes: [
          gen('a'),
          gen('b', { model: 'sim:gigantic', inputs: { a: 'a' } }),
          { id: 'c', op: 'sample', inputs: { b: 'b' }, params: { samples: 2, aggregator: 'verifier', verifierModel: 'nowhere' } },
        ],
        output: 'c',
      },
      { requireModels: true, fleet },
    );
    has(issues, 'model', 'nodes[0].model', /no model/);
    has(issues, 'model', 'nodes[1].model', /Unknown model reference "sim:gigantic"/);
    has(issues, 'model', 'nodes[2].params.verifierModel', /Unknown model reference "nowhere"/);
  });

  it('allows nodes that do not feed the output, with a warning, and prunes them', () => {
    const result = checkWorkflow({ version: 1, nodes: [gen('a'), gen('side'), gen('b', { inputs: { a: 'a' } })], output: 'b' });
    assert.deepEqual(result.issues, []);
    assert.equal(result.warnings.length, 1);
    has(result.warnings, 'unreachable', 'nodes[1]', /"side" does not feed the output "b"/);
    assert.deepEqual(result.workflow!.order, [0, 2]);
  });

  it('rejects a spec over maxNodes without parsing it', () => {
    const issues = rejected({ version: 1, nodes: new Array(20_001).fill({}), output: 'x' });
    assert.deepEqual(issues, [{ code: 'limit', path: 'nodes', message: '20001 nodes, limit 10000 (maxNodes)' }]);
  });
});
