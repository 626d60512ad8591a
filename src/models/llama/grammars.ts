/**
 * Grammars for constrained decoding on the embedded engine, cached per `Llama` instance.
 *
 * - `grammarForJsonSchema`: node-llama-cpp's JSON-schema grammar, adapted for driving `sequence.evaluate`
 *   directly. node-llama-cpp ends its root rule with four forced newlines (`"\n\n\n\n" [\n]*`), which its
 *   chat session uses as a stop trigger; decoded raw, they would be four wasted tokens in every answer. The
 *   rule is cut so the grammar completes on the closing brace and the model can only emit end-of-generation.
 *   `anyOf` (OpenAI strict schemas) becomes `oneOf`, the only union node-llama-cpp knows.
 * - `jsonStringGrammar` / `choiceGrammar`: the small per-piece grammars of the KV-pruned thread.
 */
import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { ProviderError } from '../../core/index.ts';
import type { JsonSchema } from '../spec.ts';
import { messageOf } from './engine.ts';

export interface SchemaGrammar {
  grammar: LlamaGrammar;
  /** Extra stop strings, needed only when the newline suffix could not be cut. */
  stop: string[];
}

const cache = new WeakMap<Llama, Map<string, Promise<unknown>>>();

function cached<T>(llama: Llama, key: string, create: () => Promise<T>): Promise<T> {
  let perLlama = cache.get(llama);
  if (!perLlama) {
    perLlama = new Map();
    cache.set(llama, perLlama);
  }
  let entry = perLlama.get(key) as Promise<T> | undefined;
  if (!entry) {
    entry = create();
    perLlama.set(key, entry);
    entry.catch(() => perLlama.delete(key));
  }
  return entry;
}

const NEWLINE_SUFFIX = /^(root ::= .*?) "\\n\\n\\n\\n" \[\\n\]\*$/m;

export function grammarForJsonSchema(llama: Llama, schema: JsonSchema): Promise<SchemaGrammar> {
  const adapted = toGbnfSchema(schema);
  return cached(llama, `schema:${JSON.stringify(adapted)}`, async () => {
    let text: string;
    try {
      // The schema is only known at run time: node-llama-cpp's compile-time schema typing has nothing to check.
      const createForSchema = llama.createGrammarForJsonSchema.bind(llama) as (schema: unknown) => Promise<LlamaGrammar>;
      text = (await createForSchema(adapted)).grammar;
    } catch (error) {
      throw new ProviderError(`The embedded engine cannot build a grammar for this response schema: ${messageOf(error)}`, {
        cause: error,
        isRetryable: false,
      });
    }
    if (!NEWLINE_SUFFIX.test(text)) return { grammar: await llama.createGrammar({ grammar: text }), stop: ['\n\n\n\n'] };
    return { grammar: await llama.createGrammar({ grammar: text.replace(NEWLINE_SUFFIX, '$1') }), stop: [] };
  });
}

/**
 * llama.cpp refuses a grammar when a bounded repetition, multiplied by the rules accumulated before it, reaches
 * MAX_REPETITION_THRESHOLD (2000, llama-grammar.cpp): `"maxLength": 100000` becomes `char{0,100000}` and the
 * whole grammar fails ("number of rules that are going to be repeated multiplied by the new repetition exceeds
 * sane defaults"); even 2000 fails once the grammar is large. So bounds above these are left out of the
 * grammar: the output cap limits length anyway, and the fleet validates the parsed object against the full
 * schema (ajv) afterwards. Small bounds stay — they keep a weak model's strings and lists short.
 */
const GBNF_MAX_STRING_BOUND = 256;
const GBNF_MAX_ITEMS_BOUND = 64;

/** JSON Schema → the subset node-llama-cpp's grammar builder reads (anyOf → oneOf, no `$schema`, no bounds llama.cpp cannot repeat). */
export function toGbnfSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toGbnfSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'title' || key === 'required') continue;
    if (key === 'properties' || key === '$defs' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, inner]) => [name, toGbnfSchema(inner)]));
      continue;
    }
    if ((key === 'maxLength' || key === 'minLength') && typeof value === 'number' && value > GBNF_MAX_STRING_BOUND) continue;
    if ((key === 'maxItems' || key === 'minItems') && typeof value === 'number' && value > GBNF_MAX_ITEMS_BOUND) continue;
    out[key === 'anyOf' ? 'oneOf' : key] = toGbnfSchema(value);
  }
  return out;
}

const STRING_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] | "\\\\u" [0-9a-fA-F]{4}';

/** A JSON string literal (quotes included) of at most `maxLength` characters. */
export function jsonStringGrammar(llama: Llama, maxLength: number): Promise<LlamaGrammar> {
  const bound = Math.max(0, Math.floor(maxLength));
  return cached(llama, `string:${bound}`, () => llama.createGrammar({ grammar: `root ::= "\\"" char{0,${bound}} "\\""\n${STRING_CHAR}` }));
}

/** Exactly one of the given literal texts. */
export function choiceGrammar(llama: Llama, options: readonly string[]): Promise<LlamaGrammar> {
  if (options.length === 0) throw new RangeError('choiceGrammar needs at least one option');
  return cached(llama, `choice:${JSON.stringify(options)}`, () =>
    llama.createGrammar({ grammar: `root ::= ${options.map(gbnfLiteral).join(' | ')}` }),
  );
}

/** A GBNF string literal. */
function gbnfLiteral(text: string): string {
  let out = '"';
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (character === '"' || character === '\\') out += `\\${character}`;
    else if (character === '\n') out += '\\n';
    else if (character === '\r') out += '\\r';
    else if (character === '\t') out += '\\t';
    else if (code < 0x20) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += character;
  }
  return `${out}"`;
}
