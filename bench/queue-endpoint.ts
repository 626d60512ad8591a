/**
 * The fake OpenAI-compatible endpoint of bench/queue.ts, forked into its own process: on the coordinator's event
 * loop its answers would wait for the coordinator's synchronous journal reads and the measured latency would not
 * be the 200 ms a remote model takes. Every /v1/chat/completions is answered after `latencyMs` with a short
 * deterministic answer and usage. It sends `{ port }` once listening and answers a `'count'` message with
 * `{ requests }` (completions received so far).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const latencyMs = Number(process.argv[2] ?? 200);
let requests = 0;
const answer = (id: number): string =>
  JSON.stringify({
    id: `chatcmpl-${id}`,
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 42.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128 },
  });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
    const id = ++requests;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(answer(id)), latencyMs);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message === 'count') process.send?.({ requests });
});
process.on('disconnect', () => process.exit(0));
