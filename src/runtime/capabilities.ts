/**
 * `solve --workflow` with capability nodes: the registry-backed resolver the executor binds them through, the
 * run's policy (`--require` / `--forbid` labels), and a preflight that binds every capability node before the
 * journal is opened — a run whose capabilities cannot be bound is rejected (exit 2, CAPABILITY_UNRESOLVED)
 * and writes nothing. The registry is found as `thicket agents` finds it (--registry, $THICKET_REGISTRY,
 * registry.db beside the journal) and is never created here.
 *
 * The preflight's bindings are a check and a preview: each node is bound again when it starts, under its own
 * budget slice (workflow/capability.ts). At run time a binding must also keep the run's simulated/real nature,
 * decided up front from the preview (a simulated run runs on a virtual clock, which a real model cannot use).
 */
import { existsSync } from 'node:fs';
import type { FleetResolver } from '../models/index.ts';
import {
  defaultRegistryPath,
  openRegistry,
  workflowCapabilityResolver,
  type CapabilityRegistry,
  type Embedder,
} from '../registry/index.ts';
import {
  CapabilityUnresolvedError,
  MODEL_FREE_OPS,
  checkWorkflow,
  preflightCapabilities,
  type CapabilityBinding,
  type CapabilityPolicy,
  type CapabilityResolver,
  type OperatorRegistry,
} from '../workflow/index.ts';

export interface CapabilityWiring {
  policy: CapabilityPolicy;
  /** The preflight's binding per capability node. */
  preview: Record<string, CapabilityBinding>;
  /** Models the preview bound (for deciding whether the run is simulated). */
  models: string[];
  /** Set when every model-calling node names a capability, so no node can ever fall back to a default model. */
  defaultModel: string | undefined;
  /** The executor's resolver; `simulated` is the run's nature, which a binding must keep. */
  resolverFor(simulated: boolean): CapabilityResolver;
  close(): Promise<void>;
}

export interface CapabilityFlags {
  registry?: string;
  require?: string[];
  forbid?: string[];
  provider?: string[];
  /** Already validated by the caller (a non-negative number as text). */
  maxCostPerCall?: string;
}

const canCallWith =
  (profiles: FleetResolver, simulated?: boolean) =>
  (model: string): string | undefined => {
    try {
      const resolved = profiles.resolve(model);
      // A model that cannot be called (its API key variable is unset) is not a binding candidate.
      if (resolved.notReady) return resolved.notReady.message;
      if (simulated !== undefined && resolved.profile.simulated !== simulated) {
        return simulated
          ? 'a real model cannot join a simulated run (it runs on a virtual clock)'
          : 'a simulated model cannot join a run with real models';
      }
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

/**
 * Undefined when the spec has no capability node (or does not validate: the caller's validation reports
 * that). Otherwise binds every capability node that will run, or throws CapabilityUnresolvedError listing
 * each node that cannot be bound.
 */
export async function prepareCapabilities(
  spec: unknown,
  options: {
    flags: CapabilityFlags;
    operators: OperatorRegistry;
    profiles: FleetResolver;
    budgetUsd: number | undefined;
    /** The registry's embedder (the config's `embedder`); default: the hashing embedder. */
    embedder?: Embedder;
  },
): Promise<CapabilityWiring | undefined> {
  const { workflow } = checkWorkflow(spec, { operators: options.operators });
  if (workflow === undefined) return undefined;
  const capabilityNodes = workflow.nodes.filter((node) => node.capability !== undefined && node.reachable);
  if (capabilityNodes.length === 0) return undefined;
  const policy: CapabilityPolicy = {
    ...(options.flags.require && options.flags.require.length > 0 ? { require: options.flags.require } : {}),
    ...(options.flags.forbid && options.flags.forbid.length > 0 ? { forbid: options.flags.forbid } : {}),
    ...(options.flags.provider && options.flags.provider.length > 0 ? { providers: options.flags.provider } : {}),
    ...(options.flags.maxCostPerCall !== undefined ? { maxCostPerCall: Number(options.flags.maxCostPerCall) } : {}),
  };
  const path = options.flags.registry ?? defaultRegistryPath();
  if (!existsSync(path)) {
    const detail =
      `no capability registry at ${path}; register models with \`thicket agents sync-fleet\` or \`thicket agents add <cards.json>\`, ` +
      `or pass --registry`;
    throw CapabilityUnresolvedError.of(
      capabilityNodes.map((node) => new CapabilityUnresolvedError(node.id, node.capability!.need, 'no-registry', detail)),
    );
  }
  const specUsd = workflow.spec.limits?.usd;
  const budgetUsd = [options.budgetUsd, specUsd].filter((value): value is number => value !== undefined);
  const preflightRegistry = await openRegistry({ path, ...(options.embedder ? { embedder: options.embedder } : {}) });
  let preview: Record<string, CapabilityBinding>;
  try {
    preview = await preflightCapabilities(workflow.nodes, {
      resolver: workflowCapabilityResolver(preflightRegistry, { canCall: canCallWith(options.profiles) }),
      policy,
      ...(budgetUsd.length > 0 ? { remainingUsd: Math.min(...budgetUsd) } : {}),
      canCall: canCallWith(options.profiles),
    });
  } finally {
    preflightRegistry.close();
  }
  // Opened again on the first binding at run time (and closed by the caller): nothing stays open between.
  let runtime: Promise<CapabilityRegistry> | undefined;
  const everyNodeBound = workflow.nodes.every((node) => !node.reachable || MODEL_FREE_OPS.has(node.op) || node.capability !== undefined);
  const models = [...new Set(Object.values(preview).map((binding) => binding.model))];
  return {
    policy,
    preview,
    models,
    defaultModel: everyNodeBound ? models[0] : undefined,
    resolverFor(simulated) {
      return async (request, context) => {
        runtime ??= openRegistry({ path, ...(options.embedder ? { embedder: options.embedder } : {}) });
        const resolver = workflowCapabilityResolver(await runtime, { canCall: canCallWith(options.profiles, simulated) });
        return resolver(request, context);
      };
    },
    async close() {
      // A failed open has nothing to close (its error reached the node that asked).
      const registry = await runtime?.catch(() => undefined);
      registry?.close();
    },
  };
}
