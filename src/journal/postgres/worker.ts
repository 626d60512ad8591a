/**
 * The worker thread behind the Postgres journal (driver.ts): it owns one `pg` client per open journal and
 * answers one request at a time while the journal's thread waits (synckit). Errors are returned, not thrown,
 * so their `code` (SQLSTATE or a Node error code) survives the trip back.
 */
import pg from 'pg';
import { runAsWorker } from 'synckit';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

// Counts and sums come back as BIGINT (int8) and NUMERIC: the journal's rows hold JS numbers, as SQLite's do.
// Every such value here is far below 2^53 (tokens, nano-dollars, row ids).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number.parseFloat(value));

const clients = new Map<number, { client: pg.Client; failure: Error | undefined }>();

function describe(error: unknown): WorkerResponse {
  const source = error as { message?: unknown; code?: unknown; detail?: unknown };
  return {
    ok: false,
    error: {
      message: typeof source.message === 'string' ? source.message : String(error),
      ...(typeof source.code === 'string' ? { code: source.code } : {}),
      ...(typeof source.detail === 'string' ? { detail: source.detail } : {}),
    },
  };
}

async function handle(request: WorkerRequest): Promise<WorkerResponse> {
  try {
    switch (request.op) {
      case 'open': {
        const client = new pg.Client({
          connectionString: request.connectionString,
          connectionTimeoutMillis: request.connectTimeoutMs,
          query_timeout: request.queryTimeoutMs,
          keepAlive: true,
          application_name: 'thicket-journal',
        });
        const entry = { client, failure: undefined as Error | undefined };
        // A connection lost between requests is reported by the next query; unhandled, it would end the worker.
        client.on('error', (error) => (entry.failure = error));
        try {
          await client.connect();
        } catch (error) {
          void client.end().catch(() => undefined);
          throw error;
        }
        clients.set(request.id, entry);
        for (const statement of request.setup) await client.query(statement.text, statement.values);
        return { ok: true, rows: [], rowCount: 0 };
      }
      case 'query': {
        const entry = clients.get(request.id);
        if (entry === undefined) throw new Error('the journal connection is closed');
        if (entry.failure !== undefined) throw entry.failure;
        const result = await entry.client.query(
          request.name === undefined
            ? { text: request.text, ...(request.values === undefined ? {} : { values: request.values }) }
            : { name: request.name, text: request.text, values: request.values ?? [] },
        );
        // A multi-statement script answers with one result per statement; only a single query's rows matter.
        const single = Array.isArray(result) ? undefined : result;
        return { ok: true, rows: (single?.rows ?? []) as Record<string, unknown>[], rowCount: single?.rowCount ?? 0 };
      }
      case 'close': {
        const entry = clients.get(request.id);
        clients.delete(request.id);
        if (entry !== undefined) await entry.client.end();
        return { ok: true, rows: [], rowCount: 0 };
      }
    }
  } catch (error) {
    return describe(error);
  }
}

runAsWorker(handle);
