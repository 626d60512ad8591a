/**
 * Node sets for testing the semantic entropy on real text through a real embedder: one sentence repeated,
 * paraphrases of one claim (synonyms drawn per slot with a seeded generator, all distinct), and sentences on
 * unrelated subjects (none from the null corpus's topics).
 */
import { createRng } from '../../core/index.ts';

const CLAIM = 'Rising ocean temperatures bleach coral reefs and drive reef fish away';

/** Slots of the claim, each with interchangeable wordings. */
const PARAPHRASE_SLOTS: readonly (readonly string[])[] = [
  ['Rising', 'Increasing', 'Higher', 'Warming', 'Climbing'],
  ['ocean', 'sea', 'seawater', 'marine'],
  ['temperatures', 'temperature', 'heat'],
  ['bleach', 'whiten', 'bleaches', 'are bleaching'],
  ['coral reefs', 'reef corals', 'corals', 'coral'],
  ['and drive', 'and push', 'and chase', 'which drives'],
  ['reef fish', 'fish', 'reef fishes', 'fish species'],
  ['away', 'elsewhere', 'off', 'out'],
];

export function identicalSet(n: number): string[] {
  return Array.from({ length: n }, () => CLAIM);
}

export function paraphrasedSet(n: number, seed = 7): string[] {
  const rng = createRng(seed);
  const seen = new Set<string>();
  const texts: string[] = [];
  while (texts.length < n) {
    const text = PARAPHRASE_SLOTS.map((options) => options[rng.int(options.length)]!).join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    texts.push(text);
  }
  return texts;
}

const UNRELATED = [
  'The quarterly tax return must be filed before the end of April',
  'Sourdough bread needs a starter fed with flour and water',
  'Medieval castles were built with thick stone walls and moats',
  'A chess opening controls the centre of the board early',
  'Vaccines train the immune system to recognise a virus',
  'The subway line closes for maintenance every Sunday night',
  'Impressionist painters worked outdoors to capture changing light',
  'Lithium batteries degrade faster when charged in hot weather',
  'Wolves hunt in packs led by a dominant breeding pair',
  'The treaty ended the war and redrew national borders',
  'Knitting a sweater takes patience and several skeins of wool',
  'Quantum computers use qubits that can be in superposition',
  'The marathon route passes the harbour and the old cathedral',
  'Honeybees communicate the location of flowers with a dance',
  'Inflation erodes the purchasing power of household savings',
  'The violinist tuned her instrument before the evening recital',
  'Desert cacti store water in thick waxy stems',
  'A spreadsheet formula recalculates whenever a cell changes',
  'Archaeologists dated the pottery shards with radiocarbon methods',
  'Tennis players serve alternately from each side of the court',
  'The bakery sells croissants and almond pastries each morning',
  'Electric guitars need an amplifier to be heard on stage',
  'Mountain climbers acclimatise slowly to avoid altitude sickness',
  'Shipping containers made global trade far cheaper',
  'The library lends audiobooks through a mobile application',
  'Tides are caused by the gravitational pull of the moon',
  'A good night of sleep improves memory consolidation',
  'Origami folds a single square of paper into figures',
  'The election results were certified after a recount',
  'Penguins huddle together to survive the antarctic winter',
  'Carpenters measure twice and cut once to save timber',
  'Solar panels convert sunlight directly into electricity',
];

export function unrelatedSet(n: number): string[] {
  if (n > UNRELATED.length) throw new RangeError(`at most ${UNRELATED.length} unrelated texts`);
  return UNRELATED.slice(0, n);
}
