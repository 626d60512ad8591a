/**
 * Task suites: generated, verifiable, seeded. A study names suites by kind with their knobs (see
 * study-file.ts); `buildSuite` turns one into a `SuiteInstance` for a given seed, and
 * `registerSuiteTasks` puts its tasks into the simulated fleet's task oracle so `sim:` models can grade them.
 */
import { join } from 'node:path';
import type { TaskOracleRegistry } from '../../models/index.ts';
import type { SuiteInstance } from '../types.ts';
import { arithmeticSuite } from './arithmetic.ts';
import { agentsnetSuite, type AgentsnetFamily, type AgentsnetTask } from './agentsnet.ts';
import { logicSuite } from './logic.ts';
import { multihopSuite } from './multihop.ts';

export { arithmeticSuite, exactMatch, type ArithmeticSuiteOptions } from './arithmetic.ts';
export { logicSuite, type LogicSuiteOptions } from './logic.ts';
export { multihopSuite, multihopCheck, type MultihopSuiteOptions } from './multihop.ts';
export { generateWorld, worldDocuments, type World, type WorldDocument } from './world.ts';
export {
  agentsnetSuite,
  agentsnetInstanceOf,
  AGENTSNET_TASKS,
  AGENTSNET_FAMILIES,
  type AgentsnetTask,
  type AgentsnetFamily,
  type AgentsnetInstance,
  type AgentsnetSuiteOptions,
} from './agentsnet.ts';

/** A suite as a study declares it (validated by the study schema). */
export type SuiteSpec =
  | {
      kind: 'arithmetic';
      name: string;
      items: number;
      operations: [number, number];
      maxOperand?: number | undefined;
      maxFactor?: number | undefined;
      minDifficulty?: number | undefined;
      maxDifficulty?: number | undefined;
    }
  | { kind: 'logic'; name: string; items: number; steps: [number, number] }
  | { kind: 'multihop'; name: string; items: number; hops: [number, number]; countries?: number | undefined }
  | { kind: 'agentsnet'; name: string; tasks: AgentsnetTask[]; sizes: number[]; families: AgentsnetFamily[]; instances: number };

export interface BuildSuiteOptions {
  seed: number;
  /** Folder for generated corpora (multihop writes `<name>-s<seed>.jsonl` there). */
  corpusDir?: string;
}

export function buildSuite(spec: SuiteSpec, options: BuildSuiteOptions): SuiteInstance {
  const { seed } = options;
  const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
    value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
  switch (spec.kind) {
    case 'arithmetic':
      return arithmeticSuite({
        name: spec.name,
        items: spec.items,
        seed,
        operations: spec.operations,
        ...optional('maxOperand', spec.maxOperand),
        ...optional('maxFactor', spec.maxFactor),
        ...optional('minDifficulty', spec.minDifficulty),
        ...optional('maxDifficulty', spec.maxDifficulty),
      });
    case 'logic':
      return logicSuite({ name: spec.name, items: spec.items, seed, steps: spec.steps });
    case 'multihop':
      return multihopSuite({
        name: spec.name,
        items: spec.items,
        seed,
        hops: spec.hops,
        ...optional('countries', spec.countries),
        ...(options.corpusDir !== undefined ? { corpusPath: join(options.corpusDir, `${spec.name}-s${seed}.jsonl`) } : {}),
      });
    case 'agentsnet':
      return agentsnetSuite({
        name: spec.name,
        seed,
        tasks: spec.tasks,
        sizes: spec.sizes,
        families: spec.families,
        instances: spec.instances,
      });
  }
}

/** Registers a suite's tasks with the oracle (network instances are not oracle tasks and are skipped). */
export function registerSuiteTasks(registry: TaskOracleRegistry, suite: SuiteInstance): void {
  if (suite.network) return;
  registry.registerTasks(suite.tasks);
}
