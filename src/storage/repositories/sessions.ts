import type { Queryable } from "../db.ts";

/** A signed-in user's session, found by the hash of its bearer token. */
export interface SessionRecord {
  id: string;
  accountId: string;
  userId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

interface SessionRow {
  id: string;
  account_id: string;
  user_id: string;
  token_hash: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export async function insertSession(q: Queryable, session: Omit<SessionRecord, "revokedAt">): Promise<void> {
  await q.query(
    `INSERT INTO sessions (id, account_id, user_id, token_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [session.id, session.accountId, session.userId, session.tokenHash, session.createdAt, session.expiresAt],
  );
}

export async function findSessionByTokenHash(q: Queryable, tokenHash: string): Promise<SessionRecord | null> {
  const result = await q.query<SessionRow>(
    "SELECT id, account_id, user_id, token_hash, created_at, expires_at, revoked_at FROM sessions WHERE token_hash = $1",
    [tokenHash],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    id: row.id,
    accountId: row.account_id,
    userId: row.user_id,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

export async function revokeSession(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query("UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", [id, at]);
}
