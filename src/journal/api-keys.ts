/**
 * The gateway's API keys (schema v6) and what each key's runs spent. Kept in the journal because a key's spend
 * is read from it: the sum of the journaled calls of the runs it owns, plus attempts still unresolved there
 * (in flight when a process died, possibly billed) at their reserved worst case — the same rule a resumed run
 * applies to itself.
 */
import type { UsageTotals } from '../core/index.ts';
import { nanoDollars, totalsColumns } from './statements.ts';
import { toTotals, type TotalsDbRow } from './rows.ts';
import type { ApiKeyRow } from './types.ts';
import type { SqlDriver, SqlStatement } from './sql-driver.ts';

interface ApiKeyDbRow {
  id: string;
  name: string;
  secret_sha256: string;
  role: 'admin' | 'client';
  settings_json: string;
  created_at: string;
  revoked_at: string | null;
}

function toApiKeyRow(row: ApiKeyDbRow): ApiKeyRow {
  return {
    id: row.id,
    name: row.name,
    secretSha256: row.secret_sha256,
    role: row.role,
    settings: JSON.parse(row.settings_json) as unknown,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export interface NewApiKey {
  id: string;
  name: string;
  secretSha256: string;
  role: 'admin' | 'client';
  settings: unknown;
}

export class ApiKeyTable {
  private readonly insertKey: SqlStatement;
  private readonly byId: SqlStatement<ApiKeyDbRow>;
  private readonly byHash: SqlStatement<ApiKeyDbRow>;
  private readonly all: SqlStatement<ApiKeyDbRow>;
  private readonly revokeKey: SqlStatement;
  private readonly callSpend: SqlStatement<TotalsDbRow>;
  private readonly intentSpend: SqlStatement<TotalsDbRow>;

  constructor(db: SqlDriver) {
    this.insertKey = db.prepare(
      'INSERT INTO api_keys (id, name, secret_sha256, role, settings_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.byId = db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.byHash = db.prepare('SELECT * FROM api_keys WHERE secret_sha256 = ?');
    this.all = db.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
    this.revokeKey = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.callSpend = db.prepare(
      `SELECT ${totalsColumns('*', 'calls.', db.dialect)} FROM runs JOIN calls ON calls.run_id = runs.id WHERE runs.owner = ? AND runs.created_at >= ?`,
    );
    this.intentSpend = db.prepare(
      `SELECT COUNT(*) AS calls, COALESCE(SUM(i.input_tokens), 0) AS input_tokens, COALESCE(SUM(i.output_tokens), 0) AS output_tokens,
              COALESCE(SUM(${nanoDollars(db.dialect, 'i.cost_usd')}), 0) / 1e9 AS cost_usd
       FROM runs JOIN call_intents i ON i.run_id = runs.id WHERE runs.owner = ? AND runs.created_at >= ?`,
    );
  }

  insert(key: NewApiKey, at: string): ApiKeyRow {
    this.insertKey.run(key.id, key.name, key.secretSha256, key.role, JSON.stringify(key.settings), at);
    return toApiKeyRow(this.byId.get(key.id)!);
  }

  get(id: string): ApiKeyRow | undefined {
    const row = this.byId.get(id);
    return row && toApiKeyRow(row);
  }

  findBySecretHash(secretSha256: string): ApiKeyRow | undefined {
    const row = this.byHash.get(secretSha256);
    return row && toApiKeyRow(row);
  }

  list(): ApiKeyRow[] {
    return this.all.all().map(toApiKeyRow);
  }

  /** True when the key existed and was live. */
  revoke(id: string, at: string): boolean {
    return this.revokeKey.run(at, id).changes > 0;
  }

  /** What the owner's runs created at or after `since` (ISO) spent: journaled calls plus unresolved attempts at worst case. */
  ownerSpend(owner: string, since: string): UsageTotals {
    const calls = toTotals(this.callSpend.get(owner, since)!);
    const intents = toTotals(this.intentSpend.get(owner, since)!);
    return {
      inputTokens: calls.inputTokens + intents.inputTokens,
      outputTokens: calls.outputTokens + intents.outputTokens,
      totalTokens: calls.totalTokens + intents.totalTokens,
      usd: Math.round((calls.usd + intents.usd) * 1e9) / 1e9,
      calls: calls.calls + intents.calls,
    };
  }
}
