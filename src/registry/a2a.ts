/**
 * A2A AgentCard ingestion, protocol v0.3 and v1.0, from a file or `<url>/.well-known/agent-card.json`.
 *
 * Versions: a card with `supportedInterfaces` is v1.0 (interfaces `{url, protocolBinding, protocolVersion,
 * tenant?}`, the first preferred; auth in `securitySchemes` as a one-of object per scheme and
 * `securityRequirements[{schemes: {name: {list}}}]`); otherwise v0.3 (top-level `url`, `preferredTransport`,
 * `protocolVersion`, `additionalInterfaces`; OpenAPI-style `securitySchemes[{type}]` and
 * `security[{name: scopes}]`). Both are validated with zod; unknown fields are allowed (cards carry
 * extensions), missing or mistyped required ones are listed with their paths.
 *
 * Mapping (one card per skill, because skills are what a need matches and what a workflow binds to):
 *   id        `a2a:<host>/<agent-name>/<skill-id>` (slugged; `idPrefix` replaces `a2a:<host>/<agent-name>`)
 *   version   the agent's version (coerced to semver: "1.2" → 1.2.0; the original kept in metadata)
 *   name      `<agent>: <skill>`; description: the skill's, then the agent's
 *   skills    that one skill (tags, examples, modes); io modes: the skill's, else the agent's defaults
 *   binding   { kind: 'a2a', url, skill, protocolBinding, protocolVersion } of the preferred interface
 *   provider  provider.organization, else the URL's host
 *   labels    operator labels + `protocol:a2a`, `may-use-network`, and `auth:<type>` per required scheme
 *             (skill requirements override the agent's; `auth:none` when none)
 * An agent with no skills becomes one card for the whole agent (`a2a:<host>/<agent-name>`).
 */
import { z } from 'zod';
import { InvalidInputError } from '../core/index.ts';
import { zodIssues } from '../models/index.ts';
import { parseCards, type Card, type CardInput } from './card.ts';
import { hostOf, isUrl, readJsonFile, slug, toSemver, versionIssue, withOperatorFields, type IngestOptions } from './ingest-common.ts';

const strings = z.array(z.string());
const skill = {
  id: z.string().min(1),
  name: z.string().min(1),
  description: z.string(),
  tags: strings,
  examples: strings.optional(),
  inputModes: strings.optional(),
  outputModes: strings.optional(),
};
const common = {
  name: z.string().min(1),
  description: z.string(),
  version: z.string().min(1),
  documentationUrl: z.string().optional(),
  iconUrl: z.string().optional(),
  defaultInputModes: strings,
  defaultOutputModes: strings,
};
const extension = z.looseObject({ uri: z.string(), description: z.string().optional(), required: z.boolean().optional() });

export const agentCardV03Schema = z.looseObject({
  ...common,
  protocolVersion: z.string().optional(),
  url: z.url(),
  preferredTransport: z.string().optional(),
  additionalInterfaces: z.array(z.looseObject({ url: z.url(), transport: z.string() })).optional(),
  provider: z.looseObject({ organization: z.string(), url: z.string() }).optional(),
  capabilities: z.looseObject({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    stateTransitionHistory: z.boolean().optional(),
    extensions: z.array(extension).optional(),
  }),
  securitySchemes: z
    .record(z.string(), z.looseObject({ type: z.enum(['apiKey', 'http', 'oauth2', 'openIdConnect', 'mutualTLS']) }))
    .optional(),
  security: z.array(z.record(z.string(), strings)).optional(),
  skills: z.array(z.looseObject({ ...skill, security: z.array(z.record(z.string(), strings)).optional() })),
  supportsAuthenticatedExtendedCard: z.boolean().optional(),
});

const requirementV10 = z.looseObject({ schemes: z.record(z.string(), z.looseObject({ list: strings })) });
const SCHEME_KINDS = {
  apiKeySecurityScheme: 'apikey',
  httpAuthSecurityScheme: 'http',
  oauth2SecurityScheme: 'oauth2',
  openIdConnectSecurityScheme: 'openidconnect',
  mtlsSecurityScheme: 'mtls',
} as const;

export const agentCardV10Schema = z.looseObject({
  ...common,
  supportedInterfaces: z
    .array(
      z.looseObject({
        url: z.url(),
        protocolBinding: z.string().min(1),
        protocolVersion: z.string().min(1),
        tenant: z.string().optional(),
      }),
    )
    .min(1),
  provider: z.looseObject({ organization: z.string(), url: z.string() }).optional(),
  capabilities: z.looseObject({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    extensions: z.array(extension).optional(),
    extendedAgentCard: z.boolean().optional(),
  }),
  securitySchemes: z
    .record(
      z.string(),
      z
        .looseObject({})
        .refine(
          (scheme) => Object.keys(scheme).filter((key) => key in SCHEME_KINDS).length === 1,
          `must hold exactly one of ${Object.keys(SCHEME_KINDS).join(', ')}`,
        ),
    )
    .optional(),
  securityRequirements: z.array(requirementV10).optional(),
  skills: z.array(z.looseObject({ ...skill, securityRequirements: z.array(requirementV10).optional() })),
  signatures: z.array(z.looseObject({ protected: z.string(), signature: z.string() })).optional(),
});

export type AgentCardV03 = z.infer<typeof agentCardV03Schema>;
export type AgentCardV10 = z.infer<typeof agentCardV10Schema>;
export type A2AVersion = '0.3' | '1.0';

export function detectA2AVersion(document: unknown): A2AVersion {
  return typeof document === 'object' && document !== null && 'supportedInterfaces' in document ? '1.0' : '0.3';
}

/** Normal form of both versions: what the mapping needs. */
interface Agent {
  version: A2AVersion;
  card: AgentCardV03 | AgentCardV10;
  url: string;
  protocolBinding: string;
  protocolVersion: string;
  agentAuth: string[];
  skillAuth: (index: number) => string[] | undefined;
}

function normalise(document: unknown, where: string): Agent {
  const version = detectA2AVersion(document);
  if (version === '1.0') {
    const parsed = agentCardV10Schema.safeParse(document);
    if (!parsed.success) throw new InvalidInputError(`Invalid A2A AgentCard (v1.0) ${where}`.trim(), zodIssues(parsed.error));
    const card = parsed.data;
    const schemeKind = (name: string): string => {
      const scheme = card.securitySchemes?.[name];
      const key = scheme ? Object.keys(scheme).find((candidate) => candidate in SCHEME_KINDS) : undefined;
      return key ? SCHEME_KINDS[key as keyof typeof SCHEME_KINDS] : 'unknown';
    };
    const kinds = (requirements: z.infer<typeof requirementV10>[] | undefined) =>
      requirements?.flatMap((requirement) => Object.keys(requirement.schemes).map(schemeKind));
    const preferred = card.supportedInterfaces[0]!;
    return {
      version,
      card,
      url: preferred.url,
      protocolBinding: preferred.protocolBinding,
      protocolVersion: preferred.protocolVersion,
      agentAuth: kinds(card.securityRequirements) ?? [],
      skillAuth: (index) => kinds(card.skills[index]!.securityRequirements),
    };
  }
  const parsed = agentCardV03Schema.safeParse(document);
  if (!parsed.success) throw new InvalidInputError(`Invalid A2A AgentCard (v0.3) ${where}`.trim(), zodIssues(parsed.error));
  const card = parsed.data;
  const schemeKind = (name: string) => card.securitySchemes?.[name]?.type.toLowerCase() ?? 'unknown';
  const kinds = (requirements: Record<string, string[]>[] | undefined) =>
    requirements?.flatMap((requirement) => Object.keys(requirement).map(schemeKind));
  return {
    version,
    card,
    url: card.url,
    protocolBinding: card.preferredTransport ?? 'JSONRPC',
    protocolVersion: card.protocolVersion ?? '0.3.0',
    agentAuth: kinds(card.security) ?? [],
    skillAuth: (index) => kinds(card.skills[index]!.security),
  };
}

/**
 * Maps an AgentCard document (either version) to capability cards. Every problem — schema or mapping — is
 * listed in one InvalidInputError; nothing is returned half-mapped.
 */
export function a2aToCards(document: unknown, options: IngestOptions & { sourceUri?: string } = {}): Card[] {
  const where = options.sourceUri ? `from ${options.sourceUri}` : '';
  const agent = normalise(document, where);
  const { card } = agent;
  const version = toSemver(card.version);
  if (version === undefined)
    throw new InvalidInputError(`Invalid A2A AgentCard (v${agent.version}) ${where}`.trim(), [versionIssue('version', card.version)]);
  const prefix = options.idPrefix ?? `a2a:${slug(hostOf(agent.url))}/${slug(card.name)}`;
  const provider = card.provider?.organization || hostOf(agent.url);
  const binding = { kind: 'a2a' as const, url: agent.url, protocolBinding: agent.protocolBinding, protocolVersion: agent.protocolVersion };
  const metadata = {
    agent: {
      name: card.name,
      version: card.version,
      ...(card.documentationUrl ? { documentationUrl: card.documentationUrl } : {}),
      capabilities: card.capabilities,
    },
    a2aVersion: agent.version,
  };
  const source = { kind: 'a2a' as const, protocolVersion: agent.version, ...(options.sourceUri ? { uri: options.sourceUri } : {}) };
  const labelsFor = (auth: string[]) => [
    'protocol:a2a',
    'may-use-network',
    ...(auth.length === 0 ? ['auth:none'] : [...new Set(auth)].map((kind) => `auth:${kind}`)),
  ];
  const cards: CardInput[] =
    card.skills.length === 0
      ? [
          withOperatorFields(
            {
              id: prefix,
              version,
              name: card.name,
              description: card.description,
              io: { inputModes: card.defaultInputModes, outputModes: card.defaultOutputModes },
              binding,
              provider,
              source,
              metadata,
            },
            options,
            labelsFor(agent.agentAuth),
          ),
        ]
      : card.skills.map((skill, index) =>
          withOperatorFields(
            {
              id: `${prefix}/${slug(skill.id)}`,
              version,
              name: `${card.name}: ${skill.name}`,
              description: [skill.description, card.description].filter((part) => part !== '').join(' — '),
              skills: [
                {
                  id: skill.id,
                  name: skill.name,
                  description: skill.description,
                  tags: skill.tags,
                  ...(skill.examples ? { examples: skill.examples } : {}),
                },
              ],
              io: { inputModes: skill.inputModes ?? card.defaultInputModes, outputModes: skill.outputModes ?? card.defaultOutputModes },
              binding: { ...binding, skill: skill.id },
              provider,
              source,
              metadata,
            },
            options,
            labelsFor(agent.skillAuth(index) ?? agent.agentAuth),
          ),
        );
  return parseCards(cards, `capability cards mapped from the A2A AgentCard ${where}`.trim());
}

/** Where an agent card lives: a file path, a `.json` URL, or a base URL (→ `/.well-known/agent-card.json`). */
export function agentCardUrl(base: string): string {
  if (/\.json(\?.*)?$/i.test(base)) return base;
  return `${base.replace(/\/+$/, '')}/.well-known/agent-card.json`;
}

/** Loads an AgentCard document from a file or URL (10 s timeout). */
export async function loadAgentCard(
  source: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ document: unknown; uri: string }> {
  if (!isUrl(source)) return { document: await readJsonFile(source, 'A2A AgentCard'), uri: source };
  const uri = agentCardUrl(source);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(uri, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new InvalidInputError('Cannot fetch A2A AgentCard', [{ path: uri, message: (error as Error).message }]);
  }
  if (!response.ok) throw new InvalidInputError('Cannot fetch A2A AgentCard', [{ path: uri, message: `HTTP ${response.status}` }]);
  try {
    return { document: await response.json(), uri };
  } catch (error) {
    throw new InvalidInputError('Cannot fetch A2A AgentCard', [{ path: uri, message: `not valid JSON (${(error as Error).message})` }]);
  }
}
