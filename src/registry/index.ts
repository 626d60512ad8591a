/**
 * registry — versioned capability cards (fleet models, local operators and agents, A2A agent skills, MCP
 * tools), their embeddings, an HNSW index (usearch) persisted beside SQLite, and discovery under hard policy
 * and budget filters. Design notes live in each module's doc comment (ranking and search plans: discovery.ts).
 */
export {
  CapabilityRegistry,
  type RegistryOptions,
  type DiscoveryQuery,
  type DiscoveryResult,
  type OpenReport,
  type RegisterResult,
} from './registry.ts';
export {
  cardInputSchema,
  bindingSchema,
  parseCards,
  contentHash,
  cardText,
  cardRef,
  costPerCall,
  latencyBoundMs,
  CARD_STATUSES,
  TYPICAL_INPUT_TOKENS,
  TYPICAL_OUTPUT_TOKENS,
  type Card,
  type CardInput,
  type CardStatus,
  type Binding,
  type Skill,
  type StoredCard,
  type EmbeddingInfo,
} from './card.ts';
export { HashingEmbedder, tokenize, type Embedder, type HashingEmbedderOptions } from './embedder.ts';
export {
  NULL_SEED,
  NULL_TEXTS_PER_TOPIC,
  NULL_TEXT_WORDS,
  NULL_TOPICS,
  RELEVANCE_QUANTILE,
  nullCorpus,
  nullSimilarities,
  quantile,
  relevanceFloor,
} from './null-similarity.ts';
export { RANKING, MAX_BOOST, exactSearch, type Hit, type Plan, type PlanOptions } from './discovery.ts';
export { compileFilter, passes, type DiscoveryConstraints, type CompiledFilter } from './filter.ts';
export type { HnswOptions, Quantization, StaleReason } from './vector-index.ts';
export { parseReference, pickVersion, type Reference } from './versions.ts';
export {
  CapabilityNotFoundError,
  CapabilityConflictError,
  EmbedderMismatchError,
  InvalidTransitionError,
  NoCapabilityError,
} from './errors.ts';
export {
  a2aToCards,
  loadAgentCard,
  agentCardUrl,
  detectA2AVersion,
  agentCardV03Schema,
  agentCardV10Schema,
  type A2AVersion,
} from './a2a.ts';
export { mcpToCards, mcpServerToCards, listMcpTools, toolsListSchema, type McpConnection, type McpServerRef } from './mcp.ts';
export { fleetCards, syncCards, type ProfileSource } from './fleet-cards.ts';
export { LABEL_PATTERN } from './card.ts';
export type { IngestOptions } from './ingest-common.ts';
export {
  resolveCapability,
  workflowCapabilityResolver,
  type CapabilityNeed,
  type ResolvedCapability,
  type WorkflowResolverOptions,
} from './resolve.ts';
export {
  agentsAdd,
  loadCardsToAdd,
  registerCardsToAdd,
  agentsList,
  agentsShow,
  agentsSearch,
  agentsSetStatus,
  agentsReindex,
  agentsReembed,
  agentsSyncFleet,
  checkOverrides,
  openRegistry,
  defaultRegistryPath,
  embedderFromSpec,
  resolveEmbedder,
  summarize,
  type AddOptions,
  type AddResult,
  type CardsToAdd,
  type CardSummary,
  type ResolvedEmbedder,
  type SearchOptions,
} from './commands.ts';
