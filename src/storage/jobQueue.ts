import { type Bind, type Queryable, StatementParams } from "./db.ts";

/** A unit of background work to run at or after `runAt`. */
export interface JobSpec {
  kind: string;
  accountId: string | null;
  payload: unknown;
  runAt?: Date;
  maxAttempts?: number;
  /** At most one queued or running job per key; a finished job frees its key. */
  dedupeKey?: string;
}

/** A job a worker holds a lease on. */
export interface ClaimedJob {
  id: number;
  kind: string;
  accountId: string | null;
  payload: unknown;
  /** Including this one. */
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
}

export const defaultMaxAttempts = 8;

/** Adds jobs (skipping those whose dedupe key is already queued or running). */
export async function enqueueJobs(q: Queryable, jobs: JobSpec[], now: Date): Promise<number> {
  if (jobs.length === 0) return 0;
  const rows = jobs.map((job) => ({
    kind: job.kind,
    account_id: job.accountId,
    payload: job.payload,
    run_at: (job.runAt ?? now).toISOString(),
    max_attempts: job.maxAttempts ?? defaultMaxAttempts,
    dedupe_key: job.dedupeKey ?? null,
  }));
  const result = await q.query(
    `INSERT INTO jobs (kind, account_id, payload, status, run_at, max_attempts, dedupe_key, created_at, updated_at)
     SELECT kind, account_id, payload, 'queued', run_at, max_attempts, dedupe_key, $2, $2
     FROM jsonb_to_recordset($1::jsonb) AS x(kind text, account_id uuid, payload jsonb, run_at timestamptz,
       max_attempts integer, dedupe_key text)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [JSON.stringify(rows), now],
  );
  return result.rowCount;
}

/**
 * Leases up to `limit` due jobs to `workerId`. Jobs whose lease ran out (their worker died) are
 * due again. Concurrent workers never get the same job (FOR UPDATE SKIP LOCKED).
 */
export async function claimJobs(
  q: Queryable,
  options: { workerId: string; limit: number; leaseMs: number; now: Date; kinds?: string[] },
): Promise<ClaimedJob[]> {
  if (options.limit <= 0) return [];
  const until = new Date(options.now.getTime() + options.leaseMs);
  // Queued jobs and expired leases are looked up apart, each through its own partial index, so a
  // claim reads a handful of rows however long the queue is (one condition with OR read and sorted
  // the whole queue on every claim).
  const result = await q.query<{
    id: number;
    kind: string;
    account_id: string | null;
    payload: unknown;
    attempts: number;
    max_attempts: number;
    created_at: Date;
    run_at: Date;
  }>(
    `WITH queued AS (
       SELECT id, run_at FROM jobs
       WHERE status = 'queued' AND run_at <= $3 AND ($5::text[] IS NULL OR kind = ANY($5::text[]))
       ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED),
     expired AS (
       SELECT id, run_at FROM jobs
       WHERE status = 'running' AND locked_until < $3 AND ($5::text[] IS NULL OR kind = ANY($5::text[]))
       ORDER BY locked_until, id LIMIT $4 FOR UPDATE SKIP LOCKED),
     picked AS (
       SELECT id FROM (SELECT * FROM queued UNION ALL SELECT * FROM expired) due ORDER BY run_at, id LIMIT $4)
     UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3
     FROM picked WHERE jobs.id = picked.id
     RETURNING jobs.id, kind, account_id, payload, attempts, max_attempts, created_at, run_at`,
    [options.workerId, until, options.now, options.limit, options.kinds ?? null],
  );
  // Oldest first (RETURNING keeps no order).
  const rows = result.rows.sort((a, b) => a.run_at.getTime() - b.run_at.getTime() || a.id - b.id);
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    accountId: row.account_id,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
  }));
}

/** A worker's hold on a job it claimed. */
export interface JobLease {
  jobId: number;
  workerId: string;
}

/** Removes a finished job, if this worker still holds it. */
export async function completeJob(q: Queryable, id: number, workerId: string): Promise<boolean> {
  const params = new StatementParams();
  const result = await q.query(completeJobSql(id, workerId, params.bind), params.values);
  return result.rowCount > 0;
}

/** The DELETE of {@link completeJob}, for a statement built from parts: it returns the job's id if held. */
export function completeJobSql(id: number, workerId: string, bind: Bind): string {
  return `DELETE FROM jobs WHERE id = ${bind(id)} AND locked_by = ${bind(workerId)} AND status = 'running' RETURNING id`;
}

/** Puts a job back to run again at `runAt`. */
export async function rescheduleJob(
  q: Queryable,
  id: number,
  workerId: string,
  runAt: Date,
  error: string,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE jobs SET status = 'queued', run_at = $3, locked_by = NULL, locked_until = NULL, last_error = $4, updated_at = $5
     WHERE id = $1 AND locked_by = $2`,
    [id, workerId, runAt, error, now],
  );
}

/** Gives up on a job; it stays visible as dead with its last error. */
export async function buryJob(
  q: Queryable,
  id: number,
  workerId: string,
  error: string,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, last_error = $3, updated_at = $4,
       dedupe_key = NULL
     WHERE id = $1 AND locked_by = $2`,
    [id, workerId, error, now],
  );
}

/** Keeps a long-running job's lease alive. */
export async function extendLease(q: Queryable, id: number, workerId: string, until: Date): Promise<boolean> {
  const result = await q.query(
    "UPDATE jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    [id, workerId, until],
  );
  return result.rowCount > 0;
}

/**
 * Hands a worker's leased jobs back at once (graceful shutdown), without counting the attempt: all of
 * them, or only those of `ids` (jobs it claimed but did not start).
 */
export async function releaseJobs(
  q: Queryable,
  workerId: string,
  now: Date,
  ids: readonly number[] | null = null,
): Promise<number> {
  const result = await q.query(
    `UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, run_at = $2,
       attempts = GREATEST(attempts - 1, 0), updated_at = $2
     WHERE locked_by = $1 AND status = 'running' AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))`,
    [workerId, now, ids],
  );
  return result.rowCount;
}

/**
 * Makes every leased job due again at once, the interrupted attempt still counted. Only for when no
 * other worker can be running: the embedded database's start, whose data-dir lock proves that the
 * process that held the leases is gone.
 */
export async function requeueOrphanedJobs(q: Queryable, now: Date): Promise<number> {
  const result = await q.query(
    `UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, updated_at = $1
     WHERE status = 'running'`,
    [now],
  );
  return result.rowCount;
}

/** Queue depth by kind and status, for metrics and health. */
export async function queueDepth(q: Queryable): Promise<{ kind: string; status: string; count: number }[]> {
  const result = await q.query<{ kind: string; status: string; count: number }>(
    "SELECT kind, status, count(*)::int AS count FROM jobs GROUP BY kind, status ORDER BY kind, status",
  );
  return result.rows;
}
