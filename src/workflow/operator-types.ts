/**
 * What an operator is — its signature, its wired inputs and the registry type — and the template values of
 * its inputs. Shared by operators.ts (the registry and the fan-in operators) and op-adapters.ts (the src/ops
 * operators), which both import it, so neither imports the other's module for these.
 */
import type { OpContext, OpResult } from '../ops/index.ts';
import type { OpName, OpParams } from './spec.ts';
import type { TemplateValue } from './template.ts';

export interface NodeInput {
  name: string;
  /** As written in the spec: `query`, `<id>` or `<id>.answer`. */
  ref: string;
  /** `query` or the upstream node id. */
  from: string;
  /** What a template substitutes: the query, the upstream text (truncated to its estimated bound) or its answer. */
  value: string;
  answer: string | undefined;
  confidence: number | undefined;
  /** The reasoning-graph node this input came from (the query node for the query). */
  graphNode: string | undefined;
  /** False when the upstream produced no result (only `aggregate` runs with missing inputs). */
  available: boolean;
}

export interface NodeInputs {
  nodeId: string;
  query: string;
  list: NodeInput[];
  byName: Record<string, NodeInput>;
}

export type OperatorFn<K extends OpName> = (context: OpContext, params: OpParams<K>, inputs: NodeInputs) => Promise<OpResult>;
export type OperatorRegistry = { [K in OpName]?: OperatorFn<K> };

/** Template values of the available inputs. */
export function templateValues(inputs: NodeInputs): TemplateValue[] {
  const values: TemplateValue[] = [];
  for (const input of inputs.list) if (input.available) values.push({ name: input.name, value: input.value });
  return values;
}
