/**
 * Structured output: a response's text parsed as JSON and checked against the request's schema. One validator
 * per fleet, compiling each distinct schema once (Ajv itself is created
 * on first use).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { MalformedOutputError } from '../core/index.ts';

export class StructuredOutputValidator {
  private readonly validators = new Map<string, ValidateFunction>();
  private ajv: Ajv | undefined;

  /** The parsed value; MalformedOutputError (with the text) when it is not JSON or does not match the schema. */
  parse(schema: { name: string; schema: Record<string, unknown> }, text: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new MalformedOutputError(`Structured output for "${schema.name}" is not valid JSON: ${(error as Error).message}`, text);
    }
    const key = JSON.stringify(schema.schema);
    let validate = this.validators.get(key);
    if (!validate) {
      this.ajv ??= new Ajv({ allErrors: true, strict: false });
      validate = this.ajv.compile(schema.schema);
      this.validators.set(key, validate);
    }
    if (!validate(value)) {
      const problems = (validate.errors ?? []).map((issue) => `${issue.instancePath || '/'} ${issue.message ?? ''}`).join('; ');
      throw new MalformedOutputError(`Structured output for "${schema.name}" does not match its schema: ${problems}`, text);
    }
    return value;
  }
}
