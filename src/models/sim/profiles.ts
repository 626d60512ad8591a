/**
 * Simulated model profiles: the handful of numbers that make one `sim:` model behave differently from
 * another — ability on the task-difficulty scale, how much extra tokens help, price, latency, context window,
 * verbosity, confidence calibration, verifier quality and fault rates.
 *
 * The defaults are calibrated (see `calibration.test.ts`) so the qualitative findings of `anchors.md`
 * reproduce: self-consistency gains of ~10–18 points for the medium model on multi-step arithmetic, a small
 * model with ~15 votes near a large model's single-sample accuracy, and extra tokens that help reasoners but
 * barely help non-reasoners. They are not measurements of any real model.
 */
import { InvalidInputError, type InputIssue } from '../../core/index.ts';

export type SimTier = 'small' | 'medium' | 'large';

/** Per-call fault probabilities. All default to 0 so tests opt in to chaos explicitly. */
export interface SimFaultRates {
  /** HTTP-429-like refusal carrying a retry-after. */
  rateLimit: number;
  /** What the rate-limited response asks the caller to wait, in ms. */
  retryAfterMs: number;
  /** HTTP 500/503. */
  serverError: number;
  /** The call hangs and then fails with TimeoutError. */
  timeout: number;
  /** How long a timed-out call hangs before failing (clock ms). */
  timeoutAfterMs: number;
  /** Structured output (responseSchema given) comes back as text that is not valid JSON. */
  malformedJson: number;
  /** Output stops early with finishReason 'length' and no answer. */
  truncated: number;
}

export interface SimLatency {
  /** Time to first token, ms. */
  ttftMs: number;
  /** Generation time per output token, ms. */
  perTokenMs: number;
}

/**
 * Self-reported confidence = σ(bias + sharpness·logit(pCorrect) ± signal + noise·N(0,1)). A positive bias is
 * over-confidence (small models); sharpness < 1 means the reported number tracks the real odds only loosely.
 */
export interface SimConfidenceCalibration {
  bias: number;
  sharpness: number;
  noise: number;
}

/** Behaviour in agent networks (AgentsNet-style message passing); consumed by the network layer. */
export interface SimAgentPolicy {
  /** Probability of adopting a neighbour's claim without checking it. */
  uncriticalAcceptance: number;
  /** Probability of telling neighbours which strategy it adopted. */
  strategyAnnouncement: number;
  /** Rounds it takes to settle on a shared strategy. */
  lateAgreementRounds: number;
}

export interface SimProfile {
  tier: SimTier;
  /** θ: ability on the same logit scale as task difficulty (IRT-style). */
  skill: number;
  /** a: discrimination — how sharply P(correct) falls as difficulty passes skill. Lower = noisier model. */
  discrimination: number;
  /** Whether extra reasoning tokens are productive (a trained reasoning model). */
  reasoning: boolean;
  /** γ in gain(tokens) = γ·log(1 + tokens/τ). Small for non-reasoners: more words, not more thought. */
  tokenGain: number;
  /** τ in gain(tokens), in output tokens. */
  tokenScale: number;
  /** Typical output tokens of an answer at the default ('medium') reasoning effort. */
  verbosity: number;
  /** Fractional extra output tokens per unit of task difficulty above 0 (reasoners think longer on hard items). */
  verbosityGrowth: number;
  priceInputPerMillion: number;
  priceOutputPerMillion: number;
  contextWindow: number;
  latency: SimLatency;
  confidence: SimConfidenceCalibration;
  /** Logit offset added to skill when judging a candidate answer (verifying is easier than solving for some). */
  verifierQuality: number;
  faults: SimFaultRates;
  agentPolicy: SimAgentPolicy;
}

const NO_FAULTS: SimFaultRates = {
  rateLimit: 0,
  retryAfterMs: 1_000,
  serverError: 0,
  timeout: 0,
  timeoutAfterMs: 30_000,
  malformedJson: 0,
  truncated: 0,
};

/**
 * Skills, discriminations and token gains below were tuned together with the instance-noise spread in
 * `accuracy.ts` (INSTANCE_NOISE_SD); change them as a set and re-run the calibration tests.
 */
function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value))
    if (typeof inner === 'object' && inner !== null && !Object.isFrozen(inner)) deepFreeze(inner as object);
  return Object.freeze(value);
}

/** Frozen all the way down: callers derive variants with mergeSimProfile, which copies. */
export const DEFAULT_SIM_PROFILES: Readonly<Record<string, SimProfile>> = deepFreeze({
  small: {
    tier: 'small',
    skill: 1.7,
    discrimination: 0.8,
    reasoning: false,
    tokenGain: 0.12,
    tokenScale: 300,
    verbosity: 140,
    verbosityGrowth: 0.08,
    priceInputPerMillion: 0.1,
    priceOutputPerMillion: 0.4,
    contextWindow: 32_768,
    latency: { ttftMs: 150, perTokenMs: 6 },
    confidence: { bias: 1.2, sharpness: 0.5, noise: 0.7 },
    verifierQuality: -0.3,
    faults: NO_FAULTS,
    agentPolicy: { uncriticalAcceptance: 0.6, strategyAnnouncement: 0.3, lateAgreementRounds: 4 },
  },
  medium: {
    tier: 'medium',
    skill: 2.05,
    discrimination: 1.0,
    reasoning: false,
    tokenGain: 0.12,
    tokenScale: 300,
    verbosity: 170,
    verbosityGrowth: 0.08,
    priceInputPerMillion: 0.5,
    priceOutputPerMillion: 1.5,
    contextWindow: 128_000,
    latency: { ttftMs: 300, perTokenMs: 12 },
    confidence: { bias: 0.6, sharpness: 0.7, noise: 0.6 },
    verifierQuality: 0.2,
    faults: NO_FAULTS,
    agentPolicy: { uncriticalAcceptance: 0.45, strategyAnnouncement: 0.45, lateAgreementRounds: 3 },
  },
  large: {
    tier: 'large',
    skill: 2.4,
    discrimination: 1.8,
    reasoning: false,
    tokenGain: 0.15,
    tokenScale: 300,
    verbosity: 220,
    verbosityGrowth: 0.08,
    priceInputPerMillion: 3,
    priceOutputPerMillion: 15,
    contextWindow: 200_000,
    latency: { ttftMs: 500, perTokenMs: 25 },
    confidence: { bias: 0.2, sharpness: 0.9, noise: 0.5 },
    verifierQuality: 0.6,
    faults: NO_FAULTS,
    agentPolicy: { uncriticalAcceptance: 0.3, strategyAnnouncement: 0.6, lateAgreementRounds: 2 },
  },
  'reasoner-small': {
    tier: 'small',
    skill: 1.25,
    discrimination: 1.1,
    reasoning: true,
    tokenGain: 0.9,
    tokenScale: 250,
    verbosity: 480,
    verbosityGrowth: 0.25,
    priceInputPerMillion: 0.15,
    priceOutputPerMillion: 0.6,
    contextWindow: 65_536,
    latency: { ttftMs: 250, perTokenMs: 8 },
    confidence: { bias: 0.9, sharpness: 0.6, noise: 0.6 },
    verifierQuality: 0.2,
    faults: NO_FAULTS,
    agentPolicy: { uncriticalAcceptance: 0.5, strategyAnnouncement: 0.4, lateAgreementRounds: 3 },
  },
  'reasoner-large': {
    tier: 'large',
    skill: 2.0,
    discrimination: 1.8,
    reasoning: true,
    tokenGain: 1.0,
    tokenScale: 300,
    verbosity: 900,
    verbosityGrowth: 0.25,
    priceInputPerMillion: 3,
    priceOutputPerMillion: 15,
    contextWindow: 200_000,
    latency: { ttftMs: 700, perTokenMs: 20 },
    confidence: { bias: 0.1, sharpness: 1.0, noise: 0.4 },
    verifierQuality: 1.0,
    faults: NO_FAULTS,
    agentPolicy: { uncriticalAcceptance: 0.25, strategyAnnouncement: 0.65, lateAgreementRounds: 2 },
  },
} satisfies Record<string, SimProfile>);

type NestedKey = 'latency' | 'confidence' | 'faults' | 'agentPolicy';

/** Field-wise overrides: scalars replace, nested groups merge key by key. */
export type SimProfileOverrides = {
  [K in keyof SimProfile]?: K extends NestedKey ? Partial<SimProfile[K]> : SimProfile[K];
};

/** Fleet-level fields that arrive alongside profile overrides (from the fleet config) and are not the sim's business. */
const FLEET_KEYS = new Set(['maxConcurrency', 'timeoutMs', 'description']);

type FieldKind = 'number' | 'nonnegative' | 'positive' | 'probability' | 'integer' | 'boolean' | 'tier';

const SCALAR_FIELDS: Record<Exclude<keyof SimProfile, NestedKey>, FieldKind> = {
  tier: 'tier',
  skill: 'number',
  discrimination: 'positive',
  reasoning: 'boolean',
  tokenGain: 'nonnegative',
  tokenScale: 'positive',
  verbosity: 'positive',
  verbosityGrowth: 'nonnegative',
  priceInputPerMillion: 'nonnegative',
  priceOutputPerMillion: 'nonnegative',
  contextWindow: 'integer',
  verifierQuality: 'number',
};

const NESTED_FIELDS: { [K in NestedKey]: Record<keyof SimProfile[K], FieldKind> } = {
  latency: { ttftMs: 'nonnegative', perTokenMs: 'nonnegative' },
  confidence: { bias: 'number', sharpness: 'nonnegative', noise: 'nonnegative' },
  faults: {
    rateLimit: 'probability',
    retryAfterMs: 'nonnegative',
    serverError: 'probability',
    timeout: 'probability',
    timeoutAfterMs: 'nonnegative',
    malformedJson: 'probability',
    truncated: 'probability',
  },
  agentPolicy: { uncriticalAcceptance: 'probability', strategyAnnouncement: 'probability', lateAgreementRounds: 'nonnegative' },
};

function checkField(kind: FieldKind, value: unknown): string | undefined {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'tier':
      return value === 'small' || value === 'medium' || value === 'large' ? undefined : 'must be "small", "medium" or "large"';
    default:
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
      if (kind === 'nonnegative' && value < 0) return 'must be ≥ 0';
      if (kind === 'positive' && value <= 0) return 'must be > 0';
      if (kind === 'integer' && (!Number.isInteger(value) || value <= 0)) return 'must be a positive integer';
      if (kind === 'probability' && (value < 0 || value > 1)) return 'must be between 0 and 1';
      return undefined;
  }
}

/**
 * A profile with overrides applied. Overrides usually come from a fleet config file, so they are checked
 * here (types and ranges, unknown keys rejected to catch typos) and every problem is reported at once as
 * INVALID_CONFIG. Fleet-level keys (maxConcurrency, timeoutMs, description) are ignored.
 */
export function mergeSimProfile(base: SimProfile, overrides: SimProfileOverrides | Readonly<Record<string, unknown>> = {}): SimProfile {
  const issues: InputIssue[] = [];
  const merged: SimProfile = {
    ...base,
    latency: { ...base.latency },
    confidence: { ...base.confidence },
    faults: { ...base.faults },
    agentPolicy: { ...base.agentPolicy },
  };
  const target = merged as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined || FLEET_KEYS.has(key)) continue;
    if (key in SCALAR_FIELDS) {
      const problem = checkField(SCALAR_FIELDS[key as keyof typeof SCALAR_FIELDS], value);
      if (problem) issues.push({ path: key, message: problem });
      else target[key] = value;
    } else if (key in NESTED_FIELDS) {
      const fields = NESTED_FIELDS[key as NestedKey] as Record<string, FieldKind>;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.push({ path: key, message: `must be an object with fields ${Object.keys(fields).join(', ')}` });
        continue;
      }
      const group = target[key] as Record<string, unknown>;
      for (const [inner, innerValue] of Object.entries(value)) {
        if (innerValue === undefined) continue;
        const kind = fields[inner];
        const problem = kind ? checkField(kind, innerValue) : `unknown field (known: ${Object.keys(fields).join(', ')})`;
        if (problem) issues.push({ path: `${key}.${inner}`, message: problem });
        else group[inner] = innerValue;
      }
    } else {
      issues.push({
        path: key,
        message: `unknown simulated-profile field (known: ${[...Object.keys(SCALAR_FIELDS), ...Object.keys(NESTED_FIELDS)].join(', ')})`,
      });
    }
  }
  if (issues.length > 0) throw new InvalidInputError('Invalid simulated-profile overrides', issues, 'INVALID_CONFIG');
  return merged;
}
