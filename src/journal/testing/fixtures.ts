/** Deterministic sample data for the journal's tests, the crash writer and the timing script. */
import type { RecordedCall } from '../call-recorder.ts';

/** The `index`-th sample call: every field derived from the index, with awkward floats and nested JSON. */
export function sampleCall(index: number, options: { model?: string; textBytes?: number } = {}): RecordedCall {
  const requestHash = `h${((index * 2654435761) >>> 0).toString(16).padStart(8, '0')}`;
  const inputTokens = 100 + (index % 37);
  const outputTokens = 20 + (index % 11);
  const text = `answer ${index}: ${'x'.repeat(options.textBytes ?? 64)}`;
  return {
    callKey: `${requestHash}#${index % 3}`,
    requestHash,
    model: options.model ?? (index % 2 === 0 ? 'sim:small' : 'sim:large'),
    provider: 'sim',
    request: {
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: `Question ${index}? ünïcødé ✓ "quoted" \\ back\nslash` },
      ],
      maxOutputTokens: 256,
      temperature: 0.7,
      seed: index,
      metadata: { runId: 'r', stepId: `vote/sample-${index}`, tags: { operator: 'vote' } },
    },
    response: {
      text,
      usage: { inputTokens, outputTokens },
      usageEstimated: index % 5 === 0,
      finishReason: 'stop',
      latencyMs: 123.456789 + index / 7,
      simulated: true,
      confidence: 0.1 + (index % 9) / 10 + 1e-17,
      raw: { id: `sim-${index}`, nested: { list: [1, 2.5, null, 'z'], pi: Math.PI * index } },
      ...(index % 4 === 0 ? { object: { answer: index, ok: true } } : {}),
    },
    costUsd: (inputTokens * 0.15 + outputTokens * 0.6) / 1_000_000 + 1 / 3e9,
    attempts: 1 + (index % 3),
    budgetPath: 'run/vote',
    tags: { operator: 'vote', sample: String(index) },
  };
}
