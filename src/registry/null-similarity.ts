/**
 * How similar texts that have nothing to do with each other look to an embedder — the null similarity — and
 * the relevance floor of discovery derived from it. The null corpus is fixed: NULL_TOPICS word banks on
 * unrelated subjects and a seeded generator (NULL_SEED) that writes NULL_TEXTS_PER_TOPIC short texts per topic;
 * only pairs from different topics are null pairs. The criticality metrics take their edge threshold τ₀ from
 * the same corpus (src/criticality/calibration.ts).
 *
 * Discovery's floor is the RELEVANCE_QUANTILE quantile of the null cosines: a capability is a match only when
 * it is more similar to the need than three pairs of unrelated texts in four are to each other. Lower than
 * τ₀'s 0.99 because a need (a few words) and a card (a paragraph) share fewer features than two short texts:
 * with the hashing embedder a clearly relevant need scores 0.05–0.15 against its cards, an unrelated one ≤ 0.03.
 */
import { createRng } from '../core/index.ts';
import { checkVectors, normalize, type Embedder } from './embedder.ts';

/** Word banks on subjects chosen to share no vocabulary. */
export const NULL_TOPICS: readonly (readonly string[])[] = [
  ['volcano', 'magma', 'eruption', 'lava', 'crater', 'ash', 'basalt', 'tectonic', 'caldera', 'pumice', 'seismic', 'vent'],
  ['violin', 'orchestra', 'sonata', 'conductor', 'symphony', 'cello', 'melody', 'concerto', 'rehearsal', 'tempo', 'harmony', 'bow'],
  ['mortgage', 'interest', 'lender', 'equity', 'refinance', 'borrower', 'collateral', 'principal', 'escrow', 'bank', 'loan', 'default'],
  ['tomato', 'basil', 'garlic', 'simmer', 'skillet', 'olive', 'pasta', 'oregano', 'saucepan', 'recipe', 'onion', 'parmesan'],
  ['goalkeeper', 'penalty', 'striker', 'referee', 'midfield', 'offside', 'stadium', 'league', 'header', 'dribble', 'tackle', 'corner'],
  ['enzyme', 'protein', 'ribosome', 'membrane', 'mitochondria', 'cytoplasm', 'nucleus', 'catalyst', 'substrate', 'peptide', 'cell', 'gene'],
  ['glacier', 'fjord', 'iceberg', 'tundra', 'permafrost', 'moraine', 'arctic', 'snowfield', 'crevasse', 'floe', 'polar', 'frost'],
  ['compiler', 'parser', 'bytecode', 'register', 'linker', 'syntax', 'pointer', 'stack', 'opcode', 'runtime', 'heap', 'token'],
  ['pharaoh', 'pyramid', 'papyrus', 'dynasty', 'hieroglyph', 'tomb', 'sphinx', 'nile', 'mummy', 'obelisk', 'scribe', 'temple'],
  ['saddle', 'gallop', 'stallion', 'mare', 'stable', 'bridle', 'hoof', 'jockey', 'canter', 'paddock', 'foal', 'rein'],
  ['telescope', 'nebula', 'galaxy', 'comet', 'orbit', 'asteroid', 'quasar', 'pulsar', 'supernova', 'planet', 'eclipse', 'star'],
  ['verdict', 'jury', 'defendant', 'prosecutor', 'appeal', 'testimony', 'statute', 'plaintiff', 'lawsuit', 'judge', 'witness', 'court'],
  ['petal', 'orchid', 'tulip', 'pollen', 'blossom', 'fern', 'seedling', 'mulch', 'compost', 'hedge', 'rose', 'garden'],
  ['sonnet', 'stanza', 'rhyme', 'metaphor', 'poet', 'verse', 'ballad', 'couplet', 'elegy', 'meter', 'ode', 'lyric'],
  ['engine', 'piston', 'gearbox', 'clutch', 'exhaust', 'radiator', 'axle', 'brake', 'carburetor', 'chassis', 'tyre', 'crankshaft'],
  ['yoga', 'meditation', 'breathing', 'posture', 'stretch', 'mindfulness', 'mat', 'balance', 'pose', 'calm', 'flexibility', 'spine'],
];

export const NULL_TEXTS_PER_TOPIC = 4;
/** Words per null text (drawn without replacement from its topic's bank). */
export const NULL_TEXT_WORDS = 7;
export const NULL_SEED = 20_250_213;
/** The null corpus: texts and, for each, the index of its topic. */
export function nullCorpus(): { texts: string[]; topics: number[] } {
  const rng = createRng(NULL_SEED);
  const texts: string[] = [];
  const topics: number[] = [];
  NULL_TOPICS.forEach((bank, topic) => {
    for (let k = 0; k < NULL_TEXTS_PER_TOPIC; k++) {
      const pool = [...bank];
      const words: string[] = [];
      for (let w = 0; w < NULL_TEXT_WORDS; w++) words.push(pool.splice(rng.int(pool.length), 1)[0]!);
      texts.push(words.join(' '));
      topics.push(topic);
    }
  });
  return { texts, topics };
}

/** The cosines of every cross-topic pair of the null corpus under `embedder`, ascending. */
export async function nullSimilarities(embedder: Embedder): Promise<Float64Array> {
  const { texts, topics } = nullCorpus();
  const raw = await embedder.embed(texts);
  checkVectors(embedder, raw, texts.length);
  const vectors = raw.map((vector) => normalize(Float32Array.from(vector)));
  const values: number[] = [];
  for (let i = 0; i < texts.length; i++)
    for (let j = 0; j < i; j++) {
      if (topics[i] === topics[j]) continue;
      let sum = 0;
      for (let k = 0; k < vectors[i]!.length; k++) sum += vectors[i]![k]! * vectors[j]![k]!;
      values.push(sum);
    }
  return Float64Array.from(values).sort();
}

/** The q-quantile of ascending `sorted` (linear interpolation between order statistics). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
}

/** The quantile of null cosines a discovery result must exceed (see the module comment). */
export const RELEVANCE_QUANTILE = 0.75;

const floors = new Map<string, number>();

/** Discovery's relevance floor for `embedder`: measured once per embedder id (one `embed` call), then cached. */
export async function relevanceFloor(embedder: Embedder): Promise<number> {
  const cached = floors.get(embedder.id);
  if (cached !== undefined) return cached;
  const floor = quantile(await nullSimilarities(embedder), RELEVANCE_QUANTILE);
  floors.set(embedder.id, floor);
  return floor;
}
