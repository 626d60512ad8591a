/**
 * A generated fictional world for multi-hop questions: countries, cities, rivers, mountains and people,
 * linked by relations (capital, ruler, river, source mountain, founder, birthplace). Fictional on purpose:
 * no model can know these facts, so a question is answerable only by searching the corpus written from the
 * world — which is what makes search steps a measurable compute axis.
 *
 * Names are built from syllables, unique, and never a prefix of one another: the BM25 retriever
 * prefix-matches query terms of four letters or more, so "Velor" must not also find "Veloria".
 */
import { rngFor, type Rng } from '../../core/index.ts';

export interface Country {
  name: string;
  capital: string;
  otherCity: string;
  ruler: string;
  rulerTitle: string;
  currency: string;
  neighbour: string;
}
export interface City {
  name: string;
  country: string;
  river: string;
  founder: string;
  founded: number;
  trade: string;
}
export interface River {
  name: string;
  mountain: string;
  cities: string[];
}
export interface Mountain {
  name: string;
  height: number;
  country: string;
}
export interface Person {
  name: string;
  role: string;
  birthplace: string;
  born: number;
}

export interface World {
  countries: Country[];
  cities: Map<string, City>;
  rivers: Map<string, River>;
  mountains: Map<string, Mountain>;
  people: Map<string, Person>;
}

export interface WorldDocument {
  id: string;
  title: string;
  text: string;
}

const SYLLABLES = (
  'ka ve lor mar nis tal sen quel bra dor fen gar hol isk jor kes lum mor nav ost pel ris sar tor ul var wen yr zan bel cor dral esk fal grim hest ' +
  'ith kal lin myr nor pav rud sil tev umb vex wyl'
).split(' ');
const FIRST_NAMES =
  'Ilsa Aren Corin Dessa Elio Faren Galen Hedda Ivo Jessa Kael Liska Maren Nilo Orla Pell Quin Reva Soren Tamsin Ulric Vesna Wend Yara'.split(
    ' ',
  );
const TRADES = ['salt', 'amber', 'wool', 'timber', 'glass', 'barley', 'copper', 'dyes', 'fish', 'horses'];
const RULER_TITLES = ['Queen', 'King', 'High Steward', 'Duke', 'Archon'];
const ROLES = ['scholar', 'merchant', 'general', 'poet', 'engineer', 'navigator'];
const CURRENCY_SUFFIX = ['', 'el', 'on', 'ik'];

class NameMaker {
  private readonly used: string[];
  constructor(
    private readonly rng: Rng,
    reserved: readonly string[] = [],
  ) {
    this.used = reserved.map((word) => word.toLowerCase());
  }

  /** A fresh capitalised name of `syllables` syllables plus `suffix`, not a prefix of (or prefixed by) any other. */
  make(syllables: number, suffix = ''): string {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      let word = '';
      for (let index = 0; index < syllables; index++) word += SYLLABLES[this.rng.int(SYLLABLES.length)];
      word += suffix;
      if (word.length < 4) continue;
      const lower = word.toLowerCase();
      if (this.used.some((other) => other.startsWith(lower) || lower.startsWith(other))) continue;
      this.used.push(lower);
      return lower[0]!.toUpperCase() + lower.slice(1);
    }
    throw new RangeError('name space exhausted');
  }
}

/** A world with `countries` countries (two cities each), about one river per two cities, one mountain per river. */
export function generateWorld(seed: number, countries: number): World {
  const rng = rngFor(seed, 'lab-world');
  const names = new NameMaker(rng, FIRST_NAMES);
  const countryNames = Array.from({ length: countries }, () => names.make(2, rng.pick(['ia', 'and', 'ora', 'esh'])));
  const cityNames = Array.from({ length: countries * 2 }, () => names.make(2 + rng.int(2)));
  const riverCount = Math.max(2, Math.ceil(countries));
  const riverNames = Array.from({ length: riverCount }, () => names.make(2, 'a'));
  const mountainNames = Array.from({ length: riverCount }, () => names.make(2, rng.pick(['ar', 'en', 'ith'])));
  const personName = (): string => `${rng.pick(FIRST_NAMES)} ${names.make(2)}`;

  const cities = new Map<string, City>();
  const people = new Map<string, Person>();
  const rivers = new Map<string, River>();
  const mountains = new Map<string, Mountain>();
  riverNames.forEach((name, index) => {
    const mountain = mountainNames[index]!;
    rivers.set(name, { name, mountain, cities: [] });
    mountains.set(mountain, { name: mountain, height: 1800 + rng.int(3200), country: countryNames[index % countries]! });
  });
  const list: Country[] = countryNames.map((name, index) => {
    const capital = cityNames[2 * index]!;
    const otherCity = cityNames[2 * index + 1]!;
    return {
      name,
      capital,
      otherCity,
      ruler: personName(),
      rulerTitle: rng.pick(RULER_TITLES),
      currency: names.make(1, rng.pick(CURRENCY_SUFFIX) || 'un').toLowerCase(),
      neighbour: countryNames[(index + 1) % countries]!,
    };
  });
  for (const country of list) {
    for (const cityName of [country.capital, country.otherCity]) {
      const river = riverNames[rng.int(riverNames.length)]!;
      rivers.get(river)!.cities.push(cityName);
      const founder = personName();
      cities.set(cityName, { name: cityName, country: country.name, river, founder, founded: 900 + rng.int(900), trade: rng.pick(TRADES) });
    }
  }
  // Birthplaces are drawn after every city exists, so anyone can be born anywhere (a real extra hop).
  const allCities = [...cities.keys()];
  for (const country of list)
    people.set(country.ruler, { name: country.ruler, role: 'ruler', birthplace: rng.pick(allCities), born: 1700 + rng.int(150) });
  for (const city of cities.values())
    people.set(city.founder, {
      name: city.founder,
      role: rng.pick(ROLES),
      birthplace: rng.pick(allCities),
      born: city.founded - 20 - rng.int(40),
    });
  return { countries: list, cities, rivers, mountains, people };
}

/** One short document per entity (title = the entity's name), stating its relations in plain sentences. */
export function worldDocuments(world: World): WorldDocument[] {
  const docs: WorldDocument[] = [];
  const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  for (const country of world.countries) {
    docs.push({
      id: `country/${slug(country.name)}`,
      title: country.name,
      text:
        `${country.name} is a country of the Outer ` +
        `Reach, bordering ${country.neighbour}. The capital of ${country.name} is ${country.capital}, and its second city is ${country.otherCity}. ` +
        `${country.name} is ruled by ${country.rulerTitle} ${country.ruler}. The currency of ${country.name} is the ${country.currency}.`,
    });
  }
  for (const city of world.cities.values()) {
    docs.push({
      id: `city/${slug(city.name)}`,
      title: city.name,
      text:
        `${city.name} is a city in ${city.country}. ${city.name} lies on the river ${city.river}. It was founded by ${city.founder} in the year ` +
        `${city.founded}, and its markets are known for ${city.trade}.`,
    });
  }
  for (const river of world.rivers.values()) {
    const through = river.cities.length > 0 ? ` and flows past ${river.cities.join(', ')}` : '';
    docs.push({
      id: `river/${slug(river.name)}`,
      title: river.name,
      text: `The ${river.name} is a river of the Outer Reach. The ${river.name} rises on Mount ${river.mountain}${through}.`,
    });
  }
  for (const mountain of world.mountains.values()) {
    docs.push({
      id: `mountain/${slug(mountain.name)}`,
      title: `Mount ${mountain.name}`,
      text: `Mount ${mountain.name} is a peak in ${mountain.country}, ${mountain.height} metres high.`,
    });
  }
  for (const person of world.people.values()) {
    const role = person.role === 'ruler' ? 'a ruler' : `a ${person.role}`;
    docs.push({
      id: `person/${slug(person.name)}`,
      title: person.name,
      text: `${person.name} is ${role} of the Outer Reach. ${person.name} was born in ${person.birthplace} in ${person.born}.`,
    });
  }
  return docs;
}
