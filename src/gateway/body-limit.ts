/**
 * The request-body cap. A request that declares its length (and is not chunked) is judged on its
 * `content-length` header alone: Node's HTTP parser delivers exactly that many bytes as the body, so the header
 * is the size. Reading `c.req.raw.body` to ask (as hono's bodyLimit does first) would turn @hono/node-server's
 * lightweight request into a full web Request with a ReadableStream over the socket — measurable per request on
 * the chat path (bench/gateway.ts) — and the JSON body is then read through that stream instead of directly.
 * A body without a declared length (chunked) is counted as it streams, by hono's bodyLimit.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';

export function limitBody(maxSize: number): MiddlewareHandler {
  const counted = bodyLimit({
    maxSize,
    onError: () => {
      throw new HTTPException(413);
    },
  });
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(declared, 10) > maxSize) throw new HTTPException(413);
      return next();
    }
    return counted(c, next);
  };
}
