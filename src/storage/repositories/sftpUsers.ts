import type { Queryable } from "../db.ts";

/** A public key an SFTP user may log in with (OpenSSH wire format, base64). */
export interface SftpPublicKey {
  algorithm: string;
  key: string;
  comment: string;
  fingerprint: string;
}

/** A login of the SFTP endpoint, jailed to its account's inbox. */
export interface SftpUserRecord {
  id: string;
  accountId: string;
  username: string;
  passwordHash: string | null;
  publicKeys: SftpPublicKey[];
  maxFileBytes: number;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
}

interface SftpUserRow {
  id: string;
  account_id: string;
  username: string;
  password_hash: string | null;
  public_keys: SftpPublicKey[];
  max_file_bytes: string | number;
  created_at: Date;
  updated_at: Date;
  disabled_at: Date | null;
  last_login_at: Date | null;
}

const columns =
  "id, account_id, username, password_hash, public_keys, max_file_bytes, created_at, updated_at, disabled_at, last_login_at";

function toRecord(row: SftpUserRow): SftpUserRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    username: row.username,
    passwordHash: row.password_hash,
    publicKeys: row.public_keys ?? [],
    maxFileBytes: Number(row.max_file_bytes),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
    lastLoginAt: row.last_login_at,
  };
}

export async function insertSftpUser(q: Queryable, user: SftpUserRecord): Promise<void> {
  await q.query(
    `INSERT INTO sftp_users (${columns}) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)`,
    [
      user.id,
      user.accountId,
      user.username,
      user.passwordHash,
      JSON.stringify(user.publicKeys),
      user.maxFileBytes,
      user.createdAt,
      user.updatedAt,
      user.disabledAt,
      user.lastLoginAt,
    ],
  );
}

export async function listSftpUsers(q: Queryable, accountId: string): Promise<SftpUserRecord[]> {
  const result = await q.query<SftpUserRow>(
    `SELECT ${columns} FROM sftp_users WHERE account_id = $1 ORDER BY lower(username)`,
    [accountId],
  );
  return result.rows.map(toRecord);
}

export async function getSftpUser(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<SftpUserRecord | null> {
  const result = await q.query<SftpUserRow>(
    `SELECT ${columns} FROM sftp_users WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  return result.rows[0] ? toRecord(result.rows[0]) : null;
}

/** The user of a login name (names are unique across accounts, compared case-insensitively). */
export async function findSftpUserByName(q: Queryable, username: string): Promise<SftpUserRecord | null> {
  const result = await q.query<SftpUserRow>(
    `SELECT ${columns} FROM sftp_users WHERE lower(username) = lower($1)`,
    [username],
  );
  return result.rows[0] ? toRecord(result.rows[0]) : null;
}

export type SftpUserChanges = Partial<
  Pick<SftpUserRecord, "passwordHash" | "publicKeys" | "maxFileBytes" | "disabledAt">
>;

export async function updateSftpUser(
  q: Queryable,
  accountId: string,
  id: string,
  changes: SftpUserChanges,
  at: Date,
): Promise<SftpUserRecord | null> {
  const sets: string[] = ["updated_at = $3"];
  const params: unknown[] = [accountId, id, at];
  const set = (column: string, value: unknown, cast = "") => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (changes.passwordHash !== undefined) set("password_hash", changes.passwordHash);
  if (changes.publicKeys !== undefined) set("public_keys", JSON.stringify(changes.publicKeys), "::jsonb");
  if (changes.maxFileBytes !== undefined) set("max_file_bytes", changes.maxFileBytes);
  if (changes.disabledAt !== undefined) set("disabled_at", changes.disabledAt);
  const result = await q.query<SftpUserRow>(
    `UPDATE sftp_users SET ${sets.join(", ")} WHERE account_id = $1 AND id = $2 RETURNING ${columns}`,
    params,
  );
  return result.rows[0] ? toRecord(result.rows[0]) : null;
}

export async function deleteSftpUser(q: Queryable, accountId: string, id: string): Promise<boolean> {
  const result = await q.query("DELETE FROM sftp_users WHERE account_id = $1 AND id = $2", [accountId, id]);
  return result.rowCount > 0;
}

export async function touchSftpLogin(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query("UPDATE sftp_users SET last_login_at = $2 WHERE id = $1", [id, at]);
}
