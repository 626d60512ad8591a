/**
 * AgentsNet scoring, exactly as specified (agentsnet.md, following the reference implementation), plus a
 * per-agent verdict the error-propagation measure needs.
 *
 * Answers are one per node: a valid option string, or null when the agent gave no parseable answer (the
 * reference's `None` value — not to be confused with matching's valid answer `'None'`, "no partner").
 */
import { edgesOf, type AgentGraph } from '../graph.ts';

export type TaskId = 'coloring' | 'vertex_cover' | 'matching' | 'leader_election' | 'consensus';
export type Answers = ReadonlyArray<string | null>;

export const colourOptions = (groups: number): string[] => Array.from({ length: groups }, (_, index) => `Group ${index + 1}`);

/** 1 when every answer is `0` or `1` and all are the same; else 0. */
export function scoreConsensus(answers: Answers): number {
  if (answers.length === 0) return 0;
  const first = answers[0];
  return answers.every((answer) => (answer === '0' || answer === '1') && answer === first) ? 1 : 0;
}

/** 1 when every answer is `Yes`/`No` and exactly one is `Yes`; else 0. */
export function scoreLeaderElection(answers: Answers): number {
  if (!answers.every((answer) => answer === 'Yes' || answer === 'No')) return 0;
  return answers.filter((answer) => answer === 'Yes').length === 1 ? 1 : 0;
}

/** 0 if any answer is not one of `Group 1..k`; else the fraction of edges whose endpoints differ. */
export function scoreColoring(graph: AgentGraph, answers: Answers, groups: number): number {
  const valid = new Set(colourOptions(groups));
  if (!answers.every((answer) => answer !== null && valid.has(answer))) return 0;
  const edges = edgesOf(graph);
  if (edges.length === 0) return 1;
  return edges.filter(([u, v]) => answers[u] !== answers[v]).length / edges.length;
}

/**
 * Per agent: consistent unless (a) it named someone who is not a neighbour or who does not name it back
 * (A says B, B says C), (b) it said `None` while a neighbour also said `None` (the two could have paired),
 * or (c) it gave no answer.
 */
export function matchingConsistency(graph: AgentGraph, names: readonly string[], answers: Answers): boolean[] {
  const indexOf = new Map(names.map((name, index) => [name, index]));
  return answers.map((answer, node) => {
    if (answer === null) return false;
    const neighbours = graph.adjacency[node]!;
    if (answer === 'None') return !neighbours.some((other) => answers[other] === 'None');
    const partner = indexOf.get(answer);
    if (partner === undefined || !neighbours.includes(partner)) return false;
    return answers[partner] === names[node];
  });
}

export function scoreMatching(graph: AgentGraph, names: readonly string[], answers: Answers): number {
  if (answers.length === 0) return 0;
  return matchingConsistency(graph, names, answers).filter(Boolean).length / answers.length;
}

/**
 * coverage × (necessary Yes / all Yes), as agentsnet.md defines it: coverage = share of edges with a `Yes`
 * endpoint; a `Yes` is necessary when turning it into `No` breaks full coverage. An incomplete cover has no
 * full coverage to break, so nothing in it is necessary and it scores 0 — deliberately unlike the reference
 * code, which then counts every `Yes` as necessary and scores the coverage (rewarding incomplete covers: 50/50
 * random answers would score about 0.75). An empty cover scores 0 (the reference divides by zero there).
 * Every answer must be `Yes` or `No`: one `null` (no parseable answer) or other string scores the instance 0,
 * as in every other task — it is not read as `No` (which would report an instance solved that an agent failed).
 */
export function scoreVertexCover(graph: AgentGraph, answers: Answers): number {
  if (!answers.every((answer) => answer === 'Yes' || answer === 'No')) return 0;
  const edges = edgesOf(graph);
  const inCover = answers.map((answer) => answer === 'Yes');
  const size = inCover.filter(Boolean).length;
  if (size === 0) return 0;
  const covered = edges.filter(([u, v]) => inCover[u] || inCover[v]).length;
  const coverage = edges.length === 0 ? 1 : covered / edges.length;
  if (coverage < 1) return 0;
  // With full coverage, flipping `node` uncovers an edge exactly when some neighbour is not in the cover.
  const necessary = inCover.filter((yes, node) => yes && graph.adjacency[node]!.some((other) => !inCover[other])).length;
  return (coverage * necessary) / size;
}

/**
 * Whether each agent met the specification on its own: right colour/partner/role locally, or — for the
 * global tasks — not part of the failure (in a failed consensus the minority and every invalid answer; in a
 * failed election every agent when nobody said Yes, else the extra Yes-sayers and invalid answers).
 */
export function agentVerdicts(task: TaskId, graph: AgentGraph, names: readonly string[], answers: Answers, groups: number): boolean[] {
  switch (task) {
    case 'coloring': {
      const valid = new Set(colourOptions(groups));
      return answers.map(
        (answer, node) => answer !== null && valid.has(answer) && graph.adjacency[node]!.every((other) => answers[other] !== answer),
      );
    }
    case 'matching':
      return matchingConsistency(graph, names, answers);
    case 'vertex_cover':
      return answers.map((answer, node) => {
        const neighbours = graph.adjacency[node]!;
        if (answer === 'Yes') return neighbours.some((other) => answers[other] !== 'Yes');
        if (answer === 'No') return neighbours.every((other) => answers[other] === 'Yes');
        return false;
      });
    case 'leader_election': {
      if (scoreLeaderElection(answers) === 1) return answers.map(() => true);
      const leaders = answers.filter((answer) => answer === 'Yes').length;
      return answers.map((answer) => leaders > 0 && (answer === 'No' || (answer === 'Yes' && leaders === 1)));
    }
    case 'consensus': {
      if (scoreConsensus(answers) === 1) return answers.map(() => true);
      const ones = answers.filter((answer) => answer === '1').length;
      const zeros = answers.filter((answer) => answer === '0').length;
      const majority = ones > zeros ? '1' : zeros > ones ? '0' : undefined;
      return answers.map((answer) => majority !== undefined && answer === majority);
    }
  }
}

export function scoreTask(task: TaskId, graph: AgentGraph, names: readonly string[], answers: Answers, groups: number): number {
  switch (task) {
    case 'coloring':
      return scoreColoring(graph, answers, groups);
    case 'matching':
      return scoreMatching(graph, names, answers);
    case 'vertex_cover':
      return scoreVertexCover(graph, answers);
    case 'leader_election':
      return scoreLeaderElection(answers);
    case 'consensus':
      return scoreConsensus(answers);
  }
}
