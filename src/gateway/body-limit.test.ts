import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createThicket } from '../lab/index.ts';
import { GATEWAY_LIMITS } from './chat.ts';
import { startGateway, type RunningGateway } from './server.ts';

async function withGateway(body: (gateway: RunningGateway) => Promise<void>): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'thicket-gateway-body-'));
  const thicket = await createThicket({ journal: join(folder, 'journal.db') });
  const gateway = await startGateway({ thicket, port: 0, logger: pino({ level: 'silent' }), processMetrics: false });
  try {
    await body(gateway);
  } finally {
    await gateway.close({ drainMs: 1000 });
    rmSync(folder, { recursive: true, force: true });
  }
}

const chat = (content: string): string => JSON.stringify({ model: 'single@sim:small', messages: [{ role: 'user', content }] });

/** A request body that is `size` bytes long and otherwise valid. */
function chatOfSize(size: number): string {
  const shell = chat('').length;
  return chat('What is 17*23?'.padEnd(size - shell, ' '));
}

test('a body within the limit and declaring its length is read and answered', async () => {
  await withGateway(async (gateway) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('What is 17*23?'),
    });
    assert.equal(response.status, 200);
    const completion = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(completion.choices[0]?.message.content, '391');
  });
});

test('a declared length over the limit is refused with 413 body_too_large before the body is read', async () => {
  await withGateway(async (gateway) => {
    const body = chatOfSize(GATEWAY_LIMITS.bodyBytes + 1);
    assert.equal(Buffer.byteLength(body), GATEWAY_LIMITS.bodyBytes + 1);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(response.status, 413);
    const error = (await response.json()) as { error: { code: string } };
    assert.equal(error.error.code, 'body_too_large');
  });
});

test('a chunked body (no declared length) over the limit is counted as it streams and refused with 413', async () => {
  await withGateway(async (gateway) => {
    const bytes = new TextEncoder().encode(chatOfSize(GATEWAY_LIMITS.bodyBytes + 1));
    const chunkSize = 64 * 1024;
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) controller.close();
        else controller.enqueue(bytes.subarray(offset, (offset += chunkSize)));
      },
    });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    assert.equal(response.status, 413);
    const error = (await response.json()) as { error: { code: string } };
    assert.equal(error.error.code, 'body_too_large');
  });
});

test('a chunked body within the limit is read and answered', async () => {
  await withGateway(async (gateway) => {
    const bytes = new TextEncoder().encode(chat('What is 17*23?'));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    assert.equal(response.status, 200);
    const completion = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(completion.choices[0]?.message.content, '391');
  });
});
