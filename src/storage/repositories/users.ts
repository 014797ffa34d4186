import type { Queryable } from "../db.ts";
import type { Role } from "./apiKeys.ts";

/** Row-level access: metadata key → allowed values. Empty = every conversation of the account. */
export type MetadataScope = Record<string, string[]>;

/** A person who signs in to cqa. */
export interface UserRecord {
  id: string;
  accountId: string;
  email: string;
  displayName: string | null;
  role: Role;
  passwordHash: string;
  metadataScope: MetadataScope;
  agentId: string | null;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
}

interface UserRow {
  id: string;
  account_id: string;
  email: string;
  display_name: string | null;
  role: Role;
  password_hash: string;
  metadata_scope: MetadataScope;
  agent_id: string | null;
  created_at: Date;
  updated_at: Date;
  disabled_at: Date | null;
}

const columns =
  "id, account_id, email, display_name, role, password_hash, metadata_scope, agent_id, created_at, updated_at, disabled_at";

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    passwordHash: row.password_hash,
    metadataScope: row.metadata_scope ?? {},
    agentId: row.agent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
  };
}

export async function insertUser(q: Queryable, user: UserRecord): Promise<void> {
  await q.query(`INSERT INTO users (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
    user.id,
    user.accountId,
    user.email,
    user.displayName,
    user.role,
    user.passwordHash,
    JSON.stringify(user.metadataScope),
    user.agentId,
    user.createdAt,
    user.updatedAt,
    user.disabledAt,
  ]);
}

export async function getUser(q: Queryable, accountId: string, id: string): Promise<UserRecord | null> {
  const result = await q.query<UserRow>(`SELECT ${columns} FROM users WHERE account_id = $1 AND id = $2`, [
    accountId,
    id,
  ]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function findUserByEmail(
  q: Queryable,
  accountId: string,
  email: string,
): Promise<UserRecord | null> {
  const result = await q.query<UserRow>(
    `SELECT ${columns} FROM users WHERE account_id = $1 AND lower(email) = lower($2)`,
    [accountId, email],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function listUsers(q: Queryable, accountId: string): Promise<UserRecord[]> {
  const result = await q.query<UserRow>(`SELECT ${columns} FROM users WHERE account_id = $1 ORDER BY email`, [
    accountId,
  ]);
  return result.rows.map(toRecord);
}

export type UserChanges = Partial<
  Pick<UserRecord, "displayName" | "role" | "passwordHash" | "metadataScope" | "agentId" | "disabledAt">
>;

export async function updateUser(
  q: Queryable,
  accountId: string,
  id: string,
  changes: UserChanges,
  at: Date,
): Promise<UserRecord | null> {
  const current = await getUser(q, accountId, id);
  if (!current) return null;
  const next: UserRecord = { ...current, ...changes, updatedAt: at };
  await q.query(
    `UPDATE users SET display_name = $3, role = $4, password_hash = $5, metadata_scope = $6, agent_id = $7,
       disabled_at = $8, updated_at = $9
     WHERE account_id = $1 AND id = $2`,
    [
      accountId,
      id,
      next.displayName,
      next.role,
      next.passwordHash,
      JSON.stringify(next.metadataScope),
      next.agentId,
      next.disabledAt,
      at,
    ],
  );
  return next;
}

export async function deleteUser(q: Queryable, accountId: string, id: string): Promise<boolean> {
  const result = await q.query("DELETE FROM users WHERE account_id = $1 AND id = $2", [accountId, id]);
  return result.rowCount > 0;
}
