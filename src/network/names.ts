/**
 * Unique agent names for networks of any size. Like the AgentsNet reference, agents carry common first
 * names (models reason about "Alice and Bob" more naturally than about "node 17"); the reference's fixed list
 * caps it at 200 agents, so beyond the fixed list Thicket generates pronounceable three-syllable names
 * ("Bazemo"), deterministically and never colliding with the list or with each other.
 */
import { rngFor } from '../core/index.ts';

/** 200 common English first names, alphabetical, letters only (names are JSON keys and claim subjects). */
export const FIXED_NAMES: readonly string[] = Object.freeze(
  `Aaron Abigail Adam Adrian Alan Albert Alice Amanda Amber Amy Andrea Andrew Angela Anna Anne Anthony Arthur
Ashley Austin Barbara Benjamin Betty Beverly Billy Bobby Brandon Brenda Brian Brittany Bruce Bryan Caleb Carl
Carol Carolyn Catherine Charles Charlotte Cheryl Christian Christina Christine Christopher Cynthia Daniel
Danielle David Deborah Debra Denise Dennis Diana Diane Donald Donna Doris Dorothy Douglas Dylan Edward Elijah
Elizabeth Emily Emma Eric Ethan Evelyn Frances Frank Gabriel Gary George Gerald Gloria Grace Gregory Hannah
Harold Heather Helen Henry Isabella Jack Jacob Jacqueline James Janet Janice Jason Jean Jeffrey Jennifer Jeremy
Jerry Jesse Jessica Joan Joe John Jonathan Jordan Jose Joseph Joshua Joyce Juan Judith Judy Julia Julie Justin
Karen Katherine Kathleen Kathryn Kayla Keith Kelly Kenneth Kevin Kimberly Kyle Larry Laura Lauren Lawrence Linda
Lisa Logan Lori Lucas Madison Margaret Maria Marie Marilyn Mark Martha Mary Mason Matthew Megan Melissa Michael
Michelle Nancy Natalie Nathan Nicholas Nicole Noah Olivia Oscar Pamela Patricia Patrick Paul Peter Philip
Rachel Ralph Randy Raymond Rebecca Richard Robert Roger Ronald Rose Roy Russell Ruth Ryan Samantha Samuel Sandra
Sara Sarah Scott Sean Sharon Shirley Sophia Stephanie Stephen Steven Susan Teresa Terry Theresa Thomas Timothy
Tyler Victoria Vincent Virginia Walter Wayne William Zachary`.split(/\s+/),
);

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';
const SYLLABLES = CONSONANTS.length * VOWELS.length;
const GENERATED_SPACE = SYLLABLES ** 3;
/** Odd multiplier coprime with 70³ (= 2³·5³·7³): spreads consecutive indices over the name space, bijectively. */
const SPREAD = 181_081;
/** Far below the 343,000 generated names, so the collision-skipping loop always ends. */
export const MAX_AGENTS = 100_000;

/** The index-th generated name (bijective on 0..70³−1), e.g. 0 → a fixed-looking but arbitrary "Bazemo". */
export function generatedName(index: number): string {
  let code = (index * SPREAD + 12_345) % GENERATED_SPACE;
  let name = '';
  for (let syllable = 0; syllable < 3; syllable++) {
    const value = code % SYLLABLES;
    code = Math.floor(code / SYLLABLES);
    name += CONSONANTS[Math.floor(value / VOWELS.length)]! + VOWELS[value % VOWELS.length]!;
  }
  return name[0]!.toUpperCase() + name.slice(1);
}

/**
 * `count` unique names in a seeded random order. Up to 200 agents: a seeded sample of the fixed list (as the
 * reference samples its list); beyond: the whole list plus generated names, shuffled together.
 */
export function agentNames(count: number, seed: number, ...identity: Array<string | number>): string[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`agent count must be a non-negative integer, got ${count}`);
  if (count > MAX_AGENTS) throw new RangeError(`at most ${MAX_AGENTS} agents are supported, got ${count}`);
  const pool = [...FIXED_NAMES];
  if (count > pool.length) {
    const taken = new Set(pool.map((name) => name.toLowerCase()));
    for (let index = 0; pool.length < count; index++) {
      const name = generatedName(index);
      if (!taken.has(name.toLowerCase())) {
        taken.add(name.toLowerCase());
        pool.push(name);
      }
    }
  }
  // Fisher–Yates with a generator derived from the seed and the instance identity: same instance, same names.
  const rng = rngFor(seed, 'agent-names', count, ...identity);
  for (let index = pool.length - 1; index > 0; index--) {
    const other = rng.int(index + 1);
    [pool[index], pool[other]] = [pool[other]!, pool[index]!];
  }
  return pool.slice(0, count);
}
