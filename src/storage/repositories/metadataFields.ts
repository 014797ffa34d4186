import type { Queryable } from "../db.ts";

export type MetadataFieldType = "string" | "number" | "boolean";

/** How an account names and uses one metadata key ("CQA mapping"). */
export interface MetadataFieldRecord {
  accountId: string;
  key: string;
  label: string;
  type: MetadataFieldType;
  enabled: boolean;
  /** Offered as a filter (analysis list, insights). */
  filterable: boolean;
  /** Used to limit what users see (metadata access scopes). */
  accessControlled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface FieldRow {
  account_id: string;
  key: string;
  label: string;
  type: MetadataFieldType;
  enabled: boolean;
  filterable: boolean;
  access_controlled: boolean;
  created_at: Date;
  updated_at: Date;
}

const columns =
  "account_id, key, label, type, enabled, filterable, access_controlled, created_at, updated_at";

function toRecord(row: FieldRow): MetadataFieldRecord {
  return {
    accountId: row.account_id,
    key: row.key,
    label: row.label,
    type: row.type,
    enabled: row.enabled,
    filterable: row.filterable,
    accessControlled: row.access_controlled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listMetadataFields(q: Queryable, accountId: string): Promise<MetadataFieldRecord[]> {
  const result = await q.query<FieldRow>(
    `SELECT ${columns} FROM metadata_fields WHERE account_id = $1 ORDER BY key`,
    [accountId],
  );
  return result.rows.map(toRecord);
}

export async function getMetadataField(
  q: Queryable,
  accountId: string,
  key: string,
): Promise<MetadataFieldRecord | null> {
  const result = await q.query<FieldRow>(
    `SELECT ${columns} FROM metadata_fields WHERE account_id = $1 AND key = $2`,
    [accountId, key],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/** Creates the field or replaces its settings; answers whether it was new. */
export async function upsertMetadataField(
  q: Queryable,
  field: Omit<MetadataFieldRecord, "createdAt" | "updatedAt">,
  now: Date,
): Promise<{ field: MetadataFieldRecord; created: boolean }> {
  const result = await q.query<FieldRow & { inserted: boolean }>(
    `INSERT INTO metadata_fields (account_id, key, label, type, enabled, filterable, access_controlled, created_at,
       updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     ON CONFLICT (account_id, key) DO UPDATE SET label = EXCLUDED.label, type = EXCLUDED.type,
       enabled = EXCLUDED.enabled, filterable = EXCLUDED.filterable,
       access_controlled = EXCLUDED.access_controlled, updated_at = EXCLUDED.updated_at
     RETURNING ${columns}, (xmax = 0) AS inserted`,
    [
      field.accountId,
      field.key,
      field.label,
      field.type,
      field.enabled,
      field.filterable,
      field.accessControlled,
      now,
    ],
  );
  const row = result.rows[0]!;
  return { field: toRecord(row), created: row.inserted };
}

export async function deleteMetadataField(q: Queryable, accountId: string, key: string): Promise<boolean> {
  const result = await q.query("DELETE FROM metadata_fields WHERE account_id = $1 AND key = $2", [
    accountId,
    key,
  ]);
  return result.rowCount > 0;
}

/**
 * Metadata keys seen on the account's most recent conversations (within the row scope), with how
 * many of them carry each key: what a new field can be made from.
 */
export async function discoverMetadataKeys(
  q: Queryable,
  accountId: string,
  scope: Record<string, string[]>,
  sample = 2000,
): Promise<{ key: string; seen: number }[]> {
  const params: unknown[] = [accountId, sample];
  const where = ["account_id = $1"];
  for (const [key, allowed] of Object.entries(scope)) {
    params.push(key, allowed);
    where.push(`(metadata->>$${params.length - 1}) = ANY($${params.length}::text[])`);
  }
  const result = await q.query<{ key: string; seen: number }>(
    `SELECT k AS key, count(*)::int AS seen
     FROM (SELECT metadata FROM interactions WHERE ${where.join(" AND ")} ORDER BY created_at DESC LIMIT $2) recent,
       LATERAL jsonb_object_keys(recent.metadata) AS k
     GROUP BY k ORDER BY count(*) DESC, k LIMIT 200`,
    params,
  );
  return result.rows;
}
