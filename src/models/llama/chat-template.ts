/**
 * Chat messages → prompt tokens for the embedded engine.
 *
 * A model whose GGUF carries a chat template (`tokenizer.chat_template`) is rendered with node-llama-cpp's
 * matching chat wrapper (`resolveChatWrapper`: ChatML/Qwen, Llama 3, Gemma, … or the Jinja template
 * itself), ending with the opened assistant turn. A model without one — the fixture model, base models —
 * gets the plain template:
 *
 *     <bos>system: {content}\nuser: {content}\nassistant: {content}\n…assistant:
 *
 * one `role: content` line per message. It is what a base model most plausibly continues, and `\nuser:` is
 * a stop string so the model does not go on to write the next user turn.
 */
import type { ChatHistoryItem, LlamaModel, Token } from 'node-llama-cpp';
import { nodeLlamaCpp } from './native.ts';
import type { ChatMessage } from '../spec.ts';

export interface RenderedPrompt {
  tokens: Token[];
  /** `plain`, or the node-llama-cpp chat wrapper's name. */
  template: string;
  /** Text stops the template needs on top of the model's end-of-generation tokens. */
  stop: string[];
}

const PLAIN_TEMPLATE_STOPS = ['\nuser:', '\nsystem:'];

function hasChatTemplate(model: LlamaModel): boolean {
  const tokenizer = model.fileInfo.metadata?.tokenizer as { chat_template?: unknown } | undefined;
  return typeof tokenizer?.chat_template === 'string' && tokenizer.chat_template.trim() !== '';
}

export function renderChatPrompt(model: LlamaModel, messages: readonly ChatMessage[]): RenderedPrompt {
  if (!hasChatTemplate(model)) return renderPlain(model, messages);
  const wrapper = nodeLlamaCpp().resolveChatWrapper(model);
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    if (message.role === 'system') return { type: 'system', text: message.content };
    if (message.role === 'user') return { type: 'user', text: message.content };
    return { type: 'model', response: [message.content] };
  });
  // An empty model turn at the end renders as the opened assistant turn the model continues.
  history.push({ type: 'model', response: [] });
  const { contextText } = wrapper.generateContextState({ chatHistory: history });
  return { tokens: contextText.tokenize(model.tokenizer), template: wrapper.wrapperName, stop: [] };
}

/**
 * The prompt of Thicket's tiny trained models (`tiny:` references, training/): the plain template without
 * system messages. They are task-trained, not instruction-tuned — they were trained on exactly this
 * rendering of the question (training/make-data.ts tokenizes with this function), and an instruction they
 * never saw would only push the prompt off their training distribution.
 */
export function renderTinyPrompt(model: LlamaModel, messages: readonly ChatMessage[]): RenderedPrompt {
  return {
    ...renderPlain(
      model,
      messages.filter((message) => message.role !== 'system'),
    ),
    template: 'tiny',
  };
}

function renderPlain(model: LlamaModel, messages: readonly ChatMessage[]): RenderedPrompt {
  const text = `${messages.map((message) => `${message.role}: ${message.content}\n`).join('')}assistant: `;
  const bos = model.tokens.bos;
  const prefix = bos !== null && model.tokens.shouldPrependBosToken ? [bos] : [];
  return { tokens: [...prefix, ...model.tokenize(text)], template: 'plain', stop: PLAIN_TEMPLATE_STOPS };
}
