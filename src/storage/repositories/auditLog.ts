import { newId } from "../../core/ids.ts";
import type { Queryable } from "../db.ts";

/** Records who changed what (configuration, reviews, keys), for the account's audit trail. */
export async function audit(
  q: Queryable,
  entry: { accountId: string; actor: string; action: string; target?: string; details?: unknown; at: Date },
): Promise<void> {
  await q.query(
    "INSERT INTO audit_log (id, account_id, actor, action, target, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [
      newId(),
      entry.accountId,
      entry.actor,
      entry.action,
      entry.target ?? null,
      JSON.stringify(entry.details ?? {}),
      entry.at,
    ],
  );
}

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  createdAt: Date;
}

export async function listAudit(
  q: Queryable,
  accountId: string,
  options: { target?: string; limit: number; offset: number },
): Promise<AuditEntry[]> {
  const result = await q.query<{
    id: string;
    actor: string;
    action: string;
    target: string | null;
    details: unknown;
    created_at: Date;
  }>(
    `SELECT id, actor, action, target, details, created_at FROM audit_log
     WHERE account_id = $1 AND ($2::text IS NULL OR target = $2) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
    [accountId, options.target ?? null, options.limit, options.offset],
  );
  return result.rows.map((r) => ({
    id: r.id,
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details,
    createdAt: r.created_at,
  }));
}
