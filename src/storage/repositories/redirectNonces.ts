import type { Queryable } from "../db.ts";

/**
 * Marks a redirect link's nonce as used; false when it was used before (a replayed link). Nonces of
 * links that expired a day ago are dropped on the way.
 */
export async function useRedirectNonce(
  q: Queryable,
  input: { integrationId: string; nonce: string; expiresAt: Date; now: Date },
): Promise<boolean> {
  await q.query("DELETE FROM redirect_link_nonces WHERE expires_at < $1", [
    new Date(input.now.getTime() - 86_400_000),
  ]);
  const inserted = await q.query(
    `INSERT INTO redirect_link_nonces (integration_id, nonce, expires_at, used_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [input.integrationId, input.nonce, input.expiresAt, input.now],
  );
  return inserted.rowCount > 0;
}
