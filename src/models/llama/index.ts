/**
 * llama — the embedded llama.cpp engine (node-llama-cpp): the `gguf:` provider, the KV-cache-pruned thread,
 * the model puller, and the project's own GGUF writer and fixture model.
 */
export { LlamaProvider, LLAMA_PROVIDER_ID, type LlamaProviderOptions } from './llama-provider.ts';
export {
  balancedTree,
  runKvThread,
  KV_THREAD_DEFAULTS,
  KV_THREAD_SYSTEM,
  type KvTask,
  type KvThreadDocument,
  type KvThreadMetrics,
  type KvThreadOptions,
  type KvThreadResult,
  type KvThreadSample,
  type KvThreadTool,
  type KvToolUse,
  type TreeShape,
} from './kv-thread.ts';
export { attendedCells, KV_CELL_PAD, type EraseInfo, type TokenLimits, type TokenRange } from './kv-decoder.ts';
export {
  DEFAULT_PULL_MODEL,
  ModelNotPulledError,
  PINNED_MODELS,
  findPulledDefaultModel,
  findPulledModel,
  huggingFaceFetcher,
  modelsCacheDir,
  pullModel,
  requirePulledModel,
  sha256OfFile,
  verifyModelFile,
  type ModelFetcher,
  type PinnedModel,
  type PulledModel,
  type PullOptions,
  type PullProgress,
} from './pull.ts';
export { FIXTURE_BYTE_TOKEN_OFFSET, writeFixtureModel, type FixtureModelInfo, type FixtureModelOptions } from './fixture.ts';
export { writeTrainedModelGguf } from './trained-model.ts';
export { renderChatPrompt, renderTinyPrompt, type RenderedPrompt } from './chat-template.ts';
export { encodeGguf, gguf, GgufValueType, writeGguf, type GgufDocument, type GgufTensor, type GgufValue } from './gguf-writer.ts';
export {
  DEFAULT_LLAMA_CONTEXT_SIZE,
  defaultThreads,
  disposeLlamaEngine,
  lastKvCellReport,
  type KvCellReport,
  getEmbeddingContext,
  getEngineContext,
  getLlamaEngine,
  ggufPath,
  loadLlamaModel,
  PULL_HINT,
  SequencePool,
  type EngineContext,
  type EngineContextOptions,
} from './engine.ts';
export { abortError } from '../abort.ts';
export { llamaPromptMargin, resolveGgufModel, type LlamaModelSettings } from './resolve.ts';
export {
  TINY_LABEL,
  TINY_MODELS,
  TINY_THREAD_BOUNDS,
  TINY_PREFIX,
  TINY_SEQUENCES,
  readTinyModelCard,
  resolveTinyModel,
  shippedTinyModels,
  tinyCascadeLadder,
  tinyModelFile,
  tinyModelInfo,
  tinyModelsDir,
  tinyPromptTokens,
  type TinyModelCard,
  type TinyModelInfo,
} from './tiny.ts';
