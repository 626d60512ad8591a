/** What the Postgres journal's thread asks its worker (worker.ts), and what it answers. */

export type WorkerRequest =
  | {
      op: 'open';
      id: number;
      connectionString: string;
      connectTimeoutMs: number;
      queryTimeoutMs: number;
      /** Run once connected (schema creation, search_path, read-only mode). */
      setup: Array<{ text: string; values?: unknown[] }>;
    }
  | { op: 'query'; id: number; text: string; values?: unknown[] | undefined; name?: string | undefined }
  | { op: 'close'; id: number };

export type WorkerResponse =
  | { ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { ok: false; error: { message: string; code?: string; detail?: string } };
