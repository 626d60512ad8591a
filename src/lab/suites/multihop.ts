/**
 * Multi-hop questions over a generated fictional world (see world.ts), answerable only with search: the
 * corpus (one document per entity) is written as JSONL into the study's output folder and indexed with BM25.
 *
 * Each question carries its hop structure in the form the sim's search policy reads (`hops: [{terms, finds}]`):
 * hop 1 finds a bridge entity (the capital of X), hop 2 searches for the next relation with that entity, and
 * so on; the last hop finds the answer. A real model sees only the question and the retrieved passages.
 *
 * Closed-book difficulty is set high (the facts are fictional, so recall can only guess); open-book
 * difficulty is the sim's default per hop, so what a run scores depends on whether its searches reach the
 * answer within its step and token budget — search steps become a compute axis.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { normalizeAnswer, rngFor, type Rng } from '../../core/index.ts';
import type { SimDistractor, SimSearchHop } from '../../models/index.ts';
import { Bm25Retriever, parseJsonlCorpus } from '../../ops/index.ts';
import type { LabTask, SuiteInstance } from '../types.ts';
import { generateWorld, worldDocuments, type Country, type World } from './world.ts';

export interface MultihopSuiteOptions {
  name: string;
  items: number;
  seed: number;
  /** Hops per question, inclusive range within [1, 3] (default [1, 3]). */
  hops?: [number, number];
  /** Countries in the world (default: enough for the items, at least 6). */
  countries?: number;
  /** Where to write the corpus JSONL; in memory only when omitted. */
  corpusPath?: string;
}

/** Closed-book difficulty: unknowable facts, a little harder to guess with every hop. */
const CLOSED_BOOK_BASE = 5;
const CLOSED_BOOK_PER_HOP = 0.6;

interface Question {
  prompt: string;
  answer: string;
  hops: SimSearchHop[];
  /** Entities of the answer's type, the most plausible confusion first. */
  confusions: string[];
  template: string;
}

type Template = (world: World, country: Country, rng: Rng) => Question;

const otherCities = (world: World, not: string): string[] => [...world.cities.keys()].filter((name) => name !== not);

const TEMPLATES: Record<1 | 2 | 3, Record<string, Template>> = {
  1: {
    capital: (world, country) => ({
      prompt: `What is the capital of ${country.name}?`,
      answer: country.capital,
      hops: [{ terms: ['capital', country.name] }],
      confusions: [country.otherCity, ...otherCities(world, country.capital)],
      template: 'capital',
    }),
    currency: (world, country) => ({
      prompt: `What is the currency of ${country.name}?`,
      answer: country.currency,
      hops: [{ terms: ['currency', country.name] }],
      confusions: world.countries.filter((other) => other !== country).map((other) => other.currency),
      template: 'currency',
    }),
    'city-river': (world, country, rng) => {
      const city = world.cities.get(rng.next() < 0.5 ? country.capital : country.otherCity)!;
      return {
        prompt: `On which river does ${city.name} lie?`,
        answer: city.river,
        hops: [{ terms: ['river', city.name] }],
        confusions: [...world.rivers.keys()].filter((name) => name !== city.river),
        template: 'city-river',
      };
    },
  },
  2: {
    'capital-river': (world, country) => {
      const city = world.cities.get(country.capital)!;
      return {
        prompt: `On which river does the capital of ${country.name} lie?`,
        answer: city.river,
        hops: [{ terms: ['capital', country.name], finds: city.name }, { terms: ['river'] }],
        confusions: [world.cities.get(country.otherCity)!.river, ...world.rivers.keys()].filter((name) => name !== city.river),
        template: 'capital-river',
      };
    },
    'ruler-birthplace': (world, country) => {
      const person = world.people.get(country.ruler)!;
      return {
        prompt: `In which city was the ruler of ${country.name} born?`,
        answer: person.birthplace,
        hops: [{ terms: ['ruler', country.name], finds: person.name }, { terms: ['born'] }],
        confusions: [country.capital, ...otherCities(world, person.birthplace)].filter((name) => name !== person.birthplace),
        template: 'ruler-birthplace',
      };
    },
    'capital-founder': (world, country) => {
      const city = world.cities.get(country.capital)!;
      return {
        prompt: `Who founded the capital of ${country.name}?`,
        answer: city.founder,
        hops: [{ terms: ['capital', country.name], finds: city.name }, { terms: ['founded'] }],
        confusions: [
          world.cities.get(country.otherCity)!.founder,
          country.ruler,
          ...[...world.people.keys()].filter((name) => name !== city.founder),
        ],
        template: 'capital-founder',
      };
    },
  },
  3: {
    'capital-river-source': (world, country) => {
      const city = world.cities.get(country.capital)!;
      const river = world.rivers.get(city.river)!;
      return {
        prompt: `On which mountain does the river of the capital of ${country.name} rise?`,
        answer: river.mountain,
        hops: [
          { terms: ['capital', country.name], finds: city.name },
          { terms: ['river'], finds: river.name },
          { terms: ['rises', 'mountain'] },
        ],
        confusions: [...world.mountains.keys()].filter((name) => name !== river.mountain),
        template: 'capital-river-source',
      };
    },
    'capital-founder-birthplace': (world, country) => {
      const city = world.cities.get(country.capital)!;
      const founder = world.people.get(city.founder)!;
      return {
        prompt: `Where was the founder of the capital of ${country.name} born?`,
        answer: founder.birthplace,
        hops: [{ terms: ['capital', country.name], finds: city.name }, { terms: ['founded'], finds: founder.name }, { terms: ['born'] }],
        confusions: [city.name, ...otherCities(world, founder.birthplace)].filter((name) => name !== founder.birthplace),
        template: 'capital-founder-birthplace',
      };
    },
  },
};

/** Concentrated wrong answers, as real mistakes are: the plausible confusion dominates. */
function distractorsFor(question: Question, rng: Rng): SimDistractor[] {
  const unique = [...new Set(question.confusions)].filter((name) => normalizeAnswer(name) !== normalizeAnswer(question.answer));
  const [first, ...rest] = unique;
  const tail: string[] = [];
  while (tail.length < Math.min(3, rest.length)) {
    const candidate = rng.pick(rest);
    if (!tail.includes(candidate)) tail.push(candidate);
  }
  return [
    ...(first !== undefined ? [{ answer: first, weight: 0.55 }] : []),
    ...tail.map((answer, index) => ({ answer, weight: index === 0 ? 0.25 : 0.1 })),
  ];
}

/** Titles and qualifiers a real model may add ("Mount Kessra", "the river Oska") are not errors. */
const QUALIFIERS = /^(?:the\s+)?(?:mount|mt\.?|river|city of|queen|king|duke|archon|high steward)\s+/;
const loose = (value: string): string =>
  normalizeAnswer(value)
    .replace(/^the\s+/, '')
    .replace(QUALIFIERS, '')
    .trim();

export function multihopCheck(task: LabTask, answer: string | undefined): number {
  return answer !== undefined && loose(answer) === loose(task.answer) ? 1 : 0;
}

export function multihopSuite(options: MultihopSuiteOptions): SuiteInstance {
  const [minHops, maxHops] = options.hops ?? [1, 3];
  if (!(minHops >= 1 && maxHops <= 3 && minHops <= maxHops))
    throw new RangeError(`hops must lie within [1, 3], got [${minHops}, ${maxHops}]`);
  const countries = options.countries ?? Math.max(6, Math.ceil(options.items / 2));
  const world = generateWorld(rngFor(options.seed, 'lab-world-seed', options.name).int(2 ** 31), countries);
  const docs = worldDocuments(world);
  const jsonl = `${docs.map((doc) => JSON.stringify(doc)).join('\n')}\n`;
  if (options.corpusPath !== undefined) {
    mkdirSync(dirname(options.corpusPath), { recursive: true });
    writeFileSync(options.corpusPath, jsonl);
  }
  const retriever = new Bm25Retriever(parseJsonlCorpus(jsonl, options.corpusPath ?? `${options.name}.jsonl`));
  const tasks: LabTask[] = [];
  const used = new Set<string>();
  const rng = rngFor(options.seed, 'lab-multihop', options.name);
  for (let index = 0; tasks.length < options.items; index++) {
    if (index > options.items * 200)
      throw new RangeError(`Could not generate ${options.items} distinct questions from ${countries} countries; raise "countries"`);
    const hops = (minHops + (tasks.length % (maxHops - minHops + 1))) as 1 | 2 | 3;
    const templates = Object.values(TEMPLATES[hops]);
    const country = rng.pick(world.countries);
    const question = rng.pick(templates)(world, country, rng);
    if (used.has(question.prompt)) continue;
    used.add(question.prompt);
    tasks.push({
      id: `${options.name}/s${options.seed}/${tasks.length}`,
      prompt: question.prompt,
      answer: question.answer,
      difficulty: CLOSED_BOOK_BASE + CLOSED_BOOK_PER_HOP * hops,
      distractors: distractorsFor(question, rng),
      hops: question.hops,
      suite: options.name,
      meta: { hops, template: question.template },
    });
  }
  return {
    name: options.name,
    kind: 'multihop',
    seed: options.seed,
    tasks,
    check: multihopCheck,
    retriever,
    ...(options.corpusPath !== undefined ? { corpusPath: options.corpusPath } : {}),
    description: `${tasks.length} questions of ${minHops}–${maxHops} hops over a generated world (${docs.length} documents)`,
  };
}
