import type { LimitOverrides } from "../../core/limits.ts";
import type { Queryable } from "../db.ts";

/** A tenant. */
export interface AccountRecord {
  id: string;
  name: string;
  timezone: string;
  webhooksEnabled: boolean;
  limits: LimitOverrides;
  embedOrigins: string[];
  webhookSigningKeyId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface AccountRow {
  id: string;
  name: string;
  timezone: string;
  webhooks_enabled: boolean;
  limits: LimitOverrides;
  embed_origins: string[];
  webhook_signing_key_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const columns =
  "id, name, timezone, webhooks_enabled, limits, embed_origins, webhook_signing_key_id, created_at, updated_at";

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    name: row.name,
    timezone: row.timezone,
    webhooksEnabled: row.webhooks_enabled,
    limits: row.limits ?? {},
    embedOrigins: row.embed_origins ?? [],
    webhookSigningKeyId: row.webhook_signing_key_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertAccount(q: Queryable, account: AccountRecord): Promise<void> {
  await q.query(`INSERT INTO accounts (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
    account.id,
    account.name,
    account.timezone,
    account.webhooksEnabled,
    JSON.stringify(account.limits),
    JSON.stringify(account.embedOrigins),
    account.webhookSigningKeyId,
    account.createdAt,
    account.updatedAt,
  ]);
}

export async function getAccount(q: Queryable, id: string): Promise<AccountRecord | null> {
  const result = await q.query<AccountRow>(`SELECT ${columns} FROM accounts WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/**
 * The account's configuration version: it moves whenever the account, its assignment rules, quality
 * profiles or analysis settings change (database triggers, migration 008). Null for no such account.
 */
export async function getAccountConfigVersion(q: Queryable, id: string): Promise<number | null> {
  const result = await q.query<{ config_version: number }>(
    "SELECT config_version FROM accounts WHERE id = $1",
    [id],
  );
  return result.rows[0]?.config_version ?? null;
}

export async function listAccounts(q: Queryable, limit: number, offset: number): Promise<AccountRecord[]> {
  const result = await q.query<AccountRow>(
    `SELECT ${columns} FROM accounts ORDER BY created_at, id LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  return result.rows.map(toRecord);
}

export type AccountChanges = Partial<
  Pick<
    AccountRecord,
    "name" | "timezone" | "webhooksEnabled" | "limits" | "embedOrigins" | "webhookSigningKeyId"
  >
>;

export async function updateAccount(
  q: Queryable,
  id: string,
  changes: AccountChanges,
  at: Date,
): Promise<AccountRecord | null> {
  const result = await q.query<AccountRow>(
    `UPDATE accounts SET
       name = COALESCE($2, name),
       timezone = COALESCE($3, timezone),
       webhooks_enabled = COALESCE($4, webhooks_enabled),
       limits = COALESCE($5::jsonb, limits),
       embed_origins = COALESCE($6::jsonb, embed_origins),
       webhook_signing_key_id = CASE WHEN $7::boolean THEN $8::uuid ELSE webhook_signing_key_id END,
       updated_at = $9
     WHERE id = $1 RETURNING ${columns}`,
    [
      id,
      changes.name ?? null,
      changes.timezone ?? null,
      changes.webhooksEnabled ?? null,
      changes.limits === undefined ? null : JSON.stringify(changes.limits),
      changes.embedOrigins === undefined ? null : JSON.stringify(changes.embedOrigins),
      changes.webhookSigningKeyId !== undefined,
      changes.webhookSigningKeyId ?? null,
      at,
    ],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}
