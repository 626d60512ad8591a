/** A lookup-table embedder for tests: each text maps to a fixed vector, so every cosine is known. */
import type { Embedder } from '../semantic.ts';
import { setNullThreshold } from '../calibration.ts';

/**
 * Its null threshold is registered as 0 (it cannot embed the null corpus), so the semantic graph keeps every
 * positive cosine as its weight: W_ij = max(0, cos).
 */
export function tableEmbedder(table: Record<string, readonly number[]>, dimension = 2): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  setNullThreshold('table', 0);
  return {
    id: 'table',
    dimension,
    calls,
    embed: async (texts) => {
      calls.push([...texts]);
      return texts.map((text) => {
        const vector = table[text];
        if (vector === undefined) throw new Error(`no test vector for "${text}"`);
        return Float32Array.from(vector);
      });
    },
  };
}

/** Unit vector at `degrees` in the plane: the cosine between two is cos(difference of angles). */
export function angle(degrees: number): number[] {
  return [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
}
