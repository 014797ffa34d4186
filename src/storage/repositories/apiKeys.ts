import type { Queryable } from "../db.ts";

export type Role = "admin" | "supervisor" | "analyst" | "agent";
export const roles: readonly Role[] = ["admin", "supervisor", "analyst", "agent"];

/** An API key as stored: never the key itself, only its prefix and hash. */
export interface ApiKeyRecord {
  id: string;
  accountId: string;
  name: string;
  prefix: string;
  secretHash: string;
  role: Role;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  account_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  role: Role;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const columns = "id, account_id, name, prefix, secret_hash, role, created_at, revoked_at, last_used_at";

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    role: row.role,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export async function insertApiKey(
  q: Queryable,
  key: Omit<ApiKeyRecord, "revokedAt" | "lastUsedAt">,
): Promise<void> {
  await q.query(
    `INSERT INTO api_keys (id, account_id, name, prefix, secret_hash, role, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [key.id, key.accountId, key.name, key.prefix, key.secretHash, key.role, key.createdAt],
  );
}

export async function findApiKeyByPrefix(q: Queryable, prefix: string): Promise<ApiKeyRecord | null> {
  const result = await q.query<ApiKeyRow>(`SELECT ${columns} FROM api_keys WHERE prefix = $1`, [prefix]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function getApiKey(q: Queryable, accountId: string, id: string): Promise<ApiKeyRecord | null> {
  const result = await q.query<ApiKeyRow>(
    `SELECT ${columns} FROM api_keys WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function listApiKeys(q: Queryable, accountId: string): Promise<ApiKeyRecord[]> {
  const result = await q.query<ApiKeyRow>(
    `SELECT ${columns} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id`,
    [accountId],
  );
  return result.rows.map(toRecord);
}

export async function revokeApiKey(q: Queryable, accountId: string, id: string, at: Date): Promise<boolean> {
  const result = await q.query(
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE account_id = $1 AND id = $2",
    [accountId, id, at],
  );
  return result.rowCount > 0;
}

export async function touchApiKey(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", [id, at]);
}
