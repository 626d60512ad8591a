/**
 * embeddings — texts → vectors: the `Embedder` interface, a local GGUF embedding model on the embedded
 * engine, and OpenAI-compatible `/embeddings` endpoints.
 */
export { cosineSimilarity, normalizeVector, type EmbedOptions, type Embedder } from './embedder.ts';
export { LlamaEmbedder, type LlamaEmbedderOptions } from './llama-embedder.ts';
export { OpenAICompatibleEmbedder, type OpenAICompatibleEmbedderOptions } from './openai-embedder.ts';
