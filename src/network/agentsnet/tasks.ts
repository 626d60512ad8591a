/**
 * The five AgentsNet tasks: what each agent is told (in the reference's wording, lightly edited), what it may
 * answer, which claim key carries its decision, and how many rounds it gets.
 */
import { InvalidInputError } from '../../core/index.ts';
import type { Claim } from '../claims.ts';
import type { DecisionKey } from '../tracking.ts';
import { colourOptions, type TaskId } from './score.ts';

export const TASK_IDS: readonly TaskId[] = ['coloring', 'vertex_cover', 'matching', 'leader_election', 'consensus'];

export interface TaskSpec {
  id: TaskId;
  title: string;
  /** One sentence in the system prompt: the goal. */
  goal: (groups: number) => string;
  /** What will be asked after the last round. */
  problem: (groups: number) => string;
  question: (groups: number) => string;
  /** Valid final answers for one agent (matching: its neighbours' names and `None`). */
  validAnswers: (neighbours: readonly string[], groups: number) => string[];
  decision: DecisionKey;
  /** Claim keys of the verifying protocol's vocabulary, with their meaning. */
  claimKeys: string;
  networkClaimTruth?: (claim: Claim, names: ReadonlySet<string>) => boolean | undefined;
}

export const TASKS: Readonly<Record<TaskId, TaskSpec>> = {
  coloring: {
    id: 'coloring',
    title: 'colouring',
    goal: () => 'Your task is to partition yourselves into groups such that agents who are neighbours are never in the same group.',
    problem: (groups) =>
      `You will be asked which group you assign yourself to. There are exactly ${groups} groups: Group 1, ..., Group ${groups}. Assign yourself to ` +
      `exactly one of them. In the end, any two agents who are neighbours must be in different groups; in particular, choose a group different from ` +
      `all of your neighbours' groups.`,
    question: () => 'Which group do you assign yourself to?',
    validAnswers: (_neighbours, groups) => colourOptions(groups),
    decision: { about: 'self', key: 'group' },
    claimKeys: 'group (a group number, e.g. 2), strategy (a rule you propose to everybody, about "*")',
  },
  vertex_cover: {
    id: 'vertex_cover',
    title: 'vertex cover',
    goal: () =>
      'Your task is to select, among all agents, a group of coordinators such that whenever two agents communicate at least one of them is a ' +
      'coordinator. The group of coordinators should be chosen such that every coordinator has at least one neighbour who is not a coordinator.',
    problem: () => "You will be asked whether you are a coordinator. The answer must be either 'Yes' or 'No'.",
    question: () => 'Are you a coordinator?',
    validAnswers: () => ['Yes', 'No'],
    decision: { about: 'self', key: 'cover' },
    claimKeys: 'cover (yes or no: whether you are a coordinator), strategy (a rule you propose to everybody, about "*")',
  },
  matching: {
    id: 'matching',
    title: 'maximal matching',
    goal: () => 'Your task is to form groups of two agents each, where the two members can communicate with each other.',
    problem: () =>
      "You will be asked to name the neighbour you form a group with, or 'None' if all your neighbours are already in other groups and cannot be in " +
      'a group with you. In the end, every agent is in at most one group, and the two members of a group must name each other.',
    question: () =>
      "Please answer with the name of the neighbour you form a group with, or 'None' if all your neighbours are already in other groups.",
    validAnswers: (neighbours) => [...neighbours, 'None'],
    decision: { about: 'self', key: 'partner' },
    claimKeys:
      'propose (the neighbour you ask to pair with), partner (your agreed partner, or none), strategy (a rule you propose to everybody, about "*")',
  },
  leader_election: {
    id: 'leader_election',
    title: 'leader election',
    goal: () => 'Your task is to collaboratively elect a single leader.',
    problem: () =>
      "You will be asked whether or not you are the leader. The answer must be either 'Yes' or 'No'. In the end exactly one agent must answer 'Yes' " +
      "and all others 'No', as there must be exactly one leader.",
    question: () => 'Are you the leader?',
    validAnswers: () => ['Yes', 'No'],
    decision: { about: '*', key: 'leader' },
    claimKeys: 'leader (about "*": the name of the leader candidate you support), strategy (a rule you propose to everybody, about "*")',
    // A candidate nobody is called cannot win: such a claim is fabricated or garbled.
    networkClaimTruth: (claim, names) => (claim.key === 'leader' ? names.has(claim.value) : undefined),
  },
  consensus: {
    id: 'consensus',
    title: 'consensus',
    goal: () => 'Your goal is to agree on a single value with the other agents. The possible values are 0 and 1.',
    problem: () => 'After the last round, each agent must decide on a single value.',
    question: () => 'Please answer with the value you agreed on.',
    validAnswers: () => ['0', '1'],
    decision: { about: 'self', key: 'value' },
    claimKeys: 'value (0 or 1: the value you currently hold), strategy (a rule you propose to everybody, about "*")',
  },
};

const ALIASES: Record<string, TaskId> = {
  coloring: 'coloring',
  colouring: 'coloring',
  color: 'coloring',
  vertex_cover: 'vertex_cover',
  'vertex-cover': 'vertex_cover',
  vc: 'vertex_cover',
  matching: 'matching',
  leader_election: 'leader_election',
  'leader-election': 'leader_election',
  leader: 'leader_election',
  consensus: 'consensus',
};

/** `all`, one task, or a comma-separated list (British and hyphenated spellings accepted). */
export function parseTasks(value: string): TaskId[] {
  if (value.trim() === 'all') return [...TASK_IDS];
  const tasks = value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter(Boolean);
  const unknown = tasks.filter((task) => !(task in ALIASES));
  if (unknown.length > 0 || tasks.length === 0)
    throw new InvalidInputError('Unknown AgentsNet task', [
      { path: 'task', message: `unknown: ${unknown.join(', ') || '(none)'}; use all or ${TASK_IDS.join(', ')}` },
    ]);
  return [...new Set(tasks.map((task) => ALIASES[task]!))];
}

/**
 * Message rounds R: 2·diameter + 1 for consensus and leader election at every size, and for every task above
 * 16 agents; otherwise 4, 5, 6 for 4, 8, 16 agents (sizes in between take the next listed size's value).
 */
export function roundsFor(task: TaskId, nodeCount: number, graphDiameter: number): number {
  if (task === 'consensus' || task === 'leader_election' || nodeCount > 16) return 2 * graphDiameter + 1;
  return nodeCount <= 4 ? 4 : nodeCount <= 8 ? 5 : 6;
}

/** k for colouring: maximum degree + 1 groups (always enough for a greedy colouring). */
export const groupsFor = (maxDegreeOfGraph: number): number => maxDegreeOfGraph + 1;
