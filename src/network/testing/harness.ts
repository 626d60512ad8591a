/**
 * Test helpers for the network layer: fleets over the simulated profiles at zero latency (virtual clock,
 * so runs never sleep) and over a scripted provider whose replies a test writes by hand.
 */
import { VirtualClock, countMessageTokens } from '../../core/index.ts';
import {
  Fleet,
  FleetResolver,
  MODEL_SPEC_VERSION,
  parseFleetConfig,
  type GenerateRequest,
  type GenerateResponse,
  type ModelProvider,
  type ModelResolver,
} from '../../models/index.ts';

const ZERO_LATENCY = { latency: { ttftMs: 0, perTokenMs: 0 } };

/** `large`, `medium`, `small`: the sim profiles of the same names with zero latency. */
export function simFleet(seed = 7): Fleet {
  const clock = new VirtualClock();
  const config = parseFleetConfig({
    version: 1,
    models: {
      large: { provider: 'sim', profile: 'large', overrides: ZERO_LATENCY },
      medium: { provider: 'sim', profile: 'medium', overrides: ZERO_LATENCY },
      small: { provider: 'sim', profile: 'small', overrides: ZERO_LATENCY },
    },
  });
  return new Fleet({ resolver: new FleetResolver({ config, clock, seed }), clock, seed });
}

export type Script = (request: GenerateRequest, agent: string, step: string) => string;

/** A provider that answers with `script(request, agent, step)`; usage counted exactly like the sim's. */
export class ScriptedProvider implements ModelProvider {
  readonly specificationVersion = MODEL_SPEC_VERSION;
  readonly providerId = 'scripted';
  readonly modelId: string;
  readonly requests: GenerateRequest[] = [];
  constructor(
    private readonly script: Script,
    modelId = 'scripted',
  ) {
    this.modelId = modelId;
  }
  async doGenerate(request: GenerateRequest): Promise<GenerateResponse> {
    this.requests.push(request);
    const stepId = request.metadata?.stepId ?? '';
    const [agent = '', ...rest] = stepId.split('/').slice(1);
    const text = this.script(request, agent, rest.join('/'));
    return {
      text,
      usage: { inputTokens: countMessageTokens(request.messages), outputTokens: 20 },
      usageEstimated: false,
      finishReason: 'stop',
      latencyMs: 0,
      simulated: false,
    };
  }
}

/** A fleet whose every reference resolves to its own scripted provider (price: $1 / $4 per million). */
export function scriptedFleet(providers: Record<string, ScriptedProvider>): Fleet {
  const clock = new VirtualClock();
  const resolver: ModelResolver = {
    resolve: (reference) => {
      const provider = providers[reference];
      if (!provider) throw new Error(`no scripted provider for ${reference}`);
      return {
        provider,
        profile: {
          reference,
          tier: 'small',
          priceInputPerMillion: 1,
          priceOutputPerMillion: 4,
          contextWindow: 100_000,
          reasoning: false,
          maxConcurrency: 8,
          timeoutMs: 10_000,
          simulated: false,
        },
        promptMargin: () => 0,
      };
    },
  };
  return new Fleet({ resolver, clock, seed: 1 });
}
