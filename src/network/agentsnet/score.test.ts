/** AgentsNet scorers on hand-built instances, including the edge cases agentsnet.md calls out. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { graphFromEdges } from '../graph.ts';
import {
  agentVerdicts,
  matchingConsistency,
  scoreColoring,
  scoreConsensus,
  scoreLeaderElection,
  scoreMatching,
  scoreTask,
  scoreVertexCover,
} from './score.ts';

// A–B–C–D path plus the chord B–D:  A(0) — B(1) — C(2) — D(3), B — D.
const names = ['Ann', 'Bob', 'Cat', 'Dan'];
const graph = graphFromEdges(4, [
  [0, 1],
  [1, 2],
  [2, 3],
  [1, 3],
]);

describe('consensus', () => {
  it('is 1 only when every answer is valid and identical', () => {
    assert.equal(scoreConsensus(['1', '1', '1', '1']), 1);
    assert.equal(scoreConsensus(['0', '0', '0', '0']), 1);
    assert.equal(scoreConsensus(['0', '1', '1', '1']), 0);
    assert.equal(scoreConsensus(['1', '1', null, '1']), 0, 'a None answer zeroes consensus');
    assert.equal(scoreConsensus(['yes', 'yes', 'yes', 'yes']), 0, 'invalid values');
  });
});

describe('leader election', () => {
  it('is 1 only with exactly one Yes and all answers valid', () => {
    assert.equal(scoreLeaderElection(['No', 'Yes', 'No', 'No']), 1);
    assert.equal(scoreLeaderElection(['No', 'No', 'No', 'No']), 0);
    assert.equal(scoreLeaderElection(['Yes', 'Yes', 'No', 'No']), 0);
    assert.equal(scoreLeaderElection(['No', 'Yes', null, 'No']), 0, 'a None answer zeroes the election');
  });
  it('blames the extra leaders, or everybody when there is none', () => {
    assert.deepEqual(agentVerdicts('leader_election', graph, names, ['Yes', 'Yes', 'No', 'No'], 0), [false, false, true, true]);
    assert.deepEqual(agentVerdicts('leader_election', graph, names, ['No', 'No', 'No', 'No'], 0), [false, false, false, false]);
    assert.deepEqual(agentVerdicts('leader_election', graph, names, ['No', 'Yes', null, 'No'], 0), [true, true, false, true]);
  });
});

describe('colouring', () => {
  it('is the share of properly coloured edges', () => {
    assert.equal(scoreColoring(graph, ['Group 1', 'Group 2', 'Group 1', 'Group 3'], 4), 1);
    // B–D share Group 2: 3 of 4 edges are fine.
    assert.equal(scoreColoring(graph, ['Group 1', 'Group 2', 'Group 1', 'Group 2'], 4), 0.75);
  });
  it('is 0 when any answer is invalid or None', () => {
    assert.equal(scoreColoring(graph, ['Group 1', 'Group 2', null, 'Group 3'], 4), 0);
    assert.equal(scoreColoring(graph, ['Group 1', 'Group 2', 'Group 5', 'Group 3'], 4), 0, 'Group 5 does not exist with 4 groups');
    assert.equal(scoreColoring(graph, ['Group 1', 'Group 2', 'Group 1', 'Group 2'], 2), 0.75, 'k only bounds the valid groups');
  });
  it('judges each agent by its own edges', () => {
    assert.deepEqual(agentVerdicts('coloring', graph, names, ['Group 1', 'Group 2', 'Group 1', 'Group 2'], 4), [true, false, true, false]);
  });
});

describe('maximal matching', () => {
  it('scores a consistent maximal matching 1', () => {
    // Ann–Bob and Cat–Dan.
    assert.equal(scoreMatching(graph, names, ['Bob', 'Ann', 'Dan', 'Cat']), 1);
  });
  it('counts asymmetric pairs (A says B, B says C) as inconsistent', () => {
    // Ann names Bob, Bob names Cat, Cat names Bob, Dan says None with no free... Dan's neighbours Bob and Cat are taken.
    assert.deepEqual(matchingConsistency(graph, names, ['Bob', 'Cat', 'Bob', 'None']), [false, true, true, true]);
    assert.equal(scoreMatching(graph, names, ['Bob', 'Cat', 'Bob', 'None']), 0.75);
  });
  it('counts None next to None as inconsistent, a lone None as fine', () => {
    // Bob–Dan paired; Ann and Cat say None and are not neighbours of each other.
    assert.equal(scoreMatching(graph, names, ['None', 'Dan', 'None', 'Bob']), 1);
    // Cat and Dan both None while neighbours: both inconsistent.
    assert.deepEqual(matchingConsistency(graph, names, ['Bob', 'Ann', 'None', 'None']), [true, true, false, false]);
  });
  it('counts a missing answer and a non-neighbour partner as inconsistent', () => {
    // Ann names Cat (not her neighbour); Dan gave no answer (None value), so Cat's valid None is fine.
    assert.deepEqual(matchingConsistency(graph, names, ['Cat', 'Dan', 'None', null]), [false, false, true, false]);
    assert.equal(scoreTask('matching', graph, names, ['Cat', 'Dan', 'None', null], 0), 0.25);
  });
});

describe('minimal vertex cover', () => {
  it('scores an inclusion-minimal cover 1', () => {
    // {Bob, Cat} covers every edge, and neither can leave.
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'Yes', 'No']), 1);
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'No', 'Yes']), 1);
  });
  it('scores a complete but bloated cover by its share of necessary members', () => {
    // {Bob, Cat, Dan}: Bob (Ann depends on him) is necessary, Cat and Dan are not (each other and Bob cover them).
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'Yes', 'Yes']), 1 / 3);
    assert.equal(scoreVertexCover(graph, ['Yes', 'Yes', 'Yes', 'Yes']), 0, 'nobody is necessary when everybody is in');
  });
  it('scores the empty cover 0 (the reference divides by zero)', () => {
    assert.equal(scoreVertexCover(graph, ['No', 'No', 'No', 'No']), 0);
    assert.equal(scoreVertexCover(graph, [null, null, null, null]), 0);
  });
  it('scores an incomplete cover 0: no flip can break a full coverage that is not there', () => {
    // Cat–Dan uncovered.
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'No', 'No']), 0);
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', null, 'No']), 0);
  });
  it('scores 0 when any agent gave no valid answer, even if the others form a minimal cover', () => {
    // {Bob, Cat} is a minimal cover; Ann's / Dan's missing answer used to be read as "No" and the instance solved.
    assert.equal(scoreVertexCover(graph, [null, 'Yes', 'Yes', 'No']), 0);
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'Yes', null]), 0);
    assert.equal(scoreVertexCover(graph, ['No', 'Yes', 'Yes', 'maybe']), 0);
    assert.equal(scoreTask('vertex_cover', graph, names, ['No', 'Yes', 'Yes', null], 0), 0);
  });
  it('judges agents locally: a needless Yes and a No beside a No fail', () => {
    assert.deepEqual(agentVerdicts('vertex_cover', graph, names, ['No', 'Yes', 'Yes', 'Yes'], 0), [true, true, false, false]);
    assert.deepEqual(agentVerdicts('vertex_cover', graph, names, ['No', 'Yes', 'No', 'No'], 0), [true, true, false, false]);
  });
});
