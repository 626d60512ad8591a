/**
 * The semantic graph's null threshold τ₀ and what it buys: S_sem orders identical < paraphrased < unrelated
 * node sets with clear margins under the default (hashing) embedder, where the spec's literal
 * normalised-Laplacian form cannot tell them apart.
 *
 * Direction (entropy.ts): S_sem measures semantic diversity — 0 for identical texts, ln n for n unrelated
 * ones — so D = (S_struct − S_sem)/(S_struct + S_sem) rises when the content collapses onto one meaning.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_NULL_THRESHOLD,
  NULL_QUANTILE,
  cachedNullThreshold,
  calibrateNullThreshold,
  nullCorpus,
  nullSimilarities,
  nullThreshold,
  quantile,
  setNullThreshold,
} from './calibration.ts';
import { semanticEntropy, semanticLaplacianEntropy } from './entropy.ts';
import { computeCriticality } from './metrics.ts';
import { defaultEmbedder, embedTexts, type Embedder } from './semantic.ts';
import { identicalSet, paraphrasedSet, unrelatedSet } from './testing/text-sets.ts';
import { assertClose } from './testing/graphs.ts';

describe('null threshold τ₀', () => {
  it('the null corpus is fixed: 16 topics × 4 seeded texts, 1,920 cross-topic pairs', async () => {
    const { texts, topics } = nullCorpus();
    assert.equal(texts.length, 64);
    assert.deepEqual(nullCorpus().texts, texts);
    assert.equal(new Set(texts).size, 64);
    assert.equal(texts[0], nullCorpus().texts[0]);
    assert.deepEqual(topics.slice(0, 6), [0, 0, 0, 0, 1, 1]);
    assert.equal((await nullSimilarities(defaultEmbedder())).length, 1920);
  });

  it('DEFAULT_NULL_THRESHOLD is the 0.99 quantile of the hashing embedder’s null cosines', async () => {
    assert.equal(NULL_QUANTILE, 0.99);
    const calibration = await calibrateNullThreshold(defaultEmbedder());
    assert.equal(calibration.embedder, 'hash-v1-384');
    assert.equal(calibration.pairs, 1920);
    assertClose(calibration.threshold, DEFAULT_NULL_THRESHOLD, 1e-4);
    assertClose(calibration.threshold, 0.12685, 1e-4);
    // Unrelated texts average ≈ 0 under signed feature hashing; the largest collision stays below 0.2.
    assert.ok(Math.abs(calibration.mean) < 0.02, String(calibration.mean));
    assert.ok(calibration.max > calibration.threshold && calibration.max < 0.2, String(calibration.max));
    assert.equal(cachedNullThreshold('hash-v1-384'), calibration.threshold);
  });

  it('quantile interpolates between order statistics', () => {
    assert.equal(quantile([0, 1, 2, 3, 4], 0.5), 2);
    assertClose(quantile([0, 10], 0.99), 9.9, 1e-12);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  it('an embedder is calibrated once per id (one embed call for the whole corpus), then served from the cache', async () => {
    const calls: number[] = [];
    const inner = defaultEmbedder();
    const counting: Embedder = {
      id: 'counting-hash-test',
      dimension: inner.dimension,
      embed: async (texts) => {
        calls.push(texts.length);
        return inner.embed(texts);
      },
    };
    assert.equal(cachedNullThreshold(counting.id), undefined);
    const first = await nullThreshold(counting);
    const second = await nullThreshold(counting);
    assert.deepEqual(calls, [64]);
    assertClose(first, DEFAULT_NULL_THRESHOLD, 1e-4);
    assert.equal(second, first);
    setNullThreshold(counting.id, 0.3);
    assert.equal(await nullThreshold(counting), 0.3);
    assert.throws(() => setNullThreshold(counting.id, 1), RangeError);
  });
});

describe('S_sem on real text (default embedder, τ₀ calibrated): identical < paraphrased < unrelated', () => {
  const n = 24;
  const entropies = async (entropy: typeof semanticEntropy, threshold: number) => {
    const embedder = defaultEmbedder();
    const of = async (texts: string[]) => entropy(await embedTexts(embedder, texts), { threshold }).entropy;
    return { identical: await of(identicalSet(n)), paraphrased: await of(paraphrasedSet(n)), unrelated: await of(unrelatedSet(n)) };
  };

  it('24 nodes: 0 < 2.45 < 3.178 (= ln 24 − 0.0003), margins above 0.7 nats', async () => {
    const s = await entropies(semanticEntropy, DEFAULT_NULL_THRESHOLD);
    assertClose(s.identical, 0, 1e-5); // float32 vectors: cos(x, x) = 1 − O(1e-7)
    assertClose(s.paraphrased, 2.45, 0.01);
    assertClose(s.unrelated, Math.log(n), 0.002);
    assert.ok(s.paraphrased - s.identical > 2, JSON.stringify(s));
    assert.ok(s.unrelated - s.paraphrased > 0.7, JSON.stringify(s));
  });

  it('the spec’s literal form (normalised Laplacian of max(0, cos)) is blind: all three within 0.04 of ln 23', async () => {
    const s = await entropies(semanticLaplacianEntropy, 0);
    for (const value of Object.values(s)) assertClose(value, Math.log(n - 1), 0.04);
  });

  it('computeCriticality reports τ₀ and the same S_sem; D falls as the content diversifies', async () => {
    const graphOf = (texts: string[]) => ({
      nodes: texts.map((text, i) => ({ id: `n${i}`, text, step: i })),
      edges: texts.slice(1).map((_, i) => ({ from: `n${i}`, to: `n${i + 1}`, step: i + 1 })),
    });
    const identical = await computeCriticality(graphOf(identicalSet(n)));
    const paraphrased = await computeCriticality(graphOf(paraphrasedSet(n)));
    const unrelated = await computeCriticality(graphOf(unrelatedSet(n)));
    for (const metrics of [identical, paraphrased, unrelated]) assertClose(metrics.semanticThreshold, DEFAULT_NULL_THRESHOLD, 1e-4);
    assertClose(paraphrased.semanticEntropy, 2.45, 0.01);
    // Same structure (a path), so D orders the content alone: 1 (one meaning) > D_paraphrased > D_unrelated.
    assertClose(identical.discovery, 1, 1e-5);
    assert.ok(identical.discovery > paraphrased.discovery + 0.3, `${identical.discovery} ${paraphrased.discovery}`);
    assert.ok(paraphrased.discovery > unrelated.discovery + 0.1, `${paraphrased.discovery} ${unrelated.discovery}`);
  });
});
