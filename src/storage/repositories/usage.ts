import type { Queryable } from "../db.ts";

/**
 * Locks the conversation counter of an account for a period and returns how many were used.
 * Ingest transactions of one capped account serialise here, so the cap cannot be overshot.
 */
export async function lockUsage(
  q: Queryable,
  accountId: string,
  period: string,
  periodStart: string,
): Promise<number> {
  await q.query(
    `INSERT INTO account_usage (account_id, period, period_start, used) VALUES ($1, $2, $3::date, 0)
     ON CONFLICT (account_id, period, period_start) DO NOTHING`,
    [accountId, period, periodStart],
  );
  const result = await q.query<{ used: number }>(
    "SELECT used FROM account_usage WHERE account_id = $1 AND period = $2 AND period_start = $3::date FOR UPDATE",
    [accountId, period, periodStart],
  );
  return result.rows[0]?.used ?? 0;
}

export async function addUsage(
  q: Queryable,
  accountId: string,
  period: string,
  periodStart: string,
  n: number,
): Promise<void> {
  if (n === 0) return;
  await q.query(
    "UPDATE account_usage SET used = used + $4 WHERE account_id = $1 AND period = $2 AND period_start = $3::date",
    [accountId, period, periodStart, n],
  );
}

export async function getUsage(
  q: Queryable,
  accountId: string,
  period: string,
  periodStart: string,
): Promise<number> {
  const result = await q.query<{ used: number }>(
    "SELECT used FROM account_usage WHERE account_id = $1 AND period = $2 AND period_start = $3::date",
    [accountId, period, periodStart],
  );
  return result.rows[0]?.used ?? 0;
}
