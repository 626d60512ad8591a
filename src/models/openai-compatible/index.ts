/** The OpenAI-compatible provider (vLLM, Ollama, llama.cpp server, LM Studio, OpenAI, ...). */
export {
  OpenAICompatibleProvider,
  OPENAI_COMPATIBLE_PROVIDER_ID,
  mapFinishReason,
  parseRetryAfterMs,
  type OpenAICompatibleProviderOptions,
} from './openai-compatible-provider.ts';
