/**
 * A seeded generator of realistic synthetic registries, for the benchmark and tests: cards clustered by
 * (domain × task) — 24 domains × 20 tasks = 480 skill clusters — with varied policy labels, providers, costs,
 * latencies, binding kinds and versions, plus needs drawn from the same clusters.
 *
 * Label frequencies are fixed so that queries hit known selectivities: `residency:eu` is on 10% of cards and
 * `clearance:secret` on 1%, independently of the cluster (the hard case for post-filtered HNSW: passing cards
 * are not near each other). Providers are Zipf-like over 500 names. 5% of ids have an older deprecated
 * version and 1% a yanked one.
 */
import { rngFor, type Rng } from '../../core/index.ts';
import type { CardInput } from '../card.ts';

const DOMAINS: Record<string, string> = {
  finance: 'invoice payment ledger bank account reconciliation tax audit budget expense revenue forecast credit loan interest portfolio',
  legal: 'contract clause court filing statute compliance litigation agreement liability patent trademark regulation dispute counsel',
  medical: 'patient diagnosis clinical symptom treatment prescription radiology lab hospital dosage trial cardiology oncology triage',
  software: 'code repository bug test deployment api function refactor typescript python compiler build pipeline review commit',
  retail: 'product inventory order shipment customer cart catalog pricing discount warehouse return supplier stock checkout',
  travel: 'flight hotel booking itinerary airport visa luggage reservation destination train rental passport tour cruise',
  education: 'student course lesson exam grade curriculum teacher homework lecture quiz tutoring syllabus classroom essay',
  security: 'threat vulnerability malware firewall intrusion phishing encryption incident access credential audit patch exploit',
  marketing: 'campaign audience brand advertisement social engagement conversion funnel newsletter seo content influencer survey',
  hr: 'employee recruitment hiring payroll onboarding benefits interview resume performance leave policy salary training',
  logistics: 'route fleet delivery truck freight container port tracking dispatch carrier warehouse pallet customs',
  energy: 'grid solar wind turbine battery consumption meter outage substation load demand carbon emission utility',
  science: 'experiment hypothesis dataset molecule protein genome simulation physics chemistry telescope sample measurement',
  media: 'video audio podcast subtitle transcript image editing music streaming caption thumbnail episode broadcast',
  realestate: 'property listing mortgage tenant lease rent appraisal zoning inspection buyer seller broker building',
  insurance: 'claim policy premium underwriting coverage risk adjuster deductible actuarial fraud renewal beneficiary',
  manufacturing: 'factory assembly machine sensor defect quality maintenance production line robot tooling yield',
  agriculture: 'crop soil irrigation harvest livestock weather fertilizer yield farm seed pest drone greenhouse',
  government: 'permit citizen tax form benefit census voting license municipal agency public record procurement',
  gaming: 'player level quest matchmaking leaderboard character item economy cheat tournament server lobby',
  automotive: 'vehicle engine diagnostic dealership parts recall mileage battery charging telematics repair fleet',
  telecom: 'network subscriber bandwidth tower roaming billing sim outage latency router spectrum plan',
  food: 'recipe menu restaurant ingredient nutrition allergy kitchen delivery order dish calorie chef',
  research: 'paper citation literature review abstract survey journal peer reviewer bibliography preprint conference',
};

const TASKS: Record<string, string> = {
  summarize: 'summarize summary condense digest overview brief abstract key points',
  translate: 'translate translation language localize french german spanish multilingual',
  classify: 'classify categorize label triage sort tag taxonomy detection',
  extract: 'extract parse fields entities structured data table form scraping',
  answer: 'answer question qa lookup knowledge faq respond explain',
  generate: 'generate draft write compose create produce text report',
  review: 'review check verify validate inspect assess critique proofread',
  plan: 'plan schedule optimize allocate roadmap timeline prioritize strategy',
  search: 'search retrieve find index discover query browse match',
  monitor: 'monitor alert watch track anomaly dashboard observe notify',
  forecast: 'forecast predict projection trend estimate model future demand',
  negotiate: 'negotiate offer counteroffer bargain deal terms settlement',
  reconcile: 'reconcile match compare discrepancy mismatch balance align',
  redact: 'redact anonymize mask pii privacy remove sensitive scrub',
  recommend: 'recommend suggest personalize rank ranking preference shortlist',
  convert: 'convert transform format export import migrate transcode',
  schedule: 'schedule calendar booking appointment slot availability reminder',
  audit: 'audit trail log evidence control compliance checklist finding',
  chat: 'chat conversation assistant support helpdesk dialogue customer',
  visualize: 'visualize chart plot graph diagram dashboard figure',
};

const GENERAL = 'fast reliable accurate secure scalable automated enterprise realtime batch multilingual lightweight open certified'.split(
  ' ',
);
const DOMAIN_NAMES = Object.keys(DOMAINS);
const TASK_NAMES = Object.keys(TASKS);
const words = (text: string) => text.split(' ');
const DOMAIN_WORDS = Object.fromEntries(DOMAIN_NAMES.map((name) => [name, words(DOMAINS[name]!)]));
const TASK_WORDS = Object.fromEntries(TASK_NAMES.map((name) => [name, words(TASKS[name]!)]));

/** Fixed label frequencies (independent of cluster). */
const SYNTHETIC_LABELS: readonly { label: string; share: number }[] = [
  { label: 'residency:eu', share: 0.1 },
  { label: 'residency:us', share: 0.45 },
  { label: 'clearance:secret', share: 0.01 },
  { label: 'clearance:internal', share: 0.2 },
  { label: 'may-use-network', share: 0.6 },
  { label: 'pii-ok', share: 0.25 },
  { label: 'gpu', share: 0.08 },
  { label: 'audited', share: 0.1 },
];

const KINDS = ['a2a', 'a2a', 'a2a', 'a2a', 'mcp', 'mcp', 'mcp', 'agent', 'agent', 'model'] as const;

function sample(rng: Rng, pool: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => rng.pick(pool));
}

function binding(kind: (typeof KINDS)[number], index: number): CardInput['binding'] {
  switch (kind) {
    case 'a2a':
      return { kind, url: `https://agents-${index % 997}.example.com/a2a`, skill: `skill-${index}` };
    case 'mcp':
      return { kind, server: { name: `server-${index % 389}` }, tool: `tool_${index}` };
    case 'agent':
      return { kind, name: `agent-${index}` };
    default:
      return { kind: 'model', ref: `model-${index % 53}` };
  }
}

function oneCard(seed: number, index: number, version: string, status: CardInput['status']): CardInput {
  const rng = rngFor(seed, 'card', index);
  const domain = DOMAIN_NAMES[rng.int(DOMAIN_NAMES.length)]!;
  const task = TASK_NAMES[rng.int(TASK_NAMES.length)]!;
  const description = [
    ...sample(rng, DOMAIN_WORDS[domain]!, 6 + rng.int(5)),
    ...sample(rng, TASK_WORDS[task]!, 3 + rng.int(3)),
    ...sample(rng, GENERAL, 1 + rng.int(2)),
  ].join(' ');
  const labels = SYNTHETIC_LABELS.filter(({ share }) => rng.next() < share).map(({ label }) => label);
  const costRoll = rng.next();
  const cost =
    costRoll < 0.8
      ? { perCallUsd: Number(Math.exp(rng.normal() * 1.2 - 6).toFixed(6)) }
      : costRoll < 0.95
        ? {
            inputPerMillionUsd: Number(Math.exp(rng.normal() - 0.5).toFixed(4)),
            outputPerMillionUsd: Number(Math.exp(rng.normal() + 0.5).toFixed(4)),
          }
        : undefined;
  const p50 = Math.round(Math.exp(rng.normal() * 0.8 + 6.7));
  return {
    id: `syn/${domain}/${task}/${index}`,
    version,
    name: `${domain} ${task} agent ${index}`,
    description,
    skills: [{ id: task, name: `${task} ${domain}`, tags: sample(rng, DOMAIN_WORDS[domain]!, 3) }],
    binding: binding(KINDS[rng.int(KINDS.length)]!, index),
    ...(cost ? { cost } : {}),
    latency: { p50Ms: p50, p95Ms: Math.round(p50 * (1.5 + rng.next() * 2)) },
    labels,
    provider: `provider-${Math.floor(500 * rng.next() ** 3)}`,
    quality: Number((0.2 + 0.7 * rng.next()).toFixed(3)),
    status,
  };
}

/** Yields about `size` cards in batches (older deprecated/yanked versions count toward the size). */
export function* syntheticCards(size: number, seed = 1, batchSize = 5_000): Generator<CardInput[]> {
  let batch: CardInput[] = [];
  let emitted = 0;
  for (let index = 0; emitted < size; index++) {
    const roll = rngFor(seed, 'versions', index).next();
    const versions: CardInput[] =
      roll < 0.01
        ? [oneCard(seed, index, '1.0.0', 'yanked'), oneCard(seed, index, '1.0.1', 'active')]
        : roll < 0.06
          ? [oneCard(seed, index, '1.0.0', 'deprecated'), oneCard(seed, index, '1.1.0', 'active')]
          : [oneCard(seed, index, '1.0.0', 'active')];
    for (const card of versions.slice(0, size - emitted)) {
      batch.push(card);
      emitted++;
    }
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Needs phrased from one (domain, task) cluster each. */
export function syntheticNeeds(count: number, seed = 1): string[] {
  return Array.from({ length: count }, (_, index) => {
    const rng = rngFor(seed, 'need', index);
    const domain = DOMAIN_NAMES[rng.int(DOMAIN_NAMES.length)]!;
    const task = TASK_NAMES[rng.int(TASK_NAMES.length)]!;
    return [...sample(rng, TASK_WORDS[task]!, 2), ...sample(rng, DOMAIN_WORDS[domain]!, 4)].join(' ');
  });
}

/**
 * A stand-in for a real text-embedding model on synthetic text, for benchmarks at scale: it reads a text's
 * topic — the (domain, task) cluster whose vocabulary it uses most — and returns that topic's direction plus a
 * deterministic variation (seeded by the text) in a 16-dimensional subspace of its own, plus a little
 * isotropic noise. Dense embeddings of real text have this shape (topics, low intrinsic dimension); hashed
 * bags of words do not (see bench/registry.ts for both). Deterministic: same text, same vector.
 */
export class SyntheticEmbedder {
  readonly id: string;
  readonly dimension: number;
  private readonly centroids = new Map<string, Float32Array>();
  private readonly bases = new Map<string, Float32Array>();
  private static readonly INTRINSIC = 16;
  private readonly wordTopics = new Map<string, { domains: string[]; tasks: string[] }>();

  constructor(
    dimension = 128,
    private readonly seed = 1,
  ) {
    this.dimension = dimension;
    this.id = `synthetic-v1-${dimension}`;
    for (const domain of DOMAIN_NAMES) for (const word of [domain, ...DOMAIN_WORDS[domain]!]) this.topicsOf(word).domains.push(domain);
    for (const task of TASK_NAMES) for (const word of [task, ...TASK_WORDS[task]!]) this.topicsOf(word).tasks.push(task);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedOne(text));
  }

  embedOne(text: string): Float32Array {
    const domainVotes = new Map<string, number>();
    const taskVotes = new Map<string, number>();
    for (const word of text.toLowerCase().split(/[^a-z0-9]+/)) {
      const topics = this.wordTopics.get(word);
      topics?.domains.forEach((domain) => domainVotes.set(domain, (domainVotes.get(domain) ?? 0) + 1));
      topics?.tasks.forEach((task) => taskVotes.set(task, (taskVotes.get(task) ?? 0) + 1));
    }
    const top = (votes: Map<string, number>, fallback: string) =>
      [...votes].sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))[0]?.[0] ?? fallback;
    const domain = top(domainVotes, DOMAIN_NAMES[0]!);
    const task = top(taskVotes, TASK_NAMES[0]!);
    const rng = rngFor(this.seed, 'text', text);
    const out = new Float32Array(this.dimension);
    const domainCentroid = this.centroid(`d:${domain}`);
    const taskCentroid = this.centroid(`t:${task}`);
    const basis = this.basis(`${domain}/${task}`);
    const weights = Array.from(
      { length: SyntheticEmbedder.INTRINSIC },
      () => rng.normal() * (0.8 / Math.sqrt(SyntheticEmbedder.INTRINSIC)),
    );
    for (let index = 0; index < this.dimension; index++) {
      let value = domainCentroid[index]! + 0.7 * taskCentroid[index]! + (0.05 * rng.normal()) / Math.sqrt(this.dimension);
      for (let axis = 0; axis < weights.length; axis++) value += weights[axis]! * basis[axis * this.dimension + index]!;
      out[index] = value;
    }
    let norm = 0;
    for (const value of out) norm += value * value;
    const scale = 1 / Math.sqrt(norm);
    for (let index = 0; index < out.length; index++) out[index]! *= scale;
    return out;
  }

  private topicsOf(word: string): { domains: string[]; tasks: string[] } {
    let topics = this.wordTopics.get(word);
    if (topics === undefined) this.wordTopics.set(word, (topics = { domains: [], tasks: [] }));
    return topics;
  }

  /** A random unit direction per name. */
  private centroid(name: string): Float32Array {
    let vector = this.centroids.get(name);
    if (vector === undefined) {
      const rng = rngFor(this.seed, 'centroid', name);
      vector = Float32Array.from({ length: this.dimension }, () => rng.normal());
      const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
      for (let index = 0; index < vector.length; index++) vector[index]! /= norm;
      this.centroids.set(name, vector);
    }
    return vector;
  }

  /** INTRINSIC random unit directions per cluster: the subspace its members vary in. */
  private basis(cluster: string): Float32Array {
    let basis = this.bases.get(cluster);
    if (basis === undefined) {
      basis = new Float32Array(SyntheticEmbedder.INTRINSIC * this.dimension);
      for (let axis = 0; axis < SyntheticEmbedder.INTRINSIC; axis++)
        basis.set(this.centroid(`b:${cluster}:${axis}`), axis * this.dimension);
      this.bases.set(cluster, basis);
    }
    return basis;
  }
}
