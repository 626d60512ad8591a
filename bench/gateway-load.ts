/**
 * The load generator for bench/gateway.ts, forked into its own process: autocannon on the same event loop as the
 * gateway would take its turns from the server it is measuring (and its memory would count in the soak's RSS).
 * It waits for `{ url, body, connections, seconds }` messages and answers each with the run's totals and every
 * 2xx response's latency in ms (autocannon's own histogram keeps whole milliseconds only, too coarse for a
 * sub-millisecond p50).
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  body: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  non2xx: number;
  errors: number;
  latenciesMs: number[];
}

function run(request: LoadRequest): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // The callback form returns the emitter whose 'response' events carry each latency unrounded.
    const instance = autocannon(
      {
        url: `${request.url}/v1/chat/completions`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request.body,
        connections: request.connections,
        duration: request.seconds,
      },
      (error, result) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else
          resolve({
            requests: result.requests.total,
            seconds: (performance.now() - started) / 1000,
            non2xx: result.non2xx,
            errors: result.errors,
            latenciesMs,
          });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTime);
    });
  });
}

process.on('message', (message: LoadRequest) => {
  run(message).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
