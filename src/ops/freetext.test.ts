import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFreeText, meanSimilarities, parseFreeTextChoice, type FreeTextSample } from './freetext.ts';

const sample = (index: number, text: string, answer?: string, extractor?: FreeTextSample['extractor']): FreeTextSample => ({
  index,
  text,
  answer,
  extractor,
  nodeId: undefined,
});

describe('free-text votes', () => {
  it('counts samples as free text when most carry no explicit short answer (a last number alone is none)', () => {
    const prose = [
      sample(0, 'The sky looks blue because air scatters short wavelengths more.'),
      sample(1, 'Rayleigh scattering: blue light is scattered about 5 times more than red.', '5', 'last-number'),
      sample(2, 'Blue light scatters more in the atmosphere, so the sky is blue.'),
    ];
    assert.equal(isFreeText(prose), true);
    const answered = [
      sample(0, 'Answer: 391', '391', 'answer-line'),
      sample(1, 'Answer: 391', '391', 'answer-line'),
      sample(2, 'so 391', '391', 'last-number'),
    ];
    assert.equal(isFreeText(answered), false);
    // A recorded answer of unknown provenance counts as explicit.
    assert.equal(isFreeText([sample(0, 'x', '4'), sample(1, 'y', '4')]), false);
    // Nothing to choose from: cut-off or stand-in replies only.
    assert.equal(isFreeText([{ ...sample(0, 'The sky is'), truncated: true }, sample(1, '[simulated placeholder] no oracle')]), false);
  });

  it('reads the USC choice in the forms models write it, and refuses numbers out of range', () => {
    assert.equal(parseFreeTextChoice('The most consistent response is Response 3.', 4), 3);
    assert.equal(parseFreeTextChoice('Responses 1, 2 and 4 agree.\n\n**The most consistent response is Response 2**', 4), 2);
    assert.equal(parseFreeTextChoice('After comparing them all.\nAnswer: Response 4', 4), 4);
    assert.equal(parseFreeTextChoice('{"answer": "2"}', 3), 2);
    assert.equal(parseFreeTextChoice('I would pick Response 1; it covers everything.', 3), 1);
    assert.equal(parseFreeTextChoice('The most consistent response is Response 7.', 4), undefined);
    assert.equal(parseFreeTextChoice('Response 1 and Response 2 are both fine.', 4), undefined);
    assert.equal(parseFreeTextChoice('They are all good.', 4), undefined);
  });

  it('scores paraphrases as closer to each other than to an outlier', () => {
    const similarities = meanSimilarities([
      'Sunlight is scattered by the molecules of the air, and blue light is scattered most.',
      'Blue light is scattered most by air molecules, so scattered sunlight looks blue.',
      'Air molecules scatter the blue part of sunlight most strongly.',
      'Because the sky reflects the colour of the ocean.',
    ]);
    const outlier = similarities[3]!;
    for (const paraphrase of similarities.slice(0, 3)) assert.ok(paraphrase > outlier, `${paraphrase} > ${outlier}`);
    assert.deepEqual(meanSimilarities(['alone']), [1]);
  });
});
