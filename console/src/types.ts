/** The shapes of the gateway's JSON the console reads (only the fields it uses). */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  usd: number;
  calls: number;
}

export type Limits = Partial<Record<'totalTokens' | 'inputTokens' | 'outputTokens' | 'usd' | 'calls' | 'seconds', number>>;

export interface RunSummary {
  id: string;
  command: string;
  query: string;
  status: string;
  answer: string | null;
  strategy: string | null;
  model: string | null;
  simulated: boolean;
  owner: string | null;
  budget: Limits | null;
  totals: Usage;
  error: unknown;
  created_at: string;
  updated_at: string;
  live: boolean;
}

export interface CallRecord {
  callKey: string;
  model: string;
  provider: string;
  request: { messages?: { role: string; content: string }[] };
  text: string | null;
  stepId: string | null;
  purpose: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  attempts: number;
  failed: boolean;
  replayed?: boolean;
  simulated: boolean;
  createdAt: string;
}

export interface TraceEvent {
  at: number;
  stepId: string;
  type: string;
  data: Record<string, unknown>;
}

export interface StepRecord {
  stepId: string;
  kind: string;
  status: string;
  input: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
  usage: Partial<Usage> | Record<string, Partial<Usage>> | null;
  startedAt: string;
  endedAt: string | null;
}

export interface RunDetails {
  run: {
    id: string;
    command: string;
    query: string;
    args: Record<string, unknown> | null;
    simulated: boolean;
    status: string;
    answer: string | null;
    error: unknown;
    budget: Limits | null;
    /** Null while the run is in flight (the journal writes its totals when it ends). */
    usage: Usage | null;
    owner: string | null;
    createdAt: string;
    updatedAt: string;
  };
  calls: CallRecord[];
  steps: StepRecord[];
  live: boolean;
}

export interface StudyProgress {
  total: number;
  done: number;
  failed: number;
}

export interface StudyJob {
  id: string;
  status: 'running' | 'ok' | 'error' | 'cancelled';
  request: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
  simulated: boolean | null;
  progress?: StudyProgress | null;
  result?: { headline?: { text?: string }; counts?: Record<string, number> } | null;
  error: { message: string } | null;
}

export interface Configuration {
  suite: string;
  architecture: string;
  model: string;
  budget: number;
  n: number;
  accuracy: number;
  meanTokens: number;
}

export interface Decomposition {
  groups: { name: string; shareOfExplained: number; shapley: number }[];
  total: number;
}

export interface StudyReport {
  simulated: boolean;
  analysis: {
    title?: string;
    headline: { text: string };
    configurations: Configuration[];
    frontiers: { suite: string; model: string; pareto: { tokens: number; accuracy: number; label: string }[] }[];
    runLevel: Decomposition;
    bySuite: { suite: string; decomposition: Decomposition }[];
    /** Scaling fits per suite × model × architecture (src/lab/analysis/curve-fit.ts), sampled for drawing. */
    curves?: {
      suite: string;
      model: string;
      architecture: string;
      fit: { model: string; r2: number; points: number };
      samples: { tokens: number; accuracy: number }[];
    }[];
  };
}

export interface RegistryResult {
  ref: string;
  score: number;
  explanation: string | string[] | Record<string, unknown>;
  card: {
    id: string;
    version: string;
    name: string;
    description?: string;
    provider: string;
    labels?: string[];
    skills?: unknown[];
    cost?: Record<string, unknown>;
    latency?: Record<string, unknown>;
    binding?: Record<string, unknown>;
  };
}

export interface KeySpend {
  period: string;
  periodStart: string | null;
  periodEnd: string | null;
  limits: Limits;
  spent: Usage;
  reserved: Usage;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  created_at: string;
  revoked_at: string | null;
  spend?: KeySpend;
}

export interface Interval {
  low: number;
  high: number;
}

export interface EvalStats {
  suite: string;
  architecture: string;
  model: string;
  budget: number;
  n: number;
  accuracy: number;
  accuracyCi: Interval;
  meanTokens: number;
  tokensCi: Interval;
  meanUsd: number;
  usdCi: Interval;
}

export interface EvalComparison {
  suite: string;
  factor: 'architecture' | 'model';
  a: { architecture: string; model: string; budget: number; accuracy: number };
  b: { architecture: string; model: string; budget: number; accuracy: number };
  pairs: number;
  difference: number;
  ci: Interval;
  bootstrapP: number;
  mcnemar?: { aOnly: number; bOnly: number; p: number };
  withinNoise: boolean;
}

export interface EvalResult {
  evalId: string;
  status: string;
  simulated: boolean;
  counts: { planned: number; executed: number; resumed: number; failed: number; notStarted: number };
  elapsedMs: number;
  summary: {
    dataset: { format: string; preset: string; rows: number; items: number; skipped: unknown[]; unit: 'line' | 'row' };
    scorer: string;
    stats: EvalStats[];
    comparisons: EvalComparison[];
    judge?: { model: string; spent: { totalTokens: number; usd: number; calls: number }; verdicts: number };
    systemSpend: { totalTokens: number; usd: number };
  };
}

export interface EvalJob {
  id: string;
  status: 'running' | 'ok' | 'error' | 'cancelled';
  request: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
  simulated: boolean | null;
  progress?: StudyProgress | null;
  result?: EvalResult | null;
  error: { message: string } | null;
}
